"""What flows through a SemanticUNet: its input (images with their prompts), the prompt-independent image features,
and the typed result a head returns, which the loss consumes (no state is left on a module between calls)."""

from __future__ import annotations

from typing import NamedTuple

import torch


class PromptedImages(NamedTuple):
    """Images [B, C, ...] and K prompts per image ([B, K, D] text vectors, [B, K] has-exclusion flags): one input,
    so nnU-Net's `train_step` moves and feeds it as it does an image batch. `vocabulary` [V, D]: texts read without
    an image (training: wordings of the ontology's structures, whose labels the text path learns)."""

    image: torch.Tensor
    pos: torch.Tensor
    neg: torch.Tensor
    has_neg: torch.Tensor
    vocabulary: torch.Tensor | None = None

    def to(self, device, non_blocking: bool = False) -> PromptedImages:
        return PromptedImages(*(t if t is None else t.to(device, non_blocking=non_blocking) for t in self))

    def text(self) -> dict[str, torch.Tensor]:
        text = {"pos": self.pos, "neg": self.neg, "has_neg": self.has_neg}
        return text if self.vocabulary is None else {**text, "vocabulary": self.vocabulary}


class ImageFeatures(NamedTuple):
    """The prompt-independent part of a forward, one entry per stage the prompt meets, lowest resolution first."""

    semantic: list[torch.Tensor]
    frequency: list[torch.Tensor] | None = None
    keys: list[torch.Tensor | None] | None = None  # a head's own prompt-independent part (the CMSG gates' keys)


class PromptOutput(NamedTuple):
    """A head's answer for B * K prompt maps (prompt-major within an image), every list largest resolution first
    (nnU-Net's deep-supervision order; one entry without deep supervision)."""

    logits: list[torch.Tensor]  # [B*K, 2, ...]: background 0 / prompted target
    parts: list[tuple[torch.Tensor, torch.Tensor]] | None = None  # target, exclusion foreground logits [B*K, 1, ...]
    label_logits: list[torch.Tensor] | None = None  # the `labels` head's map of the dataset's labels [B, 1 + L, ...]
    membership: torch.Tensor | None = None  # the `labels` head's reading of the texts [B, 2K, L]: targets, exclusions
    exclusion_gates: list[torch.Tensor] | None = None  # the additive CMSG heads' G_exc per stage [B*K, 1, ...]
    vocabulary_membership: torch.Tensor | None = None  # the `labels` head's reading of the vocabulary texts [V, L]
