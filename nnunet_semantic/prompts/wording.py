"""How people phrase a request, split into wordings a model trains on and wordings kept for the evaluation.

A model that has only seen "hippocampus" may still fail "segment the hippocampus"; invariance to wording is only
measured honestly on wordings it never saw. So the request templates and exclusion connectives come in two
disjoint sets: the training set feeds text augmentation, the held-out set only the evaluation's `*_heldout`
prompts (with each structure's own `heldout` phrases from the ontology).
"""

from __future__ import annotations

import re

# typographic dashes and quotes as their ASCII forms (what people paste from documents)
TYPOGRAPHIC = str.maketrans(
    {
        "\u2013": " - ",
        "\u2014": " - ",
        "\u2012": " - ",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00a0": " ",
        "_": " ",  # a label's name as written in dataset.json: `Femoral_Head_R`
    }
)
# clinical shorthand as the words it stands for (read only where the ontology's vocabulary lacks the token);
# "R" / "L" only in capitals ("R kidney"), as report headings write them
SHORTHAND = {
    "lt": "left",
    "rt": "right",
    "lft": "left",
    "rgt": "right",
    "R": "right",
    "L": "left",
    "bilat": "bilateral",
    "b/l": "bilateral",
    "abd": "abdominal",
    "abdo": "abdominal",
    "pls": "please",
    "plz": "please",
    "excl": "excluding",
    "incl": "including",
    "w/o": "without",
    "mets": "metastases",
    "met": "metastasis",
    "w/": "with",
    "ant": "anterior",
    "post": "posterior",
    "sup": "superior",
    "inf": "inferior",
    "seg": "segment",
    "lac": "laceration",
    "fx": "fracture",
    "kid": "kidney",
    "ca": "cancer",
    "vent": "ventricle",
    "vents": "ventricles",
    "kids": "kidneys",
    "ln": "lymph node",
    "lig": "ligament",
    "asc": "ascending",
    "desc": "descending",
    "eff": "effusion",
    "lns": "lymph nodes",
    "nr": "nerve root",
}
# who a possessive names before a structure: "the patient's kidneys"
PERSONS = ("patient", "subject", "participant", "volunteer", "person", "case", "individual", "child", "man", "woman")
PERSONS += ("fetus", "foetus", "baby", "infant", "neonate", "newborn", "mother")
# relational adjectives and the noun each stands for: "the mass in the liver" is the "hepatic mass"
RELATIONAL = {
    "hepatic": "liver",
    "renal": "kidney",
    "nephric": "kidney",
    "splenic": "spleen",
    "pancreatic": "pancreas",
    "pulmonary": "lung",
    "cardiac": "heart",
    "femoral": "femur",
    "sacral": "sacrum",
    "aortic": "aorta",
    "atrial": "atrium",
    "cerebral": "brain",
    "gastric": "stomach",
    "vesical": "bladder",
    "prostatic": "prostate",
    "vascular": "vessel",
    "vasculature": "vessel",
    "osseous": "bone",
    "tumoral": "tumor",
    "tumorous": "tumor",
    "tumoural": "tumor",
    "neoplastic": "neoplasm",
    "cystic": "cyst",
    "edematous": "edema",
    "viscera": "organ",
    "visceral": "organ",
}
ADJECTIVE_ENDING = re.compile(r"(?:al|ar|ic|ous|ary|ive)$")  # "renal", "acetabular"; not "vasculature"
ADJECTIVES = frozenset(filter(ADJECTIVE_ENDING.search, RELATIONAL))  # the adjectives among them
_NON_LATIN = re.compile(r"\S*[^\x00-\x7f]\S*")  # words normalize() would drop silently


def non_latin_words(text: str) -> list[str]:
    """The words of a text the parser cannot read (prompts and ontologies are English: a-z, digits, punctuation)."""
    return _NON_LATIN.findall(str(text).translate(TYPOGRAPHIC))


TRAINING_TEMPLATES = (
    "{}",
    "the {}",
    "show the {}",
    "outline the {}",
    "find the {}",
    "mask of the {}",
    "label the {}",
    "{} area",
)
HELDOUT_TEMPLATES = ("segment the {}", "{} region", "where is the {}?", "delineate the {}", "highlight the {}")

EXCLUSION_CONNECTIVES = (
    "excluding",
    "except for",
    "except",
    "without",
    "but not",
    "other than",
    "sparing",
    "minus",
    "not including",
    "exclusive of",
    "apart from",
    "leaving out",
    "leave out",
    "save for",
    "save",
    "aside from",
    "with the exception of",
    "not counting",
    "barring",
    "bar",
    "omitting",
    "but without",
    "but excluding",
    "but not including",
    "excepting",
    "disregarding",
    "skipping",
    "skip",
)
# never trained on: the evaluation's held-out L3 prompts draw theirs from here
HELDOUT_CONNECTIVES = (
    "apart from",
    "other than",
    "not including",
    "leaving out",
    "save for",
    "save",
    "aside from",
    "with the exception of",
    "not counting",
    "barring",
    "bar",
    "omitting",
    "but without",
    "but excluding",
    "but not including",
    "excepting",
    "disregarding",
    "leave out",
    "skipping",
    "skip",
)
TRAINING_CONNECTIVES = tuple(c for c in EXCLUSION_CONNECTIVES if c not in HELDOUT_CONNECTIVES)

REQUEST_VERBS = (
    "segment",
    "show",
    "outline",
    "find",
    "label",
    "delineate",
    "highlight",
    "mark",
    "locate",
    "contour",
    "draw",
    "mask",
    "detect",
    "identify",
    "get",
    "give",
    "take",
    "select",
    "extract",
    "isolate",
    "display",
    "visualise",
    "visualize",
    "annotate",
    "trace",
    "keep",
    "return",
    "capture",
)
# restrictive, emphatic and quantifying words around a name: "just the liver", "both kidneys", "the kidney itself"
EMPHATIC_HEAD = (
    "just",
    "only",
    "solely",
    "purely",
    "simply",
    "exclusively",
    "both",
    "all",
    "all of",
    "each",
    "each of",
    "every",
    "any",
    "either",
    "entire",
    "whole",
    "complete",
    "full",
    "total",
    "every bit of",
    "the entirety of",
    "entirety of",
    "the whole of",
    "whole of",
    "all of the",
    "full extent of",
    "extent of",
    "those",
    "these",
    "two",
    "the two",
    "both of the",
    "rest of",  # "the tumour + rest of the pancreas": beside what is named, the rest is the whole
    "remainder of",
)
EMPHATIC_TAIL = (
    "itself",
    "themselves",
    "alone",
    "only",
    "in its entirety",
    "in their entirety",
    "as a whole",
    "in full",
    "entirely",
    "completely",
    "in total",
    "overall",
    "proper",
    "nothing else",
    "and nothing else",
    "included",
    "too",
    "as well",
    "tissue",
    "parenchyma",
    "together",
    "in general",
    "as one structure",
    "as a single structure",
    "as one region",
    "as a single region",
    "as one mask",
    "as a single mask",
    "combined",
    "bilaterally",
    "on both sides",
)


def alternatives(words) -> str:
    """A regex alternation of `words`, longest first (so "all of" is tried before "all"), spaces as any space."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len, reverse=True))


_VERB_HEAD = (  # "please segment", "can you outline", "I need a mask of", "give me the outline of"
    r"^(?:(?:please|kindly)\s+)?(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?)?"
    r"(?:i(?:\s+only|\s+just)?(?:\s+need|\s+want|\s+would\s+like|\s*'d\s+like)\s+|(?:give|show|get|send)\s+me\s+)?"
    rf"(?:(?:{alternatives(REQUEST_VERBS)})(?:\s+me)?\s+|where\s+(?:(?:is|are)\s+)?|which\s+of\s+\w+\s+\w+\s+(?:is|are)\s+|"
    r"(?:(?:a|an|the)\s+)?(?:mask|segmentation|outline|contour|delineation)\s+of\s+)?"
)
# "X, labelled please", "X, nothing else": a request said after its structure, whatever the structure's words
ASKED_AFTER = re.compile(
    r"\s*[,:-]\s*(?:(?:labell?ed|segmented|annotated|outlined|delineated|contoured|masked)(?:,?\s+please)?|"
    r"(?:and\s+)?nothing\s+else|only|alone|whole|entire|in\s+full|please|that'?s\s+(?:it|all)|thanks?|thank\s+you|"
    r"(?:both|all)(?:\s+of\s+(?:it|them)|\s+segments|\s+parts)?"
    r"(?:,?\s+please)?)[\s?.!]*$|"
    # "... outlined for me?": said after it without a comma (what it is for: `PURPOSE`, taken out first)
    r"(?:\s+(?:labell?ed|segmented|outlined|delineated|contoured|masked))?\s+for\s+(?:me|us)[\s?.!]*$",
    re.IGNORECASE,
)
# what a structure is wanted for, said after it: "tumour for nephrectomy planning", "... for a memory study"
_PURPOSES = (
    r"\b(?:planning|study|boost|biopsy|volumetry|assessment|measurements?|follow[-\s]?up|review|"
    r"research|analysis|score|surgery|radiotherapy|nephrometry|ratio|staging)\b"
)
# what it is for, said after it or first before a colon ("for staging: the mass + ALN")
PURPOSE = re.compile(
    rf"\s+for\s+[^,;]*?{_PURPOSES}[^,;]*?(?=\s*[,;]|$)|^\s*for\s+[^,;:]*?{_PURPOSES}[^,;:]*:\s*", re.IGNORECASE
)
_REQUEST_HEAD = re.compile(_VERB_HEAD + r"(?:(?:the|a|an|all)\s+)?", re.IGNORECASE)
_REQUEST_TAIL = re.compile(r"(?:\s+(?:regions?|areas?|please|is|are|lies|lie))+[\s?.!]*$|[\s?.!]+$", re.IGNORECASE)
_EMPHATIC_HEAD = re.compile(_VERB_HEAD + rf"(?:(?:the|a|an|{alternatives(EMPHATIC_HEAD)})\s+)*", re.IGNORECASE)
_EMPHATIC_TAIL = re.compile(
    rf"(?:[\s,]+(?:regions?|areas?|please|{alternatives(EMPHATIC_TAIL)}))+[\s?.!]*$|[\s?.!]+$", re.IGNORECASE
)


def strip_request(phrase: str, emphatic: bool = False) -> str:
    """The structure words of a request ("segment the X", "where is the X?", "X region" -> "X"), with
    `emphatic` also restrictive and quantifying words ("just the X", "both Xs", "the X itself"); the phrase itself
    when there is no request around it. The parser tries the phrase as written first, and without `emphatic`
    next, so a name that itself ends in "region" or starts with "whole" is read whole."""
    head, tail = (_EMPHATIC_HEAD, _EMPHATIC_TAIL) if emphatic else (_REQUEST_HEAD, _REQUEST_TAIL)
    return tail.sub("", head.sub("", phrase.strip())).strip()


def with_article(name: str) -> str:
    """`name`, with "the" before a name of several words ("the posterior hippocampus", "organ")."""
    return f"the {name}" if " " in name and not name.startswith("the ") else name


def training_wordings(structure) -> list[str]:
    """What a training prompt for `structure` may say: its names, synonyms and descriptions, and its names and
    synonyms in each training template (text augmentation draws from these)."""
    words = [*(structure.names or [structure.name]), *structure.synonyms]
    return list(dict.fromkeys([*structure.phrases(), *(t.format(w) for w in words for t in TRAINING_TEMPLATES)]))


def heldout_wordings(structure) -> list[str]:
    """What only the evaluation says: the structure's held-out phrases and its shortest name in each held-out
    template."""
    name = min(structure.names or [structure.name], key=len)
    return list(dict.fromkeys([*structure.heldout, *(t.format(name) for t in HELDOUT_TEMPLATES)]))
