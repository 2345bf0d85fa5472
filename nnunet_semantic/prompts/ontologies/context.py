"""A dataset about one organ names its findings without it (`kidney`, `tumor`); its users say the organ
("kidney tumour", "the renal mass", "lesion of the liver"). Such wordings are the finding's only where every
other structure of the dataset is that organ or named as in it, so that the organ cannot mean a finding
elsewhere."""

from __future__ import annotations

import re
from typing import Any

from nnunet_semantic.prompts.anatomy import ANATOMY
from nnunet_semantic.prompts.directions import SIDES
from nnunet_semantic.prompts.ontology import Structure, normalize, singular
from nnunet_semantic.prompts.wording import RELATIONAL

FINDING_NOUNS = frozenset(
    "tumor tumour lesion mass cyst metastasis nodule hemorrhage calcification stone cancer carcinoma".split()
)
TISSUES = frozenset({"wall", "lumen", "gm", "wm", "mucosa"})  # what an organ said first is made of: `TI_wall`
_ORGANS = frozenset(map(normalize, ANATOMY))
_TARGET = re.compile(r"^(?:[gcpi]tv\w*|target|boost|resection|enhancing|hyperintensity|edema|necrosis)$")
_ADJECTIVE = {noun: adjective for adjective, noun in reversed(RELATIONAL.items())}  # the first one listed


def is_target(s: Structure) -> bool:
    """A radiotherapy target volume or a finding: no organ at risk ("all OARs" leaves it out)."""
    return any(_TARGET.match(w) or singular(w) in FINDING_NOUNS for p in s.phrases() for w in normalize(p).split())


def _words(name: str) -> list[str]:
    return [w for w in normalize(name).split() if w not in SIDES]


def _finding(name: str) -> bool:
    words = _words(name)  # "cord lesion", `lesion_periventricular`
    return bool(words) and bool({singular(words[0]), singular(words[-1])} & FINDING_NOUNS)


def _in(organ: str, names: list[str]) -> bool:
    """Whether a name says the organ, by its noun or an adjective of it ("hepatic vessels" of the liver)."""
    said = {organ, *(adjective for adjective, noun in RELATIONAL.items() if noun == organ)}
    return any(said & {singular(w) for w in _words(n)} for n in names)


def _dataset_organ(structures: dict[str, dict[str, Any]]) -> str | None:
    """The one organ a dataset is about: one structure is it, every structure but the findings is named as in it."""
    rest = [[n, *s.get("names", []), *s.get("synonyms", [])] for n, s in structures.items() if not _finding(n)]
    organs = {" ".join(_words(names[0])) for names in rest} & _ORGANS
    if len(organs) != 1 or any(" " in o for o in organs):
        return None
    organ = organs.pop()
    return organ if all(_in(organ, names) for names in rest) else None


def finding_wordings(structures: dict[str, dict[str, Any]]) -> None:
    """A finding's bare synonyms ("lesion", "tumor" of `cord_lesion`) dropped where several findings are labelled
    (`lesion_periventricular` is a lesion too), and the organ said (`_organ_wordings`)."""
    if sum(map(_finding, structures)) > 1:
        for s in structures.values():
            s["synonyms"] = [w for w in s.get("synonyms", []) if not _finding(w) or len(_words(w)) > 1]
    _organ_wordings(structures)


def _organ_wordings(structures: dict[str, dict[str, Any]]) -> None:
    """Adds "<organ's adjective> <finding>" ("renal tumor") to each finding of a one-organ dataset whose names do
    not say the organ. "kidney tumor" reads it, as "renal" reads "kidney"; a wording "kidney tumor" would also
    read "kidney + tumor" (punctuation aside, the same words) as the tumour alone."""
    organ = _dataset_organ(structures)
    for name, s in structures.items():
        if organ in _ADJECTIVE and _finding(name) and not _in(organ, [name, *s.get("names", [])]):
            s.setdefault("synonyms", []).append(f"{_ADJECTIVE[organ]} {name}")
