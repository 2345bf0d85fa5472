"""SemanticUNet: nnU-Net's planned U-Net (2D or 3D) as the semantic stream, a frequency stream, and a prompt head.

`forward(PromptedImages)` or `forward(x, text)`, with `text = {"pos": [B, K, D], "neg": [B, K, D], "has_neg": [B, K]}`
(or [B, D] / [B]: one prompt per image), returns the head's `PromptOutput` for B * K maps. `encode_image` is the
prompt-independent part (run once per image), `decode` the prompt's (run per batch of prompts): prediction encodes a
case once and decodes every prompt from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nnunet_semantic.networks.card import read_card, write_card
from nnunet_semantic.networks.config import NetworkConfig
from nnunet_semantic.networks.frequency import CONVNEXT_TINY_MIN_PATCH, build_frequency_stream
from nnunet_semantic.networks.haar import HaarDWT, HalfResolution
from nnunet_semantic.networks.heads import HEADS
from nnunet_semantic.networks.text_centring import TextCentring
from nnunet_semantic.networks.types import ImageFeatures, PromptedImages, PromptOutput


def decoder_features(decoder: nn.Module, skips: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """dynamic_network_architectures' `UNetDecoder.forward` (0.4.4) without its segmentation layers: every stage's
    output, lowest resolution first (tests/test_layout.py checks it against the installed one)."""
    x, out = skips[-1], []
    for s, (up, stage) in enumerate(zip(decoder.transpconvs, decoder.stages)):
        x = stage(torch.cat((up(x), skips[-(s + 2)]), 1))
        out.append(x)
    return out


class SemanticUNet(nn.Module):
    def __init__(
        self,
        unet: nn.Module,
        config: NetworkConfig,
        widths: Sequence[int],
        strides: Sequence[Sequence[int]],
        patch_size: Sequence[int],
        in_channels: int,
    ):
        super().__init__()
        self.unet, self.config, self.patch_size = unet, config, tuple(patch_size)
        self.metadata: dict = {}  # what the trainer adds for prediction (recipe, ontology, ...): saved with the config
        self.centre = TextCentring(config.text_dim)
        head = HEADS[config.head]
        # the decoder's stages sit at every resolution but the bottleneck's, lowest first
        stage_widths = list(widths) if config.site == "encoder" else list(widths[-2::-1])
        self.frequency = None
        if head.uses_frequency:
            self.to_frequency = HaarDWT() if config.frequency_input == "dwt" else HalfResolution()
            stream_in = in_channels * (2 ** len(patch_size) if config.frequency_input == "dwt" else 1)  # the DWT bands
            n = len(stage_widths)
            self.frequency = build_frequency_stream(
                stream_in, widths[:n], strides[:n], patch_size, config.frequency_backbone
            )
        self.head = head(config, stage_widths, unet)
        self.vit = None
        if config.semantic_stream == "biomedclip":
            if len(patch_size) != 2:
                raise ValueError("the BiomedCLIP stream is a 2D ViT: train a 2d configuration with it")
            from nnunet_semantic.networks.biomedclip_stream import BiomedCLIPStream

            self.vit = BiomedCLIPStream(in_channels, widths[-1])
        self.register_state_dict_post_hook(write_card)

    def describe(self) -> str:
        """Its parts and their sizes, for the training log: which frequency backbone `auto` chose, and its cost."""

        def millions(module) -> str:
            return f"{sum(p.numel() for p in module.parameters()) / 1e6:.2f} M"

        parts = [f"{millions(self)} parameters: semantic stream {millions(self.unet)}"]
        if self.frequency is not None:
            chosen = type(self.frequency).__name__
            auto = self.config.frequency_backbone == "auto"
            why = (
                f", chosen by 'auto' for patch {list(self.patch_size)} (ConvNeXt-Tiny from "
                f"{CONVNEXT_TINY_MIN_PATCH} pixels)"
                if auto
                else ""
            )
            parts.append(f"frequency stream {chosen} {millions(self.frequency)}{why}")
        if self.vit is not None:
            parts.append(f"BiomedCLIP ViT {millions(self.vit)}")
        return "network " + ", ".join(parts) + f", head '{self.config.head}' {millions(self.head)}"

    @property
    def decoder(self) -> nn.Module:  # nnU-Net toggles deep supervision through `network.decoder`
        return self.unet.decoder

    def text_parameters(self) -> list[nn.Parameter]:
        return self.head.text_parameters()

    def encode_image(self, x: torch.Tensor) -> ImageFeatures:
        skips = self.unet.encoder(x)
        if self.vit is not None:
            skips = [*skips[:-1], skips[-1] + self.vit(x, skips[-1].shape[2:])]
        if self.frequency is None:
            return ImageFeatures(skips)
        freq = [
            f if f.shape[2:] == s.shape[2:] else F.interpolate(f, size=s.shape[2:], mode="nearest")
            for s, f in zip(skips, self.frequency(self.to_frequency(x)))
        ]
        semantic = skips
        if self.config.site == "decoder":
            semantic, freq = decoder_features(self.unet.decoder, skips), freq[::-1]
            if not self.unet.decoder.deep_supervision:  # only the full-resolution stage is segmented
                semantic, freq = semantic[-1:], freq[-1:]
        return ImageFeatures(semantic, freq, self.head.keys(freq))

    def _centred(self, dtype: torch.dtype, text: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        vocabulary = text.get("vocabulary")
        text = {
            "pos": self.centre(text["pos"].to(dtype)),
            "neg": self.centre(text["neg"].to(dtype)),
            "has_neg": text["has_neg"],
        }
        if text["pos"].ndim == 2:  # one prompt per image
            text = {name: t[:, None] for name, t in text.items()}
        if vocabulary is not None and self.head.reads_vocabulary:
            text["vocabulary"] = self.centre(vocabulary.to(dtype))
        return text

    def decode(self, features: ImageFeatures, text: dict[str, torch.Tensor]) -> PromptOutput:
        return self.head(features, self._centred(features.semantic[0].dtype, text), self.unet.decoder)

    def foreground(self, features: ImageFeatures, text: dict[str, torch.Tensor]) -> torch.Tensor:
        """The composed prompts' foreground logits [B, K, *spatial] at full resolution: what prediction reads."""
        return self.head.foreground(features, self._centred(features.semantic[0].dtype, text), self.unet.decoder)

    @property
    def composes_labels(self) -> bool:
        return self.head.composes_labels

    def label_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Images -> the [B, 1 + L, *spatial] label logits every prompt is composed from (`composes_labels`)."""
        return self.head.label_logits(self.encode_image(x), self.unet.decoder)

    def compose(self, label_logits: torch.Tensor, text: dict[str, torch.Tensor]) -> torch.Tensor:
        """`label_logits` and texts -> the prompts' [B, K, *spatial] foreground logits, as `foreground` gives them."""
        return self.head.compose(label_logits, self._centred(label_logits.dtype, text))

    def forward(self, x: torch.Tensor | PromptedImages, text: dict[str, torch.Tensor] | None = None) -> PromptOutput:
        if isinstance(x, PromptedImages):
            x, text = x.image, x.text()
        return self.decode(self.encode_image(x), text)

    def labels_read(self, vectors: torch.Tensor, state: dict[str, torch.Tensor] | None = None) -> torch.Tensor | None:
        """Text vectors [N, D] -> the probability [N, L] that the model reads each as naming each label, by the
        weights in `state` (a fold's state dict; the network's own when None); None for a head that reads no labels.
        Only the text's path runs: no image."""
        if self.head.membership_reader is None:
            return None
        state = self.state_dict() if state is None else state

        def call(name: str, x: torch.Tensor) -> torch.Tensor:
            weights = {k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(f"{name}.")}
            return torch.func.functional_call(self.get_submodule(name), weights, (x,))

        centred = call("centre", vectors.to(state["centre.mean"]))
        return torch.sigmoid(call(f"head.{self.head.membership_reader}", centred))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args, **kwargs):
        read_card(self, local_metadata)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args, **kwargs)
