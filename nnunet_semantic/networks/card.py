"""The network's config and the trainer's metadata travel with the weights, in the state dict's per-module metadata
(where PyTorch keeps module versions): nnU-Net's own `save_checkpoint`, `load_checkpoint` and `-pretrained_weights`
carry them as they are, and the predictor rebuilds the network from a checkpoint alone. Checkpoints from before
(version 2: a `semantic` entry beside the weights, other parameter names) are upgraded on reading."""

from __future__ import annotations

from pathlib import Path

import torch

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.networks.config import NetworkConfig

CARD = "semantic"
VERSION = 3
# parameter names of version-2 checkpoints: the heads were attributes of the network
RENAMED = (
    ("prompt_head.", "head."),
    ("gates.", "head.gates."),
    ("null_neg", "head.null_neg"),
    ("bottleneck.", "head.bottleneck."),
)


def write_card(network, state_dict, prefix: str, local_metadata: dict) -> None:
    """A state-dict post hook (a function, not a lambda: the network stays picklable)."""
    local_metadata[CARD] = {"version": VERSION, "config": network.config.to_dict(), **network.metadata}


def read_card(network, local_metadata: dict) -> None:
    """Loading weights written for another network is an error naming both configs."""
    card = local_metadata.get(CARD)
    if card is None:
        return
    saved = NetworkConfig.from_dict(card["config"])
    if saved != network.config:
        raise SemanticError(f"these weights belong to a network {saved}, not to this {network.config}")
    network.metadata = {k: v for k, v in card.items() if k not in ("version", "config")}


def checkpoint_card(checkpoint: dict, path) -> dict:
    """The card of a SemanticTrainer checkpoint (upgrading its weights in place where it is of version 2)."""
    weights = checkpoint.get("network_weights")
    card = getattr(weights, "_metadata", {}).get("", {}).get(CARD)
    if card is not None:
        return card
    if "semantic" not in checkpoint:
        raise SemanticError(f"{path} has no 'semantic' entry: it was not trained by a SemanticTrainer")
    meta = dict(checkpoint["semantic"])
    head = meta["fusion"]
    # version 1 placed every additive gate on the encoder; the other heads have one site
    site = meta.get("fusion_site", "encoder") if head in ("cmsg", "alpha") else None
    config = NetworkConfig(
        text_dim=meta["text_dim"],
        num_labels=meta.get("num_labels", 1),
        head=head,
        site=site,
        frequency_input=meta["frequency_input"],
        frequency_backbone=meta["frequency_backbone"],
        semantic_stream=meta.get("semantic_stream", "unet"),
    )
    renamed = {}
    for key, value in weights.items():
        for old, new in RENAMED:
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        renamed[key] = value
    checkpoint["network_weights"] = renamed
    return {"version": 2, "config": config.to_dict(), **meta}


def load_checkpoint(path: Path) -> dict:
    """A checkpoint on the CPU, or one line naming the file where it cannot be read (empty, truncated)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise SemanticError(f"{path}: not a readable checkpoint ({reason}); train again or copy it whole") from None
