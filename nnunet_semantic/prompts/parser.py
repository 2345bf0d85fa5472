"""Free text -> target/avoid label sets: "X excluding Y and Z" means union(X) minus union(Y, Z).

A phrase is first matched whole (descriptions may themselves contain "without" or "and"); only then
is it split at exclusion connectives and list separators. Unknown or ambiguous structures are errors
that name the closest known words; nothing is silently mapped.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from nnunet_semantic.errors import PromptError
from nnunet_semantic.prompts.ontology import Ontology, Structure, normalize

CONNECTIVES = ("excluding", "except for", "except", "without", "but not", "other than", "sparing", "minus",
               "not including", "exclusive of", "apart from")
_CONNECTIVE = re.compile(r"\s*,?\s*\b(?:" + "|".join(c.replace(" ", r"\s+") for c in CONNECTIVES) + r")\b\s*",
                         re.IGNORECASE)
_SEPARATOR = re.compile(r"(\s*(?:,|;|&|\band\b|\bor\b|\bnor\b|\bplus\b)\s*)", re.IGNORECASE)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedPrompt:
    text: str
    target: tuple[int, ...]
    avoid: tuple[int, ...]
    pos_text: str
    neg_text: str
    target_structures: tuple[str, ...]
    avoid_structures: tuple[str, ...]

    @property
    def has_exclusion(self) -> bool:
        return bool(self.avoid)

    def to_dict(self) -> dict:
        return {"text": self.text, "target": list(self.target), "avoid": list(self.avoid),
                "pos_text": self.pos_text, "neg_text": self.neg_text,
                "target_structures": list(self.target_structures), "avoid_structures": list(self.avoid_structures)}


def _clean(phrase: str) -> str:
    return _LEADING_ARTICLE.sub("", phrase.strip(" \t,.;:!?\"'()").lower())


def _closest(phrase: str, ontology: Ontology) -> list[str]:
    originals = {normalize(p): p for s in ontology.structures.values() for p in s.phrases()}
    close = difflib.get_close_matches(normalize(phrase), list(originals), n=3, cutoff=0.4)
    return [originals[c] for c in close] or list(ontology.structures)


def _structure(phrase: str, ontology: Ontology, prompt: str) -> Structure | None:
    names = ontology.lookup(phrase)
    if len(names) > 1:
        raise PromptError(f"ambiguous structure '{_clean(phrase)}' in prompt '{prompt}': it names "
                          f"{' and '.join(sorted(names))}; use one of their specific names")
    return ontology.structures[names.pop()] if names else None


def _structures(phrase: str, ontology: Ontology, prompt: str) -> list[Structure]:
    """Longest-match segmentation of a list of structures ("Y, Z and W")."""
    parts = _SEPARATOR.split(phrase)  # [segment, separator, segment, ...]
    segments, separators = parts[0::2], parts[1::2]
    found, i = [], 0
    while i < len(segments):
        if not segments[i].strip():
            i += 1
            continue
        for j in range(len(segments) - 1, i - 1, -1):
            candidate = "".join(s + sep for s, sep in zip(segments[i:j], separators[i:j])) + segments[j]
            if (s := _structure(candidate, ontology, prompt)) is not None:
                found.append(s)
                i = j + 1
                break
        else:
            raise PromptError(f"unknown structure '{_clean(segments[i])}' in prompt '{prompt}'; closest known: "
                              + ", ".join(f"'{c}'" for c in _closest(segments[i], ontology)))
    return found


def parse(text: str, ontology: Ontology) -> ParsedPrompt:
    prompt = " ".join(str(text).split())
    if not normalize(prompt):
        raise PromptError(f"empty prompt {text!r}")
    whole = _structure(prompt, ontology, prompt)
    if whole is not None:
        pos, negs = [whole], []
        pos_text, neg_phrases = _clean(prompt), []
    else:
        pieces = [p for p in _CONNECTIVE.split(prompt)]
        if not normalize(pieces[0]):
            raise PromptError(f"prompt '{prompt}' names nothing to segment before its exclusion")
        pos = _structures(pieces[0], ontology, prompt)
        neg_phrases = [p for p in pieces[1:] if normalize(p)]
        negs = [s for p in neg_phrases for s in _structures(p, ontology, prompt)]
        pos_text = _clean(pieces[0])
    target = set().union(*(s.labels for s in pos))
    avoid = set().union(*(s.labels for s in negs)) if negs else set()
    if target and not target - avoid:
        raise PromptError(f"prompt '{prompt}' excludes everything it targets (target {sorted(target)}, "
                          f"avoid {sorted(avoid)})")
    return ParsedPrompt(prompt, tuple(sorted(target)), tuple(sorted(avoid)), pos_text,
                        " and ".join(_clean(p) for p in neg_phrases),
                        tuple(s.name for s in pos), tuple(s.name for s in negs))
