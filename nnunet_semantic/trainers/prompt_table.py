"""Per-case verified prompts and their text vectors, ready for the data loader (no encoder at iteration time)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.prompts.sidecar import Prompt, read_sidecar_folder
from nnunet_semantic.text.bank import EmbeddingBank


def sidecar_folder(preprocessed_folder: Path) -> Path:
    """`prompts/` of the preprocessed dataset; copied there from nnUNet_raw the first time, so training needs
    only the preprocessed folder afterwards."""
    here = Path(preprocessed_folder) / "prompts"
    if here.is_dir():
        return here
    raw = os.environ.get("nnUNet_raw")
    source = Path(raw) / Path(preprocessed_folder).name / "prompts" if raw else None
    if source is None or not source.is_dir():
        raise SemanticError(f"no prompt sidecars for {Path(preprocessed_folder).name}: neither {here} nor "
                            f"{source or '$nnUNet_raw/<dataset>/prompts'} exists; convert the dataset with "
                            "`nnunet-semantic convert`")
    shutil.copytree(source, here)
    return here


def prompt_texts(prompt: Prompt, merged: bool) -> tuple[str, str]:
    """(text for E_pos, text for E_neg or ""). Decomposed: an L3 prompt's parts; merged: the whole text."""
    if merged or not prompt.neg_text:
        return prompt.text, ""
    return prompt.pos_text, prompt.neg_text


@dataclass
class CasePrompts:
    """One case's prompts as arrays: level, target/avoid label ids, and row indices into the vector table."""

    levels: np.ndarray
    targets: list[tuple[int, ...]]
    avoids: list[tuple[int, ...]]
    pos: np.ndarray
    neg: np.ndarray  # -1: no exclusion

    def sample(self, rng=np.random) -> int:
        """Uniform over the levels the case has, then over that level's prompts: L3 is not drowned by L2."""
        level = rng.choice(np.unique(self.levels))
        return int(rng.choice(np.flatnonzero(self.levels == level)))


class PromptTable:
    def __init__(self, sidecars: dict[str, list[Prompt]], merged: bool = False):
        self.sidecars, self.merged = sidecars, merged
        self.texts = sorted({t for ps in sidecars.values() for p in ps for t in prompt_texts(p, merged) if t})
        self._row = {t: i for i, t in enumerate(self.texts)}
        self.cases: dict[str, CasePrompts] = {}
        for case, prompts in sidecars.items():
            if not prompts:
                continue
            pairs = [prompt_texts(p, merged) for p in prompts]
            self.cases[case] = CasePrompts(np.array([p.level for p in prompts]), [p.target for p in prompts],
                                           [p.avoid for p in prompts], np.array([self._row[a] for a, _ in pairs]),
                                           np.array([self._row[b] if b else -1 for _, b in pairs]))
        self.vectors: np.ndarray | None = None

    @classmethod
    def load(cls, preprocessed_folder: Path, merged: bool = False) -> PromptTable:
        return cls(read_sidecar_folder(sidecar_folder(preprocessed_folder)), merged)

    def attach(self, bank: EmbeddingBank, extra_texts: tuple[str, ...] = ()) -> None:
        self.texts += [t for t in extra_texts if t not in self._row]
        self._row = {t: i for i, t in enumerate(self.texts)}
        self.vectors = bank.get(self.texts)

    def vector(self, text: str) -> np.ndarray:
        return self.vectors[self._row[text]]

    def text_arrays(self, case: str, index: int) -> tuple[np.ndarray, np.ndarray, bool]:
        c = self.cases[case]
        pos = self.vectors[c.pos[index]]
        has_neg = c.neg[index] >= 0
        return pos, (self.vectors[c.neg[index]] if has_neg else np.zeros_like(pos)), bool(has_neg)
