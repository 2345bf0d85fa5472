"""Medical Segmentation Decathlon task folder -> nnU-Net raw dataset with prompt sidecars: a layout adapter (4D images
split into channels) onto the one conversion path; the ontology is chosen as for every dataset (`vocabulary.py`)."""

from __future__ import annotations

import re
from pathlib import Path

from nnunet_semantic.dataset_conversion.common import FILE_ENDING, FileCase, write_dataset
from nnunet_semantic.dataset_conversion.registry import CONVERTERS, Converter, input_folder
from nnunet_semantic.dataset_conversion.vocabulary import choose_ontology
from nnunet_semantic.errors import InputError
from nnunet_semantic.json_files import read_json
from nnunet_semantic.prompts.generator import GenerationSettings
from nnunet_semantic.prompts.ontology_file import DatasetLabels


def _case_files(folder: Path) -> list[Path]:
    # MSD archives carry macOS "._" resource files; nnU-Net's converter skips them the same way.
    files = sorted(p for p in folder.glob("*") if p.is_file() and not p.name.startswith((".", "_")))
    other = [p for p in files if not p.name.endswith(FILE_ENDING)]
    if other:  # never dropped in silence: a case left out is a case missing from training
        raise InputError(
            other[0],
            f"not a {FILE_ENDING} file: every image and label of an MSD task is "
            f"{FILE_ENDING} (compress it with gzip, or move it out of {folder.name})",
        )
    return files


def _read_dataset_json(source: Path) -> dict:
    path = source / "dataset.json"
    data = read_json(path, "file not found: an MSD task folder holds dataset.json, imagesTr and labelsTr")
    if "modality" not in data and "channel_names" in data:
        raise InputError(
            path,
            "field 'modality' is missing, but 'channel_names' is there: this is an nnU-Net v2 "
            "dataset; convert it with `nnunet-semantic convert nnunet -i FOLDER -d ID`",
        )
    for field in ("name", "labels", "modality"):
        if field not in data:
            raise InputError(path, f"field '{field}' is missing")
    return data


def convert_msd(
    source: Path,
    dataset_id: int,
    overwrite: bool = False,
    num_processes: int = 1,
    settings: GenerationSettings = GenerationSettings(),
    ontology: Path | None = None,
) -> Path:
    source = Path(source)
    if not source.is_dir():
        raise InputError(source, "input folder not found")
    data = _read_dataset_json(source)
    path = source / "dataset.json"
    labels = DatasetLabels.of(data["labels"], str(path))
    channels = {int(k): v for k, v in data["modality"].items()}
    chosen, origin = choose_ontology(data, labels, [channels[i] for i in sorted(channels)], path, ontology)
    print(f"ontology: {origin}")
    images_tr, labels_tr = source / "imagesTr", source / "labelsTr"
    for folder in (images_tr, labels_tr):
        if not folder.is_dir():
            raise InputError(folder, "folder not found: an MSD task folder holds dataset.json, imagesTr and labelsTr")
    cases = [FileCase(p.name[: -len(FILE_ENDING)], "Tr", (p,), labels_tr / p.name) for p in _case_files(images_tr)]
    cases += [FileCase(p.name[: -len(FILE_ENDING)], "Ts", (p,)) for p in _case_files(source / "imagesTs")]
    match = re.fullmatch(r"Task\d+_(\w+)", source.name)
    name = match.group(1) if match else re.sub(r"\W+", "", str(data["name"]))
    extra = {k: data[k] for k in ("description", "reference", "licence", "tensorImageSize") if k in data}
    return write_dataset(
        cases,
        dataset_id=dataset_id,
        name=name,
        channel_names=channels,
        labels=labels.names,
        ontology=chosen,
        overwrite=overwrite,
        num_processes=num_processes,
        settings=settings,
        extra=extra,
        source=str(source),
    )


CONVERTERS.register(
    "msd",
    Converter(
        convert_msd,
        "a Medical Segmentation Decathlon task folder",
        input_folder("MSD task folder, e.g. Task04_Hippocampus"),
        "MSD task folder (dataset.json, imagesTr, labelsTr, [imagesTs]); 4D images are split into channels.",
        ontology=True,
    ),
)
