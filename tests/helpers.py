"""Small fixtures written by tests: NIfTI files, MSD/KiTS/BraTS layouts, source snapshots."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk


def script(name: str) -> str:
    """A console script of the environment running the tests (found without relying on PATH)."""
    return str(Path(sys.executable).parent / name)


def write_nii(path: Path, arr: np.ndarray, spacing=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # a 4D array is a series of 3D volumes (MSD's multi-modal layout), not a vector image
    img = sitk.JoinSeries([sitk.GetImageFromArray(a) for a in arr]) if arr.ndim == 4 else sitk.GetImageFromArray(arr)
    if spacing is not None:
        img.SetSpacing(spacing)
    sitk.WriteImage(img, str(path))
    return path


def read_nii(path: Path) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def snapshot(folder: Path) -> dict[str, str]:
    """Content hash of every file: a converter must leave its source exactly as it was."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def organ_seg(rng: np.random.Generator, shape=(6, 24, 24), labels=(1, 2, 3)) -> np.ndarray:
    """An outer label with two inner labels: enough for L1/L2/L3 prompts."""
    seg = np.zeros(shape, np.uint8)
    seg[1:-1, 3:21, 3:21] = labels[0]
    seg[2:-2, 5:11, 5:11] = labels[1]
    if len(labels) > 2 and rng.random() < 0.8:
        seg[2:-2, 13:19, 13:19] = labels[2]
    return seg


def msd_subset(hippocampus: Path, dest: Path, n: int) -> Path:
    """An MSD task folder with the first n real hippocampus cases."""
    task = dest / "Task04_Hippocampus"
    for sub in ("imagesTr", "labelsTr"):
        (task / sub).mkdir(parents=True)
    data = json.loads((hippocampus / "dataset.json").read_text())
    data["training"] = data["training"][:n]
    data["numTraining"] = n
    for entry in data["training"]:
        for key in ("image", "label"):
            shutil.copy(hippocampus / entry[key], task / entry[key])
    (task / "dataset.json").write_text(json.dumps(data))
    return task


def kits_fixture(dest: Path, n: int = 3) -> Path:
    rng = np.random.default_rng(0)
    for i in range(n):
        seg = organ_seg(rng)
        write_nii(dest / f"case_{i:05d}" / "imaging.nii.gz", rng.normal(size=seg.shape).astype(np.float32))
        write_nii(dest / f"case_{i:05d}" / "segmentation.nii.gz", seg)
    return dest


def brats_fixture(dest: Path, year: int, n: int = 3, unlabelled: int = 1) -> Path:
    rng = np.random.default_rng(1)
    sep, mods, seg_name = ("_", ("t1", "t1ce", "t2", "flair"), "seg") if year == 2021 else \
        ("-", ("t1n", "t1c", "t2w", "t2f"), "seg")
    for i in range(n + unlabelled):
        case = f"BraTS2021_{i:05d}" if year == 2021 else f"BraTS-GLI-{i:05d}-000"
        # whole tumor = edema (2) around necrosis (1) and enhancing tumor (4 in 2021, 3 later)
        seg = organ_seg(rng, labels=(2, 1, 4 if year == 2021 else 3))
        if year == 2024:
            seg[0, :4, :4] = 4  # resection cavity
        for m in mods:
            write_nii(dest / case / f"{case}{sep}{m}.nii.gz", rng.normal(size=seg.shape).astype(np.float32))
        if i < n:
            write_nii(dest / case / f"{case}{sep}{seg_name}.nii.gz", seg)
    return dest


# A BiomedCLIP-format folder at toy size: the real loading code runs on it without network.
TINY_CFG = {
    "embed_dim": 16,
    "vision_cfg": {"timm_model_name": "vit_tiny_patch16_224", "timm_model_pretrained": False, "timm_pool": "",
                   "timm_proj": "linear", "image_size": 224},
    # the hub names as BiomedCLIP's config has them: the loader must not use them
    "text_cfg": {"hf_model_name": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract",
                 "hf_tokenizer_name": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract",
                 "hf_proj_type": "mlp", "hf_pooler_type": "cls_last_hidden_state_pooler", "context_length": 16},
}
TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
             "max_position_embeddings": 64}
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "kidney", "tumor", "cyst", "excluding", "the", "renal",
         "organ", "hippocampus", "liver", "and", "##s"]
