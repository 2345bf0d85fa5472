"""SemantiBench metrics on binary masks, with the empty-mask rules stated once.

- Dice / IoU: reference and prediction both empty -> NaN (nothing to find, nothing found: no evidence either
  way; left out of means, as nnU-Net does); exactly one empty -> 0.
- Validity: PSS and L2 invariance are only defined for a case and structure where Dice(L1) > 0.8 (the model
  found the structure at all); elsewhere they are NaN.
- PSS = 1 - Dice(L3) / Dice(L1): how much of the L1 quality is lost when the prompt adds an exclusion.
- L2 invariance = Dice(pred(L1), pred(L2)): the same target in other words should give the same mask.
- L3 leakage = |pred(L3) & avoided| / |avoided|, avoided = the part of the target the prompt excludes; NaN
  where that part is absent (verified prompts never are).
- Absent: a prompt for a structure the case does not contain has an empty reference (Dice NaN); it is scored
  by `false_positive_rate` (share of such case/prompt pairs with any predicted voxel) and the mean predicted
  volume in voxels.
"""

from __future__ import annotations

import numpy as np

VALID_L1_DICE = 0.8


def counts(pred: np.ndarray, ref: np.ndarray) -> tuple[int, int, int]:
    """(TP, FP, FN) of two binary masks of one shape."""
    pred, ref = np.asarray(pred, bool), np.asarray(ref, bool)
    if pred.shape != ref.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from reference shape {ref.shape}")
    tp = int(np.count_nonzero(pred & ref))
    return tp, int(np.count_nonzero(pred)) - tp, int(np.count_nonzero(ref)) - tp


def dice_from_counts(tp: float, fp: float, fn: float) -> float:
    return float("nan") if tp + fp + fn == 0 else float(2 * tp / (2 * tp + fp + fn))


def iou_from_counts(tp: float, fp: float, fn: float) -> float:
    return float("nan") if tp + fp + fn == 0 else float(tp / (tp + fp + fn))


def dice(pred: np.ndarray, ref: np.ndarray) -> float:
    return dice_from_counts(*counts(pred, ref))


def iou(pred: np.ndarray, ref: np.ndarray) -> float:
    return iou_from_counts(*counts(pred, ref))


def pss(dice_l1: float, dice_l3: float) -> float:
    return 1 - dice_l3 / dice_l1 if dice_l1 > VALID_L1_DICE else float("nan")


def invariance(pred_l1: np.ndarray, pred_l2: np.ndarray, dice_l1: float) -> float:
    return dice(pred_l2, pred_l1) if dice_l1 > VALID_L1_DICE else float("nan")


def leakage(pred_l3: np.ndarray, avoided: np.ndarray) -> float:
    avoided = np.asarray(avoided, bool)
    n = int(np.count_nonzero(avoided))
    return float("nan") if n == 0 else int(np.count_nonzero(np.asarray(pred_l3, bool) & avoided)) / n


def reference_mask(seg: np.ndarray, target, avoid) -> np.ndarray:
    """The set rule: isin(seg, target) & ~isin(seg, avoid)."""
    return np.isin(seg, list(target)) & ~np.isin(seg, list(avoid))


def avoided_mask(seg: np.ndarray, target, avoid) -> np.ndarray:
    """What an exclusion removes from its target."""
    return np.isin(seg, list(target)) & np.isin(seg, list(avoid))


def bootstrap_ci(
    values_per_case: dict[str, list[float]], n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float] | None:
    """95% interval of the mean over cases, resampling cases (not prompts: prompts of a case are correlated).

    Each case contributes the mean of its finite values; cases without any are left out. None when no case has a
    value."""
    means = np.array([np.mean(v) for v in ([x for x in vs if np.isfinite(x)] for vs in values_per_case.values()) if v])
    if len(means) == 0:
        return None
    rng = np.random.default_rng(seed)
    boots = means[rng.integers(0, len(means), size=(n_boot, len(means)))].mean(axis=1)
    return float(np.quantile(boots, alpha / 2)), float(np.quantile(boots, 1 - alpha / 2))


def disparity(dice_per_level: dict[str, float]) -> dict[str, float]:
    """FairMedFM-style spread of quality across prompt levels: the L1-L3 gap, max-min, and the std."""
    values = np.array([v for v in dice_per_level.values() if v is not None and np.isfinite(v)], float)
    l1, l3 = dice_per_level.get("L1"), dice_per_level.get("L3")
    gap = l1 - l3 if l1 is not None and l3 is not None and np.isfinite(l1) and np.isfinite(l3) else float("nan")
    return {
        "gap_L1_L3": float(gap),
        "max_minus_min": float(values.max() - values.min()) if len(values) else float("nan"),
        "std": float(values.std()) if len(values) else float("nan"),
    }


LEAKAGE_FLAG = 0.1
