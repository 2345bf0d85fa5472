"""How a structure's wordings are headed: the noun a collective must say to name it ("organs" of "abdominal
organs"; "brain" only modifies "brain tumour"), a label's noun said first (`nodule_solid`, `tumor_cyst`), a direction
after the noun (a part: "femur head left"), and what a structure is made of."""

from __future__ import annotations

import functools
import re

from nnunet_semantic.prompts.directions import PART_NOUNS, SIDES, canonical, direction
from nnunet_semantic.prompts.ontologies.context import FINDING_NOUNS, TISSUES
from nnunet_semantic.prompts.ontologies.label_names import ACRONYMS, ALONE, WORDS
from nnunet_semantic.prompts.ontology import Structure, normalize
from nnunet_semantic.prompts.wording import ADJECTIVE_ENDING
from nnunet_semantic.prompts.words import CLASS_NOUNS, MAX_WORDS, UNNAMING, content_words, same_word

TRAILING = frozenset({"main", "accessory"})  # said after a label's noun: `renal_artery_L_accessory` is a renal artery
_MADE_OF = TISSUES | FINDING_NOUNS | {"gray", "white", "matter"}
# a finding's components: `ovarian_mass_solid`
_COMPONENTS = frozenset("solid cystic cyst necrotic intraosseous extraosseous soft tissue".split())
_LATIN_GENITIVE = re.compile(r"^[a-z]+\s+[a-z]+(?:i|ae)$", re.IGNORECASE)  # a noun first: "falx cerebri"
# a description's words after these name a landmark beside the structure, not the structure ("around the urethra")
LANDMARK = re.compile(
    r"\b(?:around|near|facing|between|behind|beside|adjacent|next to|surrounding|along|towards?|in front of|"
    r"close to|(?:surrounded|enclosed|bordered) by)\b.*$",
    re.IGNORECASE,
)
_PREPOSITION = re.compile(r"\b(?:of|in|within|inside|on|at|from|with|without|by|for|to|under|over)\b", re.IGNORECASE)


def _coded(word: str) -> bool:
    """A code of letters and digits naming a structure by itself (`CA1`), no level or number alone."""
    return not direction(word) and any(c.isalpha() for c in word) and not re.match(r"^[ctls]\d{1,2}$", word)


@functools.lru_cache(maxsize=4096)
def headed(s: Structure) -> tuple[tuple[tuple[str, ...], list[str], frozenset[str], bool], ...]:
    """A structure's short wordings with the words a collective must name: the head noun (the last word before a
    preposition: "organs" of "abdominal organs"; "brain" only modifies "brain tumour") and, after a class noun, the
    word before it ("renal" of "renal organ"); the part nouns it is named with ("left lower lobe"); whether it is
    one of the structure's names."""
    out = []
    for p in (*s.phrases(), *s.heldout):
        said = normalize(p).split()
        if "and" in said:  # "portal vein and splenic vein": no collective names one of them
            continue
        words, before = content_words(LANDMARK.sub("", p)), _PREPOSITION.split(p)[0]
        head = list(content_words(before))
        while len(head) > 1 and (direction(head[-1]) or any(c.isdigit() for c in head[-1])):
            head.pop()  # a label name's trailing side or number: "kidney left", "rib left 7", "vertebrae L2"
        of = [w for w in head if not direction(w) and w not in UNNAMING]
        parts = PART_NOUNS.intersection(normalize(before).split())
        if of and parts:
            head = of[:1]  # a part is named with what it is part of: "prostate transition zone", "lung upper lobe"
        named = sum(not direction(w) and w.isalpha() for w in words) or len(parts) or sum(map(_coded, words))
        short = 0 < named <= MAX_WORDS  # "disc L4 L5" by its noun; `CA1_L` by its code
        if short and head and (parts or not direction(head[-1])):  # "frontal lobe left": a lobe, by its part noun
            heads = head[-2:] if len(head) > 1 and head[-1] in CLASS_NOUNS else head[-1:]
            heads = head[:1] if _LATIN_GENITIVE.match(p) else heads  # "falx cerebri" is a falx
            is_name = p in (s.name, *s.names)
            if is_name and len(of) > 1 and noun_first(of):  # a label's noun first: "nodule solid", "aorta arch"
                heads = [*heads, of[0]]
            if head[-1] in TRAILING and (core := [w for w in head if w not in TRAILING and not direction(w)]):
                heads = [*heads, core[-1]]  # "renal artery left main" is a renal artery
            first, *rest = [w for w in said if w not in SIDES] or [""]
            site = first in FINDING_NOUNS and not (FINDING_NOUNS | TISSUES).intersection(rest)
            out.append((words, heads, frozenset() if site else PART_NOUNS.intersection(said), is_name))  # `tumor_RUL`
    return tuple(out)


def component(s: Structure, words: tuple[str, ...]) -> bool:
    """A finding's component named after it (`tumor_cyst` of "the tumour"): the finding is made of them."""
    name = normalize(s.name).split()
    return len(name) == 2 and name[0] in FINDING_NOUNS and name[0] in words


def held(s: Structure, words: tuple[str, ...]) -> frozenset[str]:
    """What a structure is of the organ or the finding `words` say, by its wordings that say it first ("spinal
    cord gray matter", `TI_wall`, `cord_lesion`; `ovarian_mass_solid`): the words after it; none where no
    wording says so."""
    n, out, made_of = len(words), set(), _made_of(words)
    for w in map(content_words, s.phrases() if made_of else ()):
        if 0 < n < len(w) and w[:n] == words and set(w[n:]) <= made_of:
            out |= set(w[n:])
    return frozenset(out)


@functools.lru_cache(maxsize=4096)
def _made_of(words: tuple[str, ...]) -> frozenset[str]:
    """What an organ (`ALONE`) or a finding is made of; nothing for other words ("enhancing")."""
    if " ".join(words) in ALONE:
        return _MADE_OF
    return _COMPONENTS if words and words[-1] in FINDING_NOUNS else frozenset()


def noun_first(words: list[str]) -> bool:
    """A name whose first word is its noun: the words after it are no nouns of general anatomy ("nodule solid"),
    or it is a structure by itself and they are not ("aorta arch"); never a compound written apart ("brain stem")."""
    rest = set(words[1:])
    if ADJECTIVE_ENDING.search(words[0]):  # "acetabular roof" is a roof: no noun said first
        return False
    if words[0] in FINDING_NOUNS and len(words) == 2:  # a finding's component: `tumor_cyst` is of the tumour
        return True
    rest -= ACRONYMS  # `leaflet_NCC`: a leaflet, the one the acronym says
    return "".join(words) not in WORDS and (not WORDS & rest or words[0] in ALONE and not ALONE & rest)


def after_noun(s: Structure, words: tuple[str, ...]) -> bool:
    """A direction named after the noun a collective says, or before "of" it ("femur head left", "head of femur
    left" of "the left femur"; `Gastroc_Med_L` "gastrocnemius medial left"): a part of it."""
    for phrase in (s.name, *s.names, *s.synonyms):
        name = normalize(phrase).split()
        noun = next((i for i, w in enumerate(name) if not direction(w) and any(same_word(w, x) for x in words)), None)
        if noun is not None:
            of = name[: noun - 1] if noun > 1 and name[noun - 1] == "of" else []  # "head of femur left"
            after = [w for w in [*of, *name[noun + 1 :]] if w not in SIDES]
            return any(direction(w) and canonical(w) not in words for w in after)
    return False


def made_of(s: Structure) -> bool:
    return any(PART_NOUNS.intersection(normalize(p).split()) for p in s.phrases())
