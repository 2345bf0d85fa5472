"""Latin names said in English words: "os frontale" is the frontal bone, "ossa nasalia" the nasal bones,
"musculus rectus abdominis" the rectus abdominis (its sides, `dexter` / `sinister`, are read as sides
already)."""

from __future__ import annotations

import re

_BONE = re.compile(r"\bos\s+([a-z]+?)(al|ar|oid|id)(?:e|eum|ium)\b", re.IGNORECASE)  # "os frontale", "os hyoideum"
_BONES = re.compile(r"\bossa\s+([a-z]+?)(al|ar)ia\b", re.IGNORECASE)  # "ossa nasalia"
_MUSCLE = re.compile(r"\b(?:musculus|musculi|mm?\.)\s+", re.IGNORECASE)


def english(text: str) -> str:
    """`text` with its Latin bone and muscle names in the words the labels' names use."""
    text = _BONES.sub(lambda m: f"{m[1]}{m[2]} bones", _BONE.sub(lambda m: f"{m[1]}{m[2]} bone", text))
    return _MUSCLE.sub("", text)
