"""SemanticUNet: nnU-Net's planned 2D U-Net as the semantic stream, a frequency stream, and the prompt.

`forward(x, text)` takes `text = {"pos": [B, D], "neg": [B, D], "has_neg": [B]}` (or [B, K, D] / [B, K]: K
prompts per image, decoded from the same image features) and returns what the planned U-Net returns
(deep-supervision list or one map) with 2 channels, background / prompted target, for B (or B*K) maps.

How the prompt meets the image (`fusion`), on each decoder stage's pixel embedding (decoder output + frequency
features), with the exclusion composed on masks, `p = p(target) * (1 - p(avoid))` (both parts' logits of the last
forward are kept in `last_parts`):
- "labels" (default): nnU-Net's segmentation layers give the dataset's labels (their logits of the last forward in
  `last_label_logits`), the text says which labels the prompt names (`prompt_head`).
- "query": the text produces each decoder stage's classifier (`prompt_head`), dotted with the pixel embedding.
- "cmsg" (additive CMSG gates in front of nnU-Net's fixed classifier), "alpha" (its scalar gate only), "concat"
  (the text tiled at the bottleneck, a UNet-CLIP baseline). The exclusion gates of the last forward are kept in
  `last_exclusion_gates`.

Where the additive gates sit (`fusion_site`): "decoder" stages (the decoder runs once per image) or "encoder"
skips (the papers' placement: the whole decoder runs once per prompt). "query" always reads the decoder.
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
from nnunet_semantic.networks.prompt_head import (
    PromptLabels,
    PromptQueries,
    TextCentring,
    compose_logits,
    label_union_logits,
    query_logits,
    two_class,
)

FUSIONS = ("labels", "query", "cmsg", "alpha", "concat")
PROMPT_HEADS = ("labels", "query")  # the prompt decides the output, read from the decoder's stages
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
                 patch_size: Sequence[int], text_dim: int, fusion: str = "labels", frequency_input: str = "dwt",
                 frequency_backbone: str = "auto", semantic_stream: str = "unet", fusion_site: str = "decoder"):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion}")
        if fusion_site not in FUSION_SITES:
            raise ValueError(f"fusion_site must be one of {FUSION_SITES}, got {fusion_site}")
        # concat always enters at the bottleneck, which the decoder follows; the prompt heads read the decoder
        self.unet, self.fusion = unet, fusion
        self.fusion_site = "encoder" if fusion == "concat" else "decoder" if fusion in PROMPT_HEADS else fusion_site
        self.centre = TextCentring(text_dim)
        if fusion == "cmsg":  # a prompt without exclusion gets a learned null embedding
            self.null_neg = nn.Parameter(torch.randn(text_dim) * 0.02)
        if fusion == "concat":  # UNet-CLIP-style baseline: text tiled and concatenated at the bottleneck
            self.bottleneck = nn.Conv2d(widths[-1] + text_dim, widths[-1], 1)
        else:
            # decoder stages sit at every resolution but the bottleneck's, lowest first
            stages = len(widths) if self.fusion_site == "encoder" else len(widths) - 1
            self.to_frequency = HaarDWT() if frequency_input == "dwt" else HalfResolution()
            stream_in = in_channels * (4 if frequency_input == "dwt" else 1)
            self.frequency = build_frequency_stream(stream_in, widths[:stages], strides[:stages], patch_size,
                                                    frequency_backbone)
            stage_widths = widths if self.fusion_site == "encoder" else widths[-2::-1]
            if fusion == "query":
                self.prompt_head = PromptQueries(text_dim, stage_widths)
                unet.decoder.seg_layers = nn.ModuleList()  # the prompt makes the classifiers
            elif fusion == "labels":  # nnU-Net's segmentation layers answer with the dataset's labels
                self.prompt_head = PromptLabels(text_dim, unet.decoder.seg_layers[-1].out_channels - 1)
            else:
                self.gates = nn.ModuleList(CMSGate(w, text_dim, gates=fusion == "cmsg") for w in stage_widths)
        self.vit = None
        if semantic_stream == "biomedclip":
            from nnunet_semantic.networks.biomedclip_stream import BiomedCLIPStream

            self.vit = BiomedCLIPStream(in_channels, widths[-1])
        elif semantic_stream != "unet":
            raise ValueError(f"semantic_stream must be 'unet' or 'biomedclip', got {semantic_stream}")
        self.last_exclusion_gates: list[torch.Tensor] = []
        self.last_parts: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.last_label_logits: list[torch.Tensor] = []  # the labels head's own map per stage, largest first
        self.last_membership: torch.Tensor | None = None  # the labels head's reading of the texts

    @property
    def decoder(self) -> nn.Module:  # nnU-Net toggles deep supervision through `network.decoder`
        return self.unet.decoder

    def text_parameters(self) -> list[nn.Parameter]:
        """Every parameter the text feeds: trained by their own optimiser (nnU-Net's SGD with momentum 0.99 parks a
        text-to-weights generator in a collapsed state, AdamW does not)."""
        if self.fusion in PROMPT_HEADS:
            return list(self.prompt_head.parameters())
        if self.fusion == "concat":
            return []
        gates = [p for g in self.gates for n, p in g.named_parameters() if not n.startswith("key.")]
        return gates + ([self.null_neg] if self.fusion == "cmsg" else [])

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
        if self.fusion in PROMPT_HEADS:
            return ImageFeatures(semantic, freq, None)
        keys = [gate.keys(f) for gate, f in zip(self.gates[-len(freq):], freq)]
        return ImageFeatures(semantic, freq, keys)

    def decode(self, features: ImageFeatures, text: dict[str, torch.Tensor]):
        """Segment the image features for one prompt per sample ([B, D]) or K per sample ([B, K, D])."""
        dtype = features.semantic[0].dtype
        text = {"pos": self.centre(text["pos"].to(dtype)), "neg": self.centre(text["neg"].to(dtype)),
                "has_neg": text["has_neg"]}
        self.last_exclusion_gates, self.last_parts, self.last_label_logits = [], [], []
        self.last_membership = None
        if self.fusion in PROMPT_HEADS:
            return self._decode_prompt_head(features, text)
        if text["pos"].ndim == 3:  # additive fusions see one prompt per row: repeat the image features K times
            k = text["pos"].shape[1]
            features = ImageFeatures(*[None if f is None else [None if t is None else t.repeat_interleave(k, 0)
                                                               for t in f] for f in features])
            text = {name: t.flatten(0, 1) for name, t in text.items()}
        e_pos = text["pos"]
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

    def _decode_prompt_head(self, features: ImageFeatures, text: dict[str, torch.Tensor]):
        single = text["pos"].ndim == 2
        pos, neg, has_neg = ((t[:, None] for t in text.values()) if single else text.values())
        n = len(features.semantic)
        head = self.prompt_head(torch.cat([pos, neg], 1))  # one pass for both parts
        pixels = [f_sem + f_freq for f_sem, f_freq in zip(features.semantic, features.frequency)]
        if self.fusion == "labels":
            label_logits = [seg(f) for seg, f in zip(self.unet.decoder.seg_layers[-n:], pixels)]
            stages = [label_union_logits(labels, head) for labels in label_logits]
            self.last_label_logits = label_logits[::-1]  # largest first, as nnU-Net's outputs
            self.last_membership = head  # [B, 2K, L]: the target parts, then the exclusion parts
        else:
            stages = [query_logits(f, weights, bias) for f, (weights, bias) in zip(pixels, head[-n:])]
        logits = []
        for stage in stages:
            parts = stage.chunk(2, 1)
            composed = compose_logits(*parts, has_neg.bool()[..., None, None])
            logits.append(two_class(composed.flatten(0, 1)))
            self.last_parts.append(tuple(p.flatten(0, 1)[:, None] for p in parts))
        logits, self.last_parts = logits[::-1], self.last_parts[::-1]  # largest first, as nnU-Net's outputs
        return logits if self.unet.decoder.deep_supervision else logits[0]

    def forward(self, x: torch.Tensor, text: dict[str, torch.Tensor]):
        return self.decode(self.encode_image(x), text)
