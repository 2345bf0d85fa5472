"""The `query` head (SAT's query path, VoxTell): the text generates each decoder stage's linear classifier, dotted
with the prompt-independent pixel embedding. It can name regions no label describes, but on the real hippocampus it
ended with one classifier for "anterior" and "posterior hippocampus" (cosine 0.998): while every generated
classifier is the whole-organ one, the gradient the siblings send into the pixel features cancels in every direction
but that classifier's, so the features never learn the halves. The `labels` head avoids that."""

from __future__ import annotations

import torch
from torch import nn

from nnunet_semantic.networks.heads.base import PromptHead, register_head
from nnunet_semantic.networks.heads.compose import composed_output
from nnunet_semantic.networks.types import ImageFeatures, PromptOutput


def query_logits(pixels: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """pixels [B, C, *spatial], weights [B, K, C], bias [B, K] -> logits [B, K, *spatial]; the decoder's features
    are shared by all K prompts of an image."""
    bias = bias.view(*bias.shape, *[1] * (pixels.ndim - 2))
    return torch.einsum("bc...,bkc->bk...", pixels, weights) * pixels.shape[1] ** -0.5 + bias


@register_head("query")
class QueryHead(PromptHead):
    """Text vector -> per stage (weights [..., C_s], bias [...]): a linear map of the (centred) text plus an MLP of
    it, with no additive term shared by every text (a shared term is a classifier every prompt gets for free); only
    the scalar threshold is shared. Replaces nnU-Net's segmentation layers."""

    def __init__(self, config, stage_widths, unet, hidden: int = 256):
        super().__init__(config, stage_widths, unet)
        text_dim = config.text_dim
        self.trunk = nn.Sequential(
            nn.Linear(text_dim, hidden, bias=False), nn.GELU(), nn.Linear(hidden, hidden, bias=False), nn.GELU()
        )
        self.weights = nn.ModuleList(nn.Linear(text_dim + hidden, w, bias=False) for w in stage_widths)
        self.biases = nn.ModuleList(nn.Linear(hidden, 1) for _ in stage_widths)
        unet.decoder.seg_layers = nn.ModuleList()  # the prompt makes the classifiers

    def classifiers(self, e: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        h = self.trunk(e)
        eh = torch.cat([e, h], -1)
        return [(w(eh), b(h)[..., 0]) for w, b in zip(self.weights, self.biases)]

    def forward(self, features: ImageFeatures, text: dict[str, torch.Tensor], decoder: nn.Module) -> PromptOutput:
        classifiers = self.classifiers(torch.cat([text["pos"], text["neg"]], 1))[-len(features.semantic) :]
        stages = [query_logits(s + f, w, b) for s, f, (w, b) in zip(features.semantic, features.frequency, classifiers)]
        return composed_output(stages, text["has_neg"])
