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


def glioma_seg(rng: np.random.Generator, shape=(6, 32, 32)) -> np.ndarray:
    """BraTS-2013-like labels: edema (2) around a core of necrosis (1), non-enhancing (3) and enhancing (4) tumour."""
    seg = np.zeros(shape, np.uint8)
    cy, cx = (int(v) for v in rng.integers(12, 20, 2))
    seg[1:-1, cy - 10:cy + 10, cx - 10:cx + 10] = 2
    seg[1:-1, cy - 6:cy + 6, cx - 6:cx + 6] = 4
    seg[1:-1, cy - 4:cy + 4, cx - 4:cx] = 3
    seg[2:-2, cy - 2:cy + 2, cx - 2:cx + 2] = 1
    return seg


def glioma_image(rng: np.random.Generator, seg: np.ndarray, channel: int) -> np.ndarray:
    """Each label its own brightness (per channel), plus noise: learnable in a few hundred iterations."""
    levels = np.array([0.0, 3.0, 1.5, 2.0, 4.0]) * (1 + 0.3 * channel)
    return (levels[seg] + rng.normal(scale=0.3, size=seg.shape)).astype(np.float32)


def nnunet_v2_dataset(raw: Path, dataset_id: int, n: int = 6, regions: bool = False, channels=("T1c", "FLAIR"),
                      name: str = "Glioma") -> Path:
    """An nnU-Net v2 raw dataset as nnU-Net's docs lay it out, dataset.json by its own `generate_dataset_json`:
    integer labels (BraTS 2013's four) or, with `regions`, region labels over them."""
    from nnunetv2.dataset_conversion.generate_dataset_json import generate_dataset_json

    folder = raw / f"Dataset{dataset_id:03d}_{name}"
    rng = np.random.default_rng(dataset_id)
    for i in range(n):
        seg = glioma_seg(rng)
        for c in range(len(channels)):
            write_nii(folder / "imagesTr" / f"glioma_{i:03d}_{c:04d}.nii.gz", glioma_image(rng, seg, c))
        write_nii(folder / "labelsTr" / f"glioma_{i:03d}.nii.gz", seg)
    if regions:
        labels = {"background": 0, "whole tumor": (1, 2, 3, 4), "tumor core": (1, 3, 4), "enhancing tumor": 4}
        extra = {"regions_class_order": (2, 3, 4)}
    else:
        labels = {"background": 0, "necrosis": 1, "edema": 2, "NonEnhancingTumor": 3, "enhancing_tumour": 4}
        extra = {}
    generate_dataset_json(str(folder), dict(enumerate(channels)), labels, n, ".nii.gz", dataset_name=name, **extra)
    return folder


def vsd_fixture(dest: Path, n: int = 4, modalities=("Flair", "T1c"), unlabelled: int = 1) -> Path:
    """BraTS 2013-2015's VSD layout: HG/<case>/VSD.Brain.XX.O.MR_<modality>.<id>/<same>.mha and, for training
    cases, VSD.Brain_3more.XX.O.OT.<id>/<same>.mha (labels 1 necrosis, 2 edema, 3 non-enhancing, 4 enhancing)."""
    rng = np.random.default_rng(13)
    for i in range(n + unlabelled):
        case = dest / ("HG" if i % 2 == 0 else "LG") / f"{i:04d}"
        seg = glioma_seg(rng)
        files = [(f"VSD.Brain.XX.O.MR_{m}.{100 * i + c}", glioma_image(rng, seg, c)) for c, m in enumerate(modalities)]
        if i < n:
            files.append((f"VSD.Brain_3more.XX.O.OT.{100 * i + 99}", seg))
        for name, arr in files:
            (case / name).mkdir(parents=True)
            sitk.WriteImage(sitk.GetImageFromArray(arr), str(case / name / f"{name}.mha"))
    return dest


def trainer_on(cls, preprocessed: Path, configuration: str = "2d_cpu"):
    """`cls` on fold 0 of `configuration` on the CPU, as nnUNetv2_train builds it (its CLI also sets
    `continue_training`)."""
    import torch

    plans = json.loads((preprocessed / "nnUNetPlans.json").read_text()) | {"continue_training": False}
    return cls(plans, configuration, 0, json.loads((preprocessed / "dataset.json").read_text()), torch.device("cpu"))


def png_dataset(raw: Path, dataset_id: int, name: str, n: int = 2, rgb: bool = False) -> Path:
    """A 2D PNG dataset in nnU-Net's layout (labels cell 1, nucleus 2): one grey `_0000.png` per case for channel
    "MRI", or with `rgb` one RGB `_0000.png` for channels R, G, B (nnU-Net reads it as three)."""
    from nnunetv2.dataset_conversion.generate_dataset_json import generate_dataset_json

    folder = raw / f"Dataset{dataset_id:03d}_{name}"
    rng = np.random.default_rng(dataset_id)
    for sub in ("imagesTr", "labelsTr"):
        (folder / sub).mkdir(parents=True)
    for i in range(n):
        seg = np.zeros((32, 32), np.uint8)
        seg[8:20, 8:20], seg[12:16, 12:16] = 1, 2
        image = (seg * 60 + rng.integers(0, 40, seg.shape)).astype(np.uint8)
        if rgb:
            image = np.stack([image] * 3, -1)
        sitk.WriteImage(sitk.GetImageFromArray(image, isVector=rgb),
                        str(folder / "imagesTr" / f"case_{i:03d}_0000.png"))
        sitk.WriteImage(sitk.GetImageFromArray(seg), str(folder / "labelsTr" / f"case_{i:03d}.png"))
    channels = {0: "R", 1: "G", 2: "B"} if rgb else {0: "MRI"}
    generate_dataset_json(str(folder), channels, {"background": 0, "cell": 1, "nucleus": 2}, n, ".png")
    return folder

