"""The prompt produces the classifier; the exclusion is set logic on the masks (the CMSG logical gate where it
decides the output): `p = p(target) * (1 - p(avoid))`.

Two heads, both reading the prompt-independent pixel embedding of each decoder stage:
- `PromptLabels` (default): the text says which of the dataset's labels it names; the classifier is nnU-Net's own
  label softmax weighted by that membership. Structures are sets of label ids, so this is the set algebra itself.
- `PromptQueries` (SAT's query path, VoxTell): the text generates each stage's linear classifier.

Why not an additive text correction in front of a fixed classifier: trained through nnU-Net, that model painted
the same mask for "anterior" and "posterior hippocampus" (the issue on sibling prompts has the numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

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
        """The vocabulary takes the checkpoint's size; a checkpoint from before it has none (no projection)."""
        key = prefix + "vocabulary"
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


class PromptQueries(nn.Module):
    """Text vector [..., D] -> per stage (weights [..., C_s], bias [...]): a linear map of the (centred) text plus an
    MLP of it, with no additive term shared by every text (a shared term is a classifier every prompt gets for free);
    only the scalar threshold is shared. On the toy this head follows sibling prompts; on the real hippocampus it
    still ended with one classifier for "anterior" and "posterior hippocampus" (cosine 0.998): while every generated
    classifier is the whole-organ one, the gradient the siblings send into the pixel features cancels in every
    direction but that classifier's, so the features never learn the halves. `PromptLabels` avoids that."""

    def __init__(self, text_dim: int, stage_widths: Sequence[int], hidden: int = 256):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(text_dim, hidden, bias=False), nn.GELU(),
                                   nn.Linear(hidden, hidden, bias=False), nn.GELU())
        self.weights = nn.ModuleList(nn.Linear(text_dim + hidden, w, bias=False) for w in stage_widths)
        self.biases = nn.ModuleList(nn.Linear(hidden, 1) for _ in stage_widths)

    def forward(self, e: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        h = self.trunk(e)
        eh = torch.cat([e, h], -1)
        return [(w(eh), b(h)[..., 0]) for w, b in zip(self.weights, self.biases)]


def query_logits(pixels: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """pixels [B, C, H, W], weights [B, K, C], bias [B, K] -> logits [B, K, H, W]; the decoder's features are
    shared by all K prompts of an image."""
    return torch.einsum("bchw,bkc->bkhw", pixels, weights) * pixels.shape[1] ** -0.5 + bias[..., None, None]


def compose_logits(target: torch.Tensor, avoid: torch.Tensor, has_avoid: torch.Tensor) -> torch.Tensor:
    """logit of `sigmoid(target) * (1 - sigmoid(avoid))` where `has_avoid`, `target` elsewhere (exactly)."""
    log_p = (F.logsigmoid(target) + F.logsigmoid(-avoid)).clamp(max=-1e-7)
    composed = log_p - torch.log(-torch.expm1(log_p))
    return torch.where(has_avoid, composed, target)


def two_class(logits: torch.Tensor) -> torch.Tensor:
    """[N, ...] foreground logits -> [N, 2, ...] (background 0): softmax gives sigmoid back, so nnU-Net's Dice+CE
    and its softmax-based export work unchanged."""
    return torch.stack([torch.zeros_like(logits), logits], 1)



class PromptLabels(nn.Module):
    """Text vector [..., D] -> membership logits [..., L] of the dataset's labels in the prompt's target.

    The `labels` head: the image path is nnU-Net's own (softmax over background and the L labels), the text path
    reads which labels a prompt names, and the mask is their product, `p = sum_l sigmoid(m_l) * p_l` (labels are
    disjoint, so this is a probability). Structures are sets of label ids (DESIGN.md), so every prompt of the
    ontology is such a union; a wording never seen in training is read by its text vector's neighbours."""

    def __init__(self, text_dim: int, num_labels: int, hidden: int = 256):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(text_dim, hidden), nn.GELU(), nn.Linear(hidden, num_labels))

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return self.mlp(e)


def label_union_logits(label_logits: torch.Tensor, membership: torch.Tensor) -> torch.Tensor:
    """label_logits [B, 1 + L, H, W] (background first), membership logits [B, K, L] -> logits [B, K, H, W] of
    `sum_l sigmoid(membership_l) * softmax(label_logits)_l`."""
    p = torch.einsum("blhw,bkl->bkhw", torch.softmax(label_logits.float(), 1)[:, 1:], torch.sigmoid(membership.float()))
    p = p.clamp(1e-6, 1 - 1e-6)
    return torch.log(p) - torch.log1p(-p)
