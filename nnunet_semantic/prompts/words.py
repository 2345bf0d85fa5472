"""How the parser compares words: a negation fused to its word, a relational adjective as its noun ("renal" as
"kidney"), one word in two forms ("necrotic" / "necrosis"), and the content words that tell structures
apart."""

from __future__ import annotations

import functools
import re

from nnunet_semantic.prompts.directions import GRADING_WORDS, PART_NOUNS, canonical, direction
from nnunet_semantic.prompts.ontology import normalize, singular
from nnunet_semantic.prompts.wording import RELATIONAL

MAX_WORDS = 3  # a wording a part or collective is read by is short: long descriptions lend stray words
# nouns a modifier names its structure with: "renal tissue", "renal parenchyma" and "renal organ" are the kidney
CLASS_NOUNS = frozenset({"tissue", "parenchyma", "organ", "gland"})
# what a collective is made of, never which structure: "every hippocampal voxel", "all labelled structures"
GENERIC_NOUNS = frozenset(
    {
        "tissue",
        "parenchyma",
        "structure",
        "oar",
        "voxel",
        "pixel",
        "set",
        "everything",
        "thing",
        "anything",
        "volume",
        "burden",
        "region",
        "subregion",
        "component",
        "compartment",
        "outline",
        "contour",
        "tree",
        "network",
        "system",
    }
)
LABELLED = frozenset({"labelled", "labeled", "annotated", "segmented", "label", "foreground"})
# how many of a collective: "all four organs", "every organ", "the full organ set"
QUANTIFIERS = frozenset(
    {
        "all",
        "every",
        "each",
        "entire",
        "whole",
        "full",
        "complete",
        "total",
        "both",
        "any",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "bilateral",
        "bilaterally",
    }
)
UNNAMING = QUANTIFIERS | GENERIC_NOUNS | LABELLED  # a collective's words that name no structure
SEVERAL = QUANTIFIERS - {"entire", "whole", "full", "complete", "total"}  # of several, not of one whole
STOP_WORDS = frozenset(
    {
        "its",
        "it",
        "their",
        "his",
        "her",
        "this",
        "that",
        "these",
        "those",
        "of",
        "in",
        "on",
        "at",
        "to",
        "with",
        "within",
        "from",
        "by",
        "and",
        "or",
        "is",
        "are",
        "which",
        "one",
        "s",
        # how a region is shown, never which one: "the organ mask", "the labelled organs on this scan"
        "mask",
        "segmentation",
        "label",
        "labelled",
        "labeled",
        "annotated",
        "segmented",
        "visible",
        "scan",
        "image",
        "fdi",  # a numbering of teeth: "tooth 31 (FDI)"
    }
) | {normalize(w) for w in GRADING_WORDS}

# "inside the liver" says where, not which part ("the inside of the kidney" is its inner part)
_INSIDE = re.compile(r"\b(?:inside|within)\s+(?=(?:the|its|their|this|that|a|an)\b)", re.IGNORECASE)


def fused_words(text: str) -> list[str]:
    """Normalised words with "non"/"not" fused to the word they negate ("non-enhancing" is not "enhancing")."""
    out: list[str] = []
    for w in normalize(_INSIDE.sub("in ", text)).split():
        if out and out[-1] in ("non", "not"):
            out[-1] = "non" + w
        else:
            out.append(w)
    return out


def _base(word: str) -> str:
    """The noun a relational adjective stands for ("hepatic" -> "liver"; "intrahepatic" -> "liver")."""
    if word.startswith("intra") and len(word) > 9:
        word = word[5:]
    return RELATIONAL.get(word, word)


# words of one stem that name two structures: the appendix is no left atrial appendage
_TWO_WORDS = [{"appendix", "appendage"}]


def tumour_and_tissue(a: str, b: str) -> bool:
    """One word a tumour's name and the other not ("endometrioma" / "endometrium"): never one word in two forms."""
    return a.endswith("oma") != b.endswith("oma")


@functools.lru_cache(maxsize=65536)
def same_word(a: str, b: str) -> bool:
    """Equal, or one word in two forms ("hippocampal" / "hippocampus", "necrotic" / "necrosis", "renal" /
    "kidney"); directions only as themselves."""
    if a == b:
        return True
    if direction(a) or direction(b) or {a, b} in _TWO_WORDS or tumour_and_tissue(a, b):
        return False
    a, b = _base(a), _base(b)
    short, long = sorted((a, b), key=len)
    if long.startswith(short) and len(long) - len(short) >= 4:  # a compound: "brain" is no form of "brainstem"
        return False
    common = len(next((a[:i] for i in range(min(len(a), len(b)), 0, -1) if a[:i] == b[:i]), ""))
    # a form's ending is short: "patella" is no form of a glued label name "patellarcartilage"
    return a == b or common >= 5 and common >= 0.6 * min(len(a), len(b)) and max(len(a), len(b)) - common <= 6


@functools.lru_cache(maxsize=65536)
def content_words(text: str, drop: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The words that can tell parts apart: directions canonical, stop words, part nouns and `drop` removed."""
    words = [canonical(w) for w in fused_words(text) if w not in STOP_WORDS and w not in PART_NOUNS]
    return tuple(dict.fromkeys(w for w in words if not any(same_word(w, d) for d in drop)))


def negates(wording: tuple[str, ...], words: tuple[str, ...]) -> bool:
    """Whether a wording negates a word that `words` do not: "non-enhancing tumor core" is no "tumor core"."""
    return any(w.startswith("non") and w not in words for w in wording)


def counted(phrase: str) -> bool:
    """Whether a phrase says how many ("all", "both kidneys", "bilateral", "both CA1"): "both the" before a noun
    in the singular coordinates ("both the neoplasm and the cysts") and counts nothing."""
    said, last = set(normalize(phrase).split()), (phrase.split() or [""])[-1]
    coordinates = re.search(r"\bboth\s+(?:the|a|an)\s", phrase, re.IGNORECASE) and singular(last.lower()) == last
    return bool(said & SEVERAL - {"both"} or "both" in said and not coordinates)
