"""BiomedCLIP's ViT-B/16 as an additional semantic stream: the input resized to 224, blocks 9-11 trainable,
its 14x14 patch-token map projected and upsampled into the U-Net's bottleneck (and so into the decoder)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nnunet_semantic.text.biomedclip import MODEL_CFG, load_biomedclip, locate

VIT_INPUT = 224


def _vit(source: str | None) -> nn.Module:
    """BiomedCLIP's image trunk (timm ViT) with its weights when found, else the same architecture at random."""
    if source or locate() is not None:
        return load_biomedclip(source, device="cpu").model.visual.trunk
    import timm

    warnings.warn(
        "BiomedCLIP weights not found (see `nnunet-semantic doctor`): the ViT semantic stream starts from "
        "random weights",
        stacklevel=3,
    )
    return timm.create_model(MODEL_CFG["vision_cfg"]["timm_model_name"], pretrained=False, num_classes=0)


class BiomedCLIPStream(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        source: str | None = None,
        trainable_blocks: Sequence[int] = (9, 10, 11),
    ):
        super().__init__()
        self.trunk = _vit(source)
        for p in self.trunk.parameters():
            p.requires_grad_(False)
        for i in trainable_blocks:
            for p in self.trunk.blocks[i].parameters():
                p.requires_grad_(True)
        for p in self.trunk.norm.parameters():
            p.requires_grad_(True)
        self.adapter = nn.Conv2d(in_channels, 3, 1)  # MRI/CT channels -> the 3 channels the ViT was trained on
        self.proj = nn.Conv2d(self.trunk.embed_dim, out_channels, 1)

    def forward(self, x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        x = F.interpolate(self.adapter(x), size=(VIT_INPUT, VIT_INPUT), mode="bilinear", align_corners=False)
        tokens = self.trunk.forward_features(x)[:, self.trunk.num_prefix_tokens :]
        side = int(tokens.shape[1] ** 0.5)
        fmap = tokens.transpose(1, 2).reshape(len(x), -1, side, side)  # 14 x 14 for ViT-B/16 at 224
        return F.interpolate(self.proj(fmap), size=tuple(size), mode="bilinear", align_corners=False)
