"""Misspelt words ("hipocampus", "posterir") corrected to the one word of the prompt vocabulary they are
closest to, so that a typo is read as what it names instead of being refused or sent to the text encoder alone;
clinical shorthand ("lt kidney", "w/o") read as the words it stands for.

Only words that the vocabulary lacks are corrected: of at least MIN_LENGTH letters to a single clearly closest
word (difflib ratio at least CUTOFF), or of one letter fewer to the one word of at least MIN_LENGTH letters (or
its plural) a single slip away (a letter dropped, added, changed, or two swapped: "livr", "rigth", "lugns"), or
as short to the one word of its letters with two swapped ("vien"); near-ties stay as written.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import os
import re

from nnunet_semantic.prompts.anatomy import ANATOMY
from nnunet_semantic.prompts.directions import DIRECTIONS, PART_NOUNS
from nnunet_semantic.prompts.ontology import Ontology, normalize, singular
from nnunet_semantic.prompts.wording import (
    EXCLUSION_CONNECTIVES,
    HELDOUT_TEMPLATES,
    PERSONS,
    REQUEST_VERBS,
    SHORTHAND,
    TRAINING_TEMPLATES,
    alternatives,
)
from nnunet_semantic.prompts.words import tumour_and_tissue

MIN_LENGTH, CUTOFF = 5, 0.85
_WORD = re.compile(r"[A-Za-z]+")
_STOPPED = re.compile(r"\b([A-Za-z]{3,})\.(?=\s)")  # an abbreviation's stop
_SHORTHAND = re.compile(rf"(?<![\w/-])(?:{alternatives(SHORTHAND)})(?:\.|(?![\w/-]))", re.IGNORECASE)


_ANATOMY = {singular(w) for name in ANATOMY for w in name.split()}
# "splenic a. and v.", "popliteal a.": a vessel's class after its name, where no Latin name follows ("a. carotis")
_VESSEL = re.compile(r"(?<=[a-z])\s+(aa|vv|a|v)\.(?=\s*(?:$|[,;+&)]|(?:and|or|plus|with|without)\b))", re.I)
_VESSELS = {"a": "artery", "v": "vein", "aa": "arteries", "vv": "veins"}


def vocabulary(ontology: Ontology | None) -> set[str]:
    """Every word a prompt for this ontology may use: its wordings, directions, part nouns, connectives, requests;
    with None, all but wordings (what splits a prompt, with no structure words to correct towards)."""
    texts = [
        *EXCLUSION_CONNECTIVES,
        *REQUEST_VERBS,
        *TRAINING_TEMPLATES,
        *HELDOUT_TEMPLATES,
        *PART_NOUNS,
        *PERSONS,
        *(w for ws in DIRECTIONS.values() for w in ws),
    ]
    if ontology is not None:
        texts += [p for s in ontology.structures.values() for p in (*s.phrases(), *s.heldout)]
    return {w.lower() for t in texts for w in _WORD.findall(t)}


def _swaps(word: str) -> set[str]:
    return {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)} - {word}


def _slips(word: str) -> set[str]:
    """Every word one slip from `word`: a letter dropped, added, changed, or two neighbours swapped."""
    letters, splits = "abcdefghijklmnopqrstuvwxyz", [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *_swaps(word),
        *(a + c + b[1:] for a, b in splits if b for c in letters),
        *(a + c + b for a, b in splits for c in letters),
    }


def _shortened(key: str, ontology: Ontology | None) -> bool:
    said = {key, *normalize(SHORTHAND.get(key, "")).split()}
    structures = ontology.structures.values() if ontology else ()
    return any(said <= {w for p in s.phrases() for w in normalize(p).split()} for s in structures)


def unabbreviate(text: str, ontology: Ontology | None) -> str:
    """`text` with the clinical shorthand the ontology's words lack written out ("lt kidney" -> "left kidney")."""
    text = _VESSEL.sub(lambda m: f" {_VESSELS[m[1].lower()]}", text)
    if not _SHORTHAND.search(text):  # every prompt passes here: the vocabulary only where there is shorthand
        return text
    words = vocabulary(ontology)

    def full(match: re.Match) -> str:
        token = match.group(0).rstrip(".")
        key = token if token in ("R", "L") else token.lower()  # a capital side, though a label says "Parotid_L"
        # a word of the labels' own is theirs ("ca" of a calcium label, "post" of "post void bladder"), unless a
        # label also says it written out, so shortening it itself (`lat_vent_L`, "left lateral ventricle")
        own = key in words and not _shortened(key, ontology)
        return SHORTHAND[key] if key in SHORTHAND and (len(key) == 1 or not own) else match.group(0)

    return _SHORTHAND.sub(full, text)


def _untruncated(low: str, words: set[str]) -> str | None:
    """A word cut short ("panc", "vasc", "ren.") as the shortest vocabulary word it begins, where every such word is
    one word in several forms ("pancreas", "pancreatic")."""
    longer = sorted((w for w in words if w.startswith(low) and len(w) > len(low)), key=lambda w: (len(w), w))
    if longer and len(os.path.commonprefix(longer)) >= max(MIN_LENGTH, 0.6 * len(longer[0])):
        return longer[0]
    return None


@functools.cache
def _sound(word: str) -> str:
    """A word as it sounds, spellings aside: "periferal" and "peripheral", "oesophagus" and "esofagus"."""
    for written, said in (("ph", "f"), ("ae", "e"), ("oe", "e"), ("y", "i"), ("ck", "k")):
        word = word.replace(written, said)
    return re.sub(r"(.)\1+", r"\1", word)


def respell(text: str, ontology: Ontology | None) -> str | None:
    """`text` with its misspelt words corrected; None when nothing was corrected."""
    words = vocabulary(ontology)
    forms = {singular(w) for w in words} | _ANATOMY  # "organs" for "organ", "spine" (not the ontology's) no slips

    def fix(match: re.Match) -> str:
        word = match.group(0)
        low = word.lower()
        if len(low) < MIN_LENGTH - 1 or low in words or singular(low) in forms:
            return word
        close = difflib.get_close_matches(low, words, n=2, cutoff=CUTOFF) if len(low) >= MIN_LENGTH else []
        close = [c for c in close if not tumour_and_tissue(c, low)]  # "endometrium" is no endometrioma
        ratios = [difflib.SequenceMatcher(None, low, c).ratio() for c in close]
        if close and (len(close) == 1 or ratios[0] - ratios[1] > 0.05):
            return close[0]
        slips = _slips(low)
        plural = {w for w in slips if singular(w) in words} if low.endswith("s") else set()  # "lugns": "lung"
        slipped = sorted({w for w in slips & words | plural if len(w) >= MIN_LENGTH}, key=singular)
        slipped = [min(ws, key=len) for _, ws in itertools.groupby(slipped, key=singular)]  # "pubic(s)": one
        if len(low) == MIN_LENGTH - 1 and not slipped:  # "vien": two letters swapped, in a word as short
            slipped = [w for w in _swaps(low) if w in words]
        if len(slipped) == 1:
            return slipped[0]
        near = {_sound(low), *_slips(_sound(low))} if len(low) >= MIN_LENGTH and not slipped else set()
        sounds = [w for w in words if near and _sound(w) in near]  # "oedma": as "edema" sounds, a letter out
        return sounds[0] if len(sounds) == 1 else _untruncated(low, words) or word

    def stopped(match: re.Match) -> str:  # "ren. tumour"
        low = match.group(1).lower()
        return match.group(0) if low in words else _untruncated(low, words) or match.group(0)

    fixed = _WORD.sub(fix, _STOPPED.sub(stopped, text))
    return fixed if fixed != text else None
