"""Free text -> target/avoid label sets: "X excluding Y and Z" means union(X) minus union(Y, Z).

Phrases are matched longest first, so a description that itself contains "without" or "and" is read
whole; otherwise the text is split at exclusion connectives and list separators. A phrase is also read inside a
request ("segment the X", "X region"). Unknown or ambiguous structures are errors that name the closest known
words; nothing is silently mapped.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import replace

from nnunet_semantic.errors import PromptError, UnknownPart, UnknownStructure
from nnunet_semantic.prompts import apposition, exclusion, ranges
from nnunet_semantic.prompts.directions import SIDES, canonical
from nnunet_semantic.prompts.ontology import Ontology, Structure, normalize
from nnunet_semantic.prompts.parts import PartReading, read_collective, read_part, strip_possessive
from nnunet_semantic.prompts.reading import ParsedPrompt, Reading
from nnunet_semantic.prompts.sites import alone
from nnunet_semantic.prompts.spelling import respell, unabbreviate
from nnunet_semantic.prompts.wording import (
    ADJECTIVE_ENDING,
    ADJECTIVES,
    ASKED_AFTER,
    EXCLUSION_CONNECTIVES,
    PURPOSE,
    REQUEST_VERBS,
    TYPOGRAPHIC,
    alternatives,
    non_latin_words,
    strip_request,
)
from nnunet_semantic.prompts.words import SEVERAL, counted

# longest first: "but not including" before "but not"; a spaced minus between names is one too ("WT - ED")
_CONNECTIVE = re.compile(
    r"(\s*[,;:\u2013\u2014-]?\s*\b(?:"
    + alternatives(EXCLUSION_CONNECTIVES)
    + r")\b\s*|\s*[,;:\u2013\u2014-]\s*not\b\s*|\s+-\s+)",
    re.IGNORECASE,
)
# list separators and the words of a union ("X along with Y", "X as well as Y", "SMA/SMV"; not "L5/S1")
_SEPARATOR = re.compile(
    r"(\s*(?:,|;|&|\+|(?<![CTLSctls]\d)(?<![CTLSctls]\d\d)/|"
    r"\b(?:and(?:\s+also)?|or|nor|plus|along\s+with|together\s+with|as\s+well\s+as|"
    r"in\s+addition\s+to|combined\s+with|alongside|including|inclusive\s+of|with)\b)\s*)",
    re.IGNORECASE,
)
# a side said after the name, or as "-sided": "the parotid on the left side", "GP right", "the right-sided kidney"
_SIDE_AFTER = re.compile(
    r"^(?P<x>.+?)(?:,?\s+(?:on|of|in)(?:\s+the)?|,)?\s+(?P<side>left|right)(?:\s+(?:side|eye|orbit|hemisphere))?$",
    re.IGNORECASE,
)  # "X on the left side", "femur of right side", "the recti of the left eye"
# "one of the kidneys", "either of the atria": which one, the prompt does not say
_ONE_OF = re.compile(r"(?<!each\s)(?<!every\s)\b(?:one|either|any)\s+of\b", re.IGNORECASE)
# a union said after an exclusion ("X without Y, plus Z"), and "not only" that adds ("X and not only Y")
_ADDED = re.compile(
    r"\b(?:plus|as\s+well\s+as|along\s+with|together\s+with|in\s+addition\s+to|included|including)\b", re.IGNORECASE
)
# "X and not only Y", "Segment X. Also Y.", "X; also Y": one list
_NOT_ONLY = re.compile(
    r"(?:\s*,\s*|\s+)(?:and|but)\s+not\s+(?:only|just|merely|simply)\b|\s*[.;]\s+(?:and\s+)?also\b", re.IGNORECASE
)
_REST_OF = re.compile(r"^(?:rest|remainder)\s+of\s+", re.IGNORECASE)
_CLASS_NOUN = re.compile(r"\s+(?:nucleus|gland)$", re.IGNORECASE)  # nouns that tell no label from another
_SIDED = re.compile(r"\b(left|right)[-\s]sided\b", re.IGNORECASE)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)(?:\s+|$)", re.IGNORECASE)
# "everything" as what an exclusion removes: "X excluding everything except Y" keeps Y within X
_EVERYTHING = {
    "everything",
    "all",
    "anything",
    "everything else",
    "all else",
    "anything else",
    "rest",
    "all of it",
    "whole thing",
    "everything of it",
}
_EVERYTHING_BUT = re.compile(r"\b(everything|all|anything)(\s+else)?\s+but\b", re.IGNORECASE)
_NEGATION = re.compile(r"^\s*(?:not|no|never|nothing|none)\b", re.IGNORECASE)
_STOP = {
    *REQUEST_VERBS,
    "please",
    "me",
    "where",
    "is",
    "are",
    "region",
    "area",
    "part",
    "portion",
    "of",
    "the",
    "a",
    "an",
    "it",
    "its",
    "this",
    "that",
    "structure",
    "image",
    "scan",
}


def _clean(phrase: str) -> str:
    return _LEADING_ARTICLE.sub("", phrase.strip(" \t,.;:!?\"'()-\u2013\u2014").lower())


def _structure(phrase: str, ontology: Ontology, prompt: str, within: tuple[Structure, ...], role: str, near=()):
    """How a phrase is read: a wording of the ontology (as written, inside a request, after a possessive: "its
    tumor"), else a part named by its words within `within` (an exclusion) or within the structure it names (a
    target), else a collective (`near`: the structures named before it in a list). A Reading; an explanation
    (str) when its words name no single part; None when unknown."""
    if _ONE_OF.search(phrase):
        return f"'{_clean(phrase)}' picks one of several without saying which"
    labels = frozenset().union(*(s.labels for s in within))
    plain, bare = strip_request(phrase), strip_request(phrase, emphatic=True)
    sided = _SIDE_AFTER.sub(r"\g<side> \g<x>", _SIDED.sub(r"\1", bare))  # "X on the left side": "left X"
    classless = _CLASS_NOUN.sub("", sided)  # "right lentiform nucleus" of `rt_lentiform`
    said = dict.fromkeys((phrase, plain, strip_possessive(plain), bare, strip_possessive(bare), sided, classless))
    sited = functools.cache(functools.partial(alone, bare, ontology))  # "pituitary adenoma": once, if at all
    for candidate in itertools.chain(said, (name for read in (sited,) if (name := read()))):
        names = ontology.lookup(candidate)
        if within and len(names) > 1:
            names = {n for n in names if ontology.structures[n].labels < labels} or names
        if len(names) > 1:
            raise PromptError(
                f"ambiguous structure '{_clean(phrase)}' in prompt '{prompt}': it names "
                f"{' and '.join(sorted(names))}; use one of their specific names"
            )
        if names:
            return Reading(
                role, _clean(phrase), (ontology.structures[names.pop()],), "ontology", 1.0, _clean(candidate)
            )
    part = read_part(bare, ontology, list(within) or None)
    if not isinstance(part, PartReading) and (role == "exclusion" or role == "target" and not within):
        several = counted(phrase)  # "all" is gone from `bare`
        # "lesion"; "both mitral leaflets": the leaflets
        part = read_collective(sited() or bare, ontology, several, within or near, role == "exclusion") or part
    if isinstance(part, tuple):  # "the kidneys" where only each kidney is labelled
        names = tuple(p.structure for p in part)
        encoded = " and ".join(s.name for s in names)
        return Reading(role, _clean(phrase), names, "structure words", min(p.confidence for p in part), encoded)
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


def _structures(
    phrase: str,
    ontology: Ontology,
    prompt: str,
    within: tuple[Structure, ...] = (),
    role: str = "target",
    explain: bool = True,
) -> list[Reading]:
    """The readings of a list ("Y, Z and W"); a name that itself holds "and" is matched whole. `explain`: an
    unknown item's error names the closest known wordings (difflib: the parser's costliest step)."""
    parts = _SEPARATOR.split(phrase)
    items = parts[0::2]

    previous: list[Reading] = []
    nouns = [strip_request(q, emphatic=True).split() for q in items]  # "A and the B of X as one structure": X

    first = strip_possessive(strip_request(_clean(items[0]), emphatic=True))  # "please outline the patient's left"
    side = [w for w in first.split()[:1] if canonical(w) in SIDES]

    def read(p):
        found, said = None, normalize(p).split()
        # adjectives of a noun said before them, no organs ("stones, renal and ureteral"), or said after them, of
        # that noun ("portal, splenic and superior mesenteric veins": no spleen)
        adjectival = p is not items[0] and set(said) - SIDES and set(said) <= SIDES | ADJECTIVES
        if adjectival and all(w in SIDES or ADJECTIVE_ENDING.search(w) for w in normalize(items[-1]).split()):
            return None
        sided = side and p is not items[0] and not SIDES & set(map(canonical, said)) and not SEVERAL.intersection(said)
        if sided and not adjectival:
            found = _structure(f"{side[0]} {_clean(p)}", ontology, prompt, within, role)  # "left X and Y": left Y
        if not isinstance(found, Reading) and not adjectival:
            found = _structure(p, ontology, prompt, within, role, tuple(s for r in previous for s in r.structures))
        for holder in (previous[-1].structures, _parent(previous[-1], ontology)) if previous and not within else ():
            if not isinstance(found, Reading) and not adjectival:  # "the hippocampus including its head", "... tail"
                found = _structure(p, ontology, prompt, holder, role)
        if (
            not isinstance(found, Reading)
            and p is not items[-1]
            and len(strip_possessive(strip_request(p, emphatic=True)).split()) <= 2
            and not exclusion.cue(p)
        ):  # "the anterior and the posterior hippocampus", "left and right ECAs plus the ICA": the next noun
            k = next((i for i, q in enumerate(items) if q is p), len(items) - 2)
            said_after = [next((w for w in nouns[k + 1 :] if len(w) > 1), nouns[-1]), nouns[-1]]
            for noun, n in ((w, n) for w in said_after for n in ((2, 1)[-(len(w) - 1) :] if len(w) > 1 else ())):
                for head in (f"{side[0]} {_clean(p)}", p) if sided else (p,):  # "right common, superficial ..."
                    if not isinstance(found, Reading):  # "left and middle hepatic veins", "levels II-IV R"
                        found = _structure(f"{head} {' '.join(noun[-n:])}", ontology, prompt, within, role)
        # a run of items is one structure only by a name that holds "and", or its comma ("tumour, necrosis" is two,
        # not `tumor_necrosis`; "lung, right" and KiTS' "every focal lesion of the kidney, solid or cystic" one)
        if isinstance(found, Reading) and (
            found.by == "ontology"
            and (
                not re.search(r"[,;]\s*(?!(?:left|right)\b)\w", found.encoded)
                or any("," in w for s in found.structures for w in s.phrases())
            )
            or len(_SEPARATOR.split(p)) == 1
        ):
            previous.append(found)
            return found
        return None

    runs, bad = _runs(items, parts[1::2], read)
    if bad is not None:
        why = _structure(items[bad], ontology, prompt, within, role)
        if isinstance(why, str):
            raise UnknownPart(f"unknown structure '{_clean(items[bad])}' in prompt '{prompt}': {why}", role)
        raise UnknownStructure(
            f"unknown structure '{_clean(items[bad])}' in prompt '{prompt}'; closest known: "
            + (", ".join(f"'{c}'" for c in ontology.closest(items[bad])) if explain else "-"),
            role,
        )
    return [r for _, r in runs]


def _parent(reading: Reading, ontology: Ontology) -> tuple[Structure, ...]:
    """The smallest structure holding a list item's structure, whose parts the list's next item may name alone."""
    outer = ontology.holder(frozenset().union(*(s.labels for s in reading.structures)))
    return (outer,) if outer else ()


def _try_structures(
    phrase: str, ontology: Ontology, prompt: str, within: tuple[Structure, ...] = (), role: str = "target"
) -> list[Reading] | None:
    try:
        return _structures(phrase, ontology, prompt, within, role, explain=False)
    except PromptError:
        return None


def _encoded(phrase: str, readings: list[Reading]) -> str:
    """What the model reads for a run: its words as written when the ontology knows them, else the names."""
    if all(r.by == "ontology" and r.encoded == r.phrase for r in readings):
        return _clean(phrase)
    return " and ".join(dict.fromkeys(r.encoded for r in readings))  # "body and tail": one part, named once


def _union(readings: list[Reading], ontology: Ontology) -> str | None:
    """The structure a target of several structures is exactly ("the tumour plus the cyst": "kidney masses"): the
    name the model is given for it, where the words as written read as mostly one of them."""
    whole = ontology.exactly(frozenset().union(*(s.labels for r in readings for s in r.structures)))
    return whole.name if whole and len(readings) > 1 else None


def _only_exclusion(prompt: str, rest: str, ontology: Ontology) -> PromptError:
    """ "not X" / "everything but X": what to leave out, but not what to segment; the error says what to write."""
    found = _try_structures(rest, ontology, prompt) if rest else None
    inner = found[0].structures[0] if found else None
    outer = [s.name for s in ontology.structures.values() if inner and inner.labels < s.labels]
    example = f"'{outer[0]} excluding {inner.name}'" if outer else "'<structure> excluding <part>'"
    return PromptError(
        f"prompt '{prompt}' names only what to leave out, not what to segment: write the structure "
        f"and what to exclude from it, e.g. {example}"
    )


def _split_connectives(prompt: str) -> tuple[str, str]:
    parts = _CONNECTIVE.split(prompt)
    pieces = [_clean(p) for p in parts[0::2]]
    if not pieces[0]:
        raise PromptError(f"prompt '{prompt}' names nothing to segment before its exclusion")
    if any(not p for p in pieces[1:]):
        raise PromptError(
            f"prompt '{prompt}' asks to exclude something but does not name it (nothing after '{parts[1].strip(' ,')}')"
        )
    return pieces[0], " and ".join(pieces[1:])


def split_exclusion(text: str) -> tuple[str, str]:
    """(target text, exclusion text or "") without the ontology, so that a prompt naming something unknown ("the
    hippocampus but not its rear part") still composes two encoded parts: split at the connectives, else read by
    its exclusion cues (`exclusion.py`: "the kidney with its cyst cut away"). Several exclusions are joined with
    "and"; an exclusion that names nothing, or a cue whose scope cannot be told, is an error: a prompt with an
    exclusion cue is never one target text. Shorthand and misspelt connectives are read as written out ("w/o",
    "exept")."""
    plain = ranges.expand(unabbreviate(_plain(text), None))
    prompt = respell(plain, None) or plain
    pos, neg = _split_connectives(exclusion.spaced_minus(prompt))
    if neg or not (cue := exclusion.cue(prompt)):
        return pos, neg
    found = exclusion.readings(prompt)
    if not found or len(found) > 1:
        raise PromptError(
            f"prompt '{prompt}' excludes something ('{cue}') but what it excludes, and from what, "
            "cannot be told: write '<structure> excluding <part>'"
        )
    return _clean(found[0][0]), " and ".join(_clean(e) for e in found[0][1])


def _plain(text: str) -> str:
    """One line of the prompt, typographic dashes and quotes as their ASCII forms, no request or purpose said after
    its structures."""
    return _NOT_ONLY.sub(
        " and", ASKED_AFTER.sub("", PURPOSE.sub("", " ".join(str(text).translate(TYPOGRAPHIC).split())))
    )


def parse(text: str, ontology: Ontology) -> ParsedPrompt:
    """The first run of structures is the target, every later run (after a connective) an exclusion read within
    it; "excluding everything except Y" keeps Y. Runs are longest matches, so a description that itself says
    "without" is read whole. A prompt the connectives do not read is read again by its exclusion cues in any wording
    (`exclusion.py`: "the liver, tumour aside"), each candidate as "target excluding ...": a prompt with a cue is
    read with its exclusion or refused, never read as its target alone."""
    plain, written = _plain(text), " ".join(str(text).split())
    prompt = ranges.expand(unabbreviate(plain, ontology))  # "lt kidney w/o ...", "L1-L3": read written out

    def as_read(parsed: ParsedPrompt) -> ParsedPrompt:
        return replace(parsed, text=written, respelled=parsed.respelled or (prompt if prompt != plain else ""))

    read = functools.partial(parse, ontology=ontology)
    if said_again := apposition.restated(prompt, read):
        return replace(said_again, text=written)
    names = [p for s in ontology.structures.values() for p in (*s.phrases(), *s.heldout)]
    try:
        parsed = as_read(_respelled(prompt, ontology))
    except PromptError as e:  # read whole it names nothing: a collective glossed is read by its gloss
        parsed, error = apposition.glossed(prompt, read) or exclusion.subtracted(prompt, read), e
    said = exclusion.cue(prompt, names)
    if parsed and (not said or parsed.avoid or any(r.role == "kept" for r in parsed.readings)):
        return as_read(parsed)
    if not said:
        raise error
    if parsed:  # read without the exclusion it words: only a reading of the exclusion may answer
        error = PromptError(
            f"prompt '{prompt}' excludes something ('{said}') that could not be read: write "
            "'<structure> excluding <part>'"
        )
    for i, (target, excluded) in enumerate(exclusion.readings(prompt, names)):
        read = " excluding ".join((target, *excluded))
        try:
            return as_read(_respelled(read, ontology))
        except PromptError as e:  # a division whose words name nothing: the next may; any other refusal stands
            if i == 0 or not isinstance(e, UnknownStructure):
                error = type(e)(
                    str(e).replace(f"'{read}'", f"'{prompt}' (read as '{read}')"),
                    *([e.role] if isinstance(e, UnknownStructure) else []),
                )
            if not isinstance(e, UnknownStructure):
                break
    raise error from None


def _respelled(prompt: str, ontology: Ontology) -> ParsedPrompt:
    """A prompt with an unknown word is read again with its misspelt words corrected (`spelling.py`; the
    correction is recorded as `respelled`)."""
    try:
        return _parse(prompt, ontology)
    except UnknownStructure as unknown:
        respelled = respell(prompt, ontology)
        if respelled is None:
            raise
        try:
            parsed = _parse(respelled, ontology)
        except PromptError:
            raise unknown from None
        return replace(parsed, text=prompt, respelled=respelled)


def _parse(text: str, ontology: Ontology) -> ParsedPrompt:
    prompt = " ".join(str(text).split())
    unread = non_latin_words(prompt)
    if unread:
        raise PromptError(
            f"prompt '{prompt}': cannot read {', '.join(repr(w) for w in unread)} (the ontology's "
            "words are English: letters a-z, digits and punctuation)"
        )
    if not normalize(prompt) or set(normalize(prompt).split()) <= _STOP:
        raise PromptError(f"empty prompt {text!r}: it names no structure")
    if _NEGATION.match(prompt):
        raise _only_exclusion(prompt, _NEGATION.sub("", prompt).strip(), ontology)
    split = _EVERYTHING_BUT.sub(lambda m: f"{m.group(1)}{m.group(2) or ''} except", prompt)
    _split_connectives(split)  # a dangling exclusion is an error before any lookup
    parts = _CONNECTIVE.split(split)
    pieces, joiners = parts[0::2], parts[1::2]
    if normalize(pieces[0]) in _EVERYTHING:
        raise _only_exclusion(prompt, pieces[1] if len(pieces) > 1 else "", ontology)
    for end in range(len(pieces), 0, -1):  # the target: the longest run of pieces from the start
        phrase = "".join(p + c for p, c in zip(pieces[: end - 1], joiners)) + pieces[end - 1]
        target = _try_structures(phrase, ontology, prompt)
        if target is not None and (end == 1 or all(r.by == "ontology" for r in target)):
            break  # across a connective only a wording of the ontology ("... without ...") is read whole
    else:
        _structures(pieces[0], ontology, prompt)  # raises the specific error
    readings, pos_text = list(target), _union(target, ontology) or _encoded(phrase, target)
    within = tuple(s for r in target for s in r.structures)
    rest, joiners = pieces[end:], joiners[end:]
    if any(map(_ADDED.search, rest)):  # "the tumour without the oedema, plus the cavity": not an exclusion
        raise PromptError(
            f"prompt '{prompt}' adds a structure after what it excludes: name them first, e.g. "
            "'<structure> and <structure> excluding <part>'"
        )
    if rest and normalize(rest[0]) in _EVERYTHING:  # "X excluding everything except Y": Y within X
        if len(rest) < 2:
            raise PromptError(f"prompt '{prompt}' excludes everything it targets")
        kept = _structures(rest[1], ontology, prompt, within, "kept")
        outside = [
            s.name for r in kept for s in r.structures if not s.labels <= frozenset().union(*(w.labels for w in within))
        ]
        if outside:
            raise PromptError(
                f"prompt '{prompt}' keeps {', '.join(outside)}, which is not within "
                f"{' and '.join(s.name for s in within)}"
            )
        readings, pos_text = kept, " and ".join(r.structures[0].name for r in kept)
        within, rest, joiners = tuple(s for r in kept for s in r.structures), rest[2:], joiners[2:]

    def excluded(p: str) -> list[Reading] | None:
        if _REST_OF.match(_clean(p)):  # "A and B but not the rest of the core": nothing of A and B
            return [] if _try_structures(_REST_OF.sub("", _clean(p)), ontology, prompt) else None
        return _try_structures(p, ontology, prompt, within, "exclusion")

    runs, bad = _runs(rest, joiners, excluded)
    if bad is not None:
        _structures(rest[bad], ontology, prompt, within, "exclusion")  # raises the specific error for that piece
    target = set().union(*(s.labels for s in within))
    # "the PZ, not the whole prostate", "the core rather than the whole tumour": a whole said in contrast, kept
    runs = [(p, found) for p, found in runs if not all(target < s.labels for r in found for s in r.structures)]
    avoided = [r for _, found in runs for r in found]
    avoid = set().union(*(s.labels for r in avoided for s in r.structures))
    if not target - avoid:
        raise PromptError(
            f"prompt '{prompt}' excludes everything it targets (target {sorted(target)}, avoid {sorted(avoid)})"
        )
    return ParsedPrompt(
        prompt,
        tuple(sorted(target)),
        tuple(sorted(avoid)),
        pos_text,
        " and ".join(_encoded(p, found) for p, found in runs),
        tuple(s.name for s in within),
        tuple(s.name for r in avoided for s in r.structures),
        (*readings, *avoided),
    )
