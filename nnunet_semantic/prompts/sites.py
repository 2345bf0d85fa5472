"""A structure said with the organ it lies in where no label is that organ: "pituitary adenoma", "the
breast's lesion", "the crus of the diaphragm". A label map names its findings and parts without the organ its
dataset is about; the organ said then tells no two labels apart, and the structure is read without it. A
finding may lie in any organ: it is read so only where no other organ is labelled ("hepatic tumour" beside
`kidney` is refused)."""

from __future__ import annotations

import re

from nnunet_semantic.prompts.anatomy import ANATOMY, GROUPS, KINDS
from nnunet_semantic.prompts.directions import PART_NOUNS, SIDES
from nnunet_semantic.prompts.exclusion import is_subtraction
from nnunet_semantic.prompts.groups import member_said
from nnunet_semantic.prompts.ontologies.context import TISSUES, is_target
from nnunet_semantic.prompts.ontology import Ontology, Structure, normalize, singular
from nnunet_semantic.prompts.parts import read_collective
from nnunet_semantic.prompts.wording import RELATIONAL
from nnunet_semantic.prompts.words import SEVERAL

# organs' adjectives beside `RELATIONAL`'s, as a finding's site: "laryngeal carcinoma", "pituitary adenoma"
_ADJECTIVES = {
    **RELATIONAL,
    **{"pituitary": "pituitary gland", "laryngeal": "larynx", "diaphragmatic": "diaphragm", "ileal": "ileum"},
    **{"endometrial": "endometrium", "mammary": "breast", "thyroid": "thyroid gland"},
    **{"adrenal": "adrenal gland", "mitral": "mitral valve", "tricuspid": "tricuspid valve"},
    **{"meniscal": "meniscus"},
    **{"urothelial": "bladder", "esophageal": "esophagus", "uterine": "uterus", "ovarian": "ovary"},
}
_SITES = frozenset(map(normalize, (*ANATOMY, *(m for t in (KINDS, GROUPS) for ms in t.values() for m in ms))))
_SITES |= set(_ADJECTIVES)
_SITE_WORDS = frozenset(w for site in _SITES for w in site.split())  # a phrase without any says no site
_LIST = re.compile(r"[,;+&/]|\s-\s|\b(?:and|or|plus|with)\b", re.IGNORECASE)  # a list or a minus
_ORGANS = frozenset(map(normalize, KINDS[next(k for k in KINDS if "organ" in k)]))


def _labelled(site: str, ontology: Ontology) -> set[str]:
    """The organs among `_ORGANS` and `site` that labels are, or are parts of, by name (`kidney_left`,
    `bladder_wall`, `lung_RUL`; not the thyroid of `ThyroidCartilage`)."""
    names = [normalize(p).split() for s in ontology.structures.values() for p in s.phrases()]
    names = [[w for w in n if w not in SIDES] for n in names]
    return {o for o in {*_ORGANS, site} for n in names if _of(o.split(), n)}


def _of(organ: list[str], name: list[str]) -> bool:
    """Whether a name is the organ's, or a part's of it said after it ("bladder wall", "lung RUL")."""
    rest = name[len(organ) :]
    return name[: len(organ)] == organ and (not rest or bool(set(rest) & (TISSUES | PART_NOUNS)))


def unsited(phrase: str, ontology: Ontology) -> str | None:
    """The phrase without the organ it says its structures lie in ("pituitary adenoma", "adenoma of the
    pituitary", "the breast's lesion", "anterior mitral leaflet", "both mitral leaflets": "adenoma", "lesion",
    "anterior leaflet", "both leaflets"), where the rest names labels and no label is the organ; None
    otherwise. A side is the structure's ("polyp in the left maxillary sinus" is a left polyp)."""
    tokens = re.findall(r"[a-z0-9]+", phrase.lower())
    if _LIST.search(phrase) or is_subtraction(phrase) or not _SITE_WORDS.intersection(map(singular, tokens)):
        return None
    said = [(w, n) for w in tokens if (n := normalize(w))]  # as written, for plurals, and as matched
    sides = [w for w, n in said if n in SIDES]
    written, words = [w for w, n in said if n not in SIDES], [n for _, n in said if n not in SIDES]
    for i, j in ((a, b) for a in range(len(words)) for b in range(a + 1, len(words) + 1)):
        site, owned = " ".join(words[i:j]), words[j : j + 1] == ["s"] or j == len(words)  # "breast's", "of"
        rest = written[:i] + written[j + (words[j : j + 1] == ["s"]) :]
        if j == len(words):  # never the last word, the head, unless after "of": "lesion of the breast"
            if rest[-1:] not in (["of"], ["in"]):
                continue
            rest = rest[:-1]
        read = " ".join([*sides, *rest])
        if not rest or site not in _SITES or " ".join(words) in _SITES:  # not "internal cerebral vein"
            continue
        if not (found := _structures(read, ontology)):
            continue
        if _sited(site, rest, found, owned, ontology):
            return read
    return None


def _sited(site: str, rest: list[str], found: list[Structure], owned: bool, ontology: Ontology) -> bool:
    """Whether the structures the rest names may be read without the site: parts of an organ no label is, or
    said to be its ("the femur's physis"); findings where no other organ is labelled; a census the site tells
    nothing apart of."""
    if len(found) > 1 and _told_apart(site, rest, found):
        return False
    organ = normalize(_ADJECTIVES.get(site, site))
    labelled = _labelled(organ, ontology)
    if not any(map(is_target, found)):
        return organ not in labelled or len(found) == 1 and owned
    return labelled <= {organ} and (organ in _ORGANS or not labelled)


def _told_apart(site: str, rest: list[str], found: list[Structure]) -> bool:
    """Whether the site, or another, is said of some of the structures a collective names: "ethmoid sinuses"
    beside a frontal sinus, "brain lesions" beside a cord lesion; no context then, but a choice among them."""
    said = [{f" {normalize(p)} " for p in s.phrases()} for s in found]
    others = _SITES - {site} - {normalize(w) for w in rest}
    return any(f" {o} " in p for phrases in said for p in phrases for o in (site, *others))


def _structures(phrase: str, ontology: Ontology) -> list[Structure]:
    """The structures a phrase names by a wording, or several by their words ("both leaflets")."""
    if len(names := ontology.lookup(phrase)) == 1:
        return [ontology.structures[names.pop()]]
    plural = any(singular(w) != w for w in phrase.split()) or SEVERAL.intersection(phrase.split())
    found = read_collective(phrase, ontology) if plural else None  # a census is of several
    return [r.structure for r in found] if isinstance(found, tuple) else []


def alone(phrase: str, ontology: Ontology) -> str | None:
    """A structure said with what it is of: its group ("the thyroid's isthmus"), its organ ("pituitary
    adenoma")."""
    return member_said(phrase) or unsited(phrase, ontology)
