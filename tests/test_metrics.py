"""Issue 6 (metrics): SemantiBench metrics against hand-computed masks, and the empty-mask and validity rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnunet_semantic.evaluation.metrics import (
    avoided_mask,
    bootstrap_ci,
    dice,
    disparity,
    invariance,
    iou,
    leakage,
    pss,
    reference_mask,
)


def _mask(*cells, shape=(4, 4)):
    m = np.zeros(shape, bool)
    for c in cells:
        m[c] = True
    return m


def test_dice_and_iou_by_hand():
    ref = _mask((0, 0), (0, 1), (1, 0), (1, 1))  # 4 voxels
    pred = _mask((0, 0), (0, 1), (2, 2))  # 2 hits, 1 false positive, 2 misses
    assert dice(pred, ref) == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))
    assert iou(pred, ref) == pytest.approx(2 / (2 + 1 + 2))
    assert dice(ref, ref) == 1.0 and iou(ref, ref) == 1.0


def test_empty_mask_rules():
    empty, some = _mask(), _mask((1, 1))
    assert math.isnan(dice(empty, empty)) and math.isnan(iou(empty, empty))  # both empty: no evidence
    assert dice(some, empty) == 0.0 and iou(some, empty) == 0.0  # empty reference, something predicted
    assert dice(empty, some) == 0.0 and iou(empty, some) == 0.0  # target missed entirely
    with pytest.raises(ValueError, match="shape"):
        dice(_mask(shape=(2, 2)), empty)


def test_set_rule_reference_and_avoided():
    seg = np.array([0, 1, 2, 3, 2, 1])
    assert reference_mask(seg, [1, 2, 3], [2]).tolist() == [False, True, False, True, False, True]
    assert avoided_mask(seg, [1, 2, 3], [2, 5]).tolist() == [False, False, True, False, True, False]


def test_pss_validity_rule():
    assert pss(0.9, 0.81) == pytest.approx(0.1)
    assert pss(0.9, 0.9) == 0.0
    assert math.isnan(pss(0.8, 0.5))  # Dice(L1) must exceed 0.8
    assert math.isnan(pss(0.3, 0.1))


def test_invariance_and_its_validity():
    a, b = _mask((0, 0), (0, 1)), _mask((0, 0))
    assert invariance(a, b, dice_l1=0.95) == pytest.approx(2 / 3)
    assert invariance(a, a, dice_l1=0.95) == 1.0
    assert math.isnan(invariance(a, b, dice_l1=0.5))


def test_leakage():
    avoided = _mask((0, 0), (0, 1), (0, 2), (0, 3))
    assert leakage(_mask((0, 0), (3, 3)), avoided) == pytest.approx(0.25)
    assert leakage(_mask(), avoided) == 0.0
    assert math.isnan(leakage(_mask((0, 0)), _mask()))


def test_bootstrap_resamples_cases_and_skips_empty_ones():
    per_case = {"a": [0.9, 0.8], "b": [0.7], "c": [float("nan")], "d": [0.6]}
    lo, hi = bootstrap_ci(per_case, n_boot=2000, seed=1)
    assert 0.6 - 1e-9 <= lo <= np.mean([0.85, 0.7, 0.6]) <= hi <= 0.85 + 1e-9
    assert bootstrap_ci(per_case, n_boot=2000, seed=1) == (lo, hi)  # seeded
    assert bootstrap_ci({"x": [7.0]}) == (7.0, 7.0)
    assert bootstrap_ci({"x": [float("nan")]}) is None


def test_disparity():
    d = disparity({"L1": 0.9, "L2": 0.85, "L3": 0.6})
    assert d["gap_L1_L3"] == pytest.approx(0.3) and d["max_minus_min"] == pytest.approx(0.3)
    assert d["std"] == pytest.approx(np.std([0.9, 0.85, 0.6]))
    assert math.isnan(disparity({"L1": 0.9, "L3": None})["gap_L1_L3"])


def test_evaluate_case_and_summary_by_hand():
    from nnunet_semantic.evaluation.semantibench import evaluate_case, summarize
    from nnunet_semantic.prompts.sidecar import Prompt

    seg = np.array([[1, 1, 1, 1, 2, 2, 2, 2, 0, 0]])  # anterior 1 (4 voxels), posterior 2 (4 voxels)
    prompts = [Prompt("L1-h", 1, "hippocampus", (1, 2), structure="h"),
               Prompt("L2-h-0", 2, "hippocampal formation", (1, 2), structure="h"),
               Prompt("L3-h-x-p", 3, "hippocampus excluding the posterior hippocampus", (1, 2), (2,), "h", "p", "h")]
    whole = seg > 0
    preds = {"L1-h": whole, "L2-h-0": whole & (np.arange(10) != 7)[None],  # one posterior voxel missed
             "L3-h-x-p": whole & (np.arange(10) < 6)[None]}  # leaks 2 of 4 posterior voxels
    records = {r["prompt"]: r for r in evaluate_case("c1", seg, prompts, preds)}
    assert records["L1-h"]["dice"] == 1.0
    assert records["L2-h-0"]["invariance"] == pytest.approx(2 * 7 / (8 + 7))
    l3 = records["L3-h-x-p"]
    assert l3["dice"] == pytest.approx(2 * 4 / (6 + 4)) and l3["leakage"] == pytest.approx(0.5)
    assert l3["pss"] == pytest.approx(1 - l3["dice"])
    # a second case where the model misses the structure: its PSS and invariance are not valid
    bad = {k: np.zeros_like(whole) for k in preds}
    summary = summarize(list(records.values()) + evaluate_case("c2", seg, prompts, bad))
    assert summary["pss"]["n_valid"] == 1 and summary["pss"]["mean"] == pytest.approx(l3["pss"])
    assert summary["invariance_l2"]["n_valid"] == 1
    assert summary["leakage_l3"]["mean"] == pytest.approx(0.25)  # 0.5 and 0.0 over the two cases
    assert summary["per_level"]["L1"]["dice"] == pytest.approx(0.5) and summary["per_level"]["L3"]["n"] == 2
    assert summary["per_structure"]["h"]["dice"]["L3"] == pytest.approx(l3["dice"] / 2)
    assert summary["disparity"]["gap_L1_L3"] == pytest.approx(0.5 - l3["dice"] / 2)
