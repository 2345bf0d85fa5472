"""SemanticUNet: nnU-Net's planned 2D U-Net as the semantic stream, a frequency stream, and per-stage fusion.

`forward(x, text)` takes `text = {"pos": [B, D], "neg": [B, D], "has_neg": [B]}` and returns what the planned
U-Net returns (deep-supervision list or one map) with 2 channels: background / prompted target. The exclusion
gates of the last forward are kept in `last_exclusion_gates` for the exclusion loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nnunet_semantic.networks.cmsg import CMSGate
from nnunet_semantic.networks.frequency import build_frequency_stream
from nnunet_semantic.networks.haar import HaarDWT, HalfResolution

FUSIONS = ("cmsg", "alpha", "concat")


class SemanticUNet(nn.Module):
    def __init__(self, unet: nn.Module, in_channels: int, widths: Sequence[int], strides: Sequence[Sequence[int]],
                 patch_size: Sequence[int], text_dim: int, fusion: str = "cmsg", frequency_input: str = "dwt",
                 frequency_backbone: str = "auto", semantic_stream: str = "unet"):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion}")
        self.unet, self.fusion = unet, fusion
        if fusion == "cmsg":  # a prompt without exclusion gets a learned null embedding
            self.null_neg = nn.Parameter(torch.randn(text_dim) * 0.02)
        if fusion == "concat":  # UNet-CLIP-style baseline: text tiled and concatenated at the bottleneck
            self.bottleneck = nn.Conv2d(widths[-1] + text_dim, widths[-1], 1)
        else:
            self.to_frequency = HaarDWT() if frequency_input == "dwt" else HalfResolution()
            stream_in = in_channels * (4 if frequency_input == "dwt" else 1)
            self.frequency = build_frequency_stream(stream_in, widths, strides, patch_size, frequency_backbone)
            self.gates = nn.ModuleList(CMSGate(w, text_dim, gates=fusion == "cmsg") for w in widths)
        self.vit = None
        if semantic_stream == "biomedclip":
            from nnunet_semantic.networks.biomedclip_stream import BiomedCLIPStream

            self.vit = BiomedCLIPStream(in_channels, widths[-1])
        elif semantic_stream != "unet":
            raise ValueError(f"semantic_stream must be 'unet' or 'biomedclip', got {semantic_stream}")
        self.last_exclusion_gates: list[torch.Tensor] = []

    @property
    def decoder(self) -> nn.Module:  # nnU-Net toggles deep supervision through `network.decoder`
        return self.unet.decoder

    def _negatives(self, text: dict[str, torch.Tensor]) -> torch.Tensor:
        # a blend, not a selection: the null embedding stays in the graph (DDP needs every gradient each step)
        has_neg = text["has_neg"].to(text["neg"].dtype)[:, None]
        return has_neg * text["neg"] + (1 - has_neg) * self.null_neg

    def encode_image(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
        """The prompt-independent part: semantic skips and frequency features (at the skips' sizes)."""
        skips = self.unet.encoder(x)
        if self.vit is not None:
            skips = [*skips[:-1], skips[-1] + self.vit(x, skips[-1].shape[2:])]
        if self.fusion == "concat":
            return skips, None
        freq = [f if f.shape[2:] == s.shape[2:] else F.interpolate(f, size=s.shape[2:], mode="nearest")
                for s, f in zip(skips, self.frequency(self.to_frequency(x)))]
        return skips, freq

    def decode(self, features: tuple[list[torch.Tensor], list[torch.Tensor] | None], text: dict[str, torch.Tensor]):
        """Fuse the image features with one prompt per sample and decode; cheap next to `encode_image`."""
        skips, freq = features
        e_pos = text["pos"].to(skips[0].dtype)
        self.last_exclusion_gates = []
        if self.fusion == "concat":
            tiled = e_pos[:, :, None, None].expand(-1, -1, *skips[-1].shape[2:])
            return self.unet.decoder([*skips[:-1], self.bottleneck(torch.cat([skips[-1], tiled], 1))])
        e_neg = self._negatives(text).to(e_pos.dtype) if self.fusion == "cmsg" else e_pos
        fused = []
        for f_sem, f_freq, gate in zip(skips, freq, self.gates):
            out, g_exc = gate(f_sem, f_freq, e_pos, e_neg)
            fused.append(out)
            if g_exc is not None:
                self.last_exclusion_gates.append(g_exc)
        return self.unet.decoder(fused)

    def forward(self, x: torch.Tensor, text: dict[str, torch.Tensor]):
        return self.decode(self.encode_image(x), text)
