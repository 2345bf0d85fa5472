"""A prompt as the predictor answers it: the texts its two encoders read, and how they were found."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ResolvedPrompt:
    text: str
    pos_text: str  # what E_pos encodes
    neg_text: str  # what E_neg encodes ("" = no exclusion)
    parse: dict | None  # the ontology's reading (target/avoid/pos/neg), None when it could not parse
    nearest: dict | None = None  # free text only: the closest known structure by text embedding
    parts: tuple[str, ...] = ()  # a target of several structures: E_pos reads each, the masks' union is the answer

    def free_text_line(self) -> str:
        """One line naming a prompt answered from its free text: what was encoded, and the structure it is nearest."""
        parts = f"'{self.pos_text}'" + (f" excluding '{self.neg_text}'" if self.neg_text else "")
        near = self.nearest
        return f"free text: '{self.text}' read by nearest text as {parts}" + (
            f", nearest structure '{near['structure']}' (similarity {near['similarity']:.2f}, threshold "
            f"{near['threshold']:.2f}{', low confidence' if near['low_confidence'] else ''})"
            if near
            else ""
        )

    def explain(self) -> list[str]:
        """How the prompt was read, one line per part (structures, by what, confidence), then what the model was
        given: for people (the napari plugin shows it beside the prompt's mask)."""
        if self.parse is None:
            return [self.free_text_line()]
        lines = [
            f"{r['role']} '{r['phrase']}' -> {', '.join(r['structures'])} (by {r['by']}, confidence "
            f"{r['confidence']:.2f})"
            for r in self.parse.get("resolution", [])
        ]
        lines += [
            f"the model reads '{m['text']}' as labels {m['read_as']}, not {m['labels']}: "
            + (f"given '{m['given']}'" if "given" in m else "given as written (it reads the names no better)")
            for m in self.parse.get("model_reading", [])
        ]
        pos = " or ".join(f"'{p}'" for p in self.parts) if self.parts else f"'{self.pos_text}'"
        encoded = pos + (f" excluding '{self.neg_text}'" if self.neg_text else "")
        return [*lines, f"model given {encoded}" + (" (each answered, the masks' union kept)" if self.parts else "")]

    def to_dict(self) -> dict:
        free = (
            [
                {
                    "role": "target",
                    "phrase": self.pos_text,
                    "structures": [self.nearest["structure"]],
                    "by": "nearest text",
                    "confidence": self.nearest["similarity"],
                    "encoded": self.pos_text,
                }
            ]
            if self.nearest
            else []
        )
        return {
            "text": self.text,
            "parsed": self.parse is not None,
            **(self.parse or {"resolution": free}),
            "encoded": {"target": self.pos_text, "exclusion": self.neg_text}
            | ({"union_of": list(self.parts)} if self.parts else {}),
            **({"nearest": self.nearest} if self.nearest else {}),
        }
