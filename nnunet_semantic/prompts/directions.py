"""Anatomical direction and part words, so that a direction is read by its meaning, never by how its embedding
happens to sit ("back" can lie nearer "front" than "posterior" for a sentence encoder).

Each word of a group stands for the group's direction, in a prompt and in an ontology's names alike, so "its rear
portion" and "the tail of the hippocampus" both name the part whose names say "posterior". Groups follow how
radiologists speak of a structure's own axis: `cranial` / `caudal` sit with anterior / posterior as for the
hippocampus' long axis (head to tail); an ontology whose parts are named superior / inferior is read with those
words. A direction a structure has no part for is an error, not the nearest guess.
"""

from __future__ import annotations

DIRECTIONS: dict[str, tuple[str, ...]] = {
    "anterior": ("anterior", "front", "frontal", "fore", "forward", "rostral", "cranial", "head", "ventral"),
    "posterior": ("posterior", "back", "rear", "hind", "caudal", "tail", "dorsal"),
    "superior": ("superior", "upper", "top", "above", "apical"),
    "inferior": ("inferior", "lower", "bottom", "below", "basal"),
    "left": ("left", "sinister"),
    "right": ("right", "dexter"),
    "medial": ("medial", "inner", "inside", "internal", "central", "centre", "center", "middle", "mid"),
    "lateral": ("lateral", "outer", "outside", "external", "peripheral", "periphery"),
    "proximal": ("proximal",),
    "distal": ("distal",),
    "body": ("body",),
}
OPPOSITE = {"anterior": "posterior", "superior": "inferior", "left": "right", "medial": "lateral", "proximal": "distal"}
OPPOSITE |= {b: a for a, b in OPPOSITE.items()}

# words that say "a piece of" without saying which: dropped before a part is looked up
SIDES = frozenset({"left", "right"})  # the two sides a label or a prompt names a paired structure by
PART_NOUNS = frozenset(
    {
        "part",
        "portion",
        "half",
        "halve",
        "section",
        "segment",
        "end",
        "side",
        "piece",
        "bit",
        "aspect",
        "pole",
        "tip",
        "extremity",
        "third",
        "quarter",
        "subregion",
        "component",
        "area",
        "region",
        "territory",
        "zone",
        "lobe",
        "division",
        "rim",
        "tissue",
    }
)
# words that grade a direction without changing it: "the most posterior part", "whatever lies furthest back"
GRADING_WORDS = frozenset(
    {
        "most",
        "furthest",
        "farthest",
        "extreme",
        "very",
        "lies",
        "lie",
        "lying",
        "located",
        "situated",
        "whatever",
        "what",
    }
)

_WORD = {w: d for d, words in DIRECTIONS.items() for w in words}


def direction(word: str) -> str | None:
    """The direction a (normalised) word names, or None; superlatives and "-ward" forms as their word ("rearmost",
    "hindmost", "anteriormost", "backwards")."""
    for suffix in ("", "most", "wards", "ward"):
        if word.endswith(suffix) and (found := _WORD.get(word[: len(word) - len(suffix)])):
            return found
    return None


def canonical(word: str) -> str:
    """A word as the parser compares it: its direction when it names one, else itself."""
    return direction(word) or word
