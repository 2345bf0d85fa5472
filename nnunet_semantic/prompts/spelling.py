"""Misspelt words ("hipocampus", "posterir") corrected to the one word of the prompt vocabulary they are closest
to, so that a typo is read as what it names instead of being refused or sent to the text encoder alone.

Only words of at least MIN_LENGTH letters that the vocabulary lacks are corrected, and only to a single clearly
closest word (difflib ratio at least CUTOFF): short words and near-ties stay as written.
"""

from __future__ import annotations

import difflib
import re

from nnunet_semantic.prompts.directions import DIRECTIONS, PART_NOUNS
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.wording import EXCLUSION_CONNECTIVES, HELDOUT_TEMPLATES, TRAINING_TEMPLATES

MIN_LENGTH, CUTOFF = 5, 0.85
_WORD = re.compile(r"[A-Za-z]+")


def vocabulary(ontology: Ontology) -> set[str]:
    """Every word a prompt for this ontology may use: its wordings, directions, part nouns, connectives, requests."""
    texts = [
        *(p for s in ontology.structures.values() for p in (*s.phrases(), *s.heldout)),
        *EXCLUSION_CONNECTIVES,
        *TRAINING_TEMPLATES,
        *HELDOUT_TEMPLATES,
        *PART_NOUNS,
        *(w for ws in DIRECTIONS.values() for w in ws),
    ]
    return {w.lower() for t in texts for w in _WORD.findall(t)}


def respell(text: str, ontology: Ontology) -> str | None:
    """`text` with its misspelt words corrected; None when nothing was corrected."""
    words = vocabulary(ontology)

    def fix(match: re.Match) -> str:
        word = match.group(0)
        low = word.lower()
        if len(low) < MIN_LENGTH or low in words or low.rstrip("s") in words:
            return word
        close = difflib.get_close_matches(low, words, n=2, cutoff=CUTOFF)
        ratios = [difflib.SequenceMatcher(None, low, c).ratio() for c in close]
        return close[0] if close and (len(close) == 1 or ratios[0] - ratios[1] > 0.05) else word

    fixed = _WORD.sub(fix, text)
    return fixed if fixed != text else None
