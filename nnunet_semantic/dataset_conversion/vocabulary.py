"""Which ontology a dataset's prompts come from, in one order for every converter and for `ontology init`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from nnunet_semantic.prompts import ontology_file
from nnunet_semantic.prompts.ontologies import generic_ontology, get_ontology, recognise
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.ontology_file import DatasetLabels


def choose_ontology(
    dataset_json: dict[str, Any],
    labels: DatasetLabels,
    channels: list[str],
    source: Path,
    ontology: Path | None = None,
    quiet: bool = False,
) -> tuple[Ontology, str]:
    """(ontology, where it came from): the file given, else the dataset.json's own `semantic` block, else the
    shipped ontology of a dataset recognised by its labels and channels, else one structure per label and per region
    label (with a warning: no L2 descriptions, L3 only where regions nest)."""
    if ontology is not None:
        return ontology_file.read(ontology, labels), str(ontology)
    if "semantic" in dataset_json:
        return ontology_file.resolve(
            dataset_json["semantic"], labels, f"{source} (field 'semantic')"
        ), f"the 'semantic' block of {source}"
    key = recognise(labels, channels, dataset_json.get("file_ending", ".nii.gz"))
    if key is not None:
        return get_ontology(key), f"the shipped ontology '{key}' (recognised by its labels, channels and image format)"
    if not quiet:
        warnings.warn(
            f"{source}: no ontology given and the dataset is not one whose ontology ships with "
            "nnunet-semantic; using one structure per label and region label (no L2 descriptions; L3 only "
            "where regions nest). Write one with `nnunet-semantic ontology init` and pass --ontology",
            stacklevel=2,
        )
    return generic_ontology(labels), "one structure per label and region label"
