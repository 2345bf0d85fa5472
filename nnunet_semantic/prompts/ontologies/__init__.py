"""Ontologies shipped for known datasets, one JSON file each in this folder, in the schema users write
(`ontology_file.py`): the dataset's labels and channels (by which a dataset is recognised) and its structures.

L2 descriptions are hand-written from shape, location, intensity and texture, so that L1 and L2 prompts name the
same voxels in different words. `heldout` wordings are never trained on: the evaluation asks them (levels
L2_heldout / L3_heldout) to measure invariance to wording a model has not seen.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from nnunet_semantic.image_files import NATURAL_IMAGE_ENDINGS
from nnunet_semantic.prompts.ontologies.context import finding_wordings
from nnunet_semantic.prompts.ontologies.label_names import readable, synonyms
from nnunet_semantic.prompts.ontology import Ontology, normalize
from nnunet_semantic.prompts.ontology_file import DatasetLabels, resolve

FOLDER = Path(__file__).parent
ONTOLOGIES: dict[str, dict[str, Any]] = {p.stem: json.loads(p.read_text()) for p in sorted(FOLDER.glob("*.json"))}


def get_ontology(key: str) -> Ontology:
    return resolve(ONTOLOGIES[key], None, str(FOLDER / f"{key}.json"))


def _imaging(channel: str) -> str:
    """A channel's imaging kind: CT or not (MRI sequences are named many ways: MRI, T2, FLAIR, ADC, ...)."""
    return "CT" if "ct" in normalize(channel).split() else "not CT"


def recognise(labels: DatasetLabels, channels: list[str], file_ending: str = ".nii.gz") -> str | None:
    """The shipped ontology of a dataset, recognised with certainty: the same label ids under the same names
    (spelling and case aside), as many channels of the same imaging kind (CT or not), and a medical image format;
    never by a dataset's name (a CT or PNG dataset labelled Anterior / Posterior is no hippocampus)."""
    if file_ending.lower() in NATURAL_IMAGE_ENDINGS:
        return None
    mine = {i: normalize(n) for n, i in labels.names.items()}
    kinds = [_imaging(c) for c in channels]
    for key, data in ONTOLOGIES.items():
        theirs = {i: normalize(n) for n, i in data["labels"].items()}
        if mine == theirs and not labels.regions and [_imaging(c) for c in data["channels"].values()] == kinds:
            return key
    return None


def generic_structures(labels: DatasetLabels) -> dict[str, dict[str, Any]]:
    """One structure per named label and one per region label (nnU-Net's regions are structures already), named
    readably, the label's own name kept as a name; a label set named twice becomes one structure with both names.
    Its synonyms (`label_names.py`) are kept where they name no other structure; a one-organ dataset's findings
    are said with the organ too (`context.py`)."""
    by_set: dict[tuple[int, ...], dict[str, Any]] = {}
    for name in labels.order:
        ids = tuple(sorted(set(labels.regions[name]))) if name in labels.regions else (labels.names[name],)
        if name in ("background", "ignore") or ids == (0,):
            continue
        # the label's own name is kept where it reads otherwise ("NonEnhancingTumor"), not as a copy in other case
        # nor for a side spelled out ("Parotid_L": its "L" would keep shorthand "L" from reading as "left")
        words = [readable(name), *([name] if normalize(name) != normalize(readable(name, sides=False)) else [])]
        if ids in by_set:
            by_set[ids]["names"] += [w for w in words if w not in by_set[ids]["names"]]
        else:
            by_set[ids] = {"labels": list(ids), "names": words}
        by_set[ids].setdefault("synonyms", []).extend(synonyms(name))
    said = Counter(k for s in by_set.values() for k in {normalize(w) for w in (*s["names"], *s["synonyms"])})
    stems = Counter(w for s in by_set.values() for w in _name_words(s) if len(w) > 2)
    for s in by_set.values():
        names, own = {normalize(n) for n in s["names"]}, _name_words(s)
        kept = (
            w
            for w in dict.fromkeys(s["synonyms"])
            if said[normalize(w)] == 1 and not _abbreviated_elsewhere(w, own, stems)
        )
        s["synonyms"] = [w for w in kept if normalize(w) not in names]
    structures = {s["names"][0]: {k: v for k, v in s.items() if v} for s in by_set.values()}
    finding_wordings(structures)
    return structures


def _name_words(s: dict[str, Any]) -> set[str]:
    return {w for n in s["names"] for w in normalize(n).split()}


def _abbreviated_elsewhere(synonym: str, own: set[str], stems: Counter) -> bool:
    """A one-word synonym another label's name abbreviates names both ("myocardium" of `LV_myo` beside `RV_myo`)."""
    said = normalize(synonym)
    return " " not in said and any(said.startswith(w) and said != w and n > (w in own) for w, n in stems.items())


def generic_ontology(labels: DatasetLabels) -> Ontology:
    """The fallback for datasets with no ontology: names only (no L2 descriptions; L3 only where regions nest)."""
    return resolve({"structures": generic_structures(labels)}, labels, "<one structure per label>")
