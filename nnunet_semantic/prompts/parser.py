"""Free text -> target/avoid label sets: "X excluding Y and Z" means union(X) minus union(Y, Z).

Phrases are matched longest first, so a description that itself contains "without" or "and" is read
whole; otherwise the text is split at exclusion connectives and list separators. A phrase is also read inside a
request ("segment the X", "X region"). Unknown or ambiguous structures are errors that name the closest known
words; nothing is silently mapped.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from nnunet_semantic.errors import PromptError
from nnunet_semantic.prompts.ontology import Ontology, Structure, normalize
from nnunet_semantic.prompts.wording import EXCLUSION_CONNECTIVES, strip_request

_CONNECTIVE = re.compile(r"(\s*,?\s*\b(?:" + "|".join(c.replace(" ", r"\s+") for c in EXCLUSION_CONNECTIVES)
                         + r")\b\s*)", re.IGNORECASE)
_SEPARATOR = re.compile(r"(\s*(?:,|;|&|\band\b|\bor\b|\bnor\b|\bplus\b)\s*)", re.IGNORECASE)
_NON_LATIN = re.compile(r"\S*[^\x00-\x7f]\S*")  # words normalize() would drop silently
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)(?:\s+|$)", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedPrompt:
    text: str
    target: tuple[int, ...]
    avoid: tuple[int, ...]
    pos_text: str
    neg_text: str
    target_structures: tuple[str, ...]
    avoid_structures: tuple[str, ...]

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
    """The structure a phrase names, as written or inside a request ("segment the X", "where is the X?")."""
    names = ontology.lookup(phrase) or ontology.lookup(strip_request(phrase))
    if len(names) > 1:
        raise PromptError(f"ambiguous structure '{_clean(phrase)}' in prompt '{prompt}': it names "
                          f"{' and '.join(sorted(names))}; use one of their specific names")
    return ontology.structures[names.pop()] if names else None


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


def _structures(phrase: str, ontology: Ontology, prompt: str) -> list[Structure]:
    """The structures of a list ("Y, Z and W"); a name that itself holds "and" is matched whole."""
    parts = _SEPARATOR.split(phrase)
    runs, bad = _runs(parts[0::2], parts[1::2], lambda p: _structure(p, ontology, prompt))
    if bad is not None:
        raise PromptError(f"unknown structure '{_clean(parts[0::2][bad])}' in prompt '{prompt}'; closest known: "
                          + ", ".join(f"'{c}'" for c in _closest(parts[0::2][bad], ontology)))
    return [s for _, s in runs]


def _try_structures(phrase: str, ontology: Ontology, prompt: str) -> list[Structure] | None:
    try:
        return _structures(phrase, ontology, prompt)
    except PromptError:
        return None


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
    """The first run of structures is the target, every later run (after a connective) an exclusion.

    Runs are longest matches, so a description that itself says "without" is read whole.
    """
    prompt = " ".join(str(text).split())
    unread = _NON_LATIN.findall(prompt)
    if unread:
        raise PromptError(f"prompt '{prompt}': cannot read {', '.join(repr(w) for w in unread)} (the ontology's "
                          "words are English: letters a-z, digits and punctuation)")
    if not normalize(prompt):
        raise PromptError(f"empty prompt {text!r}")
    split_exclusion(prompt)  # a dangling exclusion is an error before any lookup
    parts = _CONNECTIVE.split(prompt)
    pieces, connectives = parts[0::2], parts[1::2]
    runs, bad = _runs(pieces, connectives, lambda p: _try_structures(p, ontology, prompt))
    if bad is not None:
        _structures(pieces[bad], ontology, prompt)  # raises the specific error for that piece
    (pos_phrase, pos), *negs = runs
    neg_structures = [s for _, found in negs for s in found]
    target = set().union(*(s.labels for s in pos))
    avoid = set().union(*(s.labels for s in neg_structures)) if neg_structures else set()
    if not target - avoid:
        raise PromptError(f"prompt '{prompt}' excludes everything it targets (target {sorted(target)}, "
                          f"avoid {sorted(avoid)})")
    return ParsedPrompt(prompt, tuple(sorted(target)), tuple(sorted(avoid)), _clean(pos_phrase),
                        " and ".join(_clean(p) for p, _ in negs),
                        tuple(s.name for s in pos), tuple(s.name for s in neg_structures))
