"""A CPU-sized 2D configuration: `2d_cpu` inherits everything from `2d` but the batch size, which is chosen by
timing SemanticUNet training iterations on this machine (nnU-Net's 2D batch is sized for a GPU)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import torch
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.networks import NetworkConfig, build_network

CPU_CONFIGURATION = "2d_cpu"


def cpu_configuration(source: str) -> str:
    """The CPU-sized configuration made from `source`: `2d_cpu`, `3d_fullres_cpu`, ..."""
    return CPU_CONFIGURATION if source == "2d" else f"{source}_cpu"


def iteration_seconds(
    configuration_manager, num_input_channels: int, batch_size: int, text_dim: int = 384, repeats: int = 2
) -> float:
    """Median seconds of one forward + backward + SGD step of a SemanticUNet at `batch_size`."""
    torch.manual_seed(0)
    net = build_network(configuration_manager, num_input_channels, NetworkConfig(text_dim))
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    x = torch.randn(batch_size, num_input_channels, *configuration_manager.patch_size)
    text = {
        "pos": torch.randn(batch_size, text_dim),
        "neg": torch.randn(batch_size, text_dim),
        "has_neg": torch.ones(batch_size, dtype=torch.bool),
    }
    times = []
    for i in range(repeats + 1):  # the first is a warm-up
        t0 = time.perf_counter()
        loss = sum(o.mean() for o in net(x, text).logits)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def add_cpu_configuration(
    preprocessed_folder: Path,
    plans_identifier: str = "nnUNetPlans",
    batch_size: int | None = None,
    target_seconds: float = 1.0,
    source: str = "2d",
    log=print,
) -> dict:
    """Write `2d_cpu` (or `<source>_cpu`, e.g. `3d_fullres_cpu`) into the plans; returns its entry, with the
    measured seconds per iteration (of each batch tried, or of the given one): a CPU user's schedule is priced from
    them."""
    if batch_size is not None and batch_size < 1:
        raise SemanticError(f"batch size must be at least 1, got {batch_size}")
    plans_file = Path(preprocessed_folder) / f"{plans_identifier}.json"
    if not plans_file.is_file():
        raise SemanticError(f"{plans_file} not found: run nnUNetv2_plan_and_preprocess -d ID -c {source} first")
    plans = json.loads(plans_file.read_text())
    if source not in plans["configurations"]:
        raise SemanticError(f"{plans_file}: field 'configurations' has no '{source}' configuration")
    cm = PlansManager(plans).get_configuration(source)
    n_channels = len(json.loads((Path(preprocessed_folder) / "dataset.json").read_text())["channel_names"])
    entry: dict = {"inherits_from": source}
    timings = {}
    if batch_size is None:
        candidate = 2
        while candidate <= max(2, cm.batch_size):
            timings[candidate] = round(iteration_seconds(cm, n_channels, candidate), 3)
            log(f"batch {candidate}: {timings[candidate]} s per iteration")
            if timings[candidate] > target_seconds:
                break
            candidate *= 2
        fitting = [b for b, t in timings.items() if t <= target_seconds]
        batch_size = max(fitting) if fitting else 2
        if not fitting:
            log(
                f"target missed: batch 2, the smallest nnU-Net trains with, takes {timings[2]} s per iteration at "
                f"patch {'x'.join(map(str, cm.patch_size))}, over the {target_seconds} s target (the patch is kept: "
                f"it is the planned context; a GPU trains the '{source}' configuration)"
            )
    else:
        timings[batch_size] = round(iteration_seconds(cm, n_channels, batch_size, repeats=1), 3)
        log(f"batch {batch_size} (given): {timings[batch_size]} s per iteration")
    entry["cpu_timing"] = {
        "target_seconds": target_seconds,
        "seconds_per_iteration": timings,
        "torch_threads": torch.get_num_threads(),
    }
    entry["batch_size"] = int(batch_size)
    plans["configurations"][cpu_configuration(source)] = entry
    plans_file.write_text(json.dumps(plans, indent=4))
    return entry
