"""K prompts for each sample of one of nnU-Net's batches, drawn after nnU-Net's loader and augmentation.

nnU-Net's loader and transforms run unchanged (its crop, oversampling, augmentation and deep-supervision
downsampling of the label map); a prompt's masks are then read off the augmented label map at every scale: nearest
downsampling commutes with `isin`, so this equals masking first and downsampling the masks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from nnunet_semantic.networks.types import PromptedImages
from nnunet_semantic.trainers.prompt_table import PromptTable
from nnunet_semantic.trainers.sources import Sources


class PromptTargets(NamedTuple):
    """nnU-Net's targets (the label map at each deep-supervision scale, [B, 1, ...]) and what the prompts ask of
    them: indicator vectors [B, K, L] over labels 1..L of each prompt's target and avoided labels (for the masks)
    and of what its texts name (for the `labels` head's reading), has-exclusion flags and levels [B, K]."""

    segs: list[torch.Tensor]
    target_labels: torch.Tensor
    avoid_labels: torch.Tensor
    pos_labels: torch.Tensor
    neg_labels: torch.Tensor
    has_neg: torch.Tensor
    level: torch.Tensor
    label_mask: torch.Tensor | None = None  # [B, 1 + L]: the labels each case's source annotates (merged datasets)
    vocabulary_labels: torch.Tensor | None = None  # [V, L]: the labels each vocabulary text names

    def to(self, device, non_blocking: bool = False) -> PromptTargets:
        return PromptTargets(
            [s.to(device, non_blocking=non_blocking) for s in self.segs],
            *(t if t is None else t.to(device, non_blocking=non_blocking) for t in self[1:]),
        )

    def masks(self, scale: int = 0) -> torch.Tensor:
        """[B * K, 3, ...] (prompt-major within an image): the composed mask isin(seg, target) & ~isin(seg, avoid),
        then its parts isin(seg, target) and isin(seg, avoid), each supervising its half of
        `p = p(target) * (1 - p(avoid))`."""
        seg = self.segs[scale][:, 0]
        labels = torch.arange(1, self.target_labels.shape[-1] + 1, device=seg.device)
        onehot = (seg[:, None] == labels.view(1, -1, *[1] * (seg.ndim - 1))).to(self.target_labels.dtype)
        target, avoid = (
            torch.einsum("bl...,bkl->bk...", onehot, sets) > 0 for sets in (self.target_labels, self.avoid_labels)
        )
        return torch.stack([target & ~avoid, target, avoid], 2).flatten(0, 1).to(torch.int16)


class PromptSampler:
    """Per sample: `k` prompts drawn from the case's table (levels balanced), a share `reword` of their texts in
    another wording of the same structure (training only). Per batch, `vocabulary` (each structure's wordings and
    labels) gives one wording of every structure, read without an image: the text path learns which labels a
    structure is made of even where no case is annotated with the whole structure (one source annotates its
    front, another its back), which no mask can teach."""

    def __init__(
        self,
        table: PromptTable,
        k: int,
        num_labels: int,
        reword: float = 0.0,
        sources: Sources | None = None,
        vocabulary: list[tuple[list[str], tuple[int, ...]]] | None = None,
    ):
        self.table, self.k, self.num_labels, self.reword, self.sources = table, k, num_labels, reword, sources
        self.vocabulary = [(table.rows(texts), labels) for texts, labels in vocabulary or []]
        self.vocabulary_labels = np.zeros((len(self.vocabulary), num_labels), np.float32)
        for row, (_, labels) in enumerate(self.vocabulary):
            self.vocabulary_labels[row, [label - 1 for label in labels]] = 1

    def __call__(self, batch: dict, train: bool = True, rng=np.random) -> dict:
        rows = []
        for key in batch["keys"]:
            case = self.table.cases.get(key)
            if case is None:
                raise RuntimeError(f"case {key} has no verified prompts; reconvert the dataset")
            index = case.sample(self.k, rng)
            pos, neg, has_neg = self.table.text_arrays(key, index, self.reword if train else 0.0, rng)
            rows.append(
                (
                    pos,
                    neg,
                    has_neg,
                    *self.table.label_sets(key, index, self.num_labels),
                    *self.table.memberships(key, index, self.num_labels),
                    case.levels[index],
                )
            )
        pos, neg, has_neg, target, avoid, pos_labels, neg_labels, level = (
            torch.from_numpy(np.stack(c)) for c in zip(*rows)
        )
        segs = batch["target"] if isinstance(batch["target"], list) else [batch["target"]]
        mask = (
            None if self.sources is None else torch.from_numpy(self.sources.label_mask(batch["keys"], self.num_labels))
        )
        vocabulary = labels = None
        if self.vocabulary:
            vocabulary = torch.from_numpy(self.table.vectors[[rng.choice(rows) for rows, _ in self.vocabulary]])
            labels = torch.from_numpy(self.vocabulary_labels)
        return {
            **batch,
            "data": PromptedImages(batch["data"], pos, neg, has_neg, vocabulary),
            "target": PromptTargets(segs, target, avoid, pos_labels, neg_labels, has_neg, level, mask, labels),
        }
