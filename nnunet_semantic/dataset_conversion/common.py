"""What every converter shares: safe output (temp folder, rename at the end, no overwrite unless asked),
per-case checks that name the bad file, prompt generation per case, and parallel progress."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
from tqdm import tqdm

from nnunet_semantic.dataset_conversion.output import dataset_output
from nnunet_semantic.errors import InputError, SemanticError
from nnunet_semantic.image_files import check_intensities, read_header
from nnunet_semantic.paths import check_referable
from nnunet_semantic.prompts.generator import GenerationSettings, generate, generate_heldout
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.ontology_file import DatasetLabels
from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER, level_name, write_sidecar

FILE_ENDING = ".nii.gz"


@dataclass(frozen=True)
class Target:
    """Where a case goes and what its files must look like."""

    folder: Path
    n_channels: int
    allowed_labels: frozenset[int]  # values allowed in the written label map (0 included)
    label_map: dict[int, int] | None = None  # source value -> nnU-Net value, when they differ
    # the dataset's final folder when the source files are referenced from its dataset.json (nnU-Net's `dataset`
    # key) instead of copied
    refer_from: Path | None = None

    def reference(self, path: Path) -> str:
        """How dataset.json names a source file: relative to the dataset where both lie under one folder (as
        nnU-Net joins it), else absolute."""
        path = Path(path).resolve()
        if self.refer_from is not None and self.refer_from.parent in path.parents:
            return os.path.relpath(path, self.refer_from)
        return str(path)


@dataclass(frozen=True)
class FileCase:
    """A case whose image channels (or one 4D file) and label lie in files of the source dataset."""

    case_id: str
    split: str  # "Tr" or "Ts"
    images: tuple[Path, ...]
    label: Path | None = None

    @property
    def labelled(self) -> bool:
        return self.label is not None

    def materialize(self, t: Target) -> tuple[np.ndarray | None, dict[str, Any] | None]:
        """Checks the case and writes its files (or, under `t.refer_from`, only checks them); returns its label
        map (None without a label) and its `dataset` entry when the files are referenced."""
        seg = None
        label_geometry = None
        if self.label is not None:
            header = read_header(self.label)
            label_geometry = (header.GetSize(), header.GetSpacing(), header.GetOrigin(), header.GetDirection())
            seg_img = sitk.ReadImage(str(self.label))
            seg = sitk.GetArrayFromImage(seg_img)
            seg = _check_labels(seg, self.label, t)
            if t.refer_from is None:
                out = t.folder / f"labels{self.split}" / f"{self.case_id}{FILE_ENDING}"
                if t.label_map is None:
                    _copy(self.label, out)
                else:
                    mapped = sitk.GetImageFromArray(seg.astype(np.uint8))
                    mapped.CopyInformation(seg_img)
                    sitk.WriteImage(mapped, str(out), useCompression=True)
        self._write_images(t, label_geometry)
        if t.refer_from is None or self.label is None:
            return seg, None
        return seg, {"images": [t.reference(p) for p in self.images], "label": t.reference(self.label)}

    def _write_images(self, t: Target, label_geometry) -> None:
        out = t.folder / f"images{self.split}"
        headers = [read_header(p) for p in self.images]
        if len(self.images) == 1 and headers[0].GetDimension() == 4 and t.refer_from is None:
            channels = _split_4d(self.images[0])
        else:
            channels = None
            for p, h in zip(self.images, headers):
                if h.GetDimension() not in (2, 3):
                    raise InputError(p, f"image has {h.GetDimension()} dimensions; expected 3 (or one 4D file)")
        n = len(channels) if channels is not None else sum(h.GetNumberOfComponents() for h in headers)
        if n != t.n_channels:
            raise InputError(
                self.images[0],
                f"case {self.case_id} has {n} image channels; the dataset's 'channel_names' lists {t.n_channels}",
            )
        geometry = (
            [(c.GetSize(), c.GetSpacing(), c.GetOrigin(), c.GetDirection()) for c in channels]
            if channels is not None
            else [(h.GetSize(), h.GetSpacing(), h.GetOrigin(), h.GetDirection()) for h in headers]
        )
        for i, (size, spacing, origin, direction) in enumerate(geometry):
            if label_geometry is None:
                continue
            label_size, label_spacing, label_origin, label_direction = label_geometry
            image = self.images[min(i, len(self.images) - 1)]
            for what, mine, theirs in (("origin", origin, label_origin), ("direction", direction, label_direction)):
                if len(mine) != len(theirs) or not np.allclose(mine, theirs, atol=1e-4):  # nnU-Net's verify
                    raise InputError(
                        image,
                        f"image/label {what} mismatch: image {what} {np.round(mine, 4).tolist()} "
                        f"but label {self.label} has {np.round(theirs, 4).tolist()}",
                    )
            if tuple(size) != tuple(label_size):
                raise InputError(
                    image,
                    f"image/label shape mismatch: image size {tuple(size)} but label "
                    f"{self.label} has size {tuple(label_size)}",
                )
            if not np.allclose(spacing, label_spacing, rtol=1e-3, atol=1e-5):
                raise InputError(
                    image,
                    f"image/label spacing mismatch: image spacing {tuple(spacing)} but label "
                    f"{self.label} has {tuple(label_spacing)}",
                )
        for path in self.images:
            check_intensities(path)
        if t.refer_from is not None:
            return
        for i in range(len(channels) if channels is not None else len(self.images)):
            dst = out / f"{self.case_id}_{i:04d}{FILE_ENDING}"
            if channels is not None:
                sitk.WriteImage(channels[i], str(dst), useCompression=True)
            else:
                _copy(self.images[i], dst)


def _copy(src: Path, dst: Path) -> None:
    """A byte copy of a NIfTI file; any other format (e.g. BraTS 2013's .mha) written as NIfTI."""
    if src.name.endswith(FILE_ENDING):
        shutil.copyfile(src, dst)
    else:
        sitk.WriteImage(sitk.ReadImage(str(src)), str(dst), useCompression=True)


def _split_4d(path: Path) -> list[sitk.Image]:
    """One 3D image per channel, geometry without the 4th axis (as nnU-Net's MSD converter does)."""
    img = sitk.ReadImage(str(path))
    arr = sitk.GetArrayFromImage(img)
    direction = np.array(img.GetDirection()).reshape(4, 4)[:3, :3].reshape(-1)
    out = []
    for channel in arr:
        c = sitk.GetImageFromArray(channel)
        c.SetSpacing(img.GetSpacing()[:3])
        c.SetOrigin(img.GetOrigin()[:3])
        c.SetDirection(tuple(direction))
        out.append(c)
    return out


def _check_labels(seg: np.ndarray, path: Path, t: Target) -> np.ndarray:
    raw = np.unique(seg)
    if not np.isfinite(raw).all() or not np.all(raw == np.round(raw)):
        raise InputError(
            path,
            f"label value(s) {[float(v) for v in raw if not v == np.round(v)][:5]} are not "
            "integers: a label map holds label ids",
        )
    values = set(raw.astype(int).tolist())
    if t.label_map is not None:
        bad = values - set(t.label_map)
        if bad:
            raise InputError(
                path, f"label value(s) {sorted(bad)} are not known for this dataset (expected {sorted(t.label_map)})"
            )
        lut = np.zeros(max(t.label_map) + 1, dtype=np.uint8)
        for src, dst in t.label_map.items():
            lut[src] = dst
        return lut[seg.astype(np.int64)]
    bad = values - set(t.allowed_labels)
    if bad:
        raise InputError(
            path,
            f"label value(s) {sorted(bad)} are not in the dataset's 'labels' / ontology "
            f"(known: {sorted(t.allowed_labels)})",
        )
    return seg


def _convert_one(args) -> tuple[str, str, dict[str, Any] | None]:
    case, target, ontology_dict, settings = args
    seg, files = case.materialize(target)
    if seg is None:
        return case.case_id, case.split, None
    ontology = Ontology.from_dict(ontology_dict)
    prompts, record = generate(case.case_id, seg, ontology, settings)
    write_sidecar(target.folder / "prompts" / f"{case.case_id}.json", case.case_id, prompts)
    heldout = generate_heldout(case.case_id, seg, ontology, settings)
    write_sidecar(target.folder / HELDOUT_FOLDER / f"{case.case_id}.json", case.case_id, heldout)
    return case.case_id, case.split, record | {"heldout": len(heldout)} | ({"files": files} if files else {})


def write_dataset(
    cases: Sequence[FileCase],
    *,
    dataset_id: int,
    name: str,
    channel_names: dict[int, str],
    labels: dict[str, int],
    ontology: Ontology,
    overwrite: bool = False,
    num_processes: int = 1,
    settings: GenerationSettings = GenerationSettings(),
    label_map: dict[int, int] | None = None,
    extra: dict[str, Any] | None = None,
    source: str = "",
    reference: bool = False,
    file_ending: str = FILE_ENDING,
) -> Path:
    """Write an nnU-Net raw dataset with prompt sidecars; returns its folder. `reference`: the training cases' files
    stay where they are, named by nnU-Net's `dataset` key of dataset.json (cases without a label are left out)."""
    if reference:
        cases = [c for c in cases if c.labelled]
        for path in (p for c in cases for p in (*c.images, c.label)):
            check_referable(path)
    if not any(c.split == "Tr" for c in cases):
        raise SemanticError(f"no training cases found in {source or 'the input'}")
    label_ids = DatasetLabels.of(labels).ids  # region labels' ids included
    every = sorted({0, *label_ids})
    if every != list(range(len(every))):  # nnU-Net's planner asserts it later, with a traceback
        gaps = sorted(set(range(every[-1] + 1)) - set(every))
        raise InputError(
            Path(source) / "dataset.json" if source else "dataset.json",
            f"field 'labels': label ids {every} are not consecutive from 0 (missing {gaps[:5]}"
            f"{' ...' if len(gaps) > 5 else ''}); nnU-Net plans only labels 0, 1, 2, ...: renumber the "
            "label maps and the labels",
        )
    unknown = ontology.label_ids - label_ids
    if unknown:
        raise SemanticError(f"the ontology uses label ids {sorted(unknown)} that the dataset's labels do not have")

    with dataset_output(dataset_id, name, overwrite, [source]) as (final, tmp):
        splits = {c.split for c in cases} if not reference else set()
        for sub in [
            "prompts",
            HELDOUT_FOLDER,
            *[f"images{s}" for s in splits],
            *[f"labels{s}" for s in splits if any(c.labelled for c in cases if c.split == s)],
        ]:
            (tmp / sub).mkdir(parents=True)
        target = Target(tmp, len(channel_names), frozenset({0, *label_ids}), label_map, final if reference else None)
        jobs = [(c, target, ontology.to_dict(), settings) for c in cases]
        if num_processes > 1 and len(jobs) > 1:
            with multiprocessing.get_context("spawn").Pool(num_processes) as pool:
                results = list(tqdm(pool.imap_unordered(_convert_one, jobs), total=len(jobs), desc=f"convert {name}"))
        else:
            results = [_convert_one(j) for j in tqdm(jobs, desc=f"convert {name}")]
        records = {
            case_id: record | {"split": split} for case_id, split, record in sorted(results) if record is not None
        }
        files = {k: r.pop("files") for k, r in records.items() if "files" in r}
        _write_metadata(
            tmp,
            records,
            cases,
            channel_names,
            labels,
            ontology,
            settings,
            name,
            (extra or {}) | ({"dataset": files} if files else {}),
            source,
            file_ending,
        )
    return final


def _write_metadata(
    folder: Path, records, cases, channel_names, labels, ontology, settings, name, extra, source, file_ending
):
    from nnunetv2.dataset_conversion.generate_dataset_json import generate_dataset_json

    n_train = sum(c.split == "Tr" for c in cases)
    generate_dataset_json(
        str(folder),
        {int(k): v for k, v in channel_names.items()},
        labels,
        n_train,
        file_ending,
        dataset_name=name,
        converted_by="nnunet-semantic convert",
        semantic=ontology.to_dict(),
        **extra,
    )
    summary: dict[str, Any] = {
        "kept_per_level": {},
        "dropped_per_reason": {},
        "heldout_prompts": sum(r["heldout"] for r in records.values()),
    }
    for record in records.values():
        for r in record["kept"]:
            key = level_name(r["level"])
            summary["kept_per_level"][key] = summary["kept_per_level"].get(key, 0) + 1
        for r in record["dropped"]:
            reason = r["reason"].split(" (")[0].split(":")[0]
            summary["dropped_per_reason"][reason] = summary["dropped_per_reason"].get(reason, 0) + 1
    (folder / "prompts" / "verification.json").write_text(
        json.dumps({"source": source, "settings": settings.to_dict(), "summary": summary, "cases": records}, indent=1)
    )
