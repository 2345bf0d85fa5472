"""Latin names said in English words: "os frontale" is the frontal bone, "ossa nasalia" the nasal bones,
"musculus rectus abdominis" the rectus abdominis, "arteria carotis communis sinistra" the left common carotid
artery, "caput humeri" the head of the humerus, "auricula atrii sinistri" the auricle of the left atrium.

A Latin name is its noun, then what qualifies it, then its side; English says them the other way round, and a
genitive ("of the humerus") after the noun. Only a run of words all of which the tables below know is read."""

from __future__ import annotations

import re

# "os frontale", "os hyoideum", "os hamatum"
_BONE = re.compile(r"\bos\s+([a-z]+?)(al|ar|oid|id|at)(?:e|eum|ium|um)\b", re.IGNORECASE)
_BONES = re.compile(r"\bossa\s+([a-z]+?)(al|ar)ia\b", re.IGNORECASE)  # "ossa nasalia"
_MUSCLE = re.compile(r"\b(?:musculus|musculi|mm?\.)\s+", re.IGNORECASE)


def _bone(m: re.Match) -> str:
    return f"{m[1]}ate" if m[2] == "at" else f"{m[1]}{m[2]} bone"  # "os lunatum" is the lunate


def _table(text: str) -> dict[str, str]:
    return {latin: english for row in text.split(",") for *forms, english in [row.split()] for latin in forms}


_NOUNS = _table(
    """arteria a. artery, arteriae arteries, vena v. vein, venae veins, nervus n. nerve, nervi nerves, truncus
    trunk, glandula gland, ligamentum ligament, lobus lobe, pulmo lung, ren kidney, mamma breast, caput
    head, collum neck, corpus body, cauda tail, cavitas cavity, tendo tendon, aqueductus aqueduct, auricula
    auricle, ventriculus ventricle, atrium atrium, medulla medulla, cortex cortex, plexus plexus, ductus
    duct, vesica bladder, meatus meatus, canalis canal, fascia fascia, sinus sinus, ovarium ovary, meniscus
    meniscus, scalenus scalene, gyrus gyrus, aorta aorta"""
)
_ADJECTIVES = _table(
    """communis common, interna internus internum internal, externa externus externum external, superior
    superior, inferior inferior, anterior anterior, posterior posterior, media medius middle, major major,
    minor minor, profunda profundus deep, superficialis superficial, iliaca iliacus iliac, carotis carotid,
    coeliacus celiacus coeliaca celiac, renalis renal, mesenterica mesenteric, subclavia subclavian,
    vertebralis vertebral, basilaris basilar, femoralis femoral, poplitea popliteal, pulmonalis pulmonary,
    hepatica hepatic, portae portal, lienalis splenica splenic, jugularis jugular, parotidea parotid,
    submandibularis submandibular, thyroidea thyroid, glenoidalis glenoid, coronaria coronary,
    brachiocephalicus brachiocephalic, spinalis spinal, lumbalis lumbar, thoracica thoracic, abdominalis
    abdominal, ascendens ascending, descendens descending, transversum transversus transverse, sigmoideum
    sigmoid, opticus optic, facialis facial, calcaneus calcaneal, urinaria urinary, cava cava, lateralis
    lateral, medialis medial, medianus median, ulnaris ulnar, radialis radial, ischiadicus sciatic,
    acusticus acoustic, sphenoidalis sphenoid, tertius third, quartus fourth, cruciatum cruciate, posterius
    posterior, anterius anterior, dentatus dentata dentate, entorhinalis entorhinal"""
)
_GENITIVES = _table(
    """humeri humerus, femoris femur, fibulae fibula, tibiae tibia, patellae patella, radii radius, ulnae
    ulna, costae rib, pancreatis pancreas, hepatis liver, cordis heart, atrii atrium, ventriculi ventricle,
    mesencephali midbrain, encephali brain, cerebri brain, cerebelli cerebellum, vertebrae vertebra,
    mandibulae mandible, scapulae scapula, calcanei calcaneus, pulmonis lung, renis kidney, vesicae bladder"""
)
_SIDES = _table("sinister sinistra sinistrum sinistri left, dexter dextra dextrum dextri right")
# a side said in Latin after any name ("subiculum sinistrum"), and a bone by its owner ("os femoris")
_SIDE = re.compile(rf"\b({'|'.join(_SIDES)})\b", re.IGNORECASE)
_WORDS = {**_ADJECTIVES, **_GENITIVES, **_SIDES}
# an adjective the tables lack, by its ending: "retromandibularis" is "retromandibular", "gastrica" "gastric"
_ENDINGS = ((re.compile(r"(\w{4,}a)(?:ris|re)$"), r"\1r"), (re.compile(r"(\w{4,}a)(?:lis|le)$"), r"\1l"))
_ENDINGS += ((re.compile(r"(\w{4,}ic)(?:us|a|um)$"), r"\1"),)
_NOUN, _WORD = "|".join(map(re.escape, _NOUNS)), "|".join([*_WORDS, r"\w{4,}(?:aris|are|alis|ale|icus|ica|icum)"])
_NAME = re.compile(rf"\b({_NOUN})((?:\s+(?:{_WORD}))+)\b", re.IGNORECASE)


# names not said word for word, and nouns said by themselves
_SAID = {
    "medulla spinalis": "spinal cord",
    "truncus encephali": "brainstem",
    "tendo calcaneus": "achilles tendon",
    "substantia grisea": "gray matter",
    "substantia alba": "white matter",
    "intestinum rectum": "rectum",
    "cavitas oris": "oral cavity",
    "vesica biliaris": "gallbladder",
    "vesica fellea": "gallbladder",
    "papilla mammae": "nipple",
    **{"macula lutea": "macula", "fovea centralis": "fovea", "papilla nervi optici": "optic disc"},
    **{"cutis": "skin", "costa": "rib", "costae": "ribs", "hepar": "liver", "lien": "spleen"},
    **{"mamma": "breast", "mammae": "breasts", "renes": "kidneys", "pulmones": "lungs"},
}
_SAID_AS = re.compile(rf"\b({'|'.join(_SAID)})\b", re.IGNORECASE)
_OWNED_BONE = re.compile(rf"\bos\s+({'|'.join(_GENITIVES)})\b", re.IGNORECASE)


def _name(m: re.Match) -> str:
    words = m[2].lower().split()
    side = [_SIDES[w] for w in words if w in _SIDES]
    qualifiers = [_ADJECTIVES.get(w) or _adjective(w) for w in reversed(words) if w not in _SIDES | _GENITIVES.keys()]
    if "cava" in qualifiers:  # "vena cava superior": the vena cava is one noun
        return " ".join([*side, *(q for q in qualifiers if q != "cava"), "vena cava"])
    noun = " ".join([*qualifiers, _NOUNS[m[1].lower()]])
    owners = [_GENITIVES[w] for w in words if w in _GENITIVES]
    if owners:  # "caput humeri": the head of the humerus; "auricula atrii sinistri": of the left atrium
        return f"{noun} of the {' '.join([*side, *owners])}"
    return " ".join([*side, noun])


def _adjective(word: str) -> str:
    for ending, english in _ENDINGS:
        word = ending.sub(english, word)
    return word


def english(text: str) -> str:
    """`text` with its Latin names in the words the labels' names use."""
    text = _BONES.sub(lambda m: f"{m[1]}{m[2]} bones", _BONE.sub(_bone, text))
    text = _SAID_AS.sub(lambda m: _SAID[m[1].lower()], _OWNED_BONE.sub(lambda m: _GENITIVES[m[1].lower()], text))
    return _SIDE.sub(lambda m: _SIDES[m[1].lower()], _NAME.sub(_name, _MUSCLE.sub("", text)))
