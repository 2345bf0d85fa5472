"""A part named relative to its structure ("its back portion", "the tail of the hippocampus", "the enhancing part
of the tumor core"), read by its words before any embedding.

A phrase that is no wording of the ontology is reduced to its content words: directions to their direction
(`directions.py`), articles, possessives and part nouns ("portion", "end") dropped, the parent structure's own name
words dropped. It names the part of the parent whose short wordings (names, synonyms and phrases of at most
MAX_WORDS content words, so long descriptions do not lend it stray words) hold every one of those words, the part
whose wording they cover most; a tie or no part at all is an error, never the nearest guess.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from dataclasses import dataclass

from nnunet_semantic.prompts.anatomy import ANATOMY
from nnunet_semantic.prompts.directions import PART_NOUNS, SIDES, canonical, direction
from nnunet_semantic.prompts.groups import halves, read_group, sides_of
from nnunet_semantic.prompts.heads import LANDMARK, TRAILING, after_noun, component, headed, held, made_of
from nnunet_semantic.prompts.ontologies.context import FINDING_NOUNS, is_target
from nnunet_semantic.prompts.ontologies.label_names import ALONE
from nnunet_semantic.prompts.ontology import ACRONYM_PLURAL, Ontology, Structure, normalize, singular
from nnunet_semantic.prompts.wording import PERSONS
from nnunet_semantic.prompts.words import (
    CLASS_NOUNS,
    GENERIC_NOUNS,
    LABELLED,
    MAX_WORDS,
    QUANTIFIERS,
    SEVERAL,
    UNNAMING,
    content_words,
    negates,
    same_word,
)

ORDINALS = frozenset({"first", "second", "third", "fourth", "last", "latter", "former", "final", "initial"})
# words that pick one of a structure's instances by order or size, which labels do not record: "the bigger kidney"
SELECTORS = ORDINALS | {
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "bigger",
    "biggest",
    "larger",
    "largest",
    "smaller",
    "smallest",
    "greater",
    "greatest",
    "lesser",
    "other",
}
_AT_RISK = re.compile(r"\borgans?\s+at\s+risk\b", re.IGNORECASE)  # in radiotherapy, each label it contours
_ORGANS = frozenset(a for a in (*ANATOMY, "hippocampus") if " " not in a)  # a label named by two holds both
_OF_KIND = {"osseous": "bone", "bony": "bone", "cartilaginous": "cartilage"}  # adjectives of a kind
_COUNTS = "zero one two three four five six seven eight nine ten eleven twelve".split()
_TRUNK = "main"  # the trunk of a tree named after it: "left coronary artery" is more than the left main
# nouns of what is not counted: "grey matter" of `cGM` and `dGM` is both, as "the adrenal" is not
MASS_NOUNS = frozenset({"matter", "fat", "fluid", "csf", "cartilage", "blood", "air"})
# what a structure is
_KINDS = CLASS_NOUNS | {
    "bone",
    "muscle",
    "vessel",
    "artery",
    "vein",
    "cartilage",
    "nerve",
    "tooth",
    "ligament",
    "tendon",
}
_OWNER = re.compile(r"\bof\s+(?P<of>.+)$|^(?P<s>.+?)(?:'s|(?<=s)')\s", re.IGNORECASE)  # "X of Y", "Y's X"
_POSSESSIVE = re.compile(
    rf"^(?:(?:the|a|an|its|their|his|her|this|that|(?:{'|'.join(PERSONS)})(?:'s|s'|'))\s+)+", re.IGNORECASE
)


@dataclass(frozen=True)
class PartReading:
    structure: Structure
    words: tuple[str, ...]  # the content words that decided it
    confidence: float  # share of the part's best wording those words cover
    by: str  # "direction lexicon" when a direction word decided it, else "part words"


def _written(phrase: str) -> list[str]:
    """A phrase's words as written, before a plural is made singular."""
    return re.findall(r"[a-z]+", phrase.lower())


def _plural(written: list[str]) -> bool:
    return any(singular(w) != w for w in written)


def strip_possessive(phrase: str) -> str:
    """ "its tumor", "the tumor", "their cysts" -> the words after the determiner."""
    return _POSSESSIVE.sub("", phrase.strip())


def name_words(s: Structure) -> frozenset[str]:
    """The words of a structure's names: what a part's wording may repeat of its parent ("posterior hippocampus")."""
    return frozenset(w for n in (s.name, *s.names) for w in content_words(n))


@functools.lru_cache(maxsize=4096)
def _wordings(s: Structure, drop: frozenset[str]) -> tuple[tuple[str, ...], ...]:
    out = [content_words(LANDMARK.sub("", p), drop) for p in (*s.phrases(), *s.heldout)]
    return tuple(w for w in out if 0 < len(w) <= MAX_WORDS)


def _covers(words: tuple[str, ...], wording: tuple[str, ...]) -> bool:
    return all(any(same_word(w, x) for x in wording) for w in words)


def _owner(phrase: str, ontology: Ontology) -> Structure | None:
    """The structure a part is said to be of by any of its wordings or by its words: "the necrotic part of the
    tumour", "the tumour's necrotic portion"."""
    found = _OWNER.search(phrase)
    if not found:
        return None
    said = found.group("of") or found.group("s")
    names = ontology.lookup(said) or ontology.lookup(strip_possessive(said))
    if len(names) == 1:
        return ontology.structures[names.pop()]
    whole = read_collective(strip_possessive(said), ontology)
    return whole.structure if isinstance(whole, PartReading) else None


def read_part(phrase: str, ontology: Ontology, parents: list[Structure] | None) -> PartReading | None | str:
    """The structure `phrase` names by its words: a part of `parents` (an exclusion), or of any structure whose
    name the phrase holds (a target). None when the phrase has no words to read; an explanation (str) when it has
    words but no single part they name."""
    if parents:
        return _within(phrase, ontology, parents, apart=True)
    readings, why = {}, []
    words = content_words(phrase)
    owner = _owner(phrase, ontology)
    for parent in ontology.structures.values():
        if not ontology.contained_in(parent.name):
            continue
        for name in {parent.name, *parent.names}:
            own = content_words(name)
            if (parent is owner or own and _covers(own, words)) and content_words(phrase, name_words(parent)):
                found = _within(_OWNER.sub(" ", phrase) if parent is owner else phrase, ontology, [parent])
                if isinstance(found, PartReading):
                    readings[found.structure.name] = found
                elif found:
                    why.append(found)
    if len(readings) == 1:
        return next(iter(readings.values()))
    # a phrase that names a part ("the left half of the kidney", "the second third", "the cortex of the kidney") its
    # structure lacks is refused with the structure's parts; other words ("the enlarged kidney") are left to the
    # nearest-text reading
    said = normalize(phrase).split()
    names_part = "of" in said or any(w in PART_NOUNS or w in SELECTORS or direction(w) for w in said)
    several = QUANTIFIERS.intersection(said) or _plural(_written(phrase))
    if not (readings or why or owner or SELECTORS.intersection(said) or several) and PART_NOUNS.intersection(said):
        # a part of nothing named ("the contrast-enhancing part") is a part of the whole labelled image; by a
        # direction alone ("the front part"), only a part the whole itself is divided into by it
        tops = [s for s in ontology.structures.values() if ontology.holder(s.labels) is None]
        found = _within(phrase, ontology, tops)
        rest = content_words(phrase, frozenset().union(*map(name_words, tops)))
        by_side = bool(rest) and all(map(direction, rest))
        said_words = set(content_words(phrase))
        if isinstance(found, PartReading) and any(  # "the HCC in segment 8": a structure named beside, kept apart
            not s.labels & found.structure.labels and any(w and set(w) <= said_words for w, *_ in headed(s))
            for s in ontology.structures.values()
        ):
            return f"'{strip_possessive(phrase)}' names a structure within another that no label holds"
        if isinstance(found, PartReading) and (not by_side or ontology.holder(found.structure.labels) in tops):
            return found
        if by_side:
            return f"'{strip_possessive(phrase)}' names a side of the image, which its labels do not divide that way"
    return why[0] if why and not readings and names_part else None


def read_collective(
    phrase: str, ontology: Ontology, several: bool = False, near: tuple[Structure, ...] = (), apart: bool = False
) -> PartReading | tuple[PartReading, ...] | str | None:
    """A target no wording names, read by its words ("all the organs", "the labelled organs of the upper abdomen"):
    the structures one of whose short wordings holds every word; where they nest, the largest, since a collective
    names the whole ("the organs" are all of them, not one kidney); where the largest are disjoint, each of them
    (a tuple), since a dataset labelled one structure per label names no whole ("the kidneys" of "kidney_left" and
    "kidney_right"; "the left lung" of its lobes). None when none holds them, when they overlap, or when the words
    are directions alone ("the left one") or name a part ("the upper pole"); an explanation (str) when they pick by
    order or size ("the third kidney", "the bigger kidney"). "everything labelled" is the structure of every label,
    where the ontology has one. A part noun the ontology names structures with is a structure's word ("the lower
    lobes" of "left lower lobe" and "right lower lobe"). `several`: the prompt said how many ("all", "both");
    `near`: the structures the prompt names beside it, whose words pick one of several ("the liver without the
    tumour" of "liver tumor" and "kidney tumor")."""
    written = _written(phrase)  # "its cartilage": one structure's, no mass of all
    phrase = _AT_RISK.sub("OARs", strip_possessive(phrase))
    said = normalize(phrase).split()
    several = several or bool(SEVERAL.intersection(said))
    plural = several or _plural(written)
    mass = not near and bool(said) and said[-1] in MASS_NOUNS and "its" not in written
    plural = plural or bool(re.search(ACRONYM_PLURAL, phrase)) or mass  # "the SVs"
    group = read_group([w for w in said if w not in QUANTIFIERS | LABELLED], ontology, plural)
    count = [_COUNTS.index(w) for w in written if w in _COUNTS]  # as written: "the 12th ribs" counts none
    if group and count and count[0] != len(leaves := ontology.leaves(group)):  # "all eight carpal bones"
        return f"'{strip_possessive(phrase)}' counts {count[0]}, and {len(leaves)} are labelled"
    if group:
        found = tuple(PartReading(s, tuple(said), 1.0, "structure words") for s in group)
        return found if len(found) > 1 else found[0]
    words = tuple(w for w in content_words(phrase) if w not in UNNAMING and w not in _COUNTS)
    if near and plural and words and set(words) <= SIDES:  # "the pulmonary veins except the right ones"
        found = tuple(PartReading(s, words, 1.0, "direction lexicon") for s in near if set(words) <= sides_of(s))
        return found if len(found) > 1 else None
    if len(near) == 1 and words and all(map(direction, words)):  # "the left ventricle but not the right"
        twin = [s for s in ontology.structures.values() if _said_of(s) == set(words) and _twins(s, near[0])]
        if len(twin) == 1:
            return PartReading(twin[0], words, 1.0, "direction lexicon")
    counted = several or bool(QUANTIFIERS.intersection(said))  # "all labelled", "the entire labelled set"
    if (
        LABELLED.intersection(said)
        and set(words) <= _KINDS
        and all(
            set(words) & set(normalize(s.name).split()) or set(words) <= CLASS_NOUNS
            for s in ontology.structures.values()
        )
    ):
        words = ()  # "all labelled organs": the labels, where each is of that kind or the kind is a loose word
    # every label ("all structures apart from the great vessels"): the structure of all, else all that hold none
    # "labelled" names every label only with a noun or a count: "X, labelled please" asks for X's label
    named = counted or bool({"foreground", "everything"}.intersection(said) or set(said) & (GENERIC_NOUNS | _KINDS))
    if not words and named and (LABELLED.intersection(said) or counted and {"structure", "oar"} & set(said)):
        keep = [s for s in ontology.structures.values() if not ("oar" in said and is_target(s))]
        if len(keep) < len(ontology.structures):  # "all OARs" beside a GTV or a tumour: the labels that are neither
            return tuple(
                PartReading(s, ("labelled",), 1.0, "structure words") for s in keep if not ontology.holder(s.labels)
            )
        root = ontology.exactly(ontology.label_ids)
        tops = [s for s in ontology.structures.values() if ontology.holder(s.labels) is None]
        if root or len(tops) < 2 or any(a.labels & b.labels for a, b in itertools.combinations(tops, 2)):
            return PartReading(root, ("labelled",), 1.0, "structure words") if root else None
        return tuple(PartReading(s, ("labelled",), 1.0, "structure words") for s in tops)
    picked = SELECTORS.intersection(said)  # unless a wording says it: "first molar", "third ventricle"
    if picked and picked - {w for s in ontology.structures.values() for p in s.phrases() for w in normalize(p).split()}:
        return f"'{strip_possessive(phrase)}' picks by order or size, which the labels do not record"
    nouns = frozenset(w for w in said if w in PART_NOUNS and w not in GENERIC_NOUNS)
    named = frozenset().union(*(p for s in ontology.structures.values() for *_, p, _ in headed(s))) if nouns else nouns
    own = nouns & named
    if not (words or own and plural) or all(map(direction, words)) and not own or nouns - own:
        return None  # a part noun alone is the census of the parts so named: "all five lobes"
    # a kind alone ("all bones") by the structures' names only: a synonym ("hip bone") is no census of the bones
    kind = bool(words) and {_OF_KIND.get(w, w) for w in words} - SIDES <= _KINDS  # "the left organ"
    covered, negated = {}, set()  # "tumor core" of `non enhancing tumor core` alone: neither it nor another
    for s in ontology.structures.values():
        shares = []
        for w, heads, parts, is_name in headed(s):
            if negates(w, words):
                negated |= {s.labels} if _covers(words, w) else set()
            elif (
                (is_name or not kind)
                and _covers(words, w)
                and not (set(words) & _ORGANS and set(w) - set(words) & _ORGANS)  # "amygdala" of a two-organ label
                and (_TRUNK in words or _TRUNK not in w or plural)  # "the coronary arteries" hold the left main
                and (own <= parts if own else any(_covers((h,), words) for h in heads))
            ):
                shares.append(len(words) / len(w))
        if shares:
            covered[s] = max(shares)
    # an organ no label is, by the tissues it is made of ("spinal cord gray matter", "... white matter")
    # and what lies in it: two tissues at least ("the left ventricle" is more than `LV_wall`)
    inside = {s: tail for s in ontology.structures.values() if (tail := held(s, words))}
    if set(covered) <= set(inside) and sum(bool(t - FINDING_NOUNS) for t in inside.values()) > 1:
        covered = covered | dict.fromkeys(inside, 1.0)
    if covered and all(s in inside and inside[s] <= FINDING_NOUNS for s in covered):  # `cord_lesion` alone
        return None
    if kind and not covered and SIDES.intersection(words):
        return f"'{strip_possessive(phrase)}' names a kind by its side, which not every label's name records"
    named = {s for s in covered if set(words) == set(normalize(s.name).split()) - SIDES - TRAILING}
    if named and len(covered) > 1:  # "solid nodules": the one named so, not "nodule part solid"
        covered = {s: v for s, v in covered.items() if s in named}
    tops = {s.labels: s for s in covered if not any(s.labels < t.labels for t in covered)}
    if (
        not tops
        or any(a & b for a, b in itertools.combinations(tops, 2))
        or any(not any(n <= t for t in tops) for n in negated)
    ):
        return None
    found = tuple(PartReading(s, words, round(covered[s], 3), "structure words") for s in tops.values())
    sides = Counter(map(sides_of, tops.values()))
    alone = [s.name for s in tops.values() if after_noun(s, words) and sides[sides_of(s)] < 2 and not apart]
    if count and count[0] != len(found):  # "all four lobes" of five, "all three liver lobes" of two
        return None
    if alone:  # a whole is the parts it is made of ("the left lung" of its lobes), never one part of it; left out
        # of a target ("the bones but not the clavicle"), what of it is labelled is all there is to leave out
        return f"'{strip_possessive(phrase)}' names a whole of which only its part '{alone[0]}' is labelled"
    if len(found) == 1:
        if mass and found[0].confidence < 1:  # "CSF" of `extracerebral_CSF` alone: the ventricles hold CSF too
            return f"'{strip_possessive(phrase)}' names more than '{found[0].structure.name}', the one so labelled"
        one = found[0].structure.name.lower().split()
        if why := _more_than(found[0].structure, phrase, words, several, plural, near, ontology):
            return why
        if kind and plural and all(singular(w) == w for w in one):  # "all arteries": one says so, the rest do not
            return f"'{strip_possessive(phrase)}' names a kind that only '{found[0].structure.name}' is named as"
        rest = {w for w in normalize(found[0].structure.name).split() if w not in PART_NOUNS | SIDES}
        if not own and PART_NOUNS.intersection(one) and rest == set(words) and " ".join(words) in ALONE:
            return f"'{strip_possessive(phrase)}' names a whole of which only '{' '.join(one)}' is labelled"
        return found[0]
    # one of several ("the adrenal", "the rib", "the upper lobe") is no collective, unless they are the parts it is
    # made of ("the left lung" of its lobes, "the cerebellum" of its halves); several ("the adrenals") are
    # made of its parts: lobes, a finding's components (`tumor_cyst`), what an organ is made of or holds (`TI_wall`)
    whole = all(made_of(s) or after_noun(s, words) or component(s, words) or s in inside for s in tops.values())
    owned = bool(near) and "its" in written and not several  # "the spinal cord with its lesions": the cord's own
    if (not plural or owned) and (own or not whole and not halves(tops.values(), said)):
        inside = [r for r in found if near and r.structure.labels <= frozenset().union(*(n.labels for n in near))]
        if len(inside) == 1:  # "the right basal ganglia except the caudate": the one within
            return inside[0]
        beside = frozenset().union(*map(name_words, near))
        close = [r for r in found if any(same_word(a, b) for a in beside for b in name_words(r.structure))]
        if len(close) == 1:
            return close[0]
        names = ", ".join(f"'{s.name}'" for s in tops.values())
        return f"'{strip_possessive(phrase)}' could be any of {names}: name one, or all of them ('both', 'all')"
    return tuple(sorted(found, key=lambda r: min(r.structure.labels)))


def _more_than(
    only: Structure, phrase: str, words: tuple[str, ...], several: bool, plural: bool, near, ontology: Ontology
) -> str | None:
    """Why a collective read as one labelled structure names more than it (None where it does not): "both
    adrenals" of `adrenal_L` alone (a plural its own name says is none: `lymph_nodes_L`; "C5 to C7 roots" is
    plural for its levels); "right thalamus without the VPL" of `VPL_L` alone (not `RCC`, named by its side);
    "right geniculate bodies" of `LGN_R` beside `LGN_L` and `MGN_L`; "all exudates" of `hard_exudates` alone
    (never "all organs" of a union)."""
    written, said = _written(phrase), strip_possessive(phrase)
    unsided = not SIDES.intersection(words)
    if (several or _plural(written) and not re.search(r"\d", phrase)) and not near and sides_of(only) and unsided:
        own = {w for p in only.phrases() for w in p.lower().split()}
        if not {w for w in written if singular(w) != w} <= own - {singular(w) for w in own}:
            return f"'{said}' names both sides, and only '{only.name}' is labelled"
    other = near and all(sides_of(n) and not sides_of(n) & sides_of(only) for n in near)
    if other and any(set(words) <= set(w) - SIDES < set(w) for w in map(content_words, only.phrases())):
        return f"'{said}' of that side is not labelled, only '{only.name}'"
    if plural and not unsided:
        census = read_collective(" ".join(w for w in written if canonical(w) not in SIDES), ontology, several)
        per_side = Counter(side for r in census if isinstance(census, tuple) for side in sides_of(r.structure))
        if per_side and max(per_side.values()) > min(per_side[s] for s in SIDES.intersection(words)):
            return f"'{said}' names more than '{only.name}', the one so labelled on its side"
    extra = [set(normalize(p).split()) - set(words) - SIDES - PART_NOUNS for p in only.phrases()]
    leaf = not any(s.labels < only.labels for s in ontology.structures.values())
    if several and leaf and all(any(w.isalpha() for w in e) for e in extra):
        return f"'{said}' names more than '{only.name}', the one so labelled"
    return None


def _said_of(s: Structure) -> set[str]:
    """The directions a structure's names say: "posterior" of `posterior_leaflet`, "left" of `lat_vent_L`."""
    return {w for w in name_words(s) if direction(w)}


def _twins(a: Structure, b: Structure) -> bool:
    """Named alike but for their directions: the left and the right lateral ventricle, the two leaflets."""
    return name_words(a) - _said_of(a) == name_words(b) - _said_of(b) and _said_of(a) != _said_of(b)


def _within(phrase: str, ontology: Ontology, parents: list[Structure], apart: bool = False) -> PartReading | str | None:
    labels = frozenset().union(*(p.labels for p in parents))
    named = [name_words(p) for p in parents]
    # `apart`: a direction that tells the parents apart names one of them ("the kidneys except the left one")
    drop = frozenset(w for w in frozenset().union(*named) if not (apart and direction(w)) or all(w in n for n in named))
    words = content_words(phrase, drop)
    if not words or apart and _plural(_written(phrase)) and set(words) <= _KINDS:  # "excluding the muscles": all
        return None
    scores = {}
    for s in ontology.structures.values():
        if s.labels < labels:
            covered = [len(words) / len(w) for w in _wordings(s, drop) if _covers(words, w)]
            if covered:
                scores[s.name] = max(covered)
    parent = " and ".join(p.name for p in parents)
    parts = [s for s in ontology.structures.values() if s.labels < labels]
    listing = ", ".join(f"'{s.name}'" for s in parts) or "none"
    by_direction = any(direction(w) for w in words)
    read = f"'{strip_possessive(phrase)}'" + (f" (read as {' '.join(words)})" if by_direction else "")
    if not scores:
        return f"{read} names no part of the {parent} (its parts: {listing})"
    best = max(scores.values())
    top = [n for n, v in scores.items() if v == best]
    if len(top) > 1:
        return f"{read} could be any of {', '.join(map(repr, sorted(top)))} within the {parent}"
    return PartReading(
        ontology.structures[top[0]], words, round(best, 3), "direction lexicon" if by_direction else "part words"
    )
