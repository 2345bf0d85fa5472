"""The losses beside nnU-Net's Dice+CE: each part of a composed prompt, the exclusion loss on the additive CMSG gates,
and the optional Dynamic Hard Negative term."""

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


def prompt_parts_loss(target_logits: torch.Tensor, avoid_logits: torch.Tensor, target: torch.Tensor,
                      avoid: torch.Tensor, has_avoid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each half of `p = p(target) * (1 - p(avoid))` against its own mask: (BCE(p(target), Y_target) over every
    prompt, BCE(p(avoid), Y_avoid) over the prompts that exclude something: the exclusion loss). Without this
    the composition is ambiguous: a model may shrink p(target) instead of learning what the exclusion names."""
    l_target = F.binary_cross_entropy_with_logits(target_logits.float(), target.float())
    weight = has_avoid.float().reshape(-1, *[1] * (avoid.ndim - 1)).expand_as(avoid_logits)
    l_avoid = F.binary_cross_entropy_with_logits(avoid_logits.float(), avoid.float(), weight, reduction="sum")
    return l_target, l_avoid / weight.sum().clamp_min(1)


def membership_loss(membership: torch.Tensor, pos_labels: torch.Tensor, neg_labels: torch.Tensor,
                    has_neg: torch.Tensor) -> torch.Tensor:
    """BCE of the `labels` head's reading of each text ([B, 2K, L]: target parts, then exclusion parts) against
    the labels its prompt names (the sidecar's target / avoid label ids), exclusion parts only where there is one.
    Through the masks alone a label the prompt does not name is pushed out only where the image path already
    finds it, and labels the image confuses pull the reading of both texts together."""
    labels = torch.cat([pos_labels, neg_labels], 1).float()
    weight = torch.cat([torch.ones_like(has_neg), has_neg], 1).float()[..., None].expand_as(labels)
    loss = F.binary_cross_entropy_with_logits(membership.float(), labels, weight, reduction="sum")
    return loss / weight.sum().clamp_min(1)


def semantic_loss(seg_loss, network, output, target: list[torch.Tensor], has_neg: torch.Tensor,
                  exclusion_weight: float, deep_supervision: bool = True, label_loss=None,
                  memberships: tuple[torch.Tensor, torch.Tensor] | None = None, membership_weight: float = 1.0):
    """(total, exclusion loss, composed masks [B * K, 1, ...] at full resolution) for a SemanticUNet's last forward.

    `seg_loss` (on the prompts' maps) and `label_loss` (on the `labels` head's map of the dataset's labels; None:
    not supervised) are nnU-Net's Dice+CE, wrapped for deep supervision when `deep_supervision`; `memberships`
    (pos, neg label indicators [B, K, L]; None: not supervised) the labels each text names. Targets arrive
    [B, 3 * K + 1, ...] (`transforms.PromptMaskTransform`) and are laid out prompt-major like the outputs."""
    outputs = output if isinstance(output, (list, tuple)) else [output]
    k = has_neg.shape[1]
    masks = [t[:, :3 * k].unflatten(1, (3, k)).transpose(1, 2).flatten(0, 1) for t in target]
    composed = [m[:, :1] for m in masks]

    def supervised(loss, predictions, targets):
        return loss(predictions, targets) if deep_supervision else loss(predictions[0], targets[0])

    total = supervised(seg_loss, outputs, composed)
    if label_loss is not None and network.last_label_logits:
        total = total + supervised(label_loss, network.last_label_logits, [t[:, 3 * k:] for t in target])
    l_exc = torch.zeros((), device=total.device)
    with torch.autocast(total.device.type, enabled=False):
        if network.last_parts:
            l_target, l_exc = prompt_parts_loss(*network.last_parts[0], masks[0][:, 1:2], masks[0][:, 2:3],
                                                has_neg.flatten())
            total = total + exclusion_weight * (l_target + l_exc)
        elif network.last_exclusion_gates:
            l_exc = exclusion_loss(network.last_exclusion_gates, masks[0][:, 2:3])
            total = total + exclusion_weight * l_exc
        if memberships is not None and network.last_membership is not None:
            total = total + membership_weight * membership_loss(network.last_membership, *memberships, has_neg)
    return total, l_exc, composed[0]
