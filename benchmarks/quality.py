"""SemantiBench quality on any dataset: SemanticTrainer against the plain nnU-Net specialist
(`nnUNetTrainer_keepOrientation`) on the dataset's own plan (2d_cpu, or 3d_fullres_cpu with `--configuration
3d_fullres`), the same folds and the same budget, scored on each fold's held-out cases.

    python benchmarks/quality.py --dataset hippocampus|chaos|phantom|ID [--folds 0] [--epochs 20 --iterations 50]
                                 [--minutes 8] [--configuration 3d_fullres] [--models NAME ...] [--tag TAG]

Budget: `--epochs E --iterations I` trains every model E x I iterations (equal iterations; nnU-Net's poly schedule
over E epochs); `--minutes M` instead gives every model M wall-clock minutes (the epoch count re-estimated after
every epoch from the second on, so a slower model gets fewer iterations: the hippocampus record's protocol).

The split is nnU-Net's own (`splits_final.json`, seed 12345); each fold's validation cases are never used for model
selection (the final checkpoint is scored), so they serve as its test set. Each (model, fold) trains in its own
child process. The specialist's multi-class output gives each prompt's mask by the reference's own set rule
(`isin(seg, target) & ~isin(seg, avoid)`). All are scored through nnU-Net's end-of-training validation (its
sliding window; no mirroring: both keep orientation). Reported, as the mean over folds:
- per structure L1 Dice, L1 / L2 / L3 Dice, PSS, L3 leakage, held-out wordings (`L1_heldout_dice`: L1 targets
  asked in wordings no training prompt uses; `L3_heldout_dice`);
- `sibling_overlap`: for each pair of disjoint structures under the same parent in the ontology (anterior /
  posterior hippocampus; right / left kidney; liver / kidneys / spleen), the mean over cases of the Dice between
  their two predictions (a prompt-blind model scores ~1, the reference 0); the worst pair is the headline;
- `s_per_iter` (training loop seconds over iterations, validation steps and data waits included), the training
  process' peak resident memory, and how far the specialist still climbed: the gain of nnU-Net's EMA pseudo-Dice
  over the last quarter of its epochs (`ema_gain_last_quarter`; below 0.01 counts as converged at this budget).
Every result JSON carries a `targets` object (name -> value, target, met; each met when value <= target).
With `--models`, the other models' rows are kept from the last results if they were trained on the same budget.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write_results  # noqa: E402
from workspace import bench_dataset, bench_model, prepare, trainer  # noqa: E402

from nnunet_semantic.plans.cpu import cpu_configuration  # noqa: E402

SPECIALIST = "nnUNetTrainer_keepOrientation"
MODELS = ("SemanticTrainer", "SemanticTrainer_additiveFusion", "SemanticTrainer_onePrompt", "SemanticTrainer_rawText",
          "SemanticTrainer_sgdText", "SemanticTrainer_queryHead",
          "SemanticTrainer_noLabelLoss", "SemanticTrainer_noReword", "SemanticTrainer_noExclusionLoss",
          "SemanticTrainer_mergedPrompt", "SemanticTrainer_noFrequency", "SemanticTrainer_encoderFusion",
          "SemanticTrainer_mirrored", "TextConcatTrainer", "nnUNetTrainer", SPECIALIST)
KEYS = ("L1_dice", "L2_dice", "L3_dice", "pss", "leakage_l3", "invariance_l2", "sibling_overlap", "L1_heldout_dice",
        "invariance_heldout", "L3_heldout_dice")
VAL_ITERATIONS = 5
CALIBRATION_EPOCHS = 2


def wall_clock(cls, minutes: float | None):
    """`cls` with nnU-Net's epoch loop (`nnUNetTrainer.run_training` of nnunetv2 2.8.1, followed line by line;
    tests/test_layout.py fails when the installed one changes), timed; with `minutes`, its epoch count is set after
    CALIBRATION_EPOCHS so that training takes about that long."""
    import torch

    class WallClock(cls):
        def run_training(self):
            self.on_train_start()
            start = time.perf_counter()
            while self.current_epoch < self.num_epochs:
                self.on_epoch_start()
                self.on_train_epoch_start()
                outputs = [self.train_step(next(self.dataloader_train)) for _ in range(self.num_iterations_per_epoch)]
                self.on_train_epoch_end(outputs)
                with torch.no_grad():
                    self.on_validation_epoch_start()
                    outputs = [self.validation_step(next(self.dataloader_val))
                               for _ in range(self.num_val_iterations_per_epoch)]
                    self.on_validation_epoch_end(outputs)
                self.on_epoch_end()
                if minutes and self.current_epoch >= CALIBRATION_EPOCHS:  # re-estimated: the machine is shared
                    per_epoch = (time.perf_counter() - start) / self.current_epoch
                    self.num_epochs = max(self.current_epoch, round(minutes * 60 / per_epoch))  # == current: done
                    self.lr_scheduler.max_steps = self.num_epochs
                    if self.current_epoch == CALIBRATION_EPOCHS:
                        self.print_to_log_file(f"wall-clock budget {minutes} min: about {self.num_epochs} epochs")
            self.train_minutes = (time.perf_counter() - start) / 60
            self.print_to_log_file(f"{self.current_epoch} epochs in {self.train_minutes:.2f} min")
            self.on_train_end()

    return WallClock


def _budgeted(name: str, args, pre: Path, fold: int):
    """A trainer of class `name` on the benchmark's budget, in its own results folder (`<name>_bench`)."""
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    import nnunet_semantic.trainers

    base = nnUNetTrainer if name == "nnUNetTrainer" else getattr(nnunet_semantic.trainers, name)
    cls = type(f"{name}_bench", (wall_clock(base, args.minutes),), {})
    t = trainer(cls, pre, cpu_configuration(args.configuration), fold)
    t.num_epochs = 1000 if args.minutes else args.epochs
    t.num_iterations_per_epoch, t.num_val_iterations_per_epoch = args.iterations, VAL_ITERATIONS
    return t


def _specialist_prompts(output: Path, pre: Path, cases: list[str]) -> Path:
    """Each verified prompt's mask from the specialist's label maps, by the reference's own set rule."""
    import numpy as np
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    from nnunet_semantic.evaluation.metrics import reference_mask
    from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER, prediction_name, read_sidecar_folder

    folder = output / "validation_semantic"
    folder.mkdir(exist_ok=True)
    io = SimpleITKIO()
    sidecars = [read_sidecar_folder(pre / name) for name in ("prompts", HELDOUT_FOLDER)]
    for case in cases:
        seg, properties = io.read_seg(str(output / "validation" / f"{case}.nii.gz"))
        for p in (p for s in sidecars for p in s[case]):
            mask = reference_mask(seg[0], p.target, p.avoid)
            io.write_seg(mask.astype(np.uint8), str(folder / prediction_name(case, p.text)), properties)
    return folder


def sibling_pairs(ontology) -> list[tuple[str, str]]:
    """Pairs of structures with no label in common whose smallest enclosing structure is the same."""
    holder = {name: ontology.holder(s.labels) for name, s in ontology.structures.items()}
    return [(a, b) for a, b in combinations(ontology.structures, 2)
            if not ontology.structures[a].labels & ontology.structures[b].labels
            and holder[a] is not None and holder[a] is holder[b]]


def sibling_overlap(folder: Path, pre: Path, cases: list[str]) -> dict[str, float]:
    """'a / b' -> mean over cases of Dice(pred(a), pred(b)), each structure asked by its L1 name."""
    import numpy as np
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    from nnunet_semantic.evaluation.metrics import dice
    from nnunet_semantic.prompts.ontology import Ontology
    from nnunet_semantic.prompts.sidecar import prediction_name, read_sidecar_folder

    io = SimpleITKIO()
    prompts = read_sidecar_folder(pre / "prompts")
    out = {}
    for a, b in sibling_pairs(Ontology.of_dataset(pre)):
        values = []
        for case in cases:
            named = {p.structure: p.text for p in prompts[case] if p.level == 1 and p.text == p.structure}
            if a in named and b in named:
                masks = [io.read_seg(str(folder / prediction_name(case, named[s])))[0][0] > 0 for s in (a, b)]
                values.append(dice(*masks))
        finite = [v for v in values if np.isfinite(v)]  # NaN: both predictions empty
        out[f"{a} / {b}"] = float(np.mean(finite)) if finite else None
    return out


def _peak_rss_mb() -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM"))
    return round(int(line.split()[1]) / 1024, 1)


def train_one(name: str, fold: int, args) -> None:
    """Child process: train one fold, write validation_semantic/summary.json for its cases and bench.json."""
    from nnunet_semantic.evaluation.evaluate import evaluate_folders
    from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER
    from nnunet_semantic.trainers import SemanticTrainer

    pre = prepare(args.workspace, dataset=args.dataset, source=args.configuration)
    t = _budgeted(name, args, pre, fold)
    t.run_training()
    peak = _peak_rss_mb()
    t.perform_actual_validation()
    _, cases = t.do_split()
    out = Path(t.output_folder)
    if not isinstance(t, SemanticTrainer):  # a specialist: each prompt's mask from its label map
        evaluate_folders(pre / "gt_segmentations", _specialist_prompts(out, pre, cases),
                         [pre / "prompts", pre / HELDOUT_FOLDER], out / "validation_semantic" / "summary.json",
                         pre / "dataset.json", cases=cases)
    ema = t.logger.get_value("ema_fg_dice", step=None)
    iterations = t.current_epoch * args.iterations
    (out / "bench.json").write_text(json.dumps({
        "epochs": t.current_epoch, "iterations": iterations, "train_minutes": round(t.train_minutes, 2),
        "s_per_iter": round(t.train_minutes * 60 / iterations, 3), "train_peak_rss_mb": peak,
        "ema_fg_dice": [round(float(v), 4) for v in ema],
        "ema_gain_last_quarter": round(float(ema[-1] - ema[-(len(ema) // 4 + 1)]), 4),
        "sibling_pairs": sibling_overlap(out / "validation_semantic", pre, cases)}))


def _fold_row(fold: Path) -> dict:
    from nnunet_semantic.evaluation.summary import SemanticSummary

    semantic = SemanticSummary.of(json.loads((fold / "validation_semantic" / "summary.json").read_text())["semantic"])
    bench = json.loads((fold / "bench.json").read_text())
    pairs = {k: v for k, v in bench.pop("sibling_pairs").items() if v is not None}
    row = semantic.row()
    return {k: row[k] for k in KEYS if k in row} | {
        "sibling_overlap": max(pairs.values()) if pairs else None, "sibling_pairs": pairs,
        "per_structure_L1": semantic.structure_dice("L1")} | bench


def _mean_over_folds(rows: list[dict]) -> dict:
    """Numbers averaged over folds (None where a fold has none), nested dicts per key, lists kept per fold."""
    import numpy as np

    def mean(values):
        values = [v for v in values if v is not None]
        return float(np.mean(values)) if values else None

    out = {}
    for key, first in rows[0].items():
        if isinstance(first, dict):
            out[key] = {k: mean([r[key].get(k) for r in rows]) for k in first}
        elif isinstance(first, list):
            out[key] = [r[key] for r in rows] if len(rows) > 1 else first
        else:
            out[key] = mean([r[key] for r in rows])
    return out | {"folds": len(rows)}


def at_most(value: float | None, target: float) -> dict:
    return {"value": None if value is None else round(value, 4), "target": target,
            "met": value is not None and value <= target}


def targets(models: dict) -> dict:
    """The issue's targets, each `value <= target`: gaps to the specialist, sibling overlap, leakage, held-out
    wordings' gap to the named ones, seconds per iteration against the specialist's."""
    if "SemanticTrainer" not in models:
        return {}
    sem, out = models["SemanticTrainer"], {}
    if SPECIALIST in models:
        spec = models[SPECIALIST]
        for s, value in sem["per_structure_L1"].items():
            if value is not None and spec["per_structure_L1"].get(s) is not None:
                out[f"{s}_L1_dice_below_specialist"] = at_most(spec["per_structure_L1"][s] - value, 0.01)
        for key in ("L1_dice", "L3_dice"):
            out[f"{key}_below_specialist"] = at_most(spec[key] - sem[key], 0.01)
        out["s_per_iter_ratio_vs_specialist"] = at_most(sem["s_per_iter"] / spec["s_per_iter"], 1.25)
        out["specialist_ema_gain_last_quarter"] = at_most(spec["ema_gain_last_quarter"], 0.01)
    out["sibling_overlap"] = at_most(sem["sibling_overlap"], 0.01)
    out["leakage_l3"] = at_most(sem["leakage_l3"], 0.03)
    for seen, heldout in (("L1_dice", "L1_heldout_dice"), ("L3_dice", "L3_heldout_dice")):
        if sem.get(heldout) is not None:
            out[f"{heldout}_below_named"] = at_most(sem[seen] - sem[heldout], 0.03)
    return out


def _format(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/nnunet_semantic_bench"))
    parser.add_argument("--dataset", default="hippocampus", help="hippocampus, chaos, phantom or a converted id")
    parser.add_argument("--configuration", default="2d", help="the planned configuration: 2d or 3d_fullres (trained as "
                        "its CPU-sized one, 2d_cpu / 3d_fullres_cpu)")
    parser.add_argument("--folds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs per model (equal iterations)")
    parser.add_argument("--iterations", type=int, default=50, help="training iterations per epoch")
    parser.add_argument("--minutes", type=float, help="wall-clock minutes per model instead of --epochs")
    parser.add_argument("--models", nargs="+", default=["SemanticTrainer", SPECIALIST],
                        help="nnUNetTrainer or a trainer class name")
    parser.add_argument("--tag", help="write results/quality_DATASET_TAG.* (a trial) instead of the record")
    parser.add_argument("--train-one", help=argparse.SUPPRESS)
    parser.add_argument("--fold", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_one:
        return train_one(args.train_one, args.fold, args)

    pre = prepare(args.workspace, dataset=args.dataset, source=args.configuration)
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    configuration = cpu_configuration(args.configuration)
    plans = PlansManager(str(pre / "nnUNetPlans.json")).get_configuration(configuration)
    models = {}
    for name in args.models:
        start, rows = time.perf_counter(), []
        for fold in args.folds:
            subprocess.run([sys.executable, __file__, *sys.argv[1:], "--train-one", name, "--fold", str(fold)],
                           check=True)
            rows.append(_fold_row(bench_model(name, args.dataset, configuration) / f"fold_{fold}"))
        models[name] = _mean_over_folds(rows) | {"wall_minutes": (time.perf_counter() - start) / 60}
        print(f"{name}: " + ", ".join(f"{k} {_format(models[name].get(k))}" for k in KEYS), flush=True)
    budget = {"mode": "wall_clock" if args.minutes else "iterations", "minutes": args.minutes,
              "epochs": None if args.minutes else args.epochs, "iterations_per_epoch": args.iterations,
              "folds": args.folds, "batch_size": plans.batch_size, "patch_size": plans.patch_size,
              "configuration": configuration, "device": "cpu (2 cores)"}
    if args.minutes and args.folds == [0]:  # the hippocampus record's budget, as it was written before folds
        budget = {k: v for k, v in budget.items() if k not in ("epochs", "folds")}
    key = args.dataset if args.dataset in ("hippocampus", "chaos", "phantom") else bench_dataset(args.dataset).name
    name = f"quality_{key}" + ("" if args.configuration == "2d" else f"_{args.configuration}")
    name += f"_{args.tag}" if args.tag else ""
    last = RESULTS / f"{name}.json"
    earlier = json.loads(last.read_text()) if last.is_file() else {}
    if earlier.get("budget") == budget:
        models = models | {n: {"run": earlier["command"]} | m for n, m in earlier["models"].items() if n not in models}
    models = {n: models[n] for n in sorted(models, key=lambda n: (n not in MODELS, MODELS.index(n)
                                                                  if n in MODELS else 0, n))}
    split = json.loads((pre / "splits_final.json").read_text())
    rows = [{"model": n} | {k: _format(m.get(k)) for k in KEYS}
            | {"iterations": int(m["iterations"]), "s_per_iter": _format(m.get("s_per_iter")),
               "peak_rss_mb": _format(m.get("train_peak_rss_mb")), "minutes": f"{m['wall_minutes']:.1f}"}
            for n, m in models.items()]
    result = targets(models)
    write_results(name, {
        "dataset": bench_dataset(args.dataset).name, "models": models, "budget": budget, "targets": result,
        "split": {"source": "nnU-Net splits_final.json", "folds": {f: {"train": len(split[f]["train"]),
                                                                     "test_cases": split[f]["val"]}
                                                                 for f in args.folds}}},
        rows, ["model", *KEYS, "iterations", "s_per_iter", "peak_rss_mb", "minutes"])
    for target, entry in result.items():
        print(f"{target}: {entry['value']} (target <= {entry['target']}): {'met' if entry['met'] else 'MISSED'}")


if __name__ == "__main__":
    main()
