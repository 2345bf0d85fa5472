"""The network as nnU-Net's tile loop calls it: one call answers every prompt of a chunk, or, for a head that
composes its prompts from the dataset's labels, gives the label logits they are all composed from."""

from __future__ import annotations

import torch

COMPOSE_BYTES_PER_VOXEL = 24  # a prompt's composition over a case: its float32 intermediates


def stacked(texts: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """K encoded prompts -> one text input of [K, ...] tensors."""
    return {k: torch.stack([t[k] for t in texts]) for k in texts[0]}


class PromptedNetwork(torch.nn.Module):
    """network(x) for nnU-Net's tile loop: [B, K, ...] foreground logits of K fixed prompts, the image encoded
    once for all of them."""

    def __init__(self, network: torch.nn.Module, texts: list[dict[str, torch.Tensor]]):
        super().__init__()
        self.network, self.texts = network, stacked(texts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.network.encode_image(x)
        text = {k: v[None].expand(len(x), *v.shape).to(x.device) for k, v in self.texts.items()}
        return self.network.foreground(features, text).float()


class LabelNetwork(torch.nn.Module):
    """network(x) for nnU-Net's tile loop: [B, 1 + L, ...] label logits, as nnU-Net's own network gives them. The
    buffer holds 1 + L channels whatever the number of prompts, so the image part runs once per tile for all of
    them (answered per tile, a case whose K channels overflow the buffer takes a pass per chunk), and each prompt is
    composed once per case, not once per overlapping tile."""

    def __init__(self, network: torch.nn.Module):
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network.label_logits(x).float()


@torch.inference_mode()
def composed_prompts(
    network,
    label_logits: torch.Tensor,
    texts: list[dict[str, torch.Tensor]],
    device: torch.device,
    chunk: int | None,
    budget_bytes: int,
) -> torch.Tensor:
    """A case's label logits [1 + L, *spatial] -> its prompts' foreground logits [K, *spatial], `chunk` prompts at a
    time (None: as many as fit `budget_bytes`, each holding float32 intermediates the size of the case)."""
    labels = label_logits.to(device)[None]
    chunk = chunk or max(1, budget_bytes // (COMPOSE_BYTES_PER_VOXEL * label_logits[0].numel()))
    out = []
    for i in range(0, len(texts), chunk):
        text = {k: v[None].to(device) for k, v in stacked(texts[i : i + chunk]).items()}
        out.append(network.compose(labels, text)[0].cpu())
    return torch.cat(out)
