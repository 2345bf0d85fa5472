"""Ranges, numbered lists and lists said of a side as the lists they stand for, so that each item is read as a
structure: "L1 through L3" is "L1, L2 and L3", "T11-L2" crosses a region of the spine, "ribs 7 to 9" is "rib 7,
rib 8 and rib 9", "ribs 11 and 12" is "rib 11 and rib 12", "optic nerves and lenses, bilateral" is "both optic
nerves and both lenses", "tibia and fibula, left" is "left tibia and left fibula", "pancreatic and bile ducts" is
"pancreatic ducts and bile ducts", "the mesorectal ones" after an exclusion the target's noun. Two adjacent levels
beside a disc word name the disc between them ("the L4-L5 disc"), and stay as written."""

from __future__ import annotations

import re

from nnunet_semantic.prompts import exclusion, latin
from nnunet_semantic.prompts.anatomy import SERIES
from nnunet_semantic.prompts.directions import SIDES, direction
from nnunet_semantic.prompts.ontologies import digits
from nnunet_semantic.prompts.ontologies.label_names import ROMAN
from nnunet_semantic.prompts.wording import EXCLUSION_CONNECTIVES, RELATIONAL, alternatives, strip_request

_COUNTS = {"C": 7, "T": 12, "L": 5, "S": 5}
_ORDER = [f"{region}{n}" for region, count in _COUNTS.items() for n in range(1, count + 1)]
_TO = r"\s*(?:-|\u2013|\bto\b|\bthrough\b|\bthru\b|\buntil\b)\s*"
_LEVELS = re.compile(rf"\b(C|Th|T|L|S)(\d{{1,2}}){_TO}(C|Th|T|L|S)?(\d{{1,2}})\b", re.IGNORECASE)
# a range of other one-letter codes ("left M1-M3", "M4 through M6"): the vertebrae's letters are levels above
_CODES = re.compile(rf"\b([ABD-KMNPQRU-Z]|[A-Z]{{2,3}})(\d{{1,2}}){_TO}\1?(\d{{1,2}})\b")  # "MT2-MT4" too
_NUMBER = r"(?:\d{1,2}|[IVX]{1,4})"
_KIND = r"(?:(?P<kind>[a-z]+)\s+)?"  # a direction before the noun is said of each: "distal phalanges 1-3"
_SPAN = re.compile(rf"\b{_KIND}([a-z]{{3,}}?)s?\s+({_NUMBER}){_TO}({_NUMBER})\b", re.IGNORECASE)
_LIST = re.compile(rf"\b{_KIND}([a-z]{{3,}}?)s\s+({_NUMBER}(?:\s*(?:,|\band\b|&)\s*{_NUMBER})+)\b", re.I)
_DISC_WORD = r"(?:discs?|disks?|discus|ivds?|intervertebral|space|junction|facett?s?|zygapophys\w*|"
_DISC_WORD += r"(?:neuro)?foram\w*)"  # two levels beside these are one: "L4-L5 disc", "left facet L4-L5"
_DISC = re.compile(rf"\b{_DISC_WORD}\b", re.IGNORECASE)
_MAX = 30
# a side said after a list, of each item: "the optic nerves and lenses, bilateral", "soleus and TA on the left"
_SIDE_AFTER = re.compile(
    r"^(?P<x>.+?)(?:(?:,\s*|\s+on\s+(?:the\s+)?)(?P<side>left|right)(?:\s+side)?|"
    r",?\s+(?:on\s+)?(?P<both>both\s+sides|bilateral(?:ly)?|in\s+both\s+hemispheres))\W*$",
    re.IGNORECASE,
)
_CONNECTIVE = re.compile(rf"\b(?:{alternatives(EXCLUSION_CONNECTIVES)})\b", re.IGNORECASE)
# "the mesorectal ones" after an exclusion: the target's noun ("lymph nodes except the mesorectal ones")
_ONES = re.compile(
    rf"^(?P<x>.*?(?P<noun>[a-z]+))(?P<but>\s+(?:{alternatives(EXCLUSION_CONNECTIVES)})\s+(?:the\s+)?"
    r"(?!(?:left|right)\b)[a-z-]+\s+)ones?\b",
    re.IGNORECASE,
)
# a side said of what holds the structures: "the recti of the left eye", "tracts in the right hemisphere"
_OF_SIDE = re.compile(
    r"\s+(?:of|in|on)\s+(?:the\s+)?(?P<side>left|right)(?:\s+(?:side|eye|orbit|hemisphere|half))?"
    rf"(?=\W*$|\s*[,;]|\s+(?:{alternatives(EXCLUSION_CONNECTIVES)})\b)",
    re.I,
)
# a noun said once for two items: "pancreatic and bile ducts", "the cartilage of the tibia and femur"
_ADJECTIVES = re.compile(
    rf"^(?P<a>{alternatives(tuple(RELATIONAL))})\s+and\s+(?P<b>(?:[a-z-]+\s+)?(?P<n>[a-z]+))$", re.I
)
# a vessel's adjective said once for both kinds: "renal arteries and veins" is "renal arteries and renal veins"
_VESSELS = re.compile(
    rf"\b(?P<a>{alternatives(tuple(RELATIONAL))})\s+(?P<n>arter(?:y|ies))\s+and\s+(?P<v>veins?)\b", re.IGNORECASE
)
_OF = re.compile(r"^(?P<x>(?:(?!\band\b).)+?\bof\s+(?:the\s+)?)(?P<a>[a-z-]+)\s+and\s+(?:the\s+)?(?P<b>[a-z-]+)$", re.I)
# a span of a series ("from the cecum to the sigmoid", "cecum through descending colon", "colon from cecum to
# sigmoid"): each member, said whole or by its first word ("transverse", "sigmoid")
_MEMBER = [*(m for series in SERIES.values() for m in series), "caecum"]
_MEMBER += sorted({w for m in _MEMBER for w in m.split()} - set(_MEMBER))  # "root" of "aortic root"
_WHOLE, _END = alternatives(tuple(SERIES)), alternatives(tuple(_MEMBER))
_SERIES_SPAN = re.compile(
    rf"\b(?:(?:the\s+)?(?P<whole>{_WHOLE})\s+)?(?:from\s+)?(?:the\s+)?(?P<a>{_END})(?:\s+(?:{_WHOLE}))?"
    rf"{_TO}(?:down\s+to\s+)?(?:the\s+)?(?P<b>{_END})(?:\s+(?P<of>{_WHOLE}))?\b",
    re.I,
)
_ITEMS = re.compile(r"(\s*(?:,|&|\+|\band\b)\s*)", re.IGNORECASE)


def _said(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def _levels(m: re.Match) -> str:
    first = m.group(1).upper()[0] + m.group(2)
    last = (m.group(3) or m.group(1)).upper()[0] + m.group(4)
    if first not in _ORDER or last not in _ORDER:
        return m.group(0)
    i, j = _ORDER.index(first), _ORDER.index(last)
    if not 0 < j - i <= _MAX:
        return m.group(0)
    if j - i == 1 and _DISC.search(m.string):  # the disc between two levels ("the L4-L5 disc", "discs but C5-C6")
        return f"{first}-{last}"  # not "C5 - C6", a spaced minus
    return _said(_ORDER[i : j + 1])


def _number(said: str) -> tuple[int, bool] | None:
    """A number written in digits or Roman numerals, and whether in Roman numerals."""
    if said.isdigit():
        return int(said), False
    return (ROMAN.index(said.upper()) + 1, True) if said.upper() in ROMAN else None


def _written(n: int, roman: bool) -> str:
    return ROMAN[n - 1] if roman else str(n)


def _codes(m: re.Match) -> str:
    first, last = int(m.group(2)), int(m.group(3))
    return _said([f"{m.group(1)}{n}" for n in range(first, last + 1)]) if 0 < last - first <= _MAX else m.group(0)


def _kind(m: re.Match) -> tuple[str, str]:
    """What comes before the first item, and the words each item is said with."""
    kind = m.group("kind") or ""
    each = kind if direction(kind.lower()) and kind.lower() not in SIDES else ""
    return (f"{kind} " if kind and not each else ""), f"{each} {m.group(2)}".strip()


def _span(m: re.Match) -> str:
    (before, noun), first, last = _kind(m), _number(m.group(3)), _number(m.group(4))
    if not first or not last or first[1] != last[1] or not 0 < last[0] - first[0] <= _MAX:
        return m.group(0)
    return before + _said([f"{noun} {_written(n, first[1])}" for n in range(first[0], last[0] + 1)])


def _list(m: re.Match) -> str:
    before, noun = _kind(m)
    return before + _said([f"{noun} {n}" for n in re.findall(_NUMBER, m.group(3), re.IGNORECASE) if _number(n)])


def _sided(item: str, side: str) -> str:
    """The side before an item's structure words, after any request ("segment both breasts")."""
    start = max(item.lower().rfind(strip_request(item).lower()), 0)
    return f"{item[:start]}{side} {item[start:]}"


def _of(m: re.Match) -> str:
    """ "the cartilage of the tibia and femur": "the cartilage of the tibia and cartilage of the femur"."""
    x = m.group("x")
    if exclusion.cue(x) or _CONNECTIVE.search(x):  # "organs exclusive of liver and lien": an exclusion's list
        return m.group(0)
    start = max(x.lower().rfind(strip_request(x).lower()), 0)
    return f"{x}{m.group('a')} and {x[start:]}{m.group('b')}"


def _series(m: re.Match) -> str:
    """The members from one end to the other, in either order, of the series named or else the first that holds
    both; unchanged where none does."""
    named = (m.group("whole") or m.group("of") or "").lower()
    ends = [re.sub("^caecum$", "cecum", m.group(g).lower()) for g in "ab"]
    for members in sorted(SERIES.values(), key=lambda ms: SERIES.get(named) != ms):
        at = [[n for n, w in enumerate(members) if e in (w, *w.split())] for e in ends]  # whole, or a word of its own
        at = [i[0] if len(i) == 1 else None for i in at]
        if None not in at and at[0] != at[1]:
            return _said(list(members[min(at) : max(at) + 1]))
    return m.group(0)


def expand(text: str) -> str:
    """The prompt with its ranges, numbered lists and lists said of a side written out (unchanged where it has
    none)."""
    text = _LIST.sub(
        _list, _SPAN.sub(_span, _CODES.sub(_codes, _LEVELS.sub(_levels, digits.spoken(latin.english(text)))))
    )
    text = _OF_SIDE.sub(r" on the \g<side>", _SERIES_SPAN.sub(_series, text))
    text = _ONES.sub(r"\g<x>\g<but>\g<noun>", text)
    text = _OF.sub(_of, _ADJECTIVES.sub(r"\g<a> \g<n> and \g<b>", _VESSELS.sub(r"\g<a> \g<n> and \g<a> \g<v>", text)))
    after = _SIDE_AFTER.match(text)
    if not after or exclusion.cue(after.group("x")) or _CONNECTIVE.search(after.group("x")):
        return text
    items = _ITEMS.split(after.group("x"))
    if after.group("side") and len(items) == 1:  # one name and its side: the parser reads it as written
        return text
    side = (after.group("side") or "both").lower()
    return "".join(_sided(p, side) if i % 2 == 0 and p.strip() else p for i, p in enumerate(items))
