"""nnU-Net's folders and a dataset's place in them, with our error instead of nnU-Net's traceback."""

from __future__ import annotations

import os
from pathlib import Path

from nnunet_semantic.errors import InputError, SemanticError


def check_writable(folder: Path) -> None:
    """`folder` (made if missing) can be written: checked before long work, not after it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise InputError(folder, f"cannot write here ({e.strerror or e})") from None


def root(variable: str) -> Path:
    value = os.environ.get(variable)
    if not value:
        raise SemanticError(f'{variable} is not set; run: eval "$(nnunet-semantic env --root DIR)"')
    return Path(value)


def dataset_name(dataset: str | int) -> str:
    """`DatasetXXX_Name` for an id or a name, as nnU-Net resolves it."""
    from nnunetv2.utilities.dataset_name_id_conversion import maybe_convert_to_dataset_name

    try:
        return maybe_convert_to_dataset_name(str(dataset))
    except (RuntimeError, ValueError) as e:  # ValueError: neither an integer nor a DatasetXXX_ name
        raise SemanticError(f"dataset {dataset!r} not found: {str(e).splitlines()[0]}") from None


def raw_dataset_folder(dataset: str | int) -> Path:
    folder = root("nnUNet_raw") / dataset_name(dataset)
    if not folder.is_dir():
        raise SemanticError(f"dataset {folder.name} has no raw folder under {folder.parent}")
    return folder


def preprocessed_dataset_folder(dataset: str | int) -> Path:
    return root("nnUNet_preprocessed") / dataset_name(dataset)


def check_referable(path: Path) -> None:
    """A file a dataset.json names in nnU-Net's `dataset` key: nnU-Net expands `$VARIABLES` and `~` in those paths,
    so one holding them would be read from somewhere else."""
    if "$" in str(path) or str(path).startswith("~"):
        raise InputError(
            path,
            "its path holds '$' or starts with '~', which nnU-Net expands in dataset.json paths "
            "(it would read another file): move or link the dataset to a plain path",
        )
