"""What a prompt was read as: each phrase's structures and how they were found (`Reading`), and the whole
prompt's label sets, the texts the model is given and the readings (`ParsedPrompt`)."""

from __future__ import annotations

from dataclasses import dataclass

from nnunet_semantic.prompts.ontology import Structure


@dataclass(frozen=True)
class Reading:
    """How one part of a prompt was read: the structures, by what ("ontology": a wording of the ontology;
    "part words" / "direction lexicon": a part named relative to its structure; "structure words": a collective
    read by its words), with what confidence, and the text the model is given for it (the wording as written, or
    the structure's name otherwise)."""

    role: str  # "target", "exclusion" or "kept" (what "everything except" keeps)
    phrase: str
    structures: tuple[Structure, ...]
    by: str
    confidence: float
    encoded: str

    def to_dict(self) -> dict:
        return {
            "role": self.role,
            "phrase": self.phrase,
            "structures": [s.name for s in self.structures],
            "by": self.by,
            "confidence": self.confidence,
            "encoded": self.encoded,
        }


@dataclass(frozen=True)
class ParsedPrompt:
    text: str
    target: tuple[int, ...]
    avoid: tuple[int, ...]
    pos_text: str
    neg_text: str
    target_structures: tuple[str, ...]
    avoid_structures: tuple[str, ...]
    readings: tuple[Reading, ...] = ()
    respelled: str = ""  # the prompt as read, where misspelt words were corrected

    @property
    def as_written(self) -> bool:
        """One target, every part a wording of the ontology: the model may read the prompt's own words."""
        return (
            all(r.by == "ontology" and r.role != "kept" for r in self.readings)
            and sum(r.role == "target" for r in self.readings) == 1
        )

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "target": list(self.target),
            "avoid": list(self.avoid),
            "pos_text": self.pos_text,
            "neg_text": self.neg_text,
            "target_structures": list(self.target_structures),
            "avoid_structures": list(self.avoid_structures),
            "resolution": [r.to_dict() for r in self.readings],
        } | ({"respelled": self.respelled} if self.respelled else {})
