"""nnU-Net environment variables and the trainer shim folder that `nnUNet_extTrainer` points at.

nnU-Net imports every module of an `nnUNet_extTrainer` folder under its bare name and removes those
modules from `sys.modules` afterwards. Pointed at the package itself, that breaks relative imports and
gives the classes a module name that cannot be pickled. The shim folder holds one module that only
re-imports the real classes, so they keep their `nnunet_semantic.trainers` module.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

SHIM_DIR = Path(__file__).resolve().parent / "ext_trainer"
NNUNET_FOLDERS = ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results")


def ext_trainer_value(current: str | None = None) -> str:
    """`nnUNet_extTrainer` with the shim first, keeping any folders the user already listed."""
    current = os.environ.get("nnUNet_extTrainer", "") if current is None else current
    others = [p for p in current.split(os.pathsep) if p.strip() and Path(p).resolve() != SHIM_DIR]
    return os.pathsep.join([str(SHIM_DIR), *others])


def environment(root: Path | None = None, cuda: bool | None = None) -> dict[str, str]:
    """The variables a shell needs for nnU-Net with this package.

    `root` puts the three nnU-Net folders under one directory; without it, values already set are kept.
    """
    env: dict[str, str] = {}
    for name in NNUNET_FOLDERS:
        if root is not None:
            env[name] = str((root / name).resolve())
        elif os.environ.get(name):
            env[name] = os.environ[name]
    env["nnUNet_extTrainer"] = ext_trainer_value()
    if cuda is None:
        import torch

        cuda = torch.cuda.is_available()
    if not cuda:
        env["nnUNet_compile"] = os.environ.get("nnUNet_compile", "f")
    return env


def export_lines(env: dict[str, str]) -> list[str]:
    return [f"export {k}={shlex.quote(v)}" for k, v in env.items()]


def apply(env: dict[str, str], mkdir: bool = True) -> None:
    """Set the variables in this process (the demo and tests use this instead of a shell)."""
    for name, value in env.items():
        os.environ[name] = value
        if mkdir and name in NNUNET_FOLDERS:
            Path(value).mkdir(parents=True, exist_ok=True)
