"""Lymph-node levels of the neck and stations of the chest, by code and by name, whichever a label uses:
`LN_II_L` is also "left level II", "level 2 left" and "left upper jugular nodes"; `Station4R` is also
"station 4R", "4R" and "right lower paratracheal station". Names: the consensus neck levels (Gregoire 2014) and
the IASLC map (2009)."""

from __future__ import annotations

import re

_LEVELS = {
    "ia": ("submental",),
    "ib": ("submandibular",),
    "ii": ("upper jugular",),
    "iii": ("mid jugular", "middle jugular"),
    "iv": ("lower jugular",),
    "v": ("posterior triangle", "posterior cervical"),
    "vi": ("central compartment", "anterior compartment", "central"),
    "vii": ("upper mediastinal",),
    "viia": ("retropharyngeal",),
    "viii": ("parotid",),
}
_STATIONS = {
    "1": ("low cervical", "supraclavicular"),
    "2": ("upper paratracheal",),
    "3a": ("prevascular",),
    "3p": ("retrotracheal",),
    "4": ("lower paratracheal",),
    "5": ("subaortic", "aortopulmonary window", "AP window", "aortopulmonary"),
    "6": ("para-aortic", "paraaortic"),
    "7": ("subcarinal",),
    "8": ("paraesophageal",),
    "9": ("pulmonary ligament",),
    "10": ("hilar",),
    "11": ("interlobar",),
    "12": ("lobar",),
    "13": ("segmental",),
    "14": ("subsegmental",),
}
_SIDE = r"(?:\s*(?P<side>left|right|l|r))?$"
_LEVEL = re.compile(rf"^(?:ln|lymph node|node|nodal)\s*(?:level|lvl)?\s*(?P<n>[ivx]+|[1-8])\s*(?P<sub>[ab])?{_SIDE}")
_STATION = re.compile(rf"^(?:(?:ln|lymph node|node)\s*)?(?:station|stn)\s*(?P<n>1[0-4]|[1-9])\s*(?P<sub>[ap])?{_SIDE}")
_NUMERALS = "i ii iii iv v vi vii viii".split()  # the neck's levels


def _named(code: str, side: str, kind: str, names: tuple[str, ...]) -> list[str]:
    """A node group's wordings: its code with its kind and side ("left level II", "station 4R", "4R"), and its
    names as nodes of that kind ("right lower paratracheal station"; never the adjective alone:
    "para-aortic" is no aorta)."""
    codes = [f"{side} {kind} {code}", f"{kind} {code} {side}"] if side else [f"{kind} {code}", code]
    ends = (kind, "nodes", "lymph nodes")
    return [*codes, *(" ".join(f"{side} {n} {end}".split()) for n in names for end in ends)]


def wordings(said: str) -> list[str]:
    """Every other way to say the node level or station a label is (its written-out name `said`); [] for
    anything else. A station's side is also a letter after its code ("4R"); a level's number also Arabic."""
    said = said.lower()
    found = _LEVEL.match(said) or _STATION.match(said)
    if not found:
        return []
    side = {"l": "left", "r": "right"}.get(found["side"], found["side"] or "")
    if found.re is _STATION:
        code = found["n"] + (found["sub"] or "")
        lettered = f"{code}{side[:1]}".upper()  # "4R"
        named = _named(code.upper(), side, "station", _STATIONS.get(code, ()))
        return [*named, lettered, f"station {lettered}"]
    number = found["n"] if found["n"] in _NUMERALS else _NUMERALS[int(found["n"]) - 1]
    code, sub = (number + (found["sub"] or "")).upper(), found["sub"] or ""
    arabic = f"{_NUMERALS.index(number) + 1}{sub}"
    out = _named(code, side, "level", _LEVELS.get(code.lower(), ()))
    return out + [
        " ".join(f"{side} {w} {c}".split()) for w in ("level", "neck level", "nodal level") for c in (arabic, code)
    ]
