"""The network as nnU-Net's tile loop calls it: one call answers every prompt of a chunk, or, for a head that
composes its prompts from the dataset's labels, gives the label logits they are all composed from."""

from __future__ import annotations

import torch

COMPOSE_BYTES_PER_VOXEL = 24  # a prompt's composition: its float32 intermediates per voxel
# the composition runs a block of slices at a time, every prompt at once: blocks this small stay in the CPU's cache
# (a CHAOS case, 62 prompts: 0.8 s by single slices against 1.9 s in chunks of 18 prompts over the whole case)
COMPOSE_BLOCK_BYTES = 2**25


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
    network, label_logits: torch.Tensor, texts: list[dict[str, torch.Tensor]], device: torch.device
) -> torch.Tensor:
    """A case's label logits [1 + L, Z, ...] -> its prompts' foreground logits [K, Z, ...], every prompt composed at
    once over a block of slices at a time."""
    text = {k: v[None].to(device) for k, v in stacked(texts).items()}
    block = max(1, COMPOSE_BLOCK_BYTES // (COMPOSE_BYTES_PER_VOXEL * len(texts) * label_logits[0, 0].numel()))
    out = torch.empty(len(texts), *label_logits.shape[1:])
    for z in range(0, label_logits.shape[1], block):
        out[:, z : z + block] = network.compose(label_logits[None, :, z : z + block].to(device), text)[0].cpu()
    return out
