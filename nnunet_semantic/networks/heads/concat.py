"""The `concat` baseline (UNet-CLIP style): the whole prompt's embedding tiled and concatenated at the bottleneck,
which nnU-Net's decoder then follows, once per prompt."""

from __future__ import annotations

import torch
from torch import nn

from nnunet_semantic.networks.heads.base import PromptHead, as_list, one_prompt_per_row, register_head
from nnunet_semantic.networks.types import ImageFeatures, PromptOutput


@register_head("concat")
class TextConcatHead(PromptHead):
    sites = ("encoder",)
    uses_frequency = False

    def __init__(self, config, stage_widths, unet):
        super().__init__(config, stage_widths, unet)
        self.bottleneck = unet.encoder.conv_op(stage_widths[-1] + config.text_dim, stage_widths[-1], 1)

    def text_parameters(self) -> list[nn.Parameter]:
        return []  # trained with the image path, as the baseline was

    def forward(self, features: ImageFeatures, text: dict[str, torch.Tensor], decoder: nn.Module) -> PromptOutput:
        features, text = one_prompt_per_row(features, text)
        skips = features.semantic
        spatial = skips[-1].shape[2:]
        tiled = text["pos"].view(*text["pos"].shape, *[1] * len(spatial)).expand(-1, -1, *spatial)
        return PromptOutput(as_list(decoder([*skips[:-1], self.bottleneck(torch.cat([skips[-1], tiled], 1))])))
