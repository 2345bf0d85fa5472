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

from nnunet_semantic.prompts.anatomy import ANATOMY
from nnunet_semantic.prompts.ontologies.label_names import SYNONYMS
from nnunet_semantic.prompts.ontology import Ontology, Structure, normalize


def _table(text: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    """`names: members` per line, each a comma-separated list."""
    rows = (line.split(":") for line in re.sub(r"\n\s+", " ", text.strip()).splitlines())
    return {
        tuple(n.strip() for n in names.split(",")): tuple(m.strip() for m in members.split(","))
        for names, members in rows
    }


# a group's names: its members, each a structure of general anatomy without its side
GROUPS = _table("""
basal ganglia, basal nuclei: caudate, putamen, pallidum
striatum: caudate, putamen
lentiform nucleus, lenticular nucleus: putamen, pallidum
great arteries: aorta, pulmonary artery
great vessels: aorta, pulmonary artery, superior vena cava, inferior vena cava, pulmonary vein
cardiac chambers, heart chambers, chambers of the heart, chambers: atrium, ventricle, ventricular
    cavity, ventricular blood pool
coronary arteries, coronary tree, coronary artery tree, coronaries: left main coronary artery, left
    anterior descending artery, left circumflex artery, right coronary artery
solid organs, solid abdominal organs: liver, spleen, pancreas, kidney
bowel, intestines, gut: small bowel, small intestine, duodenum, colon, sigmoid colon, rectum
bony pelvis, pelvic bones, pelvic girdle, pelvis: hip bone, sacrum, coccyx
shoulder girdle, pectoral girdle: scapula, clavicle
lower leg bones, leg bones, bones of the lower leg, crural bones: tibia, fibula
forearm bones, bones of the forearm: radius, ulna
optic apparatus, optic pathway, visual pathway: optic nerve, optic chiasm, optic tract
anterior circulation: internal carotid artery, middle cerebral artery, anterior cerebral artery,
    anterior communicating artery
gonads: ovary, testis
salivary glands, major salivary glands: parotid gland, submandibular gland, sublingual gland
inner ear, labyrinth, bony labyrinth: cochlea, vestibule, semicircular canal
rotator cuff, rotator cuff muscles: supraspinatus, infraspinatus, teres minor, subscapularis
hamstrings, hamstring muscles: biceps femoris, semitendinosus, semimembranosus
quadriceps, quadriceps femoris, quadriceps muscles, quads: rectus femoris, vastus lateralis, vastus
    medialis, vastus intermedius
gluteal muscles, glutei, glutes: gluteus maximus, gluteus medius, gluteus minimus
biliary system, biliary tree: gallbladder, common bile duct, bile duct, hepatic duct, cystic duct
urinary tract: kidney, ureter, urinary bladder, urethra
cervical spine, c spine: cervical vertebra
thoracic spine, t spine, dorsal spine: thoracic vertebra
lumbar spine, l spine: lumbar vertebra
lumbosacral spine: lumbar vertebra, sacrum
""")
# a kind: its members besides the structures whose name ends in the kind's word ("common carotid artery")
KINDS = {
    k[0]: v
    for k, v in _table("""
bone: femur, tibia, fibula, patella, humerus, radius, ulna, scapula, clavicle, clavicula, rib,
    vertebra, sacrum, coccyx, hip, ilium, ischium, pubis, skull, mandible, maxilla, sternum,
    calcaneus, talus, femoral head, hyoid, humeral head
artery: aorta, celiac trunk, brachiocephalic trunk, pulmonary trunk
vein: inferior vena cava, superior vena cava, vena cava
muscle: iliopsoas, psoas, autochthon, gluteus maximus, gluteus medius, gluteus minimus, sartorius,
    gracilis, adductor longus, adductor brevis, adductor magnus, rectus femoris, vastus lateralis,
    vastus medialis, vastus intermedius, biceps femoris, semitendinosus, semimembranosus,
    supraspinatus, infraspinatus, teres minor, subscapularis, rectus abdominis, deltoid
organ: liver, spleen, pancreas, kidney, stomach, gallbladder, adrenal gland, urinary bladder,
    uterus, ovary, prostate, testis, rectum, colon, sigmoid colon, small bowel, duodenum, small
    intestine, esophagus, heart, lung, brain, thyroid gland
""").items()
}
_SUBKINDS = {"vessel": ("artery", "vein", "vessel")}
# structures of no kind above that are known not to be one: findings and the parts organs are divided into
_OTHERS = (
    "tumor, lesion, mass, cyst, edema, necrosis, metastasis, aneurysm, nodule, hemorrhage, whole tumor, "
    "tumor core, enhancing tumor, non enhancing tumor, trachea, spinal cord, spinal canal, "
    "intervertebral disc, myocardium, cartilage, meniscus, lymph node"
).split(", ")
# unpaired structures on one side of the body, which their names do not say
_ONE_SIDED = frozenset(
    map(normalize, "spleen, liver, stomach, gallbladder, heart, sigmoid colon, appendix, cecum".split(", "))
)
_SIDE_WORDS = frozenset({"left", "right", "side", "sided"})
_LEVEL = re.compile(r"^(?:[ctls]\d{1,2}|\d+|[ivx]+)$")  # "vertebrae L2", "rib 7", "segment IV"


def _key(phrase: str) -> str:
    """A wording without its side and number: "rib left 7" -> "rib", "vertebrae L2" -> "vertebra"."""
    return " ".join(w for w in normalize(phrase).split() if w not in _SIDE_WORDS and not _LEVEL.match(w))


@functools.lru_cache(maxsize=4096)
def _keys(s: Structure) -> frozenset[str]:
    return frozenset(k for p in (s.name, *s.names, *s.synonyms) if (k := _key(p)))


def _is(s: Structure, members: frozenset[str], kinds: tuple[str, ...] = ()) -> bool:
    return any(k in members or k.split()[-1] in kinds for k in _keys(s))


_MEMBERS = {kind: frozenset(map(_key, m)) for kind, m in KINDS.items()}
_SAID = (*ANATOMY, *_OTHERS, *(w for g in SYNONYMS for w in g))
_KNOWN = frozenset(map(_key, _SAID)).union(*_MEMBERS.values())  # structures whose kind is known
_NAMES = {normalize(n): frozenset(map(_key, m)) for names, m in GROUPS.items() for n in names}


def _of_kind(kind: str) -> tuple[frozenset[str], tuple[str, ...]]:
    kinds = _SUBKINDS.get(kind, (kind,))
    return frozenset().union(*(_MEMBERS.get(k, frozenset()) for k in kinds)), kinds


def read_group(words: list[str], ontology: Ontology, plural: bool) -> tuple[Structure, ...] | None:
    """The structures a group's or a kind's name stands for (`words`: the phrase's normalized words,
    quantifiers and "labelled" dropped), those of its side where it says one; None when the words name no
    group or kind (a kind only in the plural: "the organ" is one of them), or when its members are not
    labelled as they must be."""
    sides = {w for w in words if w in ("left", "right")}
    said = " ".join(w for w in words if w not in _SIDE_WORDS and w != "on")  # "all bones on the right side"
    if len(sides) > 1 or not said:
        return None
    structures = list(ontology.structures.values())
    if said in _NAMES:
        members = _NAMES[said]
        found = [s for s in structures if _keys(s) & members]
        kinds = {k for s in found for k in _keys(s) & members}
        if len(kinds) < min(2, len(members)):
            return None
    elif plural and (said in _MEMBERS or said in _SUBKINDS):
        members, kinds = _of_kind(said)
        if not all(_is(s, _KNOWN, (*KINDS, "vessel")) for s in structures):
            return None  # a structure of unknown kind: no census of the kind
        found = [s for s in structures if _is(s, members, kinds)]
    else:
        return None
    if sides and any(_keys(s) & _ONE_SIDED for s in found):
        return None  # "left-sided organs" with the spleen labelled: its name does not say its side
    found = [s for s in found if sides <= _sides(s) and ontology.holder(s.labels) not in found]
    return tuple(found) if found else None


@functools.lru_cache(maxsize=4096)
def _sides(s: Structure) -> frozenset[str]:
    """The sides a structure is named with (by any wording: `LM` is the "left main coronary artery")."""
    words = (w for p in (s.name, *s.names, *s.synonyms) for w in normalize(p).split())
    return frozenset(w for w in words if w in _SIDE_WORDS)
