"""BraTS glioma -> nnU-Net raw with prompt sidecars: a layout adapter onto the one conversion path.

2021 and 2023/2024 GLI naming: labels become contiguous, 1 necrotic tumor core, 2 edema, 3 enhancing tumor (BraTS
2021's 4 -> 3), and for 2024 post-treatment data 4 resection cavity. 2013-2015 (the VSD layout: one folder per case
holding `VSD.Brain.XX.O.MR_<modality>.<id>` image files or folders and one `...OT...` label): labels kept, 1
necrosis, 2 edema, 3 non-enhancing tumor, 4 enhancing tumor; the channels are the modalities the cases hold. Cases
without a segmentation go to imagesTs.
"""

from __future__ import annotations

import re
from pathlib import Path

from nnunet_semantic.dataset_conversion.common import FileCase, write_dataset
from nnunet_semantic.dataset_conversion.registry import CONVERTERS, Converter
from nnunet_semantic.errors import InputError
from nnunet_semantic.prompts.generator import GenerationSettings
from nnunet_semantic.prompts.ontologies import ONTOLOGIES, get_ontology

# year -> (file suffixes per channel, channel names, segmentation suffix, source label -> nnU-Net label)
LAYOUTS = {
    2021: (("_t1", "_t1ce", "_t2", "_flair"), ("T1", "T1ce", "T2", "FLAIR"), "_seg", {0: 0, 1: 1, 2: 2, 4: 3}),
    2023: (("-t1n", "-t1c", "-t2w", "-t2f"), ("T1n", "T1c", "T2w", "T2f"), "-seg", {0: 0, 1: 1, 2: 2, 3: 3}),
    2024: (("-t1n", "-t1c", "-t2w", "-t2f"), ("T1n", "T1c", "T2w", "T2f"), "-seg", {0: 0, 1: 1, 2: 2, 3: 3, 4: 4}),
}
VSD_YEARS = (2013, 2014, 2015)
VSD_MODALITIES = ("Flair", "T1", "T1c", "T2")
_VSD = re.compile(r".*\.(?:MR_(Flair|T1c|T1|T2)|(OT))\.[^/]*", re.IGNORECASE)
_VSD_ENDINGS = (".mha", ".nii.gz", ".nii", ".nrrd")


def _vsd_files(case: Path) -> dict[str, Path]:
    """Modality (or "OT") -> its file in one VSD case folder (the file itself, or the one inside its folder)."""
    found = {}
    for entry in sorted(case.iterdir()):
        m = _VSD.fullmatch(entry.name)
        if not m:
            continue
        files = [entry] if entry.is_file() else sorted(p for p in entry.iterdir() if p.name.endswith(_VSD_ENDINGS))
        if files and files[0].name.endswith(_VSD_ENDINGS):
            key = "OT" if m.group(2) else next(x for x in VSD_MODALITIES if x.lower() == m.group(1).lower())
            found[key] = files[0]
    return found


def _vsd_cases(source: Path) -> tuple[list[FileCase], tuple[str, ...]]:
    """The cases and the modalities (channels) they hold."""
    folders = sorted(
        {p.parent for p in source.rglob("*") if _VSD.fullmatch(p.name) and not _VSD.fullmatch(p.parent.name)}
    )
    if not folders:
        raise InputError(
            source,
            "no BraTS 2013-2015 case folders found: each case folder holds VSD.Brain.XX.O."
            "MR_Flair.<id>, ...MR_T1..., ...MR_T1c..., ...MR_T2... (.mha files or folders of "
            "one .mha) and, for training cases, VSD.Brain_3more.XX.O.OT.<id>",
        )
    files = {f: _vsd_files(f) for f in folders}
    modalities = tuple(m for m in VSD_MODALITIES if m in files[folders[0]])
    cases = []
    for folder in folders:
        have = tuple(m for m in VSD_MODALITIES if m in files[folder])
        if have != modalities:
            raise InputError(
                folder,
                f"holds the modalities {', '.join(have) or 'none'}, but {folders[0]} holds "
                f"{', '.join(modalities)}: every case needs the same MR_<modality> files",
            )
        case_id = "_".join(folder.relative_to(source).parts) or folder.name
        images = tuple(files[folder][m] for m in modalities)
        label = files[folder].get("OT")
        cases.append(FileCase(case_id, "Tr" if label else "Ts", images, label))
    return cases, modalities


def detect_year(source: Path, folders: list[Path]) -> int:
    if not folders or any(_VSD.fullmatch(p.name) for p in source.rglob("*MR_*")):
        return 2013
    return 2021 if (folders[0] / f"{folders[0].name}_flair.nii.gz").is_file() else 2023


def convert_brats(
    source: Path,
    dataset_id: int,
    year: int | None = None,
    overwrite: bool = False,
    num_processes: int = 1,
    settings: GenerationSettings = GenerationSettings(),
) -> Path:
    source = Path(source)
    if not source.is_dir():
        raise InputError(source, "input folder not found")
    folders = sorted(p for p in source.iterdir() if p.is_dir() and p.name.startswith("BraTS"))
    year = year or detect_year(source, folders)
    if year in VSD_YEARS:
        cases, modalities = _vsd_cases(source)
        return write_dataset(
            cases,
            dataset_id=dataset_id,
            name=f"BraTS{year}",
            channel_names=dict(enumerate(modalities)),
            labels=ONTOLOGIES["brats2013"]["labels"],
            ontology=get_ontology("brats2013"),
            overwrite=overwrite,
            num_processes=num_processes,
            settings=settings,
            source=str(source),
        )
    if year not in LAYOUTS:
        raise InputError(source, f"--year must be one of {sorted([*LAYOUTS, *VSD_YEARS])}, got {year}")
    if not folders:
        raise InputError(
            source,
            "no BraTS case folders found (expected BraTS2021_XXXXX or BraTS-GLI-XXXXX-XXX "
            "folders, or the 2013-2015 VSD layout)",
        )
    suffixes, channel_names, seg_suffix, label_map = LAYOUTS[year]
    cases = []
    for folder in folders:
        images = tuple(folder / f"{folder.name}{s}.nii.gz" for s in suffixes)
        for image in images:
            if not image.is_file():
                raise InputError(image, f"file not found: BraTS {year} cases hold {', '.join(suffixes)} images")
        label = folder / f"{folder.name}{seg_suffix}.nii.gz"
        cases.append(
            FileCase(folder.name, "Tr", images, label) if label.is_file() else FileCase(folder.name, "Ts", images)
        )
    key = "brats2024" if year == 2024 else "brats"
    return write_dataset(
        cases,
        dataset_id=dataset_id,
        name=f"BraTS{year}",
        channel_names=dict(enumerate(channel_names)),
        labels=ONTOLOGIES[key]["labels"],
        ontology=get_ontology(key),
        overwrite=overwrite,
        num_processes=num_processes,
        settings=settings,
        label_map=label_map,
        source=str(source),
    )


def _arguments(parser) -> None:
    parser.add_argument("-i", type=Path, required=True, help="folder holding one subfolder per case")
    parser.add_argument(
        "--year",
        type=int,
        choices=(2013, 2014, 2015, 2021, 2023, 2024),
        help="naming and labels (default: detected from file names; 2013-2015 share the VSD layout; "
        "2024 adds the resection cavity)",
    )


CONVERTERS.register(
    "brats",
    Converter(
        convert_brats,
        "a BraTS glioma training folder (2013-2015 VSD layout, 2021, 2023, 2024)",
        _arguments,
        options={"year": "year"},
    ),
)
