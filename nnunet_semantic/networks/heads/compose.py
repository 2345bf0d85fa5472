"""The exclusion as set logic on masks, for the heads whose prompt decides the classifier:
`p = p(target) * (1 - p(avoid))` (the CMSG logical gate where it decides the output)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nnunet_semantic.networks.types import PromptOutput


def compose_logits(target: torch.Tensor, avoid: torch.Tensor, has_avoid: torch.Tensor) -> torch.Tensor:
    """logit of `sigmoid(target) * (1 - sigmoid(avoid))` where `has_avoid`, `target` elsewhere (exactly)."""
    log_p = (F.logsigmoid(target) + F.logsigmoid(-avoid)).clamp(max=-1e-7)
    composed = log_p - torch.log(-torch.expm1(log_p))
    return torch.where(has_avoid, composed, target)


def two_class(logits: torch.Tensor) -> torch.Tensor:
    """[N, ...] foreground logits -> [N, 2, ...] (background 0): softmax gives sigmoid back, so nnU-Net's Dice+CE
    and its softmax-based export work unchanged."""
    return torch.stack([torch.zeros_like(logits), logits], 1)


def composed_output(stages: list[torch.Tensor], has_neg: torch.Tensor, **extra) -> PromptOutput:
    """stages: per stage (lowest resolution first) [B, 2K, ...] part logits, the K targets then the K exclusions ->
    the composed prompts' output, largest resolution first."""
    logits, parts = [], []
    for stage in stages[::-1]:
        target, avoid = stage.chunk(2, 1)
        has_avoid = has_neg.bool().view(*has_neg.shape, *[1] * (target.ndim - 2))
        logits.append(two_class(compose_logits(target, avoid, has_avoid).flatten(0, 1)))
        parts.append((target.flatten(0, 1)[:, None], avoid.flatten(0, 1)[:, None]))
    return PromptOutput(logits, parts, **extra)
