"""The exclusion loss on the CMSG gates and the optional Dynamic Hard Negative term."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def exclusion_loss(gates: list[torch.Tensor], avoid: torch.Tensor) -> torch.Tensor:
    """Mean over stages of BCE(G_exc, Y_avoid), Y_avoid area-averaged to each gate's resolution."""
    avoid = avoid.float()
    losses = []
    for g in gates:
        y = avoid if g.shape[2:] == avoid.shape[2:] else F.adaptive_avg_pool2d(avoid, g.shape[2:])
        losses.append(F.binary_cross_entropy(g.float().clamp(1e-6, 1 - 1e-6), y))
    return torch.stack(losses).mean()


def dynamic_hard_negative_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    """-sum (1 - p)^gamma * y * log p over target voxels (p: softmax probability of the target class),
    normalised by their count: focuses on target voxels the model still misses."""
    log_p = F.log_softmax(logits.float(), dim=1)[:, 1:2]
    y = (target[:, :1] > 0).float()
    return -((1 - log_p.exp()) ** gamma * y * log_p).sum() / y.sum().clamp_min(1)
