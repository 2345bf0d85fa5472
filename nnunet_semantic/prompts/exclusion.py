"""Exclusion cues in any wording, so that an exclusion is read or refused and never lost in a reading of the whole
sentence as one target (a sentence embedding of "X with Y cut away" sits next to Y: the affirmative bias).

The scope rules are ConText's (Chapman et al.; medspaCy's context rules): a cue has a direction that sets what it
scopes. A forward cue ("sans", "with no", "removing") scopes the words after it, to the end of its clause when the
clause comes first ("Excluding Y, segment X"); a backward cue ending its clause ("removed", "cut away", "not
included", "aside") the words back to the clause's opening word or punctuation ("the kidney with its cyst cut
away", "With Y taken away, X"); a negated relative clause ("where it does not enhance") its predicate; "non-Y" and
"Y-free" exclude Y. ConText's English lexicon itself is for negated findings ("denies", "ruled out"), holds
"except" and "apart from" as scope terminators and has no verb of removal: it detects few of the exclusions people
write for a mask, so the cues are ours, in open classes where a class exists: any verb with a particle of removal
("stripped off"), any negated participle ("not counted").

`cue` is deliberately wider than `readings`: any word of negation or removal outside the ontology's own wordings
marks the prompt as excluding something, so a prompt whose exclusion cannot be placed is refused, not answered.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from nnunet_semantic.errors import PromptError
from nnunet_semantic.prompts.ontology import normalize
from nnunet_semantic.prompts.wording import EMPHATIC_TAIL, EXCLUSION_CONNECTIVES, REQUEST_VERBS, alternatives

FORWARD_CUES = (
    *EXCLUSION_CONNECTIVES,
    "sans",
    "less",
    "short of",
    "free of",
    "clear of",
    "devoid of",
    "lacking",
    "with no",
    "but no",
    "and no",
    "no",
    "not",
    "and not",
    "but",
    "ignoring",
    "neglecting",
    "excluded",
    "exclude",
    "excludes",
    "removing",
    "remove",
    "removes",
    "subtracting",
    "subtract",
    "deducting",
    "discounting",
    "skipping",
    "dropping",
    "rather than",
    "instead of",
    "outside of",
    "outside the",  # not "outside" alone: a direction ("the outside part")
    "besides",
    "w/o",
    "excl",
    "exclusive of",
    "never",
    "neither",
    "nor",
    "stripped of",
    "cleared of",
    "rid of",
    "free from",
    "emptied of",
    "deleting",
    "delete",
    "omit",
    "ignore",
    "disregard",
    "erasing",
    "erase",
    "excising",
    "excise",
    "resecting",
    "deduct",
    "discount",
    "skip",
    "drop",
    "spare",
    "leaving behind",
    "don't",
    "dont",
    "do not",
    "does not",
    "doesn't",
    "must not",
    "should not",
    "shouldn't",
    "strip",
)
# removal participles that end their clause; "<verb> out|away|off|aside" and "not <participle>" are cues as a class
BACKWARD_CUES = (
    "removed",
    "excluded",
    "omitted",
    "subtracted",
    "deducted",
    "spared",
    "ignored",
    "disregarded",
    "discounted",
    "deleted",
    "dropped",
    "erased",
    "excised",
    "resected",
    "stripped",
    "masked",
    "excepted",
    "aside",
    "apart",
    "gone",
)
PARTICLES = ("out", "away", "off", "aside")
# words of removal (patterns) that mark an exclusion wherever they stand: what `cue` looks for beyond placed cues
REMOVAL_WORDS = (
    r"remov\w*",
    r"exclu\w*",
    r"delet\w*",
    r"subtract\w*",
    r"deduct\w*",
    r"omit\w*",
    r"stripp\w*",
    "strip",
    r"eras(?:e|ed|es|ing)",
    r"excis\w*",
    r"disregard\w*",
    r"ignor(?:e|ed|es|ing)",
    r"discount\w*",
    r"spar(?:e|ed|es|ing)",
    r"except\w*",
    "minus",
    "sans",
    "w/o",
    "excl",
    # an organ "healthy" or "normal-appearing" is the organ less what is diseased: which part cannot be told
    "healthy",
    r"normal(?:-appearing)?",
    "uninvolved",
)
NEGATIONS = ("not", "no", "never", "none", "nothing", "neither", "nor", "without")
RELATIVES = ("where", "wherever", "that", "which", "whose", "who", "when")
# words that open a clause a backward cue scopes: "the kidney with its cyst removed", "Leaving Y aside, X"
OPENERS = (
    "with",
    "having",
    "once",
    "after",
    "but",
    "when",
    "and then",
    "then",
    "leaving",
    "leave",
    "setting",
    "putting",
    "keeping",
)
_END = r"(?=\s*(?:$|[,;:.!?)\]]|\s[-\u2013\u2014]))"  # the end of a clause
# a clause ends at punctuation, a spaced dash, or "and" before a request ("remove Y and show the rest of X")
_CLAUSE = re.compile(
    rf"\s*(?:[,;:.!?()\[\]]|\s[-\u2013\u2014]+\s)\s*|\s+and\s+(?:then\s+)?(?=(?:{alternatives(REQUEST_VERBS)})\s)"
)
# what people say of the target beside the structure: "the rest of X", "X and show what remains"
_REST = re.compile(
    r"\b(?:(?:the\s+)?(?:rest|remainder)\s+of|what(?:ever)?\s+(?:remains|is\s+left)\s+of)\s+|"
    r"^(?:whatever|the\s+remaining|remaining)\s+|\s+(?:that\s+remains|(?:that\s+)?is\s+left(?:\s+over)?|left\s+over|"
    r"remaining)$|\s*(?:,|\band\b)?\s*(?:(?:please\s+)?(?:show|give|keep|segment|return|display)\s+"
    r"(?:me\s+)?)?(?:what\s+remains|what\s+is\s+left|the\s+rest|everything\s+else)$"
)
# the sentence's words beside a side, not the structure's: "the kidney with | its cyst is | removed"
TARGET_TAIL = (
    "with",
    "having",
    "had",
    "has",
    "have",
    "that",
    "which",
    "where",
    "whose",
    "once",
    "after",
    "when",
    "but",
    "and",
    "then",
    "is",
    "are",
    "it",
    "get",
    "gets",
    "got",
    "only",
    "so",
    "do",
    "does",
    "did",
    "must",
    "should",
    "please",
)
EXCLUSION_HEAD = (
    *PARTICLES,  # "but strip out the swelling": the verb read as the cue's, its particle left
    "it",
    "they",
    "there",
    "is",
    "are",
    "be",
    "does",
    "do",
    "did",
    "has",
    "have",
    "had",
    "been",
    "being",
    "include",
    "includes",
    "including",
    "contain",
    "contains",
    "containing",
    "belong to",
    "belongs to",
    "belonging to",
    "lies in",
    "in",
    "within",
    "any",
    "whatever",
    "what",
    "anything",
    "all",
    "both",
    "of",
    "from",
    "show",
    "shows",
    "showing",
    "that",
    "which",
    "with",
    "having",
    "leaving",
    "leave",
    "setting",
    "putting",
    "the part of",
    "the parts of",
    "part of",
    "parts of",
    "the portion of",
    "portion of",
)
EXCLUSION_TAIL = (
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "has",
    "have",
    "had",
    "get",
    "gets",
    "got",
    "both",
    "all",
    "too",
    "also",
    "must",
    "should",
    "as well",
    "then",
    "it",
    "them",
    "from it",
    "from them",
    "entirely",
    "completely",
)


def _edge(words: Iterable[str], end: bool) -> re.Pattern:
    """Any run of `words` at the end (or the start) of a text."""
    return re.compile(rf"(?:\s+(?:{alternatives(words)}))+$" if end else rf"^(?:(?:{alternatives(words)})\s+)+")


_TARGET_TAIL, _EXCLUSION_HEAD = _edge(TARGET_TAIL, end=True), _edge(EXCLUSION_HEAD, end=False)
_EXCLUSION_TAIL = _edge(EXCLUSION_TAIL, end=True)
_PART_OF = re.compile(
    r"^(?:(?:only|just|the|those|these|that|all|any)\s+)*"
    r"(?:part|portion|region|area|bit|piece|tissue|section)s?\s+(?:of|in)\s+"
)
_BOUNDARY = re.compile(
    r"[,;:()\[\]]|\s[-\u2013\u2014]+\s|\b(?:" + "|".join(o.replace(" ", r"\s+") for o in OPENERS) + r")\b"
)
_LEAD = re.compile(r"^(?:please|kindly|and|but|so)\b")
_FROM = re.compile(r"\s+(?:from|off|out\s+of)\s+")


_PARTICIPLE = r"(?:[a-z]+(?:ed|en|wn)|cut|put|set|left|kept|thrown|shut)"
_FORWARD = re.compile(
    rf"(?<![\w'-])(?:{alternatives(FORWARD_CUES)}|\w+ing\s+(?:{alternatives(PARTICLES)})|"
    rf"(?:cut|take|leave|strip|carve|mask|crop|set|put|keep|blank|zero|trim|chop|rule)\s+"
    rf"(?:{alternatives(PARTICLES)}))(?![\w/'])"
)
_BACKWARD = re.compile(
    rf"(?<![\w'-])(?:{alternatives(BACKWARD_CUES)}|{_PARTICIPLE}\s+(?:{alternatives(PARTICLES)})|"
    rf"(?:not|never|no\s+longer)\s+\w+(?:ed|en|wn|t))(?:\s+from\s+(?:the\s+)?(?:mask|segmentation|"
    rf"image|output|result|it|them))?\.?{_END}"
)
_RELATIVE = re.compile(rf"\s*,?\s*\b(?:{alternatives(RELATIVES)})\b(?P<clause>.*)$")
_NEGATED = re.compile(rf"\b(?:{alternatives(NEGATIONS)})\b|n't\b")
_PREFIXED = re.compile(r"\bnon[-\s]?(?P<a>[a-z_]+)\b|\b(?P<b>[a-z_]+)-free\b")
# what is left of a structure without its disease: "healthy kidney tissue" is the kidney without its lesions
_HEALTHY = re.compile(
    r"\b(?:healthy|normal(?:[-\s]appearing)?|uninvolved|unaffected|non[-\s]?diseased|disease[-\s]free)\b"
)
_PLURAL_PART = re.compile(r"\s+(?:parts|portions|regions|components|areas|compartments)\b")
_ANY = re.compile(rf"n't\b|\b(?:{alternatives(NEGATIONS)})\b|(?<![\w'-])(?:{'|'.join(REMOVAL_WORDS)})(?![\w'-])")


def _tidy(text: str, tail: re.Pattern | None = None, head: re.Pattern | None = None) -> str:
    text = " ".join(text.split()).strip(" \t,;:.!?\"'()[]-\u2013\u2014")
    for _ in range(2):
        text = head.sub("", text) if head else text
        text = tail.sub("", text) if tail else text
        text = text.strip(" \t,;:.!?\"'()[]-\u2013\u2014")
    return text


def _target(text: str) -> str:
    return _tidy(_PART_OF.sub("", _tidy(_REST.sub("", _tidy(text, _TARGET_TAIL)), _TARGET_TAIL)))


def _excluded(text: str) -> str:
    return _tidy(text, _EXCLUSION_TAIL, _EXCLUSION_HEAD)


def _exclusions(scope: str) -> list[str]:
    """A forward scope's exclusions: further forward cues ("X without Y, and no Z") start further ones."""
    return [p for p in map(_excluded, _FORWARD.split(scope)) if p]


def _words(text: str) -> tuple[list[re.Match], list[tuple[str, bool]]]:
    """The words of `text` as the ontology compares them (spelling, plurals; articles dropped), each with whether
    punctuation stands before it, so "liver, tumour" is not the name "liver tumour"."""
    tokens = [t for t in re.finditer(r"[a-z0-9]+", text.lower()) if normalize(t.group(0))]
    return tokens, [
        (normalize(t.group(0)), bool(i and re.search(r"[,;:()]", text[tokens[i - 1].end() : t.start()])))
        for i, t in enumerate(tokens)
    ]


@functools.lru_cache(maxsize=65536)
def _name_words(name: str) -> tuple[tuple[str, bool], ...]:
    return tuple(_words(name)[1])


@functools.lru_cache(maxsize=65536)
def _negated_words(name: str) -> frozenset[str]:
    """The words a wording negates with "non-" ("non-enhancing tumour": "enhancing")."""
    return frozenset(normalize(m.group("a")) for m in _PREFIXED.finditer(name.lower()) if m.group("a"))


def _masked(text: str, names: Iterable[str]) -> str:
    """`text` with the ontology's own wordings and the emphatic words blanked, so a cue inside a name
    ("non-enhancing tumour") or an emphasis ("X, nothing else") is no cue; nor is a "non-" word the wordings use
    apart from their name ("the non-enhancing part of the tumour")."""
    tokens, words = _words(text)
    out = list(text)
    emphatic = [e for e in EMPHATIC_TAIL if _ANY.search(e)]  # "nothing else"
    names = set(names)
    negated = [m for m in _PREFIXED.finditer(text) if m.group("a")]
    own = set().union(*map(_negated_words, names)) if negated else set()
    for m in negated:  # "the non-enhancing parts" (plural) are every part that is not enhancing
        if normalize(m.group("a")) in own and not _PLURAL_PART.match(text, m.end()):
            out[m.start() : m.end()] = "_" * (m.end() - m.start())
    for name in {*names, *emphatic}:
        seq = _name_words(name)
        for i in range(len(words) - len(seq) + 1):
            if seq and tuple((w, p and k > 0) for k, (w, p) in enumerate(words[i : i + len(seq)])) == seq:
                start, end = tokens[i].start(), tokens[i + len(seq) - 1].end()
                out[start:end] = "_" * (end - start)
    return "".join(out)


def _relative(text: str, masked: str, names) -> list[tuple[str, tuple[str, ...]]]:
    """ "X where it does not enhance", "the part of X that isn't Y"."""
    found = _RELATIVE.search(masked)
    negation = found and _NEGATED.search(found.group("clause"))
    if not negation:
        return []
    rest = text[found.start("clause") + negation.end() :]
    return [(_target(text[: found.start()]), tuple(_exclusions(re.sub(r"\bnor\b", " and ", rest))))]


def _backward(text: str, masked: str, names) -> list[tuple[str, tuple[str, ...]]]:
    """A cue ending its clause scopes back to the clause's opening word, else its punctuation ("the liver, tumour
    aside"); a clause that comes first excludes from what follows it ("With Y removed, X"). With neither, every
    place the words could divide is a candidate ("hippocampus head removed")."""
    out = []
    for cue in _BACKWARD.finditer(masked):
        before, after = masked[: cue.start()], text[cue.end() :]
        rest = _CLAUSE.split(after, maxsplit=1)[-1] if _CLAUSE.match(after) else after
        openers = sorted(_BOUNDARY.finditer(before), key=lambda m: (m.group(0).strip().isalpha(), m.start()))[::-1]
        if _target(rest) and (not openers or openers[-1].start() == 0 or not _tidy(before[: openers[-1].start()])):
            out.append((_target(rest), (_excluded(text[: cue.start()]),)))  # the clause comes first
            continue
        if _tidy(rest):  # words after the clause that say something else: not this reading
            continue
        for opener in openers:
            target, excluded = _target(text[: opener.start()]), _excluded(text[opener.end() : cue.start()])
            if target and excluded and not _FORWARD.search(_masked(excluded, names)):
                out.append((target, (excluded,)))
        words = text[: cue.start()].split()
        out += [(" ".join(words[:k]), (_excluded(" ".join(words[k:])),)) for k in range(1, len(words)) if not openers]
    return out


def _forward(text: str, masked: str, names) -> list[tuple[str, tuple[str, ...]]]:
    """A cue scopes the words after it; a clause that begins with one excludes from what follows it ("Excluding Y,
    segment X"); an imperative names its target after "from" ("remove Y from X")."""
    cue = _FORWARD.search(masked)
    if not cue:
        return []
    scope = text[cue.end() :]
    if not _tidy(text[: cue.start()], _TARGET_TAIL, _LEAD):  # the cue opens the prompt
        clause = _CLAUSE.search(scope)
        if clause and _target(scope[clause.end() :]):
            return [(_target(scope[clause.end() :]), tuple(_exclusions(scope[: clause.start()])))]
        source = list(_FROM.finditer(scope))
        if source:
            return [(_target(scope[source[-1].end() :]), tuple(_exclusions(scope[: source[-1].start()])))]
    return [(_target(text[: cue.start()]), tuple(_exclusions(scope)))]


def _prefixed(text: str, masked: str, names) -> list[tuple[str, tuple[str, ...]]]:
    """ "the non-tumour part of the kidney", "the tumour-free liver"; "non-" before a name of several words negates
    its modifier: "the non-anterior hippocampus" is the hippocampus excluding the anterior hippocampus."""
    found = _PREFIXED.search(masked)
    if not found:
        return []
    word = text[slice(*found.span("a" if found.group("a") else "b"))]
    kept = word.split()[-1] if found.group("a") and len(word.split()) > 1 else ""
    return [(_target(" ".join((text[: found.start()] + kept + text[found.end() :]).split())), (word,))]


def _healthy(text: str, masked: str, names) -> list[tuple[str, tuple[str, ...]]]:
    found = _HEALTHY.search(masked)
    listed = found and re.search(r",|\+|&|\b(?:and|or|plus)\b", text[: found.start()])  # one item of a list
    if not found or listed:
        return []
    target = _target(" ".join((text[: found.start()] + text[found.end() :]).split()))
    return [(target, ("lesions", "cysts")), (target, ("lesions",))]  # every lesion the ontology has words for


def readings(prompt: str, names: Iterable[str] = ()) -> list[tuple[str, tuple[str, ...]]]:
    """Candidate (target text, exclusion texts) readings of the exclusion cues of `prompt`, the likeliest first;
    [] when none places its exclusion. `names`: the ontology's wordings, whose words are never cues."""
    text = " ".join(prompt.lower().split())
    masked = _masked(text, names)
    for reader in (_relative, _backward, _forward, _prefixed, _healthy):
        found = [(t, e) for t, e in reader(text, masked, names) if normalize(t) and e and all(map(normalize, e))]
        if found:
            return list(dict.fromkeys(found))
    return []


def cue(prompt: str, names: Iterable[str] = ()) -> str | None:
    """The first word of negation or removal in `prompt` outside the wordings `names`, or None."""
    masked = _masked(" ".join(prompt.lower().split()), names)
    found = [
        m
        for m in (
            _ANY.search(masked),
            _BACKWARD.search(masked),
            _FORWARD.search(masked),
            _PREFIXED.search(masked),
            _HEALTHY.search(masked),
        )
        if m
    ]
    return min(found, key=lambda m: m.start()).group(0).strip(" .") if found else None


# a structure less a target volume as radiotherapy names it (TG-263): "Lungs-GTV", "Parotid_L-PTV", "PTV-CTV"
_SUBTRACTION = re.compile(r"^(?P<a>[^-]*\w)-(?P<b>[gcpi]tv\w*(?:\s+\w+)?)$", re.IGNORECASE)


def is_subtraction(prompt: str) -> bool:
    """Whether `prompt` is a subtraction written as one name ("Lungs-GTV")."""
    return bool(_SUBTRACTION.match(prompt.strip()))


def spaced_minus(prompt: str) -> str:
    """`prompt` with a subtraction written as one name spaced as the minus it is ("Lungs - GTV"); else unchanged."""
    return _SUBTRACTION.sub(r"\g<a> - \g<b>", prompt.strip())


def subtracted(prompt: str, parse: Callable[[str], object]):
    """A prompt read whole as nothing, read again as the subtraction it may write as one name (a label named
    "Lungs-GTV" is read as that label first); None where it is none."""
    try:
        return parse(spaced_minus(prompt)) if is_subtraction(prompt) else None
    except PromptError:
        return None
