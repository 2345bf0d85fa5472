"""`nnunet-semantic demo`: the pipeline end to end on the embedded synthetic default (or `--data`).

Runs every stage that has landed; the stages still to come are listed, not faked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from nnunet_semantic import doctor
from nnunet_semantic.environment import NNUNET_FOLDERS, apply, environment
from nnunet_semantic.errors import SemanticError

PENDING = ["predict L1/L2/L3 on held-out cases", "evaluate (PSS, invariance, leakage) + HTML report"]
TRAINERS = ("SemanticTrainer", "TextConcatTrainer")


def _workspace(output: Path | None) -> Path | None:
    """Root for the nnU-Net folders, or None when the user's own variables are all set."""
    if output is not None:
        return output
    if all(os.environ.get(n) for n in NNUNET_FOLDERS):
        return None
    return Path(tempfile.mkdtemp(prefix="nnunet_semantic_demo_"))


def _step(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def _nnunet(command: str, *args: str) -> None:
    script = Path(sys.executable).parent / command
    code = subprocess.run([str(script), *args]).returncode
    if code:
        raise SemanticError(f"{command} {' '.join(args)} failed (exit {code}); its output is above")


def _validation(trainer: str, configuration: str) -> tuple[dict, Path]:
    results = Path(os.environ["nnUNet_results"])
    path = next(results.glob(f"Dataset*/{trainer}__nnUNetPlans__{configuration}/fold_0/validation_semantic/"
                             "summary.json"))
    return json.loads(path.read_text())["per_level"], path


def main(args) -> int:
    from nnunet_semantic.cli import main as cli

    if args.data is None and args.cases < 5:
        raise SemanticError(f"--cases {args.cases}: nnU-Net's 5-fold split needs at least 5 training cases")
    apply(environment(_workspace(args.output)))
    _step("environment")
    print("\n".join(f"{n}={os.environ[n]}" for n in NNUNET_FOLDERS))
    if doctor.main(args) != 0:
        return 1

    d = str(args.dataset_id)
    common = ["-d", d, "-np", str(args.np)] + (["--overwrite"] if args.overwrite else [])
    if args.data is None:
        _step("convert the synthetic phantom")
        code = cli(["convert", "phantom", *common, "--cases", str(args.cases), "--test-cases", str(args.test_cases)])
    else:
        _step(f"convert {args.data}")
        code = cli(["convert", "msd", "-i", str(args.data), *common])
    if code:
        return code
    _step("nnU-Net plan and preprocess (2d)")
    _nnunet("nnUNetv2_plan_and_preprocess", "-d", d, "-c", "2d", "--verify_dataset_integrity", "-np", str(args.np))
    _step("verified prompts")
    cli(["prompts", "stats", "-d", d])
    _step("text embeddings (once per distinct text)")
    cli(["embed", "-d", d])

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    configuration = "2d" if device == "cuda" else "2d_cpu"
    if device == "cpu":
        _step("CPU configuration")
        cli(["plan-cpu", "-d", d])
    results = {}
    for trainer in TRAINERS:
        name = f"{trainer}_{args.schedule}"
        _step(f"nnUNetv2_train {d} {configuration} 0 -tr {name}")
        _nnunet("nnUNetv2_train", d, configuration, "0", "-tr", name, "-device", device)
        results[name] = _validation(name, configuration)
    _step("validation Dice per prompt level (fold 0, preprocessed space)")
    print(f"{'trainer':<32} {'L1':>7} {'L2':>7} {'L3':>7}  summary")
    for name, (per_level, path) in results.items():
        cells = " ".join(f"{per_level[lv]['dice']:>7.3f}" if per_level[lv]["dice"] is not None else f"{'-':>7}"
                         for lv in ("L1", "L2", "L3"))
        print(f"{name:<32} {cells}  {path}")
    _step("not yet available in this version")
    print("\n".join(f"- {s}" for s in PENDING))
    return 0
