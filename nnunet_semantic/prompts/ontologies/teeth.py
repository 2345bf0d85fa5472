"""Teeth by number and by name, whichever a dataset's labels use: FDI two-digit numbers (quadrant 1-4 from
the patient's upper right, clockwise; tooth 1-8 from the midline: `tooth_36`), Palmer's quadrant letters
("LR6") and names ("lower left canine", "mandibular left cuspid"). A label named either way gets the other ways
as wordings."""

from __future__ import annotations

import re

_KINDS = (
    "central incisor",
    "lateral incisor",
    "canine",
    "first premolar",
    "second premolar",
    "first molar",
    "second molar",
    "third molar",
)
_ALSO = {
    "canine": ("cuspid", "eye tooth"),
    "first premolar": ("first bicuspid",),
    "second premolar": ("second bicuspid",),
    "third molar": ("wisdom tooth",),
}
_QUADRANTS = {1: ("upper", "right"), 2: ("upper", "left"), 3: ("lower", "left"), 4: ("lower", "right")}
_JAWS = {"upper": "maxillary", "lower": "mandibular"}
_NUMBERED = re.compile(r"^(?:tooth|teeth|fdi)?\s*([1-4])([1-8])$")
_JAW = r"(upper|lower|maxillary|mandibular)"
_NAMED = re.compile(rf"^{_JAW}?\s*(left|right)\s*{_JAW}?\s*({'|'.join(_KINDS)})(?:\s+tooth)?$")


def _number(said: str) -> tuple[int, int] | None:
    """(quadrant, tooth) of a tooth's label name, written out ("tooth 36", "lower left first molar")."""
    if numbered := _NUMBERED.match(said):
        return int(numbered[1]), int(numbered[2])
    named = _NAMED.match(said)
    if not named or bool(named[1]) == bool(named[3]):
        return None
    jaw = "upper" if (named[1] or named[3]) in ("upper", "maxillary") else "lower"
    return next(q for q, js in _QUADRANTS.items() if js == (jaw, named[2])), _KINDS.index(named[4]) + 1


def wordings(said: str) -> list[str]:
    """Every other way to say the tooth a label is (its written-out name `said`); [] for anything else."""
    found = _number(said.lower())
    if not found:
        return []
    (quadrant, tooth), kind = found, _KINDS[found[1] - 1]
    jaw, side = _QUADRANTS[quadrant]
    named = [
        f"{a} {b} {k}"
        for k in (kind, *_ALSO.get(kind, ()))
        for j in (jaw, _JAWS[jaw])
        for a, b in ((j, side), (side, j))
    ]
    fdi = f"{quadrant}{tooth}"
    return [
        *named,
        f"tooth {fdi}",
        f"FDI {fdi}",
        fdi,
        f"{jaw[0]}{side[0]}{tooth}".upper(),
        f"{jaw} tooth {fdi}",
        f"{_JAWS[jaw]} tooth {fdi}",
    ]
