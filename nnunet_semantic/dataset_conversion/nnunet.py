"""An nnU-Net v2 raw dataset (imagesTr + labelsTr, or the `dataset` key of its dataset.json) -> a new dataset id
with prompt sidecars. The source stays as it is: its files are referenced from the new dataset.json's `dataset`
key, never copied; its labels (region labels and `regions_class_order` included) and every other field are kept."""

from __future__ import annotations

import copy
import re
from pathlib import Path

from nnunet_semantic.dataset_conversion.common import FileCase, write_dataset
from nnunet_semantic.dataset_conversion.registry import CONVERTERS, Converter, input_folder
from nnunet_semantic.dataset_conversion.vocabulary import choose_ontology
from nnunet_semantic.errors import InputError, SemanticError
from nnunet_semantic.image_files import read_header
from nnunet_semantic.json_files import read_json
from nnunet_semantic.paths import raw_dataset_folder
from nnunet_semantic.prompts.generator import GenerationSettings
from nnunet_semantic.prompts.ontology_file import DatasetLabels
from nnunet_semantic.prompts.sidecar import check_case_id

# what this conversion writes itself; every other field of the source's dataset.json is carried over
OWN_FIELDS = (
    "channel_names",
    "modality",
    "labels",
    "numTraining",
    "file_ending",
    "name",
    "semantic",
    "dataset",
    "converted_by",
    "training",
    "test",
    "numTest",
)


def source_folder(source: str | Path) -> Path:
    """A dataset folder, or an nnU-Net dataset id / name found in nnUNet_raw."""
    path = Path(source)
    if path.is_dir():
        return path
    if path.exists() or "/" in str(source):
        raise InputError(path, "not a dataset folder (expected DatasetXXX_Name with dataset.json and imagesTr)")
    try:
        return raw_dataset_folder(source)
    except SemanticError as e:
        raise SemanticError(f"{e}; give the dataset's folder or its id in $nnUNet_raw") from None


def read_dataset_json(folder: Path) -> dict:
    path = folder / "dataset.json"
    data = read_json(path, "file not found: an nnU-Net raw dataset holds dataset.json, imagesTr and labelsTr")
    if not isinstance(data, dict):
        raise InputError(path, "must be a JSON object")
    if "channel_names" not in data and "modality" not in data:
        raise InputError(path, 'field \'channel_names\' is missing (nnU-Net v2 names each input channel: {"0": "CT"})')
    channels = data.get("channel_names", data.get("modality"))
    if not isinstance(channels, dict) or not channels:
        raise InputError(path, 'field \'channel_names\' must map channel indices to names, e.g. {"0": "CT"}')
    if "labels" not in data:
        raise InputError(path, "field 'labels' is missing")
    if not isinstance(data.get("file_ending", ".nii.gz"), str) or not data.get("file_ending", ".nii.gz"):
        raise InputError(path, "field 'file_ending' must be a file ending such as \".nii.gz\"")
    return data


def training_cases(folder: Path, data: dict, n_channels: int) -> list[FileCase]:
    """The training cases as nnU-Net finds them: the `dataset` key, or imagesTr/{case}_{XXXX} with labelsTr/{case}."""
    from nnunetv2.utilities.utils import get_filenames_of_train_images_and_targets

    ending = data.get("file_ending", ".nii.gz")
    if "dataset" in data:
        if not isinstance(data["dataset"], dict) or not data["dataset"]:
            raise InputError(folder / "dataset.json", "field 'dataset' must map case ids to {images, label}")
        for case, entry in data["dataset"].items():
            check_case_id(case, f"{folder / 'dataset.json'}: field 'dataset'")
            if not isinstance(entry, dict) or not isinstance(entry.get("images"), list) or "label" not in entry:
                raise InputError(
                    folder / "dataset.json", f"field 'dataset.{case}' must hold 'images' (a list) and 'label'"
                )
        entries = get_filenames_of_train_images_and_targets(str(folder), copy.deepcopy(data))
        cases = [FileCase(k, "Tr", tuple(Path(p) for p in v["images"]), Path(v["label"])) for k, v in entries.items()]
    else:
        images, labels = folder / "imagesTr", folder / "labelsTr"
        for sub in (images, labels):
            if not sub.is_dir():
                raise InputError(
                    sub,
                    "folder not found: an nnU-Net raw dataset holds imagesTr and labelsTr (or "
                    "names its files in dataset.json's 'dataset' key)",
                )
        pattern = re.compile(rf"(.+)_(\d{{4}}){re.escape(ending)}")
        files = [p for p in images.iterdir() if p.is_file() and not p.name.startswith(".")]
        stray = [p for p in files if not pattern.fullmatch(p.name)]
        if stray:  # nnU-Net would skip it without a word
            raise InputError(
                stray[0],
                f"not named CASE_XXXX{ending} (the dataset's file_ending): nnU-Net would "
                "leave it out; rename it or move it out of imagesTr",
            )
        channels: dict[str, list[int]] = {}
        for path in files:
            match = pattern.fullmatch(path.name)
            channels.setdefault(match.group(1), []).append(int(match.group(2)))
        cases = []
        for case in sorted(channels):
            label = labels / f"{case}{ending}"
            if not label.is_file():
                raise InputError(label, f"file not found: case {case} has images in imagesTr but no label")
            # as nnU-Net lists them: the case's files, channel 0 first (one RGB file holds three channels)
            count = len(channels[case]) if sorted(channels[case]) == list(range(len(channels[case]))) else n_channels
            cases.append(
                FileCase(
                    case, "Tr", tuple(images / f"{case}_{i:04d}{ending}" for i in range(min(count, n_channels))), label
                )
            )
    for case in cases:
        for image in case.images:
            if not image.is_file():
                raise InputError(
                    image,
                    f"file not found: case {case.case_id} needs {n_channels} channel file(s) "
                    f"({case.case_id}_0000{ending} ...), one per 'channel_names' entry",
                )
        if (
            len(case.images) < n_channels
            and sum(read_header(i).GetNumberOfComponents() for i in case.images) != n_channels
        ):  # fewer files than channels: only where a file holds several (RGB)
            missing = case.images[0].with_name(f"{case.case_id}_{len(case.images):04d}{ending}")
            raise InputError(
                missing,
                f"file not found: case {case.case_id} needs {n_channels} channel file(s) "
                f"({case.case_id}_0000{ending} ...), one per 'channel_names' entry",
            )
        if not case.label.is_file():
            raise InputError(case.label, f"file not found: the label of case {case.case_id}")
    if not cases:
        raise InputError(folder / "imagesTr", f"no training images named CASE_XXXX{ending}")
    return cases


def convert_nnunet(
    source: str | Path,
    dataset_id: int,
    ontology: Path | None = None,
    overwrite: bool = False,
    num_processes: int = 1,
    settings: GenerationSettings = GenerationSettings(),
) -> Path:
    folder = source_folder(source)
    data = read_dataset_json(folder)
    path = folder / "dataset.json"
    labels = DatasetLabels.of(data["labels"], str(path))
    label_dict = labels.as_nnunet()
    if labels.regions and "regions_class_order" not in data:
        raise InputError(path, "field 'regions_class_order' is missing: nnU-Net needs it with region labels")
    channels = {int(k): v for k, v in data.get("channel_names", data.get("modality")).items()}
    chosen, origin = choose_ontology(data, labels, [channels[i] for i in sorted(channels)], path, ontology)
    print(f"ontology: {origin}")
    match = re.fullmatch(r"Dataset\d{3}_(\w+)", folder.name)
    name = match.group(1) if match else re.sub(r"\W+", "", str(data.get("name", folder.name))) or "Dataset"
    extra = {k: v for k, v in data.items() if k not in OWN_FIELDS}
    return write_dataset(
        training_cases(folder, data, len(channels)),
        dataset_id=dataset_id,
        name=name,
        channel_names=channels,
        labels=label_dict,
        ontology=chosen,
        overwrite=overwrite,
        num_processes=num_processes,
        settings=settings,
        extra=extra,
        source=str(folder),
        reference=True,
        file_ending=data.get("file_ending", ".nii.gz"),
    )


CONVERTERS.register(
    "nnunet",
    Converter(
        convert_nnunet,
        "an nnU-Net v2 raw dataset you already have",
        input_folder("the dataset: its folder, id or DatasetXXX_Name in $nnUNet_raw", type=str),
        "An nnU-Net v2 raw dataset (dataset.json with imagesTr/labelsTr, or its 'dataset' key) becomes a new "
        "dataset id with prompts: its files are referenced from the new dataset.json ('dataset' key), never copied "
        "or changed; labels, region labels and every other field are kept.",
        ontology=True,
    ),
)
