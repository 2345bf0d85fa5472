"""SemanticTrainer's loss: nnU-Net's Dice+CE on the prompts' maps and, beside it, each part of a composed prompt, the
exclusion loss on the additive CMSG gates, the `labels` head's reading of the texts, and the optional Dynamic Hard
Negative term."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from nnunetv2.training.loss.compound_losses import DC_and_CE_loss
from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss
from nnunetv2.training.loss.robust_ce_loss import RobustCrossEntropyLoss
from nnunetv2.utilities.helpers import softmax_helper_dim1
from torch import nn

from nnunet_semantic.networks.types import PromptOutput
from nnunet_semantic.trainers.prompt_batch import PromptTargets


def exclusion_loss(gates: list[torch.Tensor], avoid: torch.Tensor) -> torch.Tensor:
    """Mean over stages of BCE(G_exc, Y_avoid), Y_avoid area-averaged to each gate's resolution."""
    avoid = avoid.float()
    losses = []
    for g in gates:
        y = (
            avoid
            if g.shape[2:] == avoid.shape[2:]
            else (F.adaptive_avg_pool3d if g.ndim == 5 else F.adaptive_avg_pool2d)(avoid, g.shape[2:])
        )
        losses.append(F.binary_cross_entropy(g.float().clamp(1e-6, 1 - 1e-6), y))
    return torch.stack(losses).mean()


def dynamic_hard_negative_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    """-sum (1 - p)^gamma * y * log p over target voxels (p: softmax probability of the target class),
    normalised by their count: focuses on target voxels the model still misses."""
    log_p = F.log_softmax(logits.float(), dim=1)[:, 1:2]
    y = (target[:, :1] > 0).float()
    return -((1 - log_p.exp()) ** gamma * y * log_p).sum() / y.sum().clamp_min(1)


def prompt_parts_loss(
    target_logits: torch.Tensor,
    avoid_logits: torch.Tensor,
    target: torch.Tensor,
    avoid: torch.Tensor,
    has_avoid: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each half of `p = p(target) * (1 - p(avoid))` against its own mask: (BCE(p(target), Y_target) over every
    prompt, BCE(p(avoid), Y_avoid) over the prompts that exclude something: the exclusion loss). Without this
    the composition is ambiguous: a model may shrink p(target) instead of learning what the exclusion names."""
    l_target = F.binary_cross_entropy_with_logits(target_logits.float(), target.float())
    weight = has_avoid.float().reshape(-1, *[1] * (avoid.ndim - 1)).expand_as(avoid_logits)
    l_avoid = F.binary_cross_entropy_with_logits(avoid_logits.float(), avoid.float(), weight, reduction="sum")
    return l_target, l_avoid / weight.sum().clamp_min(1)


def annotated_only(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The `labels` head's logits [B, 1 + L, ...] with the labels a case's source does not annotate (mask [B, 1 + L]
    0) pushed out of the softmax: on that case such a label gets no gradient, neither as itself nor as background
    (a structure a source does not annotate is not absent there; it is unknown)."""
    return logits + (mask.to(logits.dtype) - 1).reshape(*mask.shape, *[1] * (logits.ndim - 2)) * 1e4


def membership_loss(
    membership: torch.Tensor, pos_labels: torch.Tensor, neg_labels: torch.Tensor, has_neg: torch.Tensor
) -> torch.Tensor:
    """BCE of the `labels` head's reading of each text ([B, 2K, L]: target parts, then exclusion parts) against
    the labels its prompt names (the sidecar's target / avoid label ids), exclusion parts only where there is one.
    Through the masks alone a label the prompt does not name is pushed out only where the image path already
    finds it, and labels the image confuses pull the reading of both texts together."""
    labels = torch.cat([pos_labels, neg_labels], 1).float()
    weight = torch.cat([torch.ones_like(has_neg), has_neg], 1).float()[..., None].expand_as(labels)
    loss = F.binary_cross_entropy_with_logits(membership.float(), labels, weight, reduction="sum")
    return loss / weight.sum().clamp_min(1)


class TwoClassDiceCE(nn.Module):
    """nnU-Net's Dice+CE (`loss`, a `DC_and_CE_loss`) on two-class logits [N, 2, ...], in closed form: the softmax of
    (l0, l1) is sigmoid(z), z = l1 - l0, so its CE is the BCE of z and its foreground Dice (nnU-Net leaves the
    background out) that of sigmoid(z). The same value and gradients (to float rounding) without the background
    channel's softmax, log-softmax and one-hot target: a quarter of the CPU time of nnU-Net's loss on the B * K prompt
    maps. Any other configuration of `loss` (an ignore label, class weights, the background's Dice, a batch Dice
    gathered over DDP workers), read at every call, runs `loss` itself."""

    def __init__(self, loss: nn.Module):
        super().__init__()
        self.loss = loss

    def _dice(self) -> nn.Module | None:
        """nnU-Net's Dice module where the closed form is its loss; None otherwise."""
        loss = self.loss
        if type(loss) is not DC_and_CE_loss or loss.ignore_label is not None:
            return None
        ce, dice = loss.ce, getattr(loss.dc, "_orig_mod", loss.dc)  # torch.compile's wrapper
        plain_ce = type(ce) is RobustCrossEntropyLoss and ce.weight is None and ce.label_smoothing == 0
        plain_dice = type(dice) is MemoryEfficientSoftDiceLoss and dice.apply_nonlin is softmax_helper_dim1
        if not (plain_ce and ce.reduction == "mean" and plain_dice) or dice.do_bg or (dice.batch_dice and dice.ddp):
            return None
        return dice

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        dice = self._dice() if logits.shape[1] == 2 else None
        if dice is None:
            return self.loss(logits, target)
        dtype = torch.promote_types(logits.dtype, torch.float32)  # half precision: as nnU-Net's softmax under autocast
        z, y = logits[:, 1].to(dtype) - logits[:, 0].to(dtype), target[:, 0].to(dtype)
        ce = F.binary_cross_entropy_with_logits(z, y) if self.loss.weight_ce != 0 else 0
        dc = 0
        if self.loss.weight_dice != 0:
            p, axes = torch.sigmoid(z), tuple(range(0 if dice.batch_dice else 1, z.ndim))
            intersect, sum_pred, sum_gt = (p * y).sum(axes), p.sum(axes), y.sum(axes)
            dc = -((2 * intersect + dice.smooth) / (sum_gt + sum_pred + float(dice.smooth)).clamp_min(1e-8)).mean()
        return self.loss.weight_ce * ce + self.loss.weight_dice * dc


def two_class_loss(seg_loss: nn.Module) -> nn.Module:
    """nnU-Net's loss for the prompts' two-class maps (wrapped for deep supervision or not) with `TwoClassDiceCE`
    inside its deep-supervision wrapper."""
    if hasattr(seg_loss, "weight_factors"):  # nnU-Net's DeepSupervisionWrapper
        seg_loss.loss = TwoClassDiceCE(seg_loss.loss)
        return seg_loss
    return TwoClassDiceCE(seg_loss)


class SemanticLoss(nn.Module):
    """nnU-Net's Dice+CE on the composed prompts' maps (`seg_loss`, wrapped for deep supervision by nnU-Net when
    `deep_supervision`), plus: nnU-Net's own loss on the `labels` head's map of the dataset's labels (`label_loss`;
    None: not supervised), `exclusion_weight` * the parts' (or the CMSG gates') losses, `membership_weight` * the
    `labels` head's reading of the texts, with an image and without (the vocabulary; None: not supervised), and
    the optional Dynamic Hard Negative term. Called by nnU-Net's `train_step` as `loss(output, target)`;
    `last_exclusion` keeps the last exclusion loss for the log."""

    def __init__(
        self,
        seg_loss: nn.Module,
        label_loss: nn.Module | None,
        deep_supervision: bool,
        exclusion_weight: float,
        membership_weight: float | None,
        dhn_gamma: float | None = None,
        dhn_weight: float = 1.0,
    ):
        super().__init__()
        self.seg_loss, self.label_loss, self.deep_supervision = seg_loss, label_loss, deep_supervision
        self.exclusion_weight, self.membership_weight = exclusion_weight, membership_weight
        self.dhn_gamma, self.dhn_weight = dhn_gamma, dhn_weight
        self.last_exclusion = torch.zeros(())

    def _supervised(self, loss, predictions: list[torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
        return loss(predictions, targets) if self.deep_supervision else loss(predictions[0], targets[0])

    def forward(self, output: PromptOutput, target: PromptTargets) -> torch.Tensor:
        masks = [target.masks(scale) for scale in range(len(output.logits))]
        total = self._supervised(self.seg_loss, output.logits, [m[:, :1] for m in masks])
        if self.label_loss is not None and output.label_logits:
            label_logits = (
                output.label_logits
                if target.label_mask is None
                else [annotated_only(logits, target.label_mask) for logits in output.label_logits]
            )
            total = total + self._supervised(self.label_loss, label_logits, target.segs)
        l_exc = torch.zeros((), device=total.device)
        with torch.autocast(total.device.type, enabled=False):
            if output.parts:
                l_target, l_exc = prompt_parts_loss(
                    *output.parts[0], masks[0][:, 1:2], masks[0][:, 2:3], target.has_neg.flatten()
                )
                total = total + self.exclusion_weight * (l_target + l_exc)
            elif output.exclusion_gates:
                l_exc = exclusion_loss(output.exclusion_gates, masks[0][:, 2:3])
                total = total + self.exclusion_weight * l_exc
            if self.membership_weight is not None and output.membership is not None:
                total = total + self.membership_weight * membership_loss(
                    output.membership, target.pos_labels, target.neg_labels, target.has_neg
                )
            if self.membership_weight is not None and output.vocabulary_membership is not None:
                total = total + self.membership_weight * F.binary_cross_entropy_with_logits(
                    output.vocabulary_membership.float(), target.vocabulary_labels.float()
                )
            if self.dhn_gamma is not None:
                total = total + self.dhn_weight * dynamic_hard_negative_loss(
                    output.logits[0], masks[0][:, :1], self.dhn_gamma
                )
        self.last_exclusion = l_exc.detach()
        return total
