"""The ontology file a user writes for a dataset, in the schema the shipped ontologies use (`ontologies/*.json`):
structures as sets of the dataset's labels (ids or label names), with the words that name and describe them.

Every problem is found at once (`problems`), one line each, so that `nnunet-semantic ontology check` can list them
all; reading (`resolve`) stops at the first. A dataset's labels come in either convention: nnU-Net v2's name -> id,
whose region labels (name -> list of ids) are structures already, or MSD's id -> name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnunet_semantic.errors import InputError
from nnunet_semantic.json_files import read_json
from nnunet_semantic.prompts.ontology import SCHEMA_VERSION, Ontology, normalize
from nnunet_semantic.prompts.wording import non_latin_words

TEXT_FIELDS = ("names", "synonyms", "descriptions", "heldout")
STRUCTURE_FIELDS = ("labels", *TEXT_FIELDS)
FILE_FIELDS = (
    "version",
    "name",
    "description",
    "labels",
    "channels",
    "structures",
    "sources",
    "disjoint_sources",
)  # the last two: what `nnunet-semantic merge` records


@dataclass(frozen=True)
class DatasetLabels:
    """A dataset.json's labels: integer labels by name, region labels (nnU-Net's name -> ids) by name."""

    names: dict[str, int]
    regions: dict[str, tuple[int, ...]]
    order: tuple[str, ...] = ()  # every name as dataset.json lists it

    def as_nnunet(self) -> dict[str, int | list[int]]:
        """nnU-Net v2's `labels`: name -> id, region name -> ids, in the dataset's order."""
        return {n: self.names[n] if n in self.names else list(self.regions[n]) for n in self.order}

    @property
    def ids(self) -> set[int]:
        """Every foreground label id a label map of the dataset may hold."""
        return {i for i in self.names.values() if i > 0} | {i for r in self.regions.values() for i in r}

    def find(self, name: str) -> tuple[int, ...] | None:
        """The ids a label or region name stands for (matched as the parser matches words), or None."""
        key = normalize(name)
        for n, i in self.names.items():
            if normalize(n) == key:
                return (i,)
        return next((ids for n, ids in self.regions.items() if normalize(n) == key), None)

    @classmethod
    def of(cls, labels: Any, source: str = "dataset.json") -> DatasetLabels:
        if not isinstance(labels, dict) or not labels:
            raise InputError(source, "field 'labels' must be a non-empty object of label names and ids")
        if all(isinstance(v, str) for v in labels.values()):  # MSD: {"0": "background", "1": "edema"}
            try:
                names = {v: int(k) for k, v in sorted(labels.items(), key=lambda kv: int(kv[0]))}
                return cls(names, {}, tuple(names))
            except ValueError:
                raise InputError(
                    source, "field 'labels' maps names to names; MSD maps ids to names, nnU-Net v2 names to ids"
                ) from None
        names, regions = {}, {}
        for name, value in labels.items():
            ids = value if isinstance(value, list | tuple) else [value]
            if not ids or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids):
                raise InputError(
                    source, f"field 'labels.{name}' must be a label id or a list of label ids (a region), got {value!r}"
                )
            if isinstance(value, list | tuple):
                regions[name] = tuple(ids)
            else:
                names[name] = value
        return cls(names, regions, tuple(labels))


def _is_id(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _label_ids(
    entry: dict, where: str, own: DatasetLabels | None, dataset: DatasetLabels | None, out: list[str]
) -> frozenset[int] | None:
    labels = entry.get("labels")
    if not isinstance(labels, list) or not labels or not all(_is_id(v) or isinstance(v, str) for v in labels):
        out.append(f"{where}.labels' must be a non-empty list of label ids or label names")
        return None
    ids: set[int] = set()
    for v in labels:
        if _is_id(v):
            if v <= 0:
                out.append(f"{where}.labels' holds {v}: structures are sets of foreground labels (ids > 0)")
            elif dataset is not None and v not in dataset.ids:
                out.append(
                    f"{where}.labels' holds label {v}, which the dataset does not have "
                    f"(its labels: {sorted(dataset.ids)})"
                )
            ids.add(v)
            continue
        found = next((f for f in (own.find(v) if own else None, dataset.find(v) if dataset else None) if f), None)
        if found is not None and 0 in found:
            out.append(
                f"{where}.labels' names {v!r}, the background (label 0): structures are sets of foreground labels"
            )
        elif found is None:
            known = sorted(
                {
                    *(own.names if own else {}),
                    *(dataset.names if dataset else {}),
                    *(dataset.regions if dataset else {}),
                }
                - {"background"}
            )
            out.append(f"{where}.labels' names {v!r}, which is no label of the dataset (known: {', '.join(known)})")
        else:
            ids.update(found)
    return frozenset(ids) if ids else None


def problems(data: Any, dataset: DatasetLabels | None = None) -> list[str]:
    """Every problem of an ontology (file or `semantic` block), one line each, naming the field."""
    if not isinstance(data, dict):
        return ["the ontology must be a JSON object with a 'structures' field"]
    out = [f"unknown field '{k}' (known: {', '.join(FILE_FIELDS)})" for k in data if k not in FILE_FIELDS]
    if data.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
        out.append(f"field 'version' is {data.get('version')!r}, expected {SCHEMA_VERSION}")
    own = None
    if "labels" in data:
        try:
            own = DatasetLabels.of(data["labels"], "")
        except InputError as e:
            out.append(e.message)
    if own is not None and dataset is not None:
        for name, i in own.names.items():
            theirs = [n for n, j in dataset.names.items() if j == i]
            if theirs and normalize(theirs[0]) != normalize(name):
                out.append(f"field 'labels.{name}' is label {i}, which the dataset's dataset.json calls '{theirs[0]}'")
            elif not theirs and i not in dataset.ids:
                out.append(
                    f"field 'labels.{name}' is label {i}, which the dataset does not have (its labels: "
                    f"{sorted(dataset.ids)})"
                )
    structures = data.get("structures")
    if not isinstance(structures, dict) or not structures:
        return [*out, "field 'structures' must be a non-empty object: structure name -> {labels, names, ...}"]
    sets: dict[frozenset[int], str] = {}
    for name, entry in structures.items():
        where = f"field 'structures.{name}"
        if not name.strip():
            out.append("field 'structures' has a structure with an empty name")
        if not isinstance(entry, dict):
            out.append(f"{where}' must be an object with 'labels' and words")
            continue
        out += [
            f"{where}.{k}' is unknown (known: {', '.join(STRUCTURE_FIELDS)})"
            for k in entry
            if k not in STRUCTURE_FIELDS
        ]
        for key in TEXT_FIELDS:
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                out.append(f"{where}.{key}' must be a list of non-empty strings")
        ids = _label_ids(entry, where, own, dataset, out)
        if ids is not None:
            if ids in sets:
                out.append(
                    f"{where}.labels' is {sorted(ids)}, the same label set as structure '{sets[ids]}': "
                    "one structure per set (put the other words in its names or synonyms)"
                )
            sets.setdefault(ids, name)
    words: dict[str, set[str]] = {}
    for name, entry in structures.items():
        if isinstance(entry, dict):
            for key in ("names", "synonyms", "descriptions"):
                for w in entry.get(key, []) if isinstance(entry.get(key), list) else []:
                    words.setdefault(normalize(str(w)), set()).add(name)
            words.setdefault(normalize(name), set()).add(name)
    for name, entry in structures.items():
        heldout = entry.get("heldout", []) if isinstance(entry, dict) else []
        for w in heldout if isinstance(heldout, list) else []:
            if isinstance(w, str) and normalize(w) in words:
                out.append(
                    f"field 'structures.{name}.heldout' holds {w!r}, which is also a training wording (name, "
                    f"synonym or description of {', '.join(sorted(words[normalize(w)]))}): a held-out "
                    "wording must be one no training prompt uses"
                )
    for name, entry in structures.items():
        texts = [
            name,
            *(
                w
                for k in TEXT_FIELDS
                for w in (entry.get(k) if isinstance(entry, dict) and isinstance(entry.get(k), list) else [])
            ),
        ]
        unread = [w for t in texts if isinstance(t, str) for w in non_latin_words(t)]
        if unread:
            out.append(
                f"field 'structures.{name}' has words no prompt can hold ({', '.join(map(repr, unread[:3]))}): "
                "prompts are read in English (letters a-z, digits, punctuation); name the structure in English"
            )
    out += [
        f"the wording {w!r} names {len(names)} structures ({', '.join(sorted(names))}): a prompt with it would "
        "be ambiguous"
        for w, names in words.items()
        if len(names) > 1 and w
    ]
    return out


def resolve(data: Any, dataset: DatasetLabels | None = None, source: str = "ontology") -> Ontology:
    """The ontology with label names turned into ids; the first problem raised, naming the file and the field."""
    found = problems(data, dataset)
    if found:
        more = (
            f" (and {len(found) - 1} more problems: `nnunet-semantic ontology check` lists them)"
            if len(found) > 1
            else ""
        )
        raise InputError(source, found[0] + more)
    own = DatasetLabels.of(data["labels"], source) if "labels" in data else None
    structures = {}
    for name, entry in data["structures"].items():
        ids = _label_ids(entry, "", own, dataset, [])
        structures[name] = {**{k: entry[k] for k in TEXT_FIELDS if k in entry}, "labels": sorted(ids)}
    return Ontology.from_dict({"version": SCHEMA_VERSION, "structures": structures}, source)


def dumps(data: dict) -> str:
    """JSON as the shipped files are written: indented, label lists on one line."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return (
        re.sub(r"\[\s+([0-9,\s]+?)\s+\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
        + "\n"
    )


def load(path: Path) -> Any:
    return read_json(path, "ontology file not found")


def read(path: Path, dataset: DatasetLabels | None = None) -> Ontology:
    return resolve(load(path), dataset, str(path))
