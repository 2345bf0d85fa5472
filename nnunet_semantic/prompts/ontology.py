"""Structures as sets of label ids, with the words that name and describe them.

Stored in the raw dataset's `dataset.json["semantic"]`; nnU-Net copies that key to the preprocessed
and results folders, so a trained model carries its vocabulary. Containment is derived from the sets.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
_SPELLING = {
    "tumour": "tumor",
    "tumours": "tumors",
    "oedema": "edema",
    "haemorrhage": "hemorrhage",
    "haemorrhagic": "hemorrhagic",
    "ischaemic": "ischemic",
    "centre": "center",
    "centres": "centers",
    "grey": "gray",
    **{"oesophagus": "esophagus", "oesophageal": "esophageal", "haematoma": "hematoma", "caecum": "cecum"},
    **{"coeliac": "celiac", "foetal": "fetal", "foetus": "fetus", "paediatric": "pediatric"},
}
_ARTICLES = {"the", "a", "an"}


_LATIN_PLURALS = (("ices", "ex"), ("ae", "a"), ("i", "us"))  # cortices, vertebrae, hippocampi / nuclei


_IRREGULAR = {
    "atria": "atrium",
    "gyri": "gyrus",
    "septa": "septum",
    "ostia": "ostium",
    "foramina": "foramen",
    "putamina": "putamen",
    "corpora": "corpus",
    "femora": "femur",
    "lenses": "lens",
    "lens": "lens",
    "pelves": "pelvis",
    "hemipelves": "hemipelvis",
    "testes": "testis",
    "teeth": "tooth",
    "metastases": "metastasis",
    **{w: "phalanx" for w in ("phalanges", "phalanxes", "phalange")},
    "lumina": "lumen",
    # singular nouns that end as plurals do: "the psoas" is one muscle, "the biceps" one
    **{w: w for w in ("psoas", "iliopsoas", "pancreas", "atlas", "biceps", "triceps", "quadriceps")},
}


def singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4:
        for plural, singular in _LATIN_PLURALS:
            if word.endswith(plural):
                return word[: -len(plural)] + singular
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


@functools.lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Canonical form for matching: case, punctuation, hyphens, British spelling, articles, plurals, ordinals as
    their numbers ("12th" -> "12")."""
    words = _NOT_WORD.sub(" ", _ACRONYMS.sub(r"\1", text).lower()).split()  # "SVs": "sv"
    return " ".join(singular(_SPELLING.get(w, w)) for w in map(_number, words) if w not in _ARTICLES)


_NOT_WORD = re.compile(r"[^a-z0-9]+")
ACRONYM_PLURAL = r"\b([A-Z]{2,})s\b"  # an acronym's plural: "PVs", "SVs", "ICAs"
_ACRONYMS = re.compile(ACRONYM_PLURAL)
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
_LABEL_NUMBER = re.compile(r"^label (\d+)$")  # "label 3", "Label #3": a label by its id in dataset.json


def _number(word: str) -> str:
    ordinal = _ORDINAL.fullmatch(word) if word[:1].isdigit() else None
    return ordinal.group(1) if ordinal else word


@dataclass(frozen=True)
class Structure:
    name: str
    labels: frozenset[int]
    names: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()
    heldout: tuple[str, ...] = ()  # wordings kept out of training, for the evaluation's `*_heldout` levels

    def phrases(self) -> list[str]:
        """The wordings a model trains on (never the held-out ones)."""
        return [self.name, *self.names, *self.synonyms, *self.descriptions]

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": sorted(self.labels),
            "names": list(self.names) or [self.name],
            "synonyms": list(self.synonyms),
            "descriptions": list(self.descriptions),
        } | ({"heldout": list(self.heldout)} if self.heldout else {})


@dataclass
class Ontology:
    """A dataset's `semantic` block, parsed once (trainer, predictor, validation and evaluation hold this object):
    its structures and, for a merged dataset, its sources (key -> dataset, labels, structures, cases)."""

    structures: dict[str, Structure]
    _vocabulary: dict[str, set[str]] = field(default_factory=dict, repr=False)
    sources: dict[str, dict] = field(default_factory=dict)
    disjoint_sources: bool = False

    def __post_init__(self) -> None:
        self._compounds: dict[str, set[str]] = {}  # "gall bladder" and "gallbladder" are one word
        for s in self.structures.values():
            for phrase in (*s.phrases(), *s.heldout):
                self._vocabulary.setdefault(normalize(phrase), set()).add(s.name)
                self._compounds.setdefault(normalize(phrase).replace(" ", ""), set()).add(s.name)

    # --- serialisation -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "dataset.json") -> Ontology:
        """Validates as it reads; errors name the source and the field."""
        from nnunet_semantic.errors import InputError

        if not isinstance(data, dict) or not isinstance(data.get("structures"), dict) or not data["structures"]:
            raise InputError(source, "field 'semantic.structures' must be a non-empty object")
        if data.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise InputError(source, f"field 'semantic.version' is {data.get('version')}, expected {SCHEMA_VERSION}")
        structures = {}
        for name, entry in data["structures"].items():
            where = f"field 'semantic.structures.{name}"
            labels = entry.get("labels") if isinstance(entry, dict) else None
            if (
                not isinstance(labels, list)
                or not labels
                or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in labels)
            ):
                raise InputError(source, f"{where}.labels' must be a non-empty list of positive label ids")
            for key in ("names", "synonyms", "descriptions", "heldout"):
                value = entry.get(key, [])
                if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                    raise InputError(source, f"{where}.{key}' must be a list of non-empty strings")
            structures[name] = Structure(
                name,
                frozenset(labels),
                *(tuple(entry.get(key, [])) for key in ("names", "synonyms", "descriptions", "heldout")),
            )
        trained = {normalize(p) for s in structures.values() for p in s.phrases()}
        for s in structures.values():
            seen = [p for p in s.heldout if normalize(p) in trained]
            if seen:
                raise InputError(
                    source,
                    f"field 'semantic.structures.{s.name}.heldout' holds {seen[0]!r}, which is "
                    "also a name, synonym or description (trained on): a held-out wording must "
                    "be one no training prompt uses",
                )
        sources = data.get("sources") or {}
        if not isinstance(sources, dict) or not all(
            isinstance(v, dict) and {"labels", "structures", "cases"} <= set(v) for v in sources.values()
        ):
            raise InputError(
                source,
                "field 'semantic.sources' must map each source to its 'labels', 'structures' "
                "and 'cases' (as `nnunet-semantic merge` writes it)",
            )
        return cls(structures, sources=sources, disjoint_sources=bool(data.get("disjoint_sources", False)))

    def to_dict(self) -> dict[str, Any]:
        return {"version": SCHEMA_VERSION, "structures": {n: s.to_dict() for n, s in self.structures.items()}} | (
            {"disjoint_sources": self.disjoint_sources, "sources": self.sources} if self.sources else {}
        )

    def label_sets(self) -> dict[str, tuple[int, ...]]:
        """structure -> its label ids, in the ontology's order."""
        return {name: tuple(sorted(s.labels)) for name, s in self.structures.items()}

    def source_of(self) -> dict[str, str]:
        """structure -> the source that annotates it (a merged dataset; empty otherwise)."""
        return {name: key for key, s in self.sources.items() for name in s["structures"]}

    @classmethod
    def from_dataset_json(cls, dataset_json: dict[str, Any], source: str = "dataset.json") -> Ontology:
        from nnunet_semantic.errors import InputError

        if "semantic" not in dataset_json:
            raise InputError(
                source,
                "no 'semantic' key (no prompts): give the dataset prompts with `nnunet-semantic "
                "convert nnunet -i DATASET -d NEW_ID` (an nnU-Net raw dataset; its files stay "
                "where they are), or another `nnunet-semantic convert` layout",
            )
        return cls.from_dict(dataset_json["semantic"], source)

    @classmethod
    def of_dataset(cls, folder) -> Ontology:
        """The ontology in a dataset folder's dataset.json."""
        from pathlib import Path

        from nnunet_semantic.json_files import read_json

        path = Path(folder) / "dataset.json"
        return cls.from_dataset_json(read_json(path), str(path))

    # --- set relations -------------------------------------------------------------------------
    @property
    def label_ids(self) -> set[int]:
        return set().union(*(s.labels for s in self.structures.values()))

    def contained_in(self, name: str) -> list[Structure]:
        """Structures that are proper subsets of `name`: what an L3 prompt can exclude from it."""
        outer = self.structures[name].labels
        return [s for s in self.structures.values() if s.labels < outer]

    def exactly(self, labels: set[int] | frozenset[int]) -> Structure | None:
        """The structure of exactly `labels` (the first such in the ontology's order), or None."""
        return next((s for s in self.structures.values() if s.labels == labels), None)

    def leaves(self, structures) -> list[Structure]:
        """The structures within `structures` that hold no other: what "all four organs" counts (the kidneys as two)."""
        labels = frozenset().union(*(s.labels for s in structures))
        inside = [s for s in self.structures.values() if s.labels <= labels]
        return [s for s in inside if not any(t.labels < s.labels for t in inside)]

    def holder(self, labels: frozenset[int]) -> Structure | None:
        """The smallest structure that holds `labels` and more (the first such in the ontology's order)."""
        outer = [s for s in self.structures.values() if labels < s.labels]
        return min(outer, key=lambda s: len(s.labels)) if outer else None

    def closest(self, phrase: str) -> list[str]:
        """The wordings most like an unknown phrase (difflib), for its error; else every structure."""
        originals = {normalize(p): p for s in self.structures.values() for p in s.phrases()}
        close = difflib.get_close_matches(normalize(phrase), list(originals), n=3, cutoff=0.4)
        return [originals[c] for c in close] or list(self.structures)

    def lookup(self, phrase: str) -> set[str]:
        """Structure names a phrase (name, synonym or description) refers to, a compound written apart or together
        as either ("thigh bone" / "thighbone"), a label by its id ("label 3"); empty when unknown."""
        key = normalize(phrase)
        if (number := _LABEL_NUMBER.match(key)) and (one := self.exactly({int(number[1])})):
            return {one.name}
        return set(self._vocabulary.get(key) or self._compounds.get(key.replace(" ", ""), set()))

    def vocabulary(self) -> list[str]:
        return sorted(self._vocabulary)
