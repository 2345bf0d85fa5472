"""A structure said with the organ it lies in where no label is that organ: "pituitary adenoma", "the
breast's lesion", "the crus of the diaphragm". A label map names its findings and parts without the organ its
dataset is about; the organ said then tells no two labels apart, and the structure is read without it. A
finding may lie in any organ: it is read so only where no other organ is labelled ("hepatic tumour" beside
`kidney` is refused)."""

from __future__ import annotations

import re

from nnunet_semantic.prompts.anatomy import ANATOMY, KINDS
from nnunet_semantic.prompts.directions import PART_NOUNS, SIDES
from nnunet_semantic.prompts.groups import member_said
from nnunet_semantic.prompts.ontologies.context import TISSUES, is_target
from nnunet_semantic.prompts.ontology import Ontology, normalize
from nnunet_semantic.prompts.wording import RELATIONAL

# organs' adjectives beside `RELATIONAL`'s, as a finding's site: "laryngeal carcinoma", "pituitary adenoma"
_ADJECTIVES = {
    **RELATIONAL,
    **{"pituitary": "pituitary gland", "laryngeal": "larynx", "diaphragmatic": "diaphragm", "ileal": "ileum"},
    **{"endometrial": "endometrium", "mammary": "breast", "thyroid": "thyroid gland"},
    **{"adrenal": "adrenal gland"},
    **{"urothelial": "bladder", "esophageal": "esophagus", "uterine": "uterus", "ovarian": "ovary"},
}
_SITES = frozenset(map(normalize, (*ANATOMY, *(m for ms in KINDS.values() for m in ms)))) | set(_ADJECTIVES)
_LIST = re.compile(r"[,;+&/]|\b(?:and|or|plus|with)\b", re.IGNORECASE)
_ORGANS = frozenset(map(normalize, KINDS[next(k for k in KINDS if "organ" in k)]))


def _labelled(site: str, ontology: Ontology) -> set[str]:
    """The organs among `_ORGANS` and `site` that labels are, or are parts of, by name (`kidney_left`,
    `bladder_wall`, `lung_RUL`; not the thyroid of `ThyroidCartilage`)."""
    names = [normalize(p).split() for s in ontology.structures.values() for p in s.phrases()]
    names = [[w for w in n if w not in SIDES] for n in names]
    return {o for o in {*_ORGANS, site} for n in names if _of(o.split(), n)}


def _of(organ: list[str], name: list[str]) -> bool:
    rest = name[len(organ) :]
    return name[: len(organ)] == organ and (not rest or rest[0] in TISSUES | PART_NOUNS or rest[0].isupper())


def unsited(phrase: str, ontology: Ontology) -> str | None:
    """The phrase without the organ it says its structure lies in ("pituitary adenoma", "adenoma of the
    pituitary", "the breast's lesion": "adenoma", "lesion"), where the rest is one structure's wording and no
    label is the organ; None otherwise."""
    if _LIST.search(phrase):
        return None
    words = normalize(phrase).split()
    sides = [w for w in words if w in SIDES]
    words = [w for w in words if w not in SIDES]
    for i in range(1, len(words)):
        site, rest = words[:i], words[i + (words[i] == "s") :]  # "breast s lesion": the possessive's "s"
        if words[i] in ("of", "in"):
            site, rest = words[i + 1 :], words[:i]
        said = " ".join(site)
        read, organ = " ".join([*sides, *rest]), normalize(_ADJECTIVES.get(said, said))
        if not rest or said not in _SITES or len(names := ontology.lookup(read)) != 1:
            continue
        labelled = _labelled(organ, ontology)
        if not is_target(ontology.structures[names.pop()]):  # a part: of an organ no label is
            if organ not in labelled:
                return read
        elif labelled <= {organ} and (organ in _ORGANS or not labelled):  # a finding: no other organ labelled
            return read
    return None


def alone(phrase: str, ontology: Ontology) -> str | None:
    """A structure said with what it is of: its group ("the thyroid's isthmus"), its organ ("pituitary
    adenoma")."""
    return member_said(phrase) or unsited(phrase, ontology)
