"""The head interface and its registry."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nnunet_semantic.networks.types import ImageFeatures, PromptOutput
from nnunet_semantic.registry import Registry

HEADS: Registry[type[PromptHead]] = Registry("prompt head")
register_head = HEADS.register


class PromptHead(nn.Module):
    """Built from the network config, the widths of the stages it meets (lowest resolution first: the decoder's, or
    the encoder's at `site="encoder"`) and nnU-Net's U-Net (whose classifier a head may replace); called with the
    image features, the (centred) texts `{"pos", "neg": [B, K, D], "has_neg": [B, K]}` and the U-Net's decoder."""

    sites: tuple[str, ...] = ("decoder",)  # where it can meet the image; the first is the default
    uses_frequency = True  # reads the frequency stream's features
    reads_vocabulary = False  # answers `text["vocabulary"]` [V, D] (texts without an image) in its output
    # the submodule that reads a (centred) text vector [..., D] as membership logits [..., L] of the dataset's labels,
    # where the head has one: which labels a text names, to the model (`SemanticUNet.labels_read`)
    membership_reader: str | None = None
    # its full-resolution output depends on the image only through `label_logits` (prompt-independent): prediction
    # then runs the sliding window once for them and `compose`s every prompt over the whole case
    composes_labels = False

    def __init__(self, config, stage_widths: Sequence[int], unet: nn.Module):
        super().__init__()
        self.site = config.site

    def keys(self, frequency: list[torch.Tensor]) -> list[torch.Tensor | None] | None:
        """The head's prompt-independent part of the features, computed once per image."""
        return None

    def text_parameters(self) -> list[nn.Parameter]:
        """What the text feeds: trained by its own optimiser (`trainers/optimizers.py` says why)."""
        return list(self.parameters())

    def forward(self, features: ImageFeatures, text: dict[str, torch.Tensor], decoder: nn.Module) -> PromptOutput:
        raise NotImplementedError

    def foreground(self, features: ImageFeatures, text: dict[str, torch.Tensor], decoder: nn.Module) -> torch.Tensor:
        """[B, K, *spatial] foreground logits of the composed prompts at full resolution (prediction); a head may
        compute them without its training outputs."""
        logits = self(features, text, decoder).logits[0].float()  # [B * K, 2, ...]
        return (logits[:, 1] - logits[:, 0]).unflatten(0, (len(text["pos"]), -1))

    def label_logits(self, features: ImageFeatures, decoder: nn.Module) -> torch.Tensor:
        """[B, 1 + L, *spatial] label logits at full resolution (a head that `composes_labels`)."""
        raise NotImplementedError

    def compose(self, label_logits: torch.Tensor, text: dict[str, torch.Tensor]) -> torch.Tensor:
        """`label_logits` -> [B, K, *spatial] foreground logits of the prompts (a head that `composes_labels`)."""
        raise NotImplementedError


def as_list(logits) -> list[torch.Tensor]:
    """nnU-Net's decoder gives a list with deep supervision and a tensor without."""
    return list(logits) if isinstance(logits, (list, tuple)) else [logits]


def one_prompt_per_row(features: ImageFeatures, text: dict[str, torch.Tensor]):
    """For heads that run (part of) the network once per prompt: image features repeated K times, texts [B*K, ...]."""
    k = text["pos"].shape[1]
    features = ImageFeatures(
        *[None if f is None else [None if t is None else t.repeat_interleave(k, 0) for t in f] for f in features]
    )
    return features, {name: t.flatten(0, 1) for name, t in text.items()}
