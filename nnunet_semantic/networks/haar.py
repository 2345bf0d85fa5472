"""One-level Haar DWT of 2D or 3D images (ptwt: maintained, exact against PyWavelets)."""

from __future__ import annotations

import ptwt
import torch
from torch import nn


class HaarDWT(nn.Module):
    """[B, C, *spatial] -> [B, 2^d C, *ceil(spatial / 2)]: the approximation and the detail bands of every channel,
    band by band (2D: LL, LH, HL, HH; 3D: the eight bands of `ptwt.wavedec3`).

    The detail bands carry the texture (high-frequency) information that the frequency stream gates on.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4:
            approximation, details = ptwt.wavedec2(x, "haar", level=1, mode="zero")
            bands = [approximation, *details]
        elif x.ndim == 5:
            approximation, details = ptwt.wavedec3(x, "haar", level=1, mode="zero")
            bands = [approximation, *(details[key] for key in sorted(details))]
        else:
            raise ValueError(f"HaarDWT takes [B, C, H, W] or [B, C, D, H, W], got shape {tuple(x.shape)}")
        return torch.cat(bands, dim=1).to(x.dtype)


class HalfResolution(nn.Module):
    """The no-frequency ablation: raw intensities at the DWT's resolution (2x2 or 2x2x2 average), no detail bands."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = nn.functional.avg_pool3d if x.ndim == 5 else nn.functional.avg_pool2d
        return pool(x, 2, ceil_mode=True)
