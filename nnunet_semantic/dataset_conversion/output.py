"""Where a conversion (or a merge) writes: the dataset id's checks, a temporary folder, the rename at the end, so
that a failed run leaves nothing and a source is never deleted."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from nnunet_semantic import paths
from nnunet_semantic.errors import SemanticError


def dataset_folder_name(dataset_id: int, name: str) -> str:
    if not 1 <= dataset_id <= 999:
        raise SemanticError(f"dataset id must be between 1 and 999, got {dataset_id}")
    return f"Dataset{dataset_id:03d}_{name}"


@contextlib.contextmanager
def dataset_output(
    dataset_id: int, name: str, overwrite: bool = False, sources: Sequence[str] = ()
) -> Iterator[tuple[Path, Path]]:
    """Yields (final folder, temporary folder to write into); the temporary folder becomes the final one when the
    block ends, and is removed if it raises. Refuses a taken id unless `overwrite`, an id nnU-Net would find under
    two names, and an `overwrite` that would delete one of `sources`."""
    from nnunetv2.utilities.dataset_name_id_conversion import find_candidate_datasets

    root = paths.root("nnUNet_raw")
    final = root / dataset_folder_name(dataset_id, name)
    taken = [str(t) for t in find_candidate_datasets(dataset_id)]
    if taken and not overwrite:
        raise SemanticError(
            f"dataset id {dataset_id} is taken by {', '.join(taken)} (in nnUNet_raw, "
            "nnUNet_preprocessed or nnUNet_results); choose another -d or pass --overwrite"
        )
    others = [
        Path(os.environ[v]) / t
        for v in ("nnUNet_preprocessed", "nnUNet_results")
        if os.environ.get(v)
        for t in taken
        if t != final.name and (Path(os.environ[v]) / t).is_dir()
    ]
    if others:  # --overwrite replaces the raw folder only; nnU-Net would then find two names for one id
        raise SemanticError(
            f"dataset id {dataset_id} is used by {', '.join(map(str, others))} under another name "
            f"than {final.name}; remove {'it' if len(others) == 1 else 'them'} (or choose another "
            "-d): nnU-Net cannot use an id held by two dataset names"
        )
    source_paths = [Path(s).resolve() for s in sources if s and Path(s).exists()]
    doomed = [
        old
        for old in root.glob(f"Dataset{dataset_id:03d}_*")
        for s in source_paths
        if old.resolve() == s or old.resolve() in s.parents
    ]
    if overwrite and doomed:
        raise SemanticError(
            f"--overwrite would delete {doomed[0]}, which is the source being converted; convert it into another -d"
        )
    tmp = root / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield final, tmp
        if overwrite:
            for old in root.glob(f"Dataset{dataset_id:03d}_*"):
                shutil.rmtree(old, ignore_errors=True)
        try:
            tmp.rename(final)
        except OSError:
            raise SemanticError(
                f"{final} appeared while this conversion ran (another conversion to id "
                f"{dataset_id}?); nothing of this one was kept: run it again once that one ended, "
                "or choose another -d"
            ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
