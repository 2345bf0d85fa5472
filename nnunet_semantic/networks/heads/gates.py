"""The papers' additive fusion (`cmsg`) and its scalar gate alone (`alpha`), in front of nnU-Net's fixed classifier.

On the decoder's stages the decoder runs once per image; on the encoder's skips (the papers' placement) the whole
decoder runs once per prompt. A prompt without exclusion gets a learned null embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from nnunet_semantic.networks.cmsg import CMSGate
from nnunet_semantic.networks.heads.base import PromptHead, as_list, one_prompt_per_row, register_head
from nnunet_semantic.networks.types import ImageFeatures, PromptOutput


@register_head("cmsg")
class GatedFusionHead(PromptHead):
    """CMSG per stage: `F_fused = F_sem + (1 + alpha) * F_freq * G_inc * (1 - G_exc)`."""

    sites = ("decoder", "encoder")
    gated = True

    def __init__(self, config, stage_widths, unet):
        super().__init__(config, stage_widths, unet)
        if self.gated:
            self.null_neg = nn.Parameter(torch.randn(config.text_dim) * 0.02)
        conv_op = unet.encoder.conv_op
        self.gates = nn.ModuleList(CMSGate(w, config.text_dim, self.gated, conv_op) for w in stage_widths)

    def keys(self, frequency):
        return [gate.keys(f) for gate, f in zip(self.gates[-len(frequency) :], frequency)]

    def text_parameters(self) -> list[nn.Parameter]:
        gates = [p for g in self.gates for n, p in g.named_parameters() if not n.startswith("key.")]
        return gates + ([self.null_neg] if self.gated else [])

    def _negatives(self, text: dict[str, torch.Tensor]) -> torch.Tensor:
        if not self.gated:
            return text["pos"]
        # a blend, not a selection: the null embedding stays in the graph (DDP needs every gradient each step)
        has_neg = text["has_neg"].to(text["neg"].dtype)[:, None]
        return has_neg * text["neg"] + (1 - has_neg) * self.null_neg.to(text["neg"].dtype)

    def forward(self, features: ImageFeatures, text: dict[str, torch.Tensor], decoder: nn.Module) -> PromptOutput:
        features, text = one_prompt_per_row(features, text)
        e_pos, e_neg = text["pos"], self._negatives(text)
        n = len(features.semantic)
        fused, gates = [], []
        for f_sem, f_freq, key, gate in zip(*features, self.gates[-n:]):
            out, g_exc = gate(f_sem, f_freq, e_pos, e_neg, key)
            fused.append(out)
            if g_exc is not None:
                gates.append(g_exc)
        if self.site == "encoder":
            logits = as_list(decoder(fused))
        else:
            logits = [seg(f) for seg, f in zip(decoder.seg_layers[-n:], fused)][::-1]
        return PromptOutput(logits, exclusion_gates=gates or None)


@register_head("alpha")
class AlphaFusionHead(GatedFusionHead):
    """The second paper's fusion alone: F_fused = F_sem + (1 + alpha) * F_freq, no logical gates."""

    gated = False
