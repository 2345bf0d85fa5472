"""The `labels` head (default): the text says which of the dataset's labels it names, nnU-Net's label softmax says
where each label is, and the mask is their product, `p = sum_l sigmoid(m_l) * p_l` (labels are disjoint, so this is
a probability). Every prompt of the ontology is such a union; a wording never seen in training is read by its text
vector's neighbours.

Why not an additive text correction in front of a fixed classifier: trained through nnU-Net, that model painted the
same mask for "anterior" and "posterior hippocampus" (docs/design.md has the numbers).
"""

from __future__ import annotations

import torch
from torch import nn

from nnunet_semantic.networks.heads.base import PromptHead, register_head
from nnunet_semantic.networks.heads.compose import composed_output
from nnunet_semantic.networks.types import ImageFeatures, PromptOutput


def _union(labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """label probabilities [B, L, *spatial] (background dropped), membership probabilities [B, K, L] -> each
    prompt's probability [B, K, *spatial], kept off 0 and 1 so that its logit is finite."""
    return torch.einsum("bl...,bkl->bk...", labels, weights).clamp(1e-6, 1 - 1e-6)


def _logit(p: torch.Tensor) -> torch.Tensor:
    return torch.logit(p)  # one kernel: 4x faster than log(p) - log1p(-p) over a case's prompts


def label_union_logits(label_logits: torch.Tensor, membership: torch.Tensor) -> torch.Tensor:
    """label_logits [B, 1 + L, *spatial] (background first), membership logits [B, K, L] -> logits
    [B, K, *spatial] of `sum_l sigmoid(membership_l) * softmax(label_logits)_l` (2D or 3D)."""
    return _logit(_union(torch.softmax(label_logits.float(), 1)[:, 1:], torch.sigmoid(membership.float())))


def composed_foreground(label_logits: torch.Tensor, membership: torch.Tensor, has_neg: torch.Tensor) -> torch.Tensor:
    """label_logits [B, 1 + L, *spatial], membership logits [B, 2K, L] (targets, then exclusions), has_neg [B, K]
    -> foreground logits [B, K, *spatial] of `p(target) * (1 - p(exclusion))` where there is an exclusion: in
    probabilities, as `label_union_logits` then `compose_logits` give them (the same clamps) without their round
    trips through logits, and each exclusion's union only where a prompt has one."""
    labels = torch.softmax(label_logits.float(), 1)[:, 1:]
    target, avoid = torch.sigmoid(membership.float()).chunk(2, 1)
    p = _union(labels, target)
    has = has_neg.bool()
    columns = torch.nonzero(has.any(0)).flatten()  # the prompts with an exclusion (in any image of the batch)
    if len(columns):
        kept = 1 - _union(labels, avoid[:, columns])  # what the exclusion leaves: 1 where an image's prompt has none
        where = has[:, columns].view(*has[:, columns].shape, *[1] * (p.ndim - 2))
        kept = kept if bool(where.all()) else torch.where(where, kept, 1.0)  # prediction: one image, all have one
        p[:, columns] = (p[:, columns] * kept).clamp(max=1 - 1e-7)
    return _logit(p)


def membership_reader(text_dim: int, num_labels: int, hidden: int = 256) -> nn.Module:
    """Text vector [..., D] -> membership logits [..., L] of the dataset's labels in the prompt's target."""
    return nn.Sequential(nn.Linear(text_dim, hidden), nn.GELU(), nn.Linear(hidden, num_labels))


@register_head("labels")
class LabelsHead(PromptHead):
    """nnU-Net's segmentation layers answer with the dataset's labels (1 + `num_labels` outputs); an MLP reads each
    text's membership logits [..., L]."""

    reads_vocabulary = True
    membership_reader = "mlp"
    composes_labels = True

    def __init__(self, config, stage_widths, unet, hidden: int = 256):
        super().__init__(config, stage_widths, unet)
        self.mlp = membership_reader(config.text_dim, config.num_labels, hidden)

    def forward(self, features: ImageFeatures, text: dict[str, torch.Tensor], decoder: nn.Module) -> PromptOutput:
        membership = self.mlp(torch.cat([text["pos"], text["neg"]], 1))  # one pass for both parts
        pixels = [s + f for s, f in zip(features.semantic, features.frequency)]
        label_logits = [seg(f) for seg, f in zip(decoder.seg_layers[-len(pixels) :], pixels)]
        stages = [label_union_logits(labels, membership) for labels in label_logits]
        vocabulary = self.mlp(text["vocabulary"]) if "vocabulary" in text else None  # [V, L]
        return composed_output(
            stages,
            text["has_neg"],
            label_logits=label_logits[::-1],
            membership=membership,
            vocabulary_membership=vocabulary,
        )

    def label_logits(self, features: ImageFeatures, decoder: nn.Module) -> torch.Tensor:
        return decoder.seg_layers[-1](features.semantic[-1] + features.frequency[-1])

    def compose(self, label_logits: torch.Tensor, text: dict[str, torch.Tensor]) -> torch.Tensor:
        """In probabilities (`composed_foreground`): prediction reads only the full-resolution stage."""
        membership = self.mlp(torch.cat([text["pos"], text["neg"]], 1))
        return composed_foreground(label_logits, membership, text["has_neg"])

    def foreground(self, features: ImageFeatures, text: dict[str, torch.Tensor], decoder: nn.Module) -> torch.Tensor:
        return self.compose(self.label_logits(features, decoder), text)
