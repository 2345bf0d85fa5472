"""What one nnU-Net plan costs each source of a merged dataset, before any training: the hippocampus (MSD, 1 mm
crops of ~36 x 50 x 35), CHAOS T2 (1.25 x 1.25 x 7.7 mm, 256 x 256 x ~37) and the phantom, merged by `nnunet-semantic
merge --disjoint` and planned by nnU-Net's own planner as one dataset (fingerprint and plans, no preprocessing).

Per source and configuration (2d, 3d_fullres), its own plan against the merged one: the spacing it is resampled to,
the median case shape there, the patch, the voxels per case (what training and prediction of that source cost) and
the share of its median case one patch covers (its context), and the normalisation of its channel (2d: per slice, the
slices keep their own spacing). Targets: every source keeps its own resolution (no axis coarser than 1.1x its own
spacing), at least 0.8 of its own context, at no more than 1.5x its own voxels.

Each source is measured under nnU-Net's one plan ("one plan") and under `nnunet-semantic plan-sources` ("per
source": its own spacing and normalisation, its patch grown to the shared network's strides). For 2d, what the
network costs each source, timed side by side in this process with untrained weights (SemanticUNet as trained, one
prompt): a training sample (a step as `plan-cpu` times it, per sample of a batch of 4) and the prediction of
its median case (one tile's forward, no gradient, times nnU-Net's tile count at step 0.5), against its own plan.

    python benchmarks/merged_plan.py [--workspace DIR] [--datasets hippocampus chaos phantom] [--id 994]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from workspace import bench_dataset, prepare  # noqa: E402

from nnunet_semantic.source_plans import merged_plans, source_name  # noqa: E402

PLANS = "nnUNetPlans_onePlanCost"  # planned beside the workspace's own plans, never over them
CONFIGURATIONS = ("2d", "3d_fullres")
TIMED = ("2d",)  # 3d_fullres at CHAOS's patch is minutes per step on two cores
COLUMNS = ["source", "configuration", "plan", "spacing_own", "spacing_merged", "median_shape_own",
           "median_shape_merged", "patch_own", "patch_merged", "voxels_merged_vs_own", "patch_covers_own",
           "patch_covers_merged", "normalization_merged", "patch_voxels_vs_own", "train_sample_vs_own",
           "predict_case_vs_own"]


def _plan(dataset_id: int) -> dict:
    """nnU-Net's plans for a dataset whose fingerprint is extracted (written as PLANS, the dataset's own untouched)."""
    from nnunetv2.experiment_planning.experiment_planners.default_experiment_planner import ExperimentPlanner

    planner = ExperimentPlanner(dataset_id, plans_name=PLANS, suppress_transpose=False)
    planner.plan_experiment()
    return planner.plans


def _fingerprint(dataset_id: int, name: str) -> tuple[dict, list[str]]:
    """(the dataset's fingerprint, its training case ids in the fingerprint's order), extracted where missing."""
    from nnunetv2.paths import nnUNet_preprocessed, nnUNet_raw
    from nnunetv2.utilities.utils import get_filenames_of_train_images_and_targets

    path = Path(nnUNet_preprocessed) / name / "dataset_fingerprint.json"
    if not path.is_file():
        subprocess.run([str(Path(sys.executable).parent / "nnUNetv2_extract_fingerprint"), "-d", str(dataset_id),
                        "-np", "2"], check=True)
    raw = Path(nnUNet_raw) / name
    cases = list(get_filenames_of_train_images_and_targets(str(raw), json.loads((raw / "dataset.json").read_text())))
    return json.loads(path.read_text()), cases


def _median_shape(fingerprint: dict, index: list[int], spacing: list[float]) -> list[int]:
    """The median case shape (after nnU-Net's crop) of the cases at `index` resampled to `spacing`."""
    shapes = np.array(fingerprint["shapes_after_crop"])[index] * np.array(fingerprint["spacings"])[index]
    return [int(round(v)) for v in np.median(shapes / np.array(spacing), 0)]


def _row(source: str, configuration: str, own: tuple, merged: tuple) -> dict:
    """own / merged: (plans, fingerprint, case indices) of the source."""
    values = {}
    for key, (plans, fingerprint, index) in (("own", own), ("merged", merged)):
        c = plans["configurations"][configuration]
        if configuration == "2d":  # slices keep their own spacing: the cost is in-plane
            shape = _median_shape(fingerprint, index, [1.0, *c["spacing"]])[1:]
        else:
            shape = _median_shape(fingerprint, index, c["spacing"])
        covers = float(np.prod(np.minimum(c["patch_size"], shape)) / np.prod(shape))
        values[key] = (c["spacing"], shape, c["patch_size"], covers, c["normalization_schemes"])
    (sp_o, sh_o, p_o, cov_o, n_o), (sp_m, sh_m, p_m, cov_m, n_m) = values["own"], values["merged"]
    return {"source": source, "configuration": configuration,
            "spacing_own": [round(s, 3) for s in sp_o], "spacing_merged": [round(s, 3) for s in sp_m],
            "median_shape_own": sh_o, "median_shape_merged": sh_m, "patch_own": p_o, "patch_merged": p_m,
            "voxels_merged_vs_own": round(float(np.prod(sh_m) / np.prod(sh_o)), 2),
            "patch_covers_own": round(cov_o, 2), "patch_covers_merged": round(cov_m, 2),
            "normalization_own": n_o, "normalization_merged": n_m,
            "coarsest_axis_vs_own": round(max(m / o for m, o in zip(sp_m, sp_o)), 2),
            "context_vs_own": round(cov_m / cov_o, 2),
            "patch_voxels_vs_own": round(float(np.prod(p_m) / np.prod(p_o)), 2)}


def _seconds(configuration: dict, slices: int, shape: list[int], repeats: int = 2) -> tuple[float, float]:
    """(seconds per training sample, seconds of one case's prediction) of the SemanticUNet of a 2d configuration on
    a case of `slices` slices of `shape` (in-plane, after resampling), one prompt: the training step as `plan-cpu`
    times it (batch 4), the prediction as one tile's forward times nnU-Net's tile count."""
    import time

    import torch
    from nnunetv2.inference.sliding_window_prediction import compute_steps_for_sliding_window
    from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager

    from nnunet_semantic.networks import NetworkConfig, build_network
    from nnunet_semantic.plans.cpu import iteration_seconds

    cm, batch = ConfigurationManager(configuration), 4
    train_s = iteration_seconds(cm, 1, batch, repeats=repeats) / batch
    torch.manual_seed(0)
    net, patch = build_network(cm, 1, NetworkConfig(384)).eval(), list(cm.patch_size)
    x = torch.randn(1, 1, *patch)
    text = {"pos": torch.randn(1, 384), "neg": torch.randn(1, 384), "has_neg": torch.zeros(1, dtype=torch.bool)}
    times = []
    with torch.no_grad():
        for _ in range(5 * repeats + 1):  # the first is a warm-up; a small tile takes milliseconds: more of them
            t0 = time.perf_counter()
            net(x, text)
            times.append(time.perf_counter() - t0)
    in_plane = [max(s, p) for s, p in zip(shape[-2:], patch)]
    steps = compute_steps_for_sliding_window(in_plane, patch, 0.5)
    return train_s, min(times[1:]) * slices * int(np.prod([len(s) for s in steps]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/nnunet_semantic_bench"))
    parser.add_argument("--datasets", nargs="+", default=["hippocampus", "chaos", "phantom"])
    parser.add_argument("--id", type=int, default=994, help="the merged dataset's id in the workspace")
    args = parser.parse_args()
    from nnunet_semantic.dataset_conversion.merge import merge_datasets

    sources = []
    for key in args.datasets:
        prepare(args.workspace, dataset=key)
        bench = bench_dataset(key)
        fingerprint, cases = _fingerprint(bench.id, bench.name)
        sources.append((key, bench, _plan(bench.id), fingerprint, cases))
    merged = merge_datasets([b.name for _, b, *_ in sources], args.id, "OnePlanCost", overwrite=True, disjoint=True)
    fingerprint, cases = _fingerprint(args.id, merged.name)
    plans = _plan(args.id)
    of_source = {s["dataset"]: set(s["cases"])
                 for s in json.loads((merged / "dataset.json").read_text())["semantic"]["sources"].values()}
    per_source = {c: merged_plans({key: p for key, _, p, *_ in sources}, c, merged.name, PLANS)[0]
                  for c in CONFIGURATIONS}
    rows, timed = [], {}
    for key, bench, own_plans, own_fingerprint, own_cases in sources:
        index = [i for i, c in enumerate(cases) if c in of_source[bench.name]]
        own = (own_plans, own_fingerprint, list(range(len(own_cases))))
        for configuration in CONFIGURATIONS:
            rows.append({"plan": "one plan", **_row(key, configuration, own, (plans, fingerprint, index))})
            source_plan = {**own_plans, "configurations": {
                configuration: per_source[configuration]["configurations"][source_name(configuration, key)]}}
            rows.append({"plan": "per source", **_row(key, configuration, own, (source_plan, *own[1:]))})
            if configuration in TIMED:
                for row, chosen in ((rows[-2], plans), (rows[-1], source_plan)):
                    mine = own_plans["configurations"][configuration]
                    used = chosen["configurations"][configuration]
                    slices = int(np.median(np.array(own_fingerprint["shapes_after_crop"])[:, 0]))
                    if ("own", key) not in timed:
                        timed["own", key] = _seconds(mine, slices, row["median_shape_own"])
                    merged_s = _seconds(used, slices, row["median_shape_merged"])
                    row["train_sample_vs_own"] = round(merged_s[0] / timed["own", key][0], 2)
                    row["predict_case_vs_own"] = round(merged_s[1] / timed["own", key][1], 2)
                    row["seconds"] = {"own": timed["own", key], "merged": merged_s}
                    print(key, configuration, row["plan"], row["seconds"], flush=True)
    # (name, field, bound, max: at most / min: at least)
    bounds = (("resolution_kept", "coarsest_axis_vs_own", 1.1, max),
              ("voxels_vs_own", "voxels_merged_vs_own", 1.5, max), ("context_kept", "context_vs_own", 0.8, min))
    bounds += (("train_sample_vs_own", "train_sample_vs_own", 1.5, max),
               ("predict_case_vs_own", "predict_case_vs_own", 1.5, max))
    targets = {f"{r['source']}_{r['configuration']}_{r['plan'].replace(' ', '_')}_{name}": {
        "value": r[field], "target": bound, "met": (r[field] <= bound) if kind is max else (r[field] >= bound)}
        for r in rows for name, field, bound, kind in bounds if field in r}
    write_results("merged_plan", {"targets": targets, "merged": merged.name,
                                  "merged_plans": {c: plans["configurations"][c] for c in CONFIGURATIONS}},
                  rows, COLUMNS)


if __name__ == "__main__":
    main()
