"""Medical Segmentation Decathlon task folder -> nnU-Net raw dataset with prompt sidecars."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

from nnunet_semantic.dataset_conversion.common import FILE_ENDING, FileCase, write_dataset
from nnunet_semantic.errors import InputError
from nnunet_semantic.prompts.generator import GenerationSettings
from nnunet_semantic.prompts.ontologies import ONTOLOGIES, generic_ontology, get_ontology

# dataset.json "name" (lower case, no punctuation) -> shipped ontology
TASKS = {"brats": "msd_braintumour", "braintumour": "msd_braintumour", "liver": "msd_liver",
         "hippocampus": "msd_hippocampus", "prostate": "msd_prostate", "pancreas": "msd_pancreas",
         "hepaticvessel": "msd_hepaticvessel"}


def _case_files(folder: Path) -> list[Path]:
    # MSD archives carry macOS "._" resource files; nnU-Net's converter skips them the same way.
    return sorted(p for p in folder.glob(f"*{FILE_ENDING}") if not p.name.startswith((".", "_")))


def _read_dataset_json(source: Path) -> dict:
    path = source / "dataset.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, "file not found: an MSD task folder holds dataset.json, imagesTr and labelsTr") from None
    except json.JSONDecodeError as e:
        raise InputError(path, f"not valid JSON ({e})") from None
    for field in ("name", "labels", "modality"):
        if field not in data:
            raise InputError(path, f"field '{field}' is missing")
    try:
        data["labels"] = {str(v): int(k) for k, v in data["labels"].items()}
    except (AttributeError, ValueError):
        raise InputError(path, "field 'labels' must map label ids to names") from None
    return data


def recognise(data: dict, path: Path):
    """(shipped ontology key or None, ontology) for an MSD dataset.json."""
    key = TASKS.get(re.sub(r"[^a-z]", "", str(data["name"]).lower()))
    if key is not None:
        expected = set(ONTOLOGIES[key]["labels"].values())
        if set(data["labels"].values()) != expected:
            raise InputError(path, f"field 'labels' has ids {sorted(data['labels'].values())}, but MSD task "
                                   f"'{data['name']}' has {sorted(expected)}")
        return key, get_ontology(key)
    warnings.warn(f"{path}: no shipped ontology for MSD task '{data['name']}'; using one structure per label "
                  "(no L2 descriptions, no L3 prompts)", stacklevel=2)
    return None, generic_ontology(data["labels"])


def convert_msd(source: Path, dataset_id: int, overwrite: bool = False, num_processes: int = 1,
                settings: GenerationSettings = GenerationSettings()) -> Path:
    source = Path(source)
    if not source.is_dir():
        raise InputError(source, "input folder not found")
    data = _read_dataset_json(source)
    _, ontology = recognise(data, source / "dataset.json")
    images_tr, labels_tr = source / "imagesTr", source / "labelsTr"
    for folder in (images_tr, labels_tr):
        if not folder.is_dir():
            raise InputError(folder, "folder not found: an MSD task folder holds dataset.json, imagesTr and labelsTr")
    cases = [FileCase(p.name[: -len(FILE_ENDING)], "Tr", (p,), labels_tr / p.name) for p in _case_files(images_tr)]
    cases += [FileCase(p.name[: -len(FILE_ENDING)], "Ts", (p,)) for p in _case_files(source / "imagesTs")]
    match = re.fullmatch(r"Task\d+_(\w+)", source.name)
    name = match.group(1) if match else re.sub(r"\W+", "", str(data["name"]))
    channels = {int(k): v for k, v in data["modality"].items()}
    extra = {k: data[k] for k in ("description", "reference", "licence", "tensorImageSize") if k in data}
    return write_dataset(cases, dataset_id=dataset_id, name=name, channel_names=channels, labels=data["labels"],
                         ontology=ontology, overwrite=overwrite, num_processes=num_processes, settings=settings,
                         extra=extra, source=str(source))
