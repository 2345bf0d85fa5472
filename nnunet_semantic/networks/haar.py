"""One-level 2D Haar DWT (ptwt: maintained, exact against PyWavelets)."""

from __future__ import annotations

import ptwt
import torch
from torch import nn


class HaarDWT(nn.Module):
    """[B, C, H, W] -> [B, 4C, ceil(H/2), ceil(W/2)]: the LL, LH, HL, HH bands of every channel, band by band.

    The detail bands carry the texture (high-frequency) information that the frequency stream gates on.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ll, (lh, hl, hh) = ptwt.wavedec2(x, "haar", level=1, mode="zero")
        return torch.cat([ll, lh, hl, hh], dim=1).to(x.dtype)


class HalfResolution(nn.Module):
    """The no-frequency ablation: raw intensities at the DWT's resolution (2x2 average), no detail bands."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.avg_pool2d(x, 2, ceil_mode=True)
