"""The kept trainer variants, each against SemanticTrainer in one run, on two datasets, beside the seeds' own ablation
table (FreqMedCLIP / SemantiSeg report L3 Dice 0.77 full, 0.71 without the exclusion loss, 0.66 with a merged
prompt, 0.73 without the frequency stream).

- hippocampus: the quality benchmark's protocol (`quality.py --dataset hippocampus`: nnU-Net fold 0, 160 training / 40
  held-out cases, the same wall-clock minutes per model, scored through nnU-Net's validation);
- phantom: the demo's protocol (40 training / 10 held-out cases, where lesion and cyst differ from the organ only by
  texture, so the frequency stream has something to show; the demo's 15 x 25 iterations at batch 8 per model),
  every verified prompt (seen wordings) of the held-out cases predicted as `nnUNetv2_predict_semantic` does,
  without mirroring.

    python benchmarks/ablations.py [--minutes 4] [--datasets hippocampus phantom] [--models NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write_results  # noqa: E402

# each answers a question: the seeds' three ablations, the baselines, and the levers that made prompts work
MODELS = ("SemanticTrainer", "SemanticTrainer_noExclusionLoss", "SemanticTrainer_mergedPrompt",
          "SemanticTrainer_noFrequency", "TextConcatTrainer", "SemanticTrainer_additiveFusion",
          "SemanticTrainer_onePrompt", "SemanticTrainer_rawText", "SemanticTrainer_sgdText",
          "SemanticTrainer_noMembershipLoss", "SemanticTrainer_mirrored", "SemanticTrainer_alphaGateOnly",
          "SemanticTrainer_DHN")
ORIENTATION_ONLY = {"SemanticTrainer_mirrored"}  # the phantom names no direction: it equals SemanticTrainer there
PHANTOM_ID, PHANTOM = 900, "Dataset900_SemanticPhantom"
PHANTOM_SCHEDULE, PHANTOM_BATCH = (15, 25, 5), 8
SEEDS = {"SemanticTrainer": 0.77, "SemanticTrainer_noExclusionLoss": 0.71, "SemanticTrainer_mergedPrompt": 0.66,
         "SemanticTrainer_noFrequency": 0.73}


def _phantom(root: Path) -> Path:
    """The demo's phantom under `root`, converted, planned and preprocessed once; the raw dataset folder."""
    from nnunet_semantic.dataset_conversion.phantom import convert_phantom
    from nnunet_semantic.environment import apply, environment
    from nnunet_semantic.plans.cpu import add_cpu_configuration

    apply(environment(root))
    raw, pre = root / "nnUNet_raw" / PHANTOM, root / "nnUNet_preprocessed" / PHANTOM
    if not raw.is_dir():
        convert_phantom(PHANTOM_ID, cases=40, test_cases=10, num_processes=2)
    if not (pre / "nnUNetPlans.json").is_file():
        subprocess.run([str(Path(sys.executable).parent / "nnUNetv2_plan_and_preprocess"), "-d", str(PHANTOM_ID),
                        "-c", "2d", "-np", "2"], check=True)
        add_cpu_configuration(pre, batch_size=PHANTOM_BATCH)
    return raw


def train_phantom(name: str, root: Path) -> None:
    """Child process: train `name` on the demo's schedule, predict the held-out cases, write their summary."""
    import torch
    from workspace import trainer

    import nnunet_semantic.trainers as trainers
    from nnunet_semantic.evaluation.evaluate import evaluate_folders
    from nnunet_semantic.inference.api import predict

    raw = _phantom(root)
    cls = type(f"{name}_phantom", (getattr(trainers, name),), {"schedule": PHANTOM_SCHEDULE})
    t = trainer(cls, root / "nnUNet_preprocessed" / PHANTOM)
    t.run_training()
    torch.set_num_threads(os.cpu_count() or 1)
    out = root / "predictions" / name
    prompts = [raw / "prompts"]  # the seen wordings: held-out ones would double the time (the demo scores them)
    predict(raw / "imagesTs", out, str(PHANTOM_ID), "2d_cpu", cls.__name__, ("0",), prompt_files=prompts,
            device="cpu", disable_tta=True)
    cases = sorted(p.name[: -len("_0000.nii.gz")] for p in (raw / "imagesTs").glob("*_0000.nii.gz"))
    evaluate_folders(raw / "labelsTs", out, prompts, out / "summary.json", out / "dataset.json", cases=cases)


def _phantom_row(summary: dict) -> dict:
    from nnunet_semantic.evaluation.summary import SemanticSummary

    row = SemanticSummary.of(summary["semantic"]).row()
    names = {"L1": "L1_dice", "L2": "L2_dice", "L3": "L3_dice", "pss": "pss", "leakage": "leakage_l3",
             "invariance": "invariance_l2", "leak_2x": "leakage_l3_multi", "absent_fp": "absent_false_positive_rate"}
    return {k: row[key] for k, key in names.items()} | {
        "L1_per_structure": SemanticSummary.of(summary["semantic"]).structure_dice("L1")}


def _run(args: list[str]) -> None:
    subprocess.run([sys.executable, *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=4.0, help="hippocampus training minutes per model")
    parser.add_argument("--iterations", type=int, default=50, help="hippocampus iterations per epoch")
    parser.add_argument("--datasets", nargs="+", default=["hippocampus", "phantom"], choices=("hippocampus", "phantom"))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/nnunet_semantic_bench"))
    parser.add_argument("--retrain", action="store_true", help="phantom: retrain models scored before")
    parser.add_argument("--train-phantom", help=argparse.SUPPRESS)
    args = parser.parse_args()
    phantom_root = args.workspace.with_name(args.workspace.name + "_phantom")
    if args.train_phantom:
        return train_phantom(args.train_phantom, phantom_root)

    here = Path(__file__).resolve().parent
    results = {"hippocampus": {}, "phantom": {}}
    if "hippocampus" in args.datasets:  # the quality benchmark's own protocol, one model after the other
        _run([str(here / "quality.py"), "--models", *args.models, "--minutes", str(args.minutes),
              "--iterations", str(args.iterations), "--workspace", str(args.workspace), "--tag", "ablations"])
        record = json.loads((here / "results" / "quality_hippocampus_ablations.json").read_text())["models"]
        results["hippocampus"] = {
            name: {"L1": m["L1_dice"], "L3": m["L3_dice"], "pss": m["pss"], "leakage": m["leakage_l3"],
                   "invariance": m["invariance_l2"], "L3_heldout": m["L3_heldout_dice"],
                   "sibling_overlap": m["sibling_overlap"], "iterations": m["iterations"]}
            for name, m in record.items() if name in args.models}
    if "phantom" in args.datasets:
        _phantom(phantom_root)
        for name in (m for m in args.models if m not in ORIENTATION_ONLY):
            summary_file = phantom_root / "predictions" / name / "summary.json"
            if args.retrain or not summary_file.is_file():  # a model trained and scored before is read back
                _run([__file__, "--train-phantom", name, "--workspace", str(args.workspace)])
            summary = json.loads(summary_file.read_text())
            results["phantom"][name] = _phantom_row(summary)
            print(name, results["phantom"][name], flush=True)

    budget = {"hippocampus": {"minutes": args.minutes, "iterations_per_epoch": args.iterations},
              "phantom": {"schedule": list(PHANTOM_SCHEDULE), "batch_size": PHANTOM_BATCH}}
    last = RESULTS / "ablations.json"
    earlier = json.loads(last.read_text()) if last.is_file() else {}
    for dataset, rows in earlier.get("results", {}).items():  # runs of other models on the same budget are kept
        if earlier["budget"][dataset] == budget[dataset]:
            results[dataset] = {**rows, **results[dataset]}

    def cell(value) -> str:
        return "-" if value is None else f"{value:.3f}"

    rows = []
    for name in (m for m in MODELS if m in results["hippocampus"] or m in results["phantom"]):
        hip, pha = results["hippocampus"].get(name, {}), results["phantom"].get(name, {})
        rows.append({"model": name, "seeds' L3": cell(SEEDS.get(name)),
                     **{f"hippocampus {k}": cell(hip.get(k)) for k in ("L1", "L3", "pss", "leakage",
                                                                       "sibling_overlap", "L3_heldout")},
                     **{f"phantom {k}": cell(pha.get(k)) for k in ("L1", "L2", "L3", "pss", "leakage", "leak_2x",
                                                                   "invariance", "absent_fp")},
                     "phantom L1 lesion / cyst / nodule": " / ".join(
                         cell(pha.get("L1_per_structure", {}).get(s)) for s in ("lesion", "cyst", "nodule"))})
    write_results("ablations", {"results": results, "budget": budget}, rows, list(rows[0]))


if __name__ == "__main__":
    main()
