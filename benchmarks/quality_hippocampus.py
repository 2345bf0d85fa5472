"""SemantiBench quality on the real MSD hippocampus: every model trained on the same 160 cases for the same
wall-clock minutes (batch and patch of the 2d_cpu configuration; a slower model gets fewer iterations: the epoch
count is re-estimated from the mean epoch time after every epoch from the second on, so that training ends within
about half an epoch of the budget, and nnU-Net's poly schedules follow it), scored
on the same 40 held-out cases.

The split is nnU-Net's own fold 0 (`splits_final.json`, seed 12345: 160 train / 40 validation); the 40 are
never used for model selection (the final checkpoint is scored), so they serve as the test set. Each model trains
in its own child process. The plain nnUNetTrainer is the non-promptable specialist: its multi-class output gives
each prompt's mask by the same set rule as the reference (`isin(seg, target) & ~isin(seg, avoid)`). All are
scored through nnU-Net's end-of-training validation: its sliding window, with mirroring where the trainer's
augmentation mirrors (not for those that keep orientation: SemanticTrainer here, nnUNetTrainer_keepOrientation).
`sibling_overlap` is the mean Dice between the predictions for "anterior hippocampus" and "posterior hippocampus"
on a case (a prompt-blind model scores ~1; the reference ~0). Wordings no training prompt uses
(`prompts_heldout/`): `L1_heldout_dice` (L1 targets asked in held-out wordings), `invariance_heldout` (Dice of
the prediction for a held-out wording against the seen L1 name's, where Dice(L1) > 0.8), `L3_heldout_dice`.

    python benchmarks/quality_hippocampus.py [--minutes 8] [--iterations 50] [--models NAME ...]

With `--models`, the other models' rows are kept from the last results if they were trained on the same budget.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write_results  # noqa: E402
from workspace import bench_model, prepare, trainer  # noqa: E402

MODELS = ("SemanticTrainer", "SemanticTrainer_additiveFusion", "SemanticTrainer_onePrompt", "SemanticTrainer_rawText",
          "SemanticTrainer_sgdText", "SemanticTrainer_queryHead",
          "SemanticTrainer_noLabelLoss", "SemanticTrainer_noReword", "SemanticTrainer_noExclusionLoss",
          "SemanticTrainer_mergedPrompt", "SemanticTrainer_noFrequency", "SemanticTrainer_encoderFusion",
          "SemanticTrainer_mirrored", "TextConcatTrainer", "nnUNetTrainer", "nnUNetTrainer_keepOrientation")
KEYS = ("L1_dice", "L2_dice", "L3_dice", "pss", "leakage_l3", "invariance_l2", "sibling_overlap", "L1_heldout_dice",
        "invariance_heldout", "L3_heldout_dice")
SIBLINGS = ("anterior hippocampus", "posterior hippocampus")
VAL_ITERATIONS = 5
CALIBRATION_EPOCHS = 2


def wall_clock(cls, minutes: float):
    """`cls` with nnU-Net's epoch loop (`nnUNetTrainer.run_training` of nnunetv2 2.8.1, followed line by line;
    tests/test_layout.py fails when the installed one changes), whose epoch count is set after CALIBRATION_EPOCHS so
    that training takes about `minutes`."""
    import time

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
                if self.current_epoch >= CALIBRATION_EPOCHS:  # re-estimated after every epoch: the machine is shared
                    per_epoch = (time.perf_counter() - start) / self.current_epoch
                    self.num_epochs = max(self.current_epoch, round(minutes * 60 / per_epoch))  # == current: done
                    self.lr_scheduler.max_steps = self.num_epochs
                    if self.current_epoch == CALIBRATION_EPOCHS:
                        self.print_to_log_file(f"wall-clock budget {minutes} min: about {self.num_epochs} epochs")
            self.train_minutes = (time.perf_counter() - start) / 60
            self.print_to_log_file(f"wall-clock budget {minutes} min: {self.current_epoch} epochs in "
                                   f"{self.train_minutes:.2f} min")
            self.on_train_end()

    return WallClock


def _budgeted(name: str, minutes: float, iterations: int, pre: Path):
    """A trainer of class `name` on the benchmark's budget, in its own results folder (`<name>_bench`)."""
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    import nnunet_semantic.trainers

    base = nnUNetTrainer if name == "nnUNetTrainer" else getattr(nnunet_semantic.trainers, name)
    t = trainer(type(f"{name}_bench", (wall_clock(base, minutes),), {}), pre)
    t.num_epochs, t.num_iterations_per_epoch, t.num_val_iterations_per_epoch = 1000, iterations, VAL_ITERATIONS
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


def sibling_overlap(folder: Path, cases: list[str]) -> float:
    """Mean over cases of Dice(pred("anterior hippocampus"), pred("posterior hippocampus"))."""
    import numpy as np
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    from nnunet_semantic.evaluation.metrics import dice
    from nnunet_semantic.prompts.sidecar import prediction_name

    io = SimpleITKIO()
    values = [dice(*(io.read_seg(str(folder / prediction_name(case, text)))[0][0] > 0 for text in SIBLINGS))
              for case in cases]
    return float(np.nanmean(values))


def train_one(name: str, workspace: Path, minutes: float, iterations: int) -> None:
    """Child process: train on fold 0, write validation_semantic/summary.json for its 40 cases and bench.json."""
    from nnunet_semantic.evaluation.evaluate import evaluate_folders
    from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER
    from nnunet_semantic.trainers import SemanticTrainer

    pre = prepare(workspace)
    t = _budgeted(name, minutes, iterations, pre)
    t.run_training()
    t.perform_actual_validation()
    _, cases = t.do_split()
    out = Path(t.output_folder)
    if not isinstance(t, SemanticTrainer):  # a specialist: each prompt's mask from its label map
        evaluate_folders(pre / "gt_segmentations", _specialist_prompts(out, pre, cases),
                         [pre / "prompts", pre / HELDOUT_FOLDER], out / "validation_semantic" / "summary.json",
                         pre / "dataset.json", cases=cases)
    (out / "bench.json").write_text(json.dumps({
        "epochs": t.num_epochs, "iterations": t.num_epochs * iterations, "train_minutes": round(t.train_minutes, 2),
        "sibling_overlap": sibling_overlap(out / "validation_semantic", cases)}))


def _row(summary: dict) -> dict:
    from nnunet_semantic.evaluation.semantibench import headline

    row = headline(summary["semantic"])
    return {k: row[k] for k in ("L1_dice", "L2_dice", "L3_dice", "L3_heldout_dice", "pss", "invariance_l2",
                                "leakage_l3", "n_prompts", "L1_heldout_dice", "invariance_heldout",
                                "leakage_l3_heldout")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/nnunet_semantic_bench"))
    parser.add_argument("--minutes", type=float, default=8.0, help="training minutes per model (wall clock)")
    parser.add_argument("--iterations", type=int, default=50, help="training iterations per epoch")
    parser.add_argument("--models", nargs="+", default=list(MODELS), help="nnUNetTrainer or a trainer class name")
    parser.add_argument("--tag", help="write results/quality_hippocampus_TAG.* (a trial) instead of the record")
    parser.add_argument("--train-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_one:
        return train_one(args.train_one, args.workspace, args.minutes, args.iterations)

    pre = prepare(args.workspace)
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    plans = PlansManager(str(pre / "nnUNetPlans.json")).get_configuration("2d_cpu")
    models = {}
    for name in args.models:
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--train-one", name, "--workspace", str(args.workspace),
                        "--minutes", str(args.minutes), "--iterations", str(args.iterations)], check=True)
        fold = bench_model(name) / "fold_0"
        models[name] = _row(json.loads((fold / "validation_semantic" / "summary.json").read_text())) \
            | json.loads((fold / "bench.json").read_text()) | {"wall_minutes": (time.perf_counter() - start) / 60}
        print(f"{name}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in models[name].items()), flush=True)
    split = json.loads((pre / "splits_final.json").read_text())[0]  # written by nnU-Net's first training
    budget = {"mode": "wall_clock", "minutes": args.minutes, "iterations_per_epoch": args.iterations,
              "batch_size": plans.batch_size,
              "patch_size": plans.patch_size, "configuration": "2d_cpu", "device": "cpu (2 cores)"}
    name = "quality_hippocampus" + (f"_{args.tag}" if args.tag else "")
    last = RESULTS / f"{name}.json"
    earlier = json.loads(last.read_text()) if last.is_file() else {}
    if earlier.get("budget") == budget:
        kept = {name: {"run": earlier["command"]} | m for name, m in earlier["models"].items() if name not in models}
        models = models | kept
    models = {name: models[name] for name in sorted(models, key=lambda n: (n not in MODELS, MODELS.index(n)
                                                                             if n in MODELS else 0, n))}
    rows = [{"model": name} | {k: "-" if m.get(k) is None else f"{m[k]:.3f}" for k in KEYS}
            | {"iterations": m["iterations"], "train_minutes": m.get("train_minutes", "-"),
               "minutes": f"{m['wall_minutes']:.1f}"} for name, m in models.items()]
    write_results(name, {
        "models": models, "budget": budget,
        "split": {"source": "nnU-Net splits_final.json fold 0", "train": len(split["train"]),
                  "test": len(split["val"]), "test_cases": split["val"]}},
        rows, ["model", *KEYS, "iterations", "train_minutes", "minutes"])


if __name__ == "__main__":
    main()
