"""Seconds per training iteration: SemanticTrainer vs nnUNetTrainer on the same plans and batch (each dataset's
2d_cpu: the hippocampus' 56 x 40 crops, the phantom's, CHAOS' 256 x 256 slices), interleaved in one process so
machine noise hits both alike; peak memory of each measured in its own child process. Target: SemanticTrainer at
most 1.25x nnUNetTrainer at every patch.

    python benchmarks/train_speed.py [--datasets hippocampus phantom chaos] [--configuration 3d_fullres]
                                     [--iterations 20] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from workspace import prepare, trainer  # noqa: E402

from nnunet_semantic.plans.cpu import cpu_configuration  # noqa: E402

TRAINERS = ("nnUNetTrainer", "SemanticTrainer")


def _cls(name: str):
    if name == "nnUNetTrainer":
        from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

        return nnUNetTrainer
    import nnunet_semantic.trainers as t

    return getattr(t, name)


TARGET_RATIO = 1.25


def ready(name: str, pre: Path, n_batches: int, configuration: str = "2d_cpu"):
    os.environ["nnUNet_n_proc_DA"] = "0"  # batches made in this process: the timing is the training step alone
    t = trainer(_cls(name), pre, configuration)
    t.initialize()
    t.dataloader_train, t.dataloader_val = t.get_dataloaders()
    t.network.train()
    return t, [next(t.dataloader_train) for _ in range(n_batches)]


def _status_kb(field: str) -> int:
    return next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith(field))


def memory_child(name: str, workspace: str, dataset: str, iterations: int, source: str) -> None:
    """Peak resident memory of the training steps, over the process's resident memory between steps."""
    pre = prepare(Path(workspace), dataset=dataset, source=source)
    t, batches = ready(name, pre, 2, cpu_configuration(source))
    t.train_step(batches[0])  # first-step allocations (optimizer state, allocator caches)
    idle = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the kernel's peak-RSS counter (VmHWM)
    for i in range(iterations):
        t.train_step(batches[i % 2])
    peak = _status_kb("VmHWM")
    print(json.dumps({"peak_rss_mb": round(peak / 1024, 1), "step_peak_over_idle_mb": round((peak - idle) / 1024, 1)}))


def measure(dataset: str, pre: Path, args) -> list[dict]:
    """Both trainers' rows on one dataset: interleaved steps, then each one's memory in a child process."""
    prepared = {name: ready(name, pre, 4, cpu_configuration(args.configuration)) for name in TRAINERS}
    times = {name: [] for name in TRAINERS}
    for i in range(args.iterations + 2):  # two warm-up rounds
        for name, (t, batches) in prepared.items():
            t0 = time.perf_counter()
            t.train_step(batches[i % len(batches)])
            if i >= 2:
                times[name].append(time.perf_counter() - t0)
    memory = {}
    for name in TRAINERS:
        child = [sys.executable, __file__, "--workspace", str(args.workspace), "--memory-child", name,
                 "--datasets", dataset, "--configuration", args.configuration]
        out = subprocess.run(child, capture_output=True, text=True, check=True)
        memory[name] = json.loads(out.stdout.strip().splitlines()[-1])
    base = statistics.median(times["nnUNetTrainer"])
    return [{"dataset": dataset, "trainer": n, "batch": prepared[n][0].batch_size,
             "patch": "x".join(map(str, prepared[n][0].configuration_manager.patch_size)),
             "s_per_iter_median": round(statistics.median(times[n]), 4),
             "ratio_vs_nnUNetTrainer": round(statistics.median(times[n]) / base, 3),
             "params_M": round(sum(p.numel() for p in prepared[n][0].network.parameters()) / 1e6, 2),
             **memory[n]} for n in TRAINERS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path(tempfile.gettempdir()) / "nnunet_semantic_bench")
    parser.add_argument("--datasets", nargs="+", default=["hippocampus"], help="see benchmarks/workspace.py")
    parser.add_argument("--configuration", default="2d", help="2d or 3d_fullres (as its CPU-sized configuration)")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="the CPU configuration's batch (default: measured by plan-cpu)")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(args.memory_child, str(args.workspace), args.datasets[0], 5, args.configuration)

    import torch

    folders = {dataset: prepare(args.workspace, args.batch_size, dataset, args.configuration)  # all planned
               for dataset in args.datasets}
    rows = [row for dataset, pre in folders.items() for row in measure(dataset, pre, args)]  # before n_proc_DA=0
    targets = {f"{r['dataset']}_s_per_iter_ratio": {"value": r["ratio_vs_nnUNetTrainer"], "target": TARGET_RATIO,
                                                     "met": r["ratio_vs_nnUNetTrainer"] <= TARGET_RATIO}
               for r in rows if r["trainer"] == "SemanticTrainer"}
    name = "train_speed" + ("" if args.configuration == "2d" else f"_{args.configuration}")
    write_results(name, {"datasets": args.datasets, "configuration": cpu_configuration(args.configuration),
                         "iterations": args.iterations, "torch_threads": torch.get_num_threads(), "targets": targets},
                  rows, ["dataset", "trainer", "batch", "patch", "s_per_iter_median", "ratio_vs_nnUNetTrainer",
                         "params_M", "peak_rss_mb", "step_peak_over_idle_mb"])


if __name__ == "__main__":
    main()
