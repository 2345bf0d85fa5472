"""KiTS23 (`case_XXXXX/imaging.nii.gz` + `segmentation.nii.gz`) -> nnU-Net raw with prompt sidecars."""

from __future__ import annotations

from pathlib import Path

from nnunet_semantic.dataset_conversion.common import FileCase, write_dataset
from nnunet_semantic.dataset_conversion.registry import CONVERTERS, Converter, input_folder
from nnunet_semantic.errors import InputError
from nnunet_semantic.prompts.generator import GenerationSettings
from nnunet_semantic.prompts.ontologies import ONTOLOGIES, get_ontology


def convert_kits23(
    source: Path,
    dataset_id: int,
    overwrite: bool = False,
    num_processes: int = 1,
    settings: GenerationSettings = GenerationSettings(),
) -> Path:
    source = Path(source)
    folders = sorted(p for p in source.glob("case_*") if p.is_dir()) if source.is_dir() else []
    if not folders:
        raise InputError(source, "no case_XXXXX folders found (expected the KiTS23 'dataset' folder)")
    cases = []
    for folder in folders:
        label = folder / "segmentation.nii.gz"
        if not label.is_file():
            raise InputError(label, "file not found: every KiTS23 case has imaging.nii.gz and segmentation.nii.gz")
        cases.append(FileCase(folder.name, "Tr", (folder / "imaging.nii.gz",), label))
    return write_dataset(
        cases,
        dataset_id=dataset_id,
        name="KiTS2023",
        channel_names={0: "CT"},
        labels=ONTOLOGIES["kits23"]["labels"],
        ontology=get_ontology("kits23"),
        overwrite=overwrite,
        num_processes=num_processes,
        settings=settings,
        source=str(source),
        # nnU-Net's own KiTS23 conversion reads these files with reorientation
        extra={"overwrite_image_reader_writer": "NibabelIOWithReorient"},
    )


CONVERTERS.register(
    "kits23",
    Converter(
        convert_kits23,
        "the KiTS23 dataset folder (case_XXXXX/...)",
        input_folder("folder holding case_XXXXX subfolders"),
    ),
)
