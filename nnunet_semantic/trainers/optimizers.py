"""Two optimisers: nnU-Net's SGD for the image path, AdamW for every parameter the text feeds.

Why: with nnU-Net's SGD (Nesterov momentum 0.99) on a text-to-weights generator, the generated classifiers of
sibling prompts start and often stay collapsed (cosine > 0.99); AdamW on the text path alone does not collapse
(`sibling_study`, and the issue on sibling prompts, have the numbers).
"""

from __future__ import annotations

import torch
from torch import nn


def build_optimizers(network: nn.Module, lr: float, weight_decay: float, text_lr: float | None,
                     text_weight_decay: float) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer | None]:
    """(SGD as nnU-Net configures it, AdamW for `network.text_parameters()` or None when `text_lr` is None)."""
    text = network.text_parameters() if text_lr else []
    ids = {id(p) for p in text}
    sgd = torch.optim.SGD([p for p in network.parameters() if id(p) not in ids], lr, weight_decay=weight_decay,
                          momentum=0.99, nesterov=True)
    return sgd, torch.optim.AdamW(text, text_lr, weight_decay=text_weight_decay) if text else None


def set_text_lr(optimizer: torch.optim.Optimizer, text_lr: float, step: int, warmup: int, progress: float) -> None:
    """Linear warm-up over `warmup` steps, then nnU-Net's poly decay (`progress` = epoch / epochs)."""
    lr = text_lr * min(1.0, step / max(1, warmup)) * (1 - progress) ** 0.9
    for group in optimizer.param_groups:
        group["lr"] = lr
