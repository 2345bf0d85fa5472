"""Per-case verified prompts and their text vectors, ready for the data loader (no encoder at iteration time)."""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.prompts.ontology import normalize
from nnunet_semantic.prompts.sidecar import ABSENT, Prompt, read_sidecar_folder
from nnunet_semantic.text.bank import EmbeddingBank


def _folder_hash(folder: Path) -> str:
    digest = hashlib.sha1()
    for path in sorted(folder.glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def sidecar_folder(preprocessed_folder: Path, name: str = "prompts", required: bool = True) -> Path | None:
    """`prompts/` (or `name`, e.g. `prompts_heldout/`) of the preprocessed dataset, a copy of
    `$nnUNet_raw/<dataset>/<name>`: made the first time and refreshed (with a warning) whenever the raw sidecars
    changed, e.g. after a re-conversion, so training never uses stale prompts. Without the raw folder the copy is
    used as it is; without either, an error (None where not `required`)."""
    here = Path(preprocessed_folder) / name
    raw = os.environ.get("nnUNet_raw")
    source = Path(raw) / Path(preprocessed_folder).name / name if raw else None
    if source is None or not source.is_dir():
        if here.is_dir() or not required:
            return here if here.is_dir() else None
        raise SemanticError(
            f"no prompt sidecars for {Path(preprocessed_folder).name}: neither {here} nor "
            f"{source or '$nnUNet_raw/<dataset>/prompts'} exists; convert the dataset with "
            "`nnunet-semantic convert`"
        )
    if here.is_dir():
        if _folder_hash(here) == _folder_hash(source):
            return here
        warnings.warn(
            f"the prompt sidecars in {source} changed since they were copied to {here} (re-converted?); "
            "refreshing the copy",
            stacklevel=2,
        )
    partial = here.with_name(f".{name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    shutil.rmtree(here, ignore_errors=True)
    partial.rename(here)
    return here


def prompt_texts(prompt: Prompt, merged: bool) -> tuple[str, str]:
    """(text for E_pos, text for E_neg or ""). Decomposed: an L3 prompt's parts; merged: the whole text."""
    if merged or not prompt.neg_text:
        return prompt.text, ""
    return prompt.pos_text, prompt.neg_text


def absent_prompts(prompts: list[Prompt], structures: dict[str, tuple[int, ...]]) -> list[Prompt]:
    """The L1 prompt of every structure the case has neither a verified L1 nor an absent prompt for (sidecars
    written before absent prompts existed): its mask is empty."""
    present = {p.text for p in prompts if p.level in (1, ABSENT)}
    return [
        Prompt(f"absent-{name}", ABSENT, name, labels) for name, labels in structures.items() if name not in present
    ]


@dataclass
class CasePrompts:
    """One case's prompts as arrays: level, target/avoid label ids, and row indices into the vector table."""

    levels: np.ndarray
    targets: list[tuple[int, ...]]
    avoids: list[tuple[int, ...]]
    pos: np.ndarray
    neg: np.ndarray  # -1: no exclusion
    # num_labels -> the prompts' [P, L] target and avoided-label indicators, built at the first batch (a lookup after)
    _label_matrices: dict[int, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @cached_property
    def probabilities(self) -> np.ndarray:
        """Each prompt's probability of being drawn first: uniform over the levels the case has, then over that
        level's prompts, so L3 is not drowned by L2 (computed once: `sample` runs for every sample of a batch)."""
        levels, counts = np.unique(self.levels, return_inverse=True, return_counts=True)[1:]
        return 1.0 / (len(counts) * counts[levels])

    def sample(self, k: int = 1, rng=np.random) -> np.ndarray:
        """k prompt indices, distinct while the case has enough, drawn with `probabilities`. Sibling prompts drawn
        together get contradictory targets on the same pixels, which is what teaches the model to read the prompt."""
        p = self.probabilities
        first = rng.choice(len(p), min(k, len(p)), replace=False, p=p)
        return np.concatenate([first, rng.choice(len(p), k - len(first), p=p)]) if len(first) < k else first

    def label_matrices(self, num_labels: int) -> tuple[np.ndarray, np.ndarray]:
        """[P, L] 0/1 indicators of each prompt's target and avoided labels among 1..num_labels."""
        if num_labels not in self._label_matrices:
            target, avoid = np.zeros((2, len(self.targets), num_labels), np.float32)
            for row, (t, a) in enumerate(zip(self.targets, self.avoids)):
                target[row, [label - 1 for label in t]] = 1
                avoid[row, [label - 1 for label in a]] = 1
            self._label_matrices[num_labels] = target, avoid
        return self._label_matrices[num_labels]


class PromptTable:
    """`absent` (case -> structure name -> labels): each case also gets the L1 prompt of every such structure it
    lacks, at level ABSENT, whose target is empty: a model must learn to answer "nothing" as well. `sidecars` keeps
    only the verified prompts. `wordings`: groups of texts that name the same structure (its training wordings); a
    prompt text (or part) in exactly one group may be swapped for another of that group (text augmentation), so the
    model learns the structure rather than one string. All of them are in the table, so the bank encodes them
    once."""

    def __init__(
        self,
        sidecars: dict[str, list[Prompt]],
        merged: bool = False,
        absent: Callable[[str], dict[str, tuple[int, ...]]] | None = None,
        wordings: list[list[str]] | None = None,
    ):
        self.sidecars, self.merged = sidecars, merged
        trained = {
            case: prompts + absent_prompts(prompts, absent(case) if absent else {})
            for case, prompts in sidecars.items()
        }
        texts = {t for ps in trained.values() for p in ps for t in prompt_texts(p, merged) if t}
        self.texts = sorted(texts | {t for group in wordings or [] for t in group})
        self._row = {t: i for i, t in enumerate(self.texts)}
        groups: dict[str, list[int]] = {}  # normalized text -> indices of the groups it is in
        for g, group in enumerate(wordings or []):
            for t in group:
                groups.setdefault(normalize(t), []).append(g)
        self.alternatives: list[np.ndarray] = []  # per row: the rows it may be swapped for (itself at least)
        for row, text in enumerate(self.texts):
            found = set(groups.get(normalize(text), ()))  # in two groups: ambiguous, never swapped
            self.alternatives.append(
                np.array([self._row[t] for t in wordings[found.pop()]] if len(found) == 1 else [row])
            )
        self.cases: dict[str, CasePrompts] = {}
        for case, prompts in trained.items():
            if not sidecars[case]:
                continue
            pairs = [prompt_texts(p, merged) for p in prompts]
            self.cases[case] = CasePrompts(
                np.array([p.level for p in prompts]),
                [p.target for p in prompts],
                [p.avoid for p in prompts],
                np.array([self._row[a] for a, _ in pairs]),
                np.array([self._row[b] if b else -1 for _, b in pairs]),
            )
        self.vectors: np.ndarray | None = None

    @classmethod
    def load(
        cls,
        preprocessed_folder: Path,
        merged: bool = False,
        absent: Callable[[str], dict[str, tuple[int, ...]]] | None = None,
        wordings: list[list[str]] | None = None,
    ) -> PromptTable:
        return cls(read_sidecar_folder(sidecar_folder(preprocessed_folder)), merged, absent, wordings)

    def attach(self, bank: EmbeddingBank, extra_texts: tuple[str, ...] = ()) -> None:
        new = [t for t in extra_texts if t not in self._row]
        self.texts += new
        self.alternatives += [np.array([len(self._row) + i]) for i in range(len(new))]
        self._row = {t: i for i, t in enumerate(self.texts)}
        self.vectors = bank.get(self.texts)

    def vector(self, text: str) -> np.ndarray:
        return self.vectors[self._row[text]]

    def rows(self, texts: list[str]) -> list[int]:
        return [self._row[t] for t in texts]

    def _reworded(self, rows, share: float, rng) -> np.ndarray:
        """Each row kept, or (with probability `share`) swapped for a random other wording of its structure."""
        rows = np.atleast_1d(rows)
        swap = rng.random(len(rows)) < share
        return np.array([rng.choice(self.alternatives[r]) if s and r >= 0 else r for r, s in zip(rows, swap)])

    def text_arrays(self, case: str, index, reword: float = 0.0, rng=np.random):
        """(pos, neg, has_neg) of one prompt index ([D], [D], bool) or of an index array ([K, D], [K, D], [K]);
        `reword`: the share of texts swapped for another wording of the same structure (training only)."""
        c = self.cases[case]
        has_neg = c.neg[index] >= 0
        pos_rows, neg_rows = c.pos[index], c.neg[index]
        if reword:
            shape = np.shape(pos_rows)
            pos_rows = self._reworded(pos_rows, reword, rng).reshape(shape)
            neg_rows = self._reworded(neg_rows, reword, rng).reshape(shape)
        pos, neg = self.vectors[pos_rows], self.vectors[neg_rows]
        neg = np.where(np.asarray(has_neg)[..., None], neg, 0).astype(pos.dtype)
        return pos, neg, has_neg if np.ndim(has_neg) else bool(has_neg)

    def label_sets(self, case: str, index: np.ndarray, num_labels: int) -> tuple[np.ndarray, np.ndarray]:
        """Each prompt's target and avoided labels among 1..num_labels ([K, L] each, 0/1): its masks' sets."""
        target, avoid = self.cases[case].label_matrices(num_labels)
        return target[index], avoid[index]

    def memberships(self, case: str, index: np.ndarray, num_labels: int) -> tuple[np.ndarray, np.ndarray]:
        """Which of labels 1..num_labels each prompt's parts name ([K, L] each, 0/1): the target part names the
        target's labels (merged: the target's less the avoided, one text for the composed set), the exclusion
        part the avoided labels (zeros where there is none). Absent prompts name their structure's labels."""
        target, avoid = self.label_sets(case, index, num_labels)
        has_neg = (self.cases[case].neg[index] >= 0)[:, None]
        return (target * (1 - avoid) if self.merged else target), avoid * has_neg
