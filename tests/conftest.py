from __future__ import annotations

import os
from pathlib import Path

import pytest

from nnunet_semantic.environment import NNUNET_FOLDERS, apply, environment

REPO = Path(__file__).resolve().parents[1]
HIPPOCAMPUS = REPO.parent / "shared" / "data" / "msd_hippocampus"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("nnUNet_compile", "f")


@pytest.fixture
def nnunet_env(tmp_path, monkeypatch) -> Path:
    """Fresh nnUNet_raw/_preprocessed/_results under a temp dir, and the trainer shim on the lookup path."""
    for name in (*NNUNET_FOLDERS, "nnUNet_extTrainer"):
        monkeypatch.delenv(name, raising=False)
    env = environment(tmp_path / "nnunet", cuda=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    apply(env)
    return tmp_path / "nnunet"


@pytest.fixture(scope="session")
def tiny_biomedclip(tmp_path_factory) -> Path:
    from helpers import TINY_BERT, TINY_CFG, VOCAB

    from nnunet_semantic.text.biomedclip import write_random_folder

    return write_random_folder(tmp_path_factory.mktemp("biomedclip"), VOCAB, TINY_CFG, TINY_BERT)


@pytest.fixture
def hippocampus() -> Path:
    if not (HIPPOCAMPUS / "dataset.json").is_file():
        pytest.skip(f"real data not found at {HIPPOCAMPUS}")
    return HIPPOCAMPUS
