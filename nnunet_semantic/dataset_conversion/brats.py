"""BraTS glioma (2021 and 2023/2024 GLI naming) -> nnU-Net raw with prompt sidecars.

Labels become contiguous: 1 necrotic tumor core, 2 edema, 3 enhancing tumor (BraTS 2021's 4 -> 3),
and for 2024 post-treatment data 4 resection cavity. Cases without a segmentation go to imagesTs.
"""

from __future__ import annotations

from pathlib import Path

from nnunet_semantic.dataset_conversion.common import FileCase, write_dataset
from nnunet_semantic.errors import InputError
from nnunet_semantic.prompts.generator import GenerationSettings
from nnunet_semantic.prompts.ontologies import ONTOLOGIES, get_ontology

# year -> (file suffixes per channel, channel names, segmentation suffix, source label -> nnU-Net label)
LAYOUTS = {
    2021: (("_t1", "_t1ce", "_t2", "_flair"), ("T1", "T1ce", "T2", "FLAIR"), "_seg", {0: 0, 1: 1, 2: 2, 4: 3}),
    2023: (("-t1n", "-t1c", "-t2w", "-t2f"), ("T1n", "T1c", "T2w", "T2f"), "-seg", {0: 0, 1: 1, 2: 2, 3: 3}),
    2024: (("-t1n", "-t1c", "-t2w", "-t2f"), ("T1n", "T1c", "T2w", "T2f"), "-seg", {0: 0, 1: 1, 2: 2, 3: 3, 4: 4}),
}


def detect_year(folder: Path) -> int:
    return 2021 if (folder / f"{folder.name}_flair.nii.gz").is_file() else 2023


def convert_brats(source: Path, dataset_id: int, year: int | None = None, overwrite: bool = False,
                  num_processes: int = 1, settings: GenerationSettings = GenerationSettings()) -> Path:
    source = Path(source)
    folders = sorted(p for p in source.iterdir() if p.is_dir() and p.name.startswith("BraTS")) \
        if source.is_dir() else []
    if not folders:
        raise InputError(source, "no BraTS case folders found (expected BraTS2021_XXXXX or BraTS-GLI-XXXXX-XXX)")
    year = year or detect_year(folders[0])
    if year not in LAYOUTS:
        raise InputError(source, f"--year must be one of {sorted(LAYOUTS)}, got {year}")
    suffixes, channel_names, seg_suffix, label_map = LAYOUTS[year]
    cases = []
    for folder in folders:
        images = tuple(folder / f"{folder.name}{s}.nii.gz" for s in suffixes)
        for image in images:
            if not image.is_file():
                raise InputError(image, f"file not found: BraTS {year} cases hold {', '.join(suffixes)} images")
        label = folder / f"{folder.name}{seg_suffix}.nii.gz"
        cases.append(FileCase(folder.name, "Tr", images, label) if label.is_file()
                     else FileCase(folder.name, "Ts", images))
    key = "brats2024" if year == 2024 else "brats"
    return write_dataset(cases, dataset_id=dataset_id, name=f"BraTS{year}",
                         channel_names=dict(enumerate(channel_names)), labels=ONTOLOGIES[key]["labels"],
                         ontology=get_ontology(key), overwrite=overwrite,
                         num_processes=num_processes, settings=settings, label_map=label_map, source=str(source))
