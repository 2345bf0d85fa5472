"""Free text -> target/avoid label sets: "X excluding Y and Z" means union(X) minus union(Y, Z).

Phrases are matched longest first, so a description that itself contains "without" or "and" is read
whole; otherwise the text is split at exclusion connectives and list separators. A phrase is also read inside a
request ("segment the X", "X region"). Unknown or ambiguous structures are errors that name the closest known
words; nothing is silently mapped.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from nnunet_semantic.errors import PromptError, UnknownStructure
from nnunet_semantic.prompts.ontology import Ontology, Structure, normalize
from nnunet_semantic.prompts.parts import PartReading, read_part, strip_possessive
from nnunet_semantic.prompts.spelling import respell
from nnunet_semantic.prompts.wording import EXCLUSION_CONNECTIVES, REQUEST_VERBS, strip_request

_CONNECTIVES = sorted(EXCLUSION_CONNECTIVES, key=len, reverse=True)  # "but not including" before "but not"
_CONNECTIVE = re.compile(r"(\s*[,;:\u2013\u2014-]?\s*\b(?:" + "|".join(c.replace(" ", r"\s+") for c in _CONNECTIVES)
                         + r")\b\s*|\s*[,;:\u2013\u2014-]\s*not\b\s*)", re.IGNORECASE)
_SEPARATOR = re.compile(r"(\s*(?:,|;|&|\band\b|\bor\b|\bnor\b|\bplus\b)\s*)", re.IGNORECASE)
_NON_LATIN = re.compile(r"\S*[^\x00-\x7f]\S*")  # words normalize() would drop silently
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)(?:\s+|$)", re.IGNORECASE)
# "everything" as what an exclusion removes: "X excluding everything except Y" keeps Y within X
_EVERYTHING = {"everything", "all", "anything", "everything else", "all else", "anything else", "rest", "all of it",
               "whole thing", "everything of it"}
_EVERYTHING_BUT = re.compile(r"\b(everything|all|anything)(\s+else)?\s+but\b", re.IGNORECASE)
_NEGATION = re.compile(r"^\s*(?:not|no|never|nothing|none)\b", re.IGNORECASE)
_STOP = {*REQUEST_VERBS, "please", "me", "where", "is", "are", "region", "area", "part", "portion", "of", "the", "a",
         "an", "it", "its", "this", "that", "structure", "image", "scan"}


@dataclass(frozen=True)
class Reading:
    """How one part of a prompt was read: the structures, by what ("ontology": a wording of the ontology;
    "part words" / "direction lexicon": a part named relative to its structure), with what confidence, and the
    text the model is given for it (the wording as written, or the structure's name for a relative part)."""
    role: str  # "target", "exclusion" or "kept" (what "everything except" keeps)
    phrase: str
    structures: tuple[Structure, ...]
    by: str
    confidence: float
    encoded: str

    def to_dict(self) -> dict:
        return {"role": self.role, "phrase": self.phrase, "structures": [s.name for s in self.structures],
                "by": self.by, "confidence": self.confidence, "encoded": self.encoded}


@dataclass(frozen=True)
class ParsedPrompt:
    text: str
    target: tuple[int, ...]
    avoid: tuple[int, ...]
    pos_text: str
    neg_text: str
    target_structures: tuple[str, ...]
    avoid_structures: tuple[str, ...]
    readings: tuple[Reading, ...] = ()
    respelled: str = ""  # the prompt as read, where misspelt words were corrected

    @property
    def as_written(self) -> bool:
        """Every part a wording of the ontology: the model may read the prompt's own words."""
        return all(r.by == "ontology" and r.role != "kept" for r in self.readings)

    def to_dict(self) -> dict:
        return {"text": self.text, "target": list(self.target), "avoid": list(self.avoid),
                "pos_text": self.pos_text, "neg_text": self.neg_text,
                "target_structures": list(self.target_structures), "avoid_structures": list(self.avoid_structures),
                "resolution": [r.to_dict() for r in self.readings]} | ({"respelled": self.respelled}
                                                                        if self.respelled else {})


def _clean(phrase: str) -> str:
    return _LEADING_ARTICLE.sub("", phrase.strip(" \t,.;:!?\"'()-\u2013\u2014").lower())


def _closest(phrase: str, ontology: Ontology) -> list[str]:
    originals = {normalize(p): p for s in ontology.structures.values() for p in s.phrases()}
    close = difflib.get_close_matches(normalize(phrase), list(originals), n=3, cutoff=0.4)
    return [originals[c] for c in close] or list(ontology.structures)


def _structure(phrase: str, ontology: Ontology, prompt: str, within: tuple[Structure, ...], role: str):
    """How a phrase is read: a wording of the ontology (as written, inside a request, after a possessive: "its
    tumor"), else a part named by its words within `within` (an exclusion) or within the structure it names (a
    target). A Reading; an explanation (str) when its words name no single part; None when unknown."""
    labels = frozenset().union(*(s.labels for s in within))
    for candidate in dict.fromkeys((phrase, strip_request(phrase), strip_possessive(strip_request(phrase)))):
        names = ontology.lookup(candidate)
        if within and len(names) > 1:
            names = {n for n in names if ontology.structures[n].labels < labels} or names
        if len(names) > 1:
            raise PromptError(f"ambiguous structure '{_clean(phrase)}' in prompt '{prompt}': it names "
                              f"{' and '.join(sorted(names))}; use one of their specific names")
        if names:
            return Reading(role, _clean(phrase), (ontology.structures[names.pop()],), "ontology", 1.0,
                           _clean(candidate))
    part = read_part(strip_request(phrase), ontology, list(within) or None)
    if isinstance(part, PartReading):
        return Reading(role, _clean(phrase), (part.structure,), part.by, part.confidence, part.structure.name)
    return part


def _runs(pieces: list[str], joiners: list[str], resolve) -> tuple[list[tuple[str, object]], int | None]:
    """Cover pieces left to right with the longest runs (rejoined with their own joiners) that `resolve`
    accepts; returns the runs and the index of the first piece nothing covers (None when all are)."""
    runs, i = [], 0
    while i < len(pieces):
        if not normalize(pieces[i]):
            i += 1
            continue
        for j in range(len(pieces) - 1, i - 1, -1):
            phrase = "".join(p + c for p, c in zip(pieces[i:j], joiners[i:j])) + pieces[j]
            if (found := resolve(phrase)) is not None:
                runs.append((phrase, found))
                i = j + 1
                break
        else:
            return runs, i
    return runs, None


def _structures(phrase: str, ontology: Ontology, prompt: str, within: tuple[Structure, ...] = (),
                role: str = "target") -> list[Reading]:
    """The readings of a list ("Y, Z and W"); a name that itself holds "and" is matched whole."""
    parts = _SEPARATOR.split(phrase)
    items = parts[0::2]

    def read(p):
        found = _structure(p, ontology, prompt, within, role)
        several = len(_SEPARATOR.split(p)) > 1  # a run of items is one structure only by a name that holds "and"
        return found if isinstance(found, Reading) and (found.by == "ontology" or not several) else None

    runs, bad = _runs(items, parts[1::2], read)
    if bad is not None:
        why = _structure(items[bad], ontology, prompt, within, role)
        if isinstance(why, str):
            raise UnknownStructure(f"unknown structure '{_clean(items[bad])}' in prompt '{prompt}': {why}", role)
        raise UnknownStructure(f"unknown structure '{_clean(items[bad])}' in prompt '{prompt}'; closest known: "
                               + ", ".join(f"'{c}'" for c in _closest(items[bad], ontology)), role)
    return [r for _, r in runs]


def _try_structures(phrase: str, ontology: Ontology, prompt: str, within: tuple[Structure, ...] = (),
                    role: str = "target") -> list[Reading] | None:
    try:
        return _structures(phrase, ontology, prompt, within, role)
    except PromptError:
        return None


def _encoded(phrase: str, readings: list[Reading]) -> str:
    """What the model reads for a run: its words as written when the ontology knows them, else the names."""
    if all(r.by == "ontology" and r.encoded == r.phrase for r in readings):
        return _clean(phrase)
    return " and ".join(r.encoded for r in readings)


def _only_exclusion(prompt: str, rest: str, ontology: Ontology) -> PromptError:
    """"not X" / "everything but X": what to leave out, but not what to segment; the error says what to write."""
    found = _try_structures(rest, ontology, prompt) if rest else None
    inner = found[0].structures[0] if found else None
    outer = [s.name for s in ontology.structures.values() if inner and inner.labels < s.labels]
    example = f"'{outer[0]} excluding {inner.name}'" if outer else "'<structure> excluding <part>'"
    return PromptError(f"prompt '{prompt}' names only what to leave out, not what to segment: write the structure "
                       f"and what to exclude from it, e.g. {example}")


def split_exclusion(text: str) -> tuple[str, str]:
    """(target text, exclusion text or "") split at the connectives alone, without the ontology, so that a prompt
    naming something unknown ("the hippocampus but not its rear part") still composes two encoded parts. Several
    exclusions are joined with "and"; an exclusion that names nothing is an error."""
    prompt = " ".join(str(text).split())
    parts = _CONNECTIVE.split(prompt)
    pieces = [_clean(p) for p in parts[0::2]]
    if not pieces[0]:
        raise PromptError(f"prompt '{prompt}' names nothing to segment before its exclusion")
    if any(not p for p in pieces[1:]):
        raise PromptError(f"prompt '{prompt}' asks to exclude something but does not name it "
                          f"(nothing after '{parts[1].strip(' ,')}')")
    return pieces[0], " and ".join(pieces[1:])


def parse(text: str, ontology: Ontology) -> ParsedPrompt:
    """The first run of structures is the target, every later run (after a connective) an exclusion read within
    it; "excluding everything except Y" keeps Y. Runs are longest matches, so a description that itself says
    "without" is read whole. A prompt with an unknown word is read again with its misspelt words corrected
    (`spelling.py`; the correction is recorded as `respelled`)."""
    try:
        return _parse(text, ontology)
    except UnknownStructure as unknown:
        respelled = respell(" ".join(str(text).split()), ontology)
        if respelled is None:
            raise
        try:
            parsed = _parse(respelled, ontology)
        except PromptError:
            raise unknown from None
        return replace(parsed, text=" ".join(str(text).split()), respelled=respelled)


def _parse(text: str, ontology: Ontology) -> ParsedPrompt:
    prompt = " ".join(str(text).split())
    unread = _NON_LATIN.findall(prompt)
    if unread:
        raise PromptError(f"prompt '{prompt}': cannot read {', '.join(repr(w) for w in unread)} (the ontology's "
                          "words are English: letters a-z, digits and punctuation)")
    if not normalize(prompt) or set(normalize(prompt).split()) <= _STOP:
        raise PromptError(f"empty prompt {text!r}: it names no structure")
    if _NEGATION.match(prompt):
        raise _only_exclusion(prompt, _NEGATION.sub("", prompt).strip(), ontology)
    split = _EVERYTHING_BUT.sub(lambda m: f"{m.group(1)}{m.group(2) or ''} except", prompt)
    split_exclusion(split)  # a dangling exclusion is an error before any lookup
    parts = _CONNECTIVE.split(split)
    pieces, joiners = parts[0::2], parts[1::2]
    if normalize(pieces[0]) in _EVERYTHING:
        raise _only_exclusion(prompt, pieces[1] if len(pieces) > 1 else "", ontology)
    for end in range(len(pieces), 0, -1):  # the target: the longest run of pieces from the start
        phrase = "".join(p + c for p, c in zip(pieces[:end - 1], joiners)) + pieces[end - 1]
        if (target := _try_structures(phrase, ontology, prompt)) is not None:
            break
    else:
        _structures(pieces[0], ontology, prompt)  # raises the specific error
    readings, pos_text = list(target), _encoded(phrase, target)
    within = tuple(s for r in target for s in r.structures)
    rest, joiners = pieces[end:], joiners[end:]
    if rest and normalize(rest[0]) in _EVERYTHING:  # "X excluding everything except Y": Y within X
        if len(rest) < 2:
            raise PromptError(f"prompt '{prompt}' excludes everything it targets")
        kept = _structures(rest[1], ontology, prompt, within, "kept")
        outside = [s.name for r in kept for s in r.structures
                   if not s.labels <= frozenset().union(*(w.labels for w in within))]
        if outside:
            raise PromptError(f"prompt '{prompt}' keeps {', '.join(outside)}, which is not within "
                              f"{' and '.join(s.name for s in within)}")
        readings, pos_text = kept, " and ".join(r.structures[0].name for r in kept)
        within, rest, joiners = tuple(s for r in kept for s in r.structures), rest[2:], joiners[2:]
    runs, bad = _runs(rest, joiners, lambda p: _try_structures(p, ontology, prompt, within, "exclusion"))
    if bad is not None:
        _structures(rest[bad], ontology, prompt, within, "exclusion")  # raises the specific error for that piece
    avoided = [r for _, found in runs for r in found]
    target = set().union(*(s.labels for s in within))
    avoid = set().union(*(s.labels for r in avoided for s in r.structures))
    if not target - avoid:
        raise PromptError(f"prompt '{prompt}' excludes everything it targets (target {sorted(target)}, "
                          f"avoid {sorted(avoid)})")
    return ParsedPrompt(prompt, tuple(sorted(target)), tuple(sorted(avoid)), pos_text,
                        " and ".join(_encoded(p, found) for p, found in runs), tuple(s.name for s in within),
                        tuple(s.name for r in avoided for s in r.structures), (*readings, *avoided))
