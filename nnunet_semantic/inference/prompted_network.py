"""The network as nnU-Net's tile loop calls it: one call answers every prompt of a chunk."""

from __future__ import annotations

import torch


class PromptedNetwork(torch.nn.Module):
    """network(x) for nnU-Net's tile loop: [B, K, ...] foreground logits of K fixed prompts, the image encoded
    once for all of them."""

    def __init__(self, network: torch.nn.Module, texts: list[dict[str, torch.Tensor]]):
        super().__init__()
        self.network, self.texts = network, {k: torch.stack([t[k] for t in texts]) for k in texts[0]}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.network.encode_image(x)
        text = {k: v[None].expand(len(x), *v.shape).to(x.device) for k, v in self.texts.items()}
        return self.network.foreground(features, text).float()
