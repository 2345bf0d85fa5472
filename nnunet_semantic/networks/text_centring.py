"""Text vectors as the heads read them: centred over the training texts, optionally projected onto them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TextCentring(nn.Module):
    """`normalize(e - mean)`, then, where a vocabulary is set, the softmax(temperature * cosine)-weighted mix of the
    training texts' (centred) vectors.

    Centring: sibling names are close in a sentence encoder (MiniLM cosine 0.83 for "anterior" vs "posterior
    hippocampus"); centring over the training texts spreads them apart. Vocabulary: the text head is fitted on a
    few hundred texts, and a wording it never saw lands where the head was never fitted ("checkerboard spot" for
    the phantom's lesion painted nothing); projected onto its nearest training wordings it is read as they are,
    while a training text maps to itself. Both are buffers, so the checkpoint carries them."""

    def __init__(self, text_dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(text_dim))
        self.register_buffer("vocabulary", torch.zeros(0, text_dim))
        self.register_buffer("temperature", torch.zeros(()))  # 0: no projection

    def set_mean(self, vectors: torch.Tensor) -> None:
        self.mean.copy_(torch.as_tensor(vectors, dtype=self.mean.dtype).mean(0))

    def set_vocabulary(self, vectors: torch.Tensor, temperature: float) -> None:
        """After `set_mean`: the training texts, stored centred."""
        vectors = torch.as_tensor(vectors, dtype=self.mean.dtype, device=self.mean.device)
        self.vocabulary = F.normalize(vectors - self.mean, dim=-1)
        self.temperature.fill_(temperature)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """The vocabulary takes the checkpoint's size; a checkpoint from before it has none (no projection), one from
        before centring no mean (no centring)."""
        key = prefix + "vocabulary"
        state_dict.setdefault(prefix + "mean", torch.zeros_like(self.mean))
        state_dict.setdefault(key, self.vocabulary.new_zeros(0, self.mean.numel()))
        state_dict.setdefault(prefix + "temperature", torch.zeros(()))
        self.vocabulary = self.vocabulary.new_empty(state_dict[key].shape)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        centred = F.normalize(e - self.mean.to(e.dtype), dim=-1)
        if not len(self.vocabulary) or not self.temperature:
            return centred
        vocabulary = self.vocabulary.to(e.dtype)
        weights = torch.softmax(self.temperature.to(e.dtype) * centred @ vocabulary.T, -1)
        return F.normalize(weights @ vocabulary, dim=-1)
