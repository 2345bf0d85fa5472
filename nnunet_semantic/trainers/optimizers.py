"""nnU-Net's SGD for the image path and AdamW for every parameter the text feeds, behind one optimizer.

Why two: with nnU-Net's SGD (Nesterov momentum 0.99) on a text-to-weights generator, the generated classifiers of
sibling prompts start and often stay collapsed (cosine > 0.99); AdamW on the text path alone does not collapse
(`benchmarks/sibling_study.py`). Why one object: nnU-Net's `train_step` (with its grad scaler), its poly schedule
and its checkpoints then handle both as they handle their own optimizer.
"""

from __future__ import annotations

import torch
from torch import nn


class ImageTextOptimizer(torch.optim.Optimizer):
    """`param_groups` are the SGD's then the AdamW's own groups (so the grad scaler unscales both); nnU-Net's poly
    schedule sets the SGD's lr, and each step gives the text path `text_lr` times the same decay, after a linear
    warm-up over `warmup` steps. The step count is in the state dict, so a continued training resumes it."""

    def __init__(
        self, image: torch.optim.Optimizer, text: torch.optim.Optimizer, initial_lr: float, text_lr: float, warmup: int
    ):
        # not Optimizer.__init__: the groups and state stay the two optimisers' own
        self.image, self.text = image, text
        self.initial_lr, self.text_lr, self.warmup = initial_lr, text_lr, warmup
        self.defaults, self.state, self.text_steps = image.defaults, {}, 0

    @property
    def param_groups(self) -> list[dict]:
        return self.image.param_groups + self.text.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.image.zero_grad(set_to_none)
        self.text.zero_grad(set_to_none)

    def step(self, closure=None):
        self.text_steps += 1
        decay = self.image.param_groups[0]["lr"] / self.initial_lr
        for group in self.text.param_groups:
            group["lr"] = self.text_lr * min(1.0, self.text_steps / max(1, self.warmup)) * decay
        self.text.step()
        return self.image.step(closure)

    def state_dict(self) -> dict:
        return {"image": self.image.state_dict(), "text": self.text.state_dict(), "text_steps": self.text_steps}

    def load_state_dict(self, state_dict: dict) -> None:
        if "image" not in state_dict:  # a plain SGD state (a checkpoint from before): the text path starts afresh
            self.image.load_state_dict(state_dict)
            return
        self.image.load_state_dict(state_dict["image"])
        self.text.load_state_dict(state_dict["text"])
        self.text_steps = state_dict["text_steps"]


def build_optimizer(
    network: nn.Module,
    lr: float,
    weight_decay: float,
    text_lr: float | None,
    text_weight_decay: float,
    text_warmup: int,
) -> torch.optim.Optimizer:
    """SGD as nnU-Net configures it, for every parameter when `text_lr` is None or nothing is fed by the text."""
    text = network.text_parameters() if text_lr else []
    ids = {id(p) for p in text}
    sgd = torch.optim.SGD(
        [p for p in network.parameters() if id(p) not in ids],
        lr,
        weight_decay=weight_decay,
        momentum=0.99,
        nesterov=True,
    )
    if not text:
        return sgd
    return ImageTextOptimizer(
        sgd, torch.optim.AdamW(text, text_lr, weight_decay=text_weight_decay), lr, text_lr, text_warmup
    )
