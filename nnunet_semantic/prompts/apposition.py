"""A structure said again beside itself: "the prostate, i.e. PZ and TZ together", "main duct (MPD)". The
prompt is read by its first words where the restatement reads as the same region, or names one thing the
ontology has no words for and excludes nothing; otherwise it is read whole, as before ("all bowel structures
(small bowel, sigmoid, rectum)": a list of what the words name), unless the brackets name none of the labels
the words before them do ("both lacerations (liver and spleen)": refused, not read as a liver laceration and a
spleen)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from nnunet_semantic.errors import PromptError, UnknownPart, UnknownStructure
from nnunet_semantic.prompts import exclusion
from nnunet_semantic.prompts.ontology import singular
from nnunet_semantic.prompts.reading import ParsedPrompt
from nnunet_semantic.prompts.words import UNNAMING

_SAID_AGAIN = re.compile(
    r"^(?P<x>[^()]+?)\s*(?:\((?P<inside>[^()]+)\)[\s.]*|"
    r"(?:,?\s*\b(?:i\.?\s?e|namely|in\s+other\s+words)\b\.?|,\s*that\s+is\b),?:?\s+(?P<again>.+))$",
    re.IGNORECASE,
)
_GLOSSED = re.compile(
    r"^(?P<x>[^():,]+?)\s*(?::\s*(?P<colon>.+)|\((?P<inside>[^()]+)\)?[\s.]*|,\s*(?P<comma>.+))$",
    re.IGNORECASE,
)
_ALSO = re.compile(r"\s-\s|\b(?:incl|including|with)\b", re.IGNORECASE)  # a list begun before the gloss
_SEVERAL = re.compile(r"[,;+&/]|\b(?:and|or|plus)\b", re.IGNORECASE)


def _mask(parsed: ParsedPrompt) -> frozenset[int]:
    return frozenset(parsed.target) - frozenset(parsed.avoid)


def restated(prompt: str, parse: Callable[[str], ParsedPrompt]) -> ParsedPrompt | None:
    """The reading of a prompt by the words before its restatement; None when it restates nothing, or the
    two readings do not agree (the prompt is then read whole)."""
    said = _SAID_AGAIN.match(prompt)
    if not said:
        return None
    first, again = said["x"].strip(" ,"), said["inside"] or said["again"]
    try:
        read = parse(first)
    except PromptError:
        return None
    again_read = None
    try:
        again_read = parse(again)
        same = _mask(again_read) == _mask(read)
    except UnknownPart:
        same = False
    except UnknownStructure:  # words the ontology lacks: "(MPD)", "i.e. everything behind the head"
        same = not exclusion.cue(again) and not _SEVERAL.search(again)  # not a list: "(primary + all mets)"
    except PromptError:  # "i.e. no tumour": what to leave out, said again or not
        return None
    if said["inside"] and not read.avoid and again_read and not _mask(again_read) & _mask(read):
        raise PromptError(
            f"prompt '{prompt}' names {', '.join(read.target_structures)} and, in brackets, "
            f"{', '.join(again_read.target_structures)}: name the structures once"
        )
    return replace(read, respelled=read.respelled or first) if same else None


def glossed(prompt: str, parse: Callable[[str], ParsedPrompt]) -> ParsedPrompt | None:
    """A collective the ontology has no words for, glossed by the structures it means: "the fibrotic
    changes, reticulation plus honeycombing", "penetrating complications: fistula and abscess". Read by the
    gloss where the words before it name several of something (a plural, "all", "total") and the gloss is a
    list of several."""
    said = _GLOSSED.match(prompt)
    if not said or not re.search(r"[a-z]", said["x"], re.IGNORECASE):
        return None
    x, gloss = said["x"], said["colon"] or said["inside"] or said["comma"]
    written = re.findall(r"[a-z]+", x.lower())  # ends on what it counts: "EBUS targets 4R, 4L and 7" lists
    last = written[-1]
    several = singular(last) != last or last in UNNAMING or said["inside"] and "and" in written
    if not several or exclusion.cue(x) or _ALSO.search(x) or not _SEVERAL.search(gloss):
        return None
    try:
        parse(x)
        return None  # a collective of its own, the gloss read with it
    except UnknownStructure:
        pass
    except PromptError:
        return None
    try:
        read = parse(gloss)
    except PromptError:
        return None
    return read if len(read.target_structures) > 1 else None
