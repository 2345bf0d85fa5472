"""General anatomy's groups and kinds, for labels that name only their members (a user's own dataset,
one structure per label): "the basal ganglia" of `Left-Caudate` .. `Right-Pallidum`, "all bones".

A group is read where the labels hold at least two of its members (or its one member: "the lumbar spine"),
never one member for the whole. A kind ("all bones", "the vessels") is read only where every structure's kind
is known, so that a bone this table lacks is never silently left out; otherwise the collective reads kinds by
the structures' names alone (`parts.read_collective`).
"""

from __future__ import annotations

import functools
import re

from nnunet_semantic.prompts.anatomy import ANATOMY, FINDINGS, GROUPS, KINDS
from nnunet_semantic.prompts.directions import SIDES, direction
from nnunet_semantic.prompts.ontologies.context import is_target
from nnunet_semantic.prompts.ontologies.label_names import SYNONYMS
from nnunet_semantic.prompts.ontology import Ontology, Structure, normalize, singular

_SUBKINDS = {"vessel": ("artery", "vein", "vessel")}
# unpaired structures on one side of the body, which their names do not say
_ONE_SIDED = frozenset(
    map(normalize, "spleen, liver, stomach, gallbladder, heart, sigmoid colon, appendix, cecum".split(", "))
)
# unpaired structures that labels may split into left and right halves: "the cerebellum" is both
_UNPAIRED = frozenset("cerebellum, cerebrum, brain, liver, thyroid, thyroid gland, prostate, heart, tongue".split(", "))
# words of every structure ("all left-sided structures", "all right-sided OARs") and adjectives of a kind
_EVERY = frozenset({"structure", "label", "hemisphere", "oar"})
_ADJECTIVES = {"bony": "bone", "osseous": "bone", "vascular": "vessel", "arterial": "artery", "venous": "vein"}
_SIDE_WORDS = SIDES | {"side", "sided"}
_ENDS = frozenset({"proximal", "distal"})
_LEVEL = re.compile(r"^(?:[ctls]\d{1,2}|\d+|[ivx]+)$")  # "vertebrae L2", "rib 7", "segment IV"


def _key(phrase: str) -> str:
    """A wording without its side, number and end: "rib left 7" -> "rib", "vertebrae L2" -> "vertebra", "radius
    distal" -> "radius" (a bone's end seen in the image is that bone of a group: "the forearm bones")."""
    return " ".join(w for w in normalize(phrase).split() if w not in _SIDE_WORDS | _ENDS and not _LEVEL.match(w))


@functools.lru_cache(maxsize=4096)
def _keys(s: Structure) -> frozenset[str]:
    return frozenset(k for p in (s.name, *s.names, *s.synonyms) if (k := _key(p)))


def _sideless(s: Structure) -> frozenset[str]:
    """Its wordings without their side, as written otherwise (`Musc_Constrict_I` is one of several)."""
    return frozenset(" ".join(w for w in normalize(p).split() if w not in _SIDE_WORDS) for p in (s.name, *s.synonyms))


def _is(s: Structure, members: frozenset[str], kinds: tuple[str, ...] = ()) -> bool:
    """Whether a wording of `s` is one of `members`, or ends in one ("fetal brain", "hilar lymph node") or in a
    kind's word ("common carotid artery")."""
    heads = (k.split(" of ")[0].split() for k in _keys(s))  # "ligament of the patella" is no patella
    said = [w for k in heads for w in (k, [x for x in k if not direction(x)]) if w]  # "tibia distal"
    ends = ((w[-1], " ".join(w[-2:])) for w in said)
    return any(last in kinds or last in members or two in members for last, two in ends)


_MEMBERS = {kind: frozenset(map(_key, m)) for kind, m in KINDS.items()}
_KIND_WORDS = (*KINDS, *_SUBKINDS)
# structures whose kind is known: general anatomy's names, findings and synonyms
_KNOWN = frozenset(map(_key, (*ANATOMY, *FINDINGS, *(w for g in SYNONYMS for w in g)))).union(*_MEMBERS.values())
_NAMES = {normalize(n): frozenset(map(_key, m)) for names, m in GROUPS.items() for n in names}
_ALSO = {normalize(n): frozenset(map(normalize, names)) for names in GROUPS for n in names}  # its other names
_LAST = [(normalize(n), n.split()[-1]) for names in GROUPS for n in names]
_PLURAL = {n for n, w in _LAST if singular(w) != w} - {n for n, w in _LAST if singular(w) == w}  # "hepatic veins"


def member_said(phrase: str) -> str | None:
    """A group's member said with its group ("the thyroid's isthmus", "isthmus of the thyroid", "thyroid
    isthmus"): the member alone; None when the phrase says no such pair."""
    words = normalize(phrase).split()
    for i in range(1, len(words)):
        whole, part = " ".join(words[:i]), words[i + (words[i] == "s") :]  # "thyroid s isthmus"
        if words[i] == "of":
            whole, part = " ".join(words[i + 1 :]), words[:i]
        member = " ".join(part)
        if whole in _NAMES and member and _key(member) in _NAMES[whole]:
            return member
    return None


def read_group(words: list[str], ontology: Ontology, plural: bool) -> tuple[Structure, ...] | None:
    """The structures a group's or a kind's name stands for (`words`: the phrase's normalized words,
    quantifiers and "labelled" dropped): a group ("the basal ganglia"), a kind in the plural ("all bones"; "the
    organ" is one of them), a kind of some words ("the renal vessels", "the communicating arteries"), a structure
    said with its kind ("vastus intermedius muscle"), or every structure of a side ("all left-sided structures");
    those of its side where it says one. None when the words name none of these, or when the members are not
    labelled as they must be."""
    sides = SIDES.intersection(words)
    said = " ".join(w for w in words if w not in _SIDE_WORDS and w != "on")  # "all bones on the right side"
    if len(sides) > 1 or not said and not sides:
        return None
    structures = list(ontology.structures.values())
    if said in _NAMES and (plural or said not in _PLURAL):  # "the hepatic vein" is one of them
        members = _NAMES[said]
        found = [s for s in structures if _keys(s) & members]
        whole = [s for s in structures if _sideless(s) & (_ALSO[said] - members)]  # "bony pelvis" of `pelvis`
        if not found and len(whole) == 1 and sides <= sides_of(whole[0]):
            return tuple(whole)
        if len({k for s in found for k in _keys(s) & members}) < min(2, len(members)):
            return None
    else:
        found = _of_kind(said.split(), ontology, plural, sides)  # "organs at risk": "OARs" already (`parts`)
    if found is None or sides and any(_keys(s) & _ONE_SIDED for s in found):
        return None  # "left-sided organs" with the spleen labelled: its name does not say its side
    if sides and said in _NAMES and not all(sides_of(s) for s in found):
        return None  # "left-sided sinuses" with a frontal sinus labelled whole: which half, its label does not say
    found = [s for s in found if sides <= sides_of(s) and ontology.holder(s.labels) not in found]
    return tuple(found) if found else None


def _of_kind(words: list[str], ontology: Ontology, plural: bool, sides: set[str]) -> list[Structure] | None:
    """The structures of a kind (`read_group`), or of every kind where the words name none but a side."""
    structures = [s for s in ontology.structures.values() if "oar" not in words or not is_target(s)]  # no GTV
    words = [_ADJECTIVES.get(w, w) for w in words if w not in _EVERY]
    if not words:  # "all left-sided structures", "every right hemisphere label", "left-sided OARs"
        return structures if sides and plural else None
    *of, kind = words
    if kind not in _KIND_WORDS:
        return None
    kinds = _SUBKINDS.get(kind, (kind,))
    members = frozenset().union(*(_MEMBERS.get(k, frozenset()) for k in kinds))
    if of:  # "renal vessels": the kind's structures named with those words; "vastus intermedius muscle": one
        named = [s for s in structures if any(set(of) <= set(k.split()) and "and" not in k.split() for k in _keys(s))]
        if not all(_is(s, _KNOWN, _KIND_WORDS) for s in named):
            return None  # "teres muscles" with a "teres" of unknown kind: no census of them
        found = [s for s in named if _is(s, members, kinds)]
        one = [ontology.structures[n] for n in ontology.lookup(" ".join(of))]
        one = one or [s for s in found if sides and sides <= sides_of(s) and " ".join(of) in _keys(s)]
        return one if len(one) == 1 and one[0] in found else found if plural else None  # "left X muscle" too
    if not plural or not all(_is(s, _KNOWN, _KIND_WORDS) for s in structures):
        return None  # one of a kind, or a structure of unknown kind: no census of the kind
    return [s for s in structures if _is(s, members, kinds)]


@functools.lru_cache(maxsize=4096)
def sides_of(s: Structure) -> frozenset[str]:
    """The sides a structure is named with (by any wording: `LM` is the "left main coronary artery")."""
    words = (w for p in (s.name, *s.names, *s.synonyms) for w in normalize(p).split())
    return SIDES.intersection(words)


def halves(structures, said: list[str]) -> bool:
    """The left and right halves of one unpaired structure the prompt names ("cerebellum left" / "cerebellum
    right" of "the cerebellum"; not of "the cerebrum")."""
    named = {" ".join(w for w in normalize(s.name).split() if w not in SIDES) for s in structures}
    return len(named) == 1 and named <= _UNPAIRED and set(next(iter(named)).split()) <= set(said)
