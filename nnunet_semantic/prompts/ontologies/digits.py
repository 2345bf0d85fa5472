"""Bones of the hand and the foot by digit, as a dataset's labels number them: metacarpals and metatarsals
from the thumb or the great toe (`MC1`, `metatarsal_2`: "first metacarpal", "metacarpal II", "thumb
metacarpal", "great toe metatarsal"), phalanges by kind and digit (`PP2`, `DP5`, a hand's: "proximal phalanx
2", "distal phalanx of digit 5"). Each is also named by its finger or toe ("thumb distal phalanx", "ring
finger phalanges"); the middle finger as the long finger (`spoken`), since "middle" names a phalanx too and
words alone cannot tell "the middle finger's phalanges" from the middle phalanges; never "third", which names
a part ("the upper third")."""

from __future__ import annotations

import re

_BONES = {
    "mc": "metacarpal",
    "mt": "metatarsal",
    "pp": "proximal phalanx",
    "mp": "middle phalanx",
    "dp": "distal phalanx",
}
_ALSO = {
    "proximal phalanx": "basal phalanx",
    "middle phalanx": "intermediate phalanx",
    "distal phalanx": "terminal phalanx",
}
_FINGERS = ("thumb", "index finger", "long finger", "ring finger", "little finger")
_TOES = ("great toe", "second toe", "3rd toe", "fourth toe", "little toe")
_ALSO_DIGIT = {"thumb": ("pollex",), "little finger": ("small finger", "pinky"), "great toe": ("big toe", "hallux")}
_THIRD = re.compile(r"\b(?:middle|third)\s+(?:(finger)|toe)", re.IGNORECASE)
_ORDINALS = ("first", "second", "3rd", "fourth", "fifth")
_ROMAN = ("I", "II", "III", "IV", "V")
_CODED = re.compile(rf"^({'|'.join(_BONES)}|{'|'.join(_BONES.values())})\s*([1-5])$")


def wordings(said: str) -> list[str]:
    """Every other way to say the bone a label is (its written-out name `said`); [] for anything else."""
    found = _CODED.match(said.lower())
    if not found:
        return []
    bone, n = _BONES.get(found[1], found[1]), int(found[2])
    code = next(c for c, b in _BONES.items() if b == bone).upper()  # `MC1` of `metacarpal_1`
    out = []
    for b in (bone, *([_ALSO[bone]] if bone in _ALSO else [])):
        out += [f"{b} {n}", f"{b} {_ROMAN[n - 1]}", f"{_ORDINALS[n - 1]} {b}", f"{b} of digit {n}", f"{b} digit {n}"]
    digit = (_TOES if bone == "metatarsal" else _FINGERS)[n - 1]
    for d in (digit, *_ALSO_DIGIT.get(digit, ())):
        out += [f"{d} {bone}", f"{bone} of the {d}"]
    return [*out, f"{code}{n}"]


def spoken(text: str) -> str:
    """A prompt with the middle or third finger (toe) said as the wordings name it."""
    return _THIRD.sub(lambda m: "long finger" if m[1] else "3rd toe", text)
