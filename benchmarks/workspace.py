"""A benchmark workspace: real MSD hippocampus converted, planned and preprocessed by nnU-Net, with 2d_cpu."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from nnunet_semantic.environment import apply, environment

REPO = Path(__file__).resolve().parents[1]
HIPPOCAMPUS = REPO.parent / "shared" / "data" / "msd_hippocampus"
DATASET_ID, DATASET = 4, "Dataset004_Hippocampus"


def prepare(root: Path, batch_size: int | None = None) -> Path:
    """nnU-Net folders under `root` (reused when already prepared); returns the preprocessed dataset folder."""
    from nnunet_semantic.dataset_conversion.msd import convert_msd
    from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER

    apply(environment(root))
    pre, raw = root / "nnUNet_preprocessed" / DATASET, root / "nnUNet_raw" / DATASET
    if not (raw / HELDOUT_FOLDER).is_dir():  # absent, or converted before held-out wordings: sidecars are stale
        convert_msd(HIPPOCAMPUS, DATASET_ID, overwrite=raw.is_dir(), num_processes=2)
        if (pre / "dataset.json").is_file():  # the images are the same; the ontology nnU-Net copied is not
            shutil.copyfile(raw / "dataset.json", pre / "dataset.json")
    if not (pre / "nnUNetPlans.json").is_file():
        bin_dir = Path(sys.executable).parent
        subprocess.run([str(bin_dir / "nnUNetv2_plan_and_preprocess"), "-d", str(DATASET_ID), "-c", "2d",
                        "-np", "2"], check=True)
    plans = json.loads((pre / "nnUNetPlans.json").read_text())
    if "2d_cpu" not in plans["configurations"] or batch_size is not None:
        from nnunet_semantic.plans.cpu import add_cpu_configuration

        add_cpu_configuration(pre, batch_size=batch_size)
    return pre


def trainer(cls, pre: Path, configuration: str = "2d_cpu", fold: int = 0):
    import torch

    plans = json.loads((pre / "nnUNetPlans.json").read_text()) | {"continue_training": False}
    return cls(plans, configuration, fold, json.loads((pre / "dataset.json").read_text()), torch.device("cpu"))
