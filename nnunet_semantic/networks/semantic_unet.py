"""SemanticUNet: nnU-Net's planned 2D U-Net as the semantic stream, a frequency stream, and per-stage fusion.

`forward(x, text)` takes `text = {"pos": [B, D], "neg": [B, D], "has_neg": [B]}` and returns what the planned
U-Net returns (deep-supervision list or one map) with 2 channels: background / prompted target. The exclusion
gates of the last forward are kept in `last_exclusion_gates` for the exclusion loss.

Where the prompt meets the image (`fusion_site`):
- "decoder" (default): the decoder runs once per image, CMSG on every decoder stage's output, each followed by
  that stage's segmentation layer. A prompt costs a few element-wise maps, so many prompts per case are cheap.
- "encoder" (the papers' placement): CMSG on every encoder stage's skip; the whole decoder runs once per prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from nnunet_semantic.networks.cmsg import CMSGate
from nnunet_semantic.networks.frequency import build_frequency_stream
from nnunet_semantic.networks.haar import HaarDWT, HalfResolution

FUSIONS = ("cmsg", "alpha", "concat")
FUSION_SITES = ("encoder", "decoder")


class ImageFeatures(NamedTuple):
    """The prompt-independent part of a forward, aligned with the gates it meets."""

    semantic: list[torch.Tensor]
    frequency: list[torch.Tensor] | None
    keys: list[torch.Tensor | None] | None


def decoder_features(decoder: nn.Module, skips: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """dynamic_network_architectures' UNetDecoder forward without its segmentation layers: every stage's
    output, lowest resolution first."""
    x, out = skips[-1], []
    for s, (up, stage) in enumerate(zip(decoder.transpconvs, decoder.stages)):
        x = stage(torch.cat((up(x), skips[-(s + 2)]), 1))
        out.append(x)
    return out


class SemanticUNet(nn.Module):
    def __init__(self, unet: nn.Module, in_channels: int, widths: Sequence[int], strides: Sequence[Sequence[int]],
                 patch_size: Sequence[int], text_dim: int, fusion: str = "cmsg", frequency_input: str = "dwt",
                 frequency_backbone: str = "auto", semantic_stream: str = "unet", fusion_site: str = "decoder"):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion}")
        if fusion_site not in FUSION_SITES:
            raise ValueError(f"fusion_site must be one of {FUSION_SITES}, got {fusion_site}")
        # concat always enters at the bottleneck, which the decoder follows
        self.unet, self.fusion = unet, fusion
        self.fusion_site = "encoder" if fusion == "concat" else fusion_site
        if fusion == "cmsg":  # a prompt without exclusion gets a learned null embedding
            self.null_neg = nn.Parameter(torch.randn(text_dim) * 0.02)
        if fusion == "concat":  # UNet-CLIP-style baseline: text tiled and concatenated at the bottleneck
            self.bottleneck = nn.Conv2d(widths[-1] + text_dim, widths[-1], 1)
        else:
            # decoder stages sit at every resolution but the bottleneck's, lowest first
            stages = len(widths) if fusion_site == "encoder" else len(widths) - 1
            self.to_frequency = HaarDWT() if frequency_input == "dwt" else HalfResolution()
            stream_in = in_channels * (4 if frequency_input == "dwt" else 1)
            self.frequency = build_frequency_stream(stream_in, widths[:stages], strides[:stages], patch_size,
                                                    frequency_backbone)
            gate_widths = widths if fusion_site == "encoder" else widths[-2::-1]
            self.gates = nn.ModuleList(CMSGate(w, text_dim, gates=fusion == "cmsg") for w in gate_widths)
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

    def encode_image(self, x: torch.Tensor) -> ImageFeatures:
        """Everything that does not depend on the prompt, computed once per image."""
        skips = self.unet.encoder(x)
        if self.vit is not None:
            skips = [*skips[:-1], skips[-1] + self.vit(x, skips[-1].shape[2:])]
        if self.fusion == "concat":
            return ImageFeatures(skips, None, None)
        freq = [f if f.shape[2:] == s.shape[2:] else F.interpolate(f, size=s.shape[2:], mode="nearest")
                for s, f in zip(skips, self.frequency(self.to_frequency(x)))]
        semantic = skips
        if self.fusion_site == "decoder":
            semantic, freq = decoder_features(self.unet.decoder, skips), freq[::-1]
            if not self.unet.decoder.deep_supervision:  # only the full-resolution stage is segmented
                semantic, freq = semantic[-1:], freq[-1:]
        keys = [gate.keys(f) for gate, f in zip(self.gates[-len(freq):], freq)]
        return ImageFeatures(semantic, freq, keys)

    def decode(self, features: ImageFeatures, text: dict[str, torch.Tensor]):
        """Fuse the image features with one prompt per sample and segment."""
        e_pos = text["pos"].to(features.semantic[0].dtype)
        self.last_exclusion_gates = []
        if self.fusion == "concat":
            skips = features.semantic
            tiled = e_pos[:, :, None, None].expand(-1, -1, *skips[-1].shape[2:])
            return self.unet.decoder([*skips[:-1], self.bottleneck(torch.cat([skips[-1], tiled], 1))])
        e_neg = self._negatives(text).to(e_pos.dtype) if self.fusion == "cmsg" else e_pos
        n = len(features.semantic)
        fused = []
        for f_sem, f_freq, key, gate in zip(*features, self.gates[-n:]):
            out, g_exc = gate(f_sem, f_freq, e_pos, e_neg, key)
            fused.append(out)
            if g_exc is not None:
                self.last_exclusion_gates.append(g_exc)
        if self.fusion_site == "encoder":
            return self.unet.decoder(fused)
        logits = [seg(f) for seg, f in zip(self.unet.decoder.seg_layers[-n:], fused)][::-1]  # largest first
        return logits if self.unet.decoder.deep_supervision else logits[0]

    def forward(self, x: torch.Tensor, text: dict[str, torch.Tensor]):
        return self.decode(self.encode_image(x), text)
