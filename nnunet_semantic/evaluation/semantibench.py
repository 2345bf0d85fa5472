"""SemantiBench per case and over a dataset: Dice/IoU per prompt against the set rule, PSS and L2 invariance
against the same structure's L1 prompt, L3 leakage; summarised per level and structure with case-bootstrap
intervals. The metric rules are in `metrics.py`."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from nnunet_semantic.evaluation import metrics as m
from nnunet_semantic.evaluation.scores import SCORES
from nnunet_semantic.prompts.sidecar import Prompt

LEVELS = ("L1", "L2", "L3")
# the same kinds of prompt in wordings kept out of training
HELDOUT_LEVELS = ("L2_heldout", "L3_heldout", "L2_paraphrase", "L3_paraphrase")


def evaluate_case(case: str, seg: np.ndarray, prompts: list[Prompt], predictions: dict[str, np.ndarray]) -> list[dict]:
    """One record per prompt that has a prediction; `predictions` maps prompt id -> binary mask like `seg`.
    Held-out wordings get their own keys (`invariance_heldout`, `leakage_heldout`), so the seen-wording
    statistics stay what they were."""
    l1 = {p.structure: p for p in prompts if p.level == 1 and p.id in predictions}
    l1_dice = {s: m.dice(predictions[p.id], m.reference_mask(seg, p.target, p.avoid)) for s, p in l1.items()}
    records = []
    for p in prompts:
        if p.id not in predictions:
            continue
        pred, ref = predictions[p.id], m.reference_mask(seg, p.target, p.avoid)
        r = {
            "case": case,
            "prompt": p.id,
            "level": p.level_key,
            "structure": p.structure,
            "text": p.text,
            "dice": m.dice(pred, ref),
            "iou": m.iou(pred, ref),
            "n_ref": int(ref.sum()),
            "n_pred": int(pred.sum()),
        }
        for key in ("source", "cross_source"):  # a merged dataset's: whose structure, and asked of another's image
            if key in p.extra:
                r[key] = p.extra[key]
        base = l1_dice.get(p.structure, float("nan"))
        suffix = f"_{p.wording}" if p.wording else ""
        if p.level == 2 and p.structure in l1:
            r["invariance" + suffix] = m.invariance(predictions[l1[p.structure].id], pred, base)
        if p.level == 3:
            r["leakage" + suffix] = m.leakage(pred, m.avoided_mask(seg, p.target, p.avoid))
            if not suffix:
                r["pss"] = m.pss(base, r["dice"]) if np.isfinite(base) else float("nan")
            if len(p.extra.get("excluded", ())) > 1:
                r["exclusions"] = len(p.extra["excluded"])
        records.append(r)
    return records


def _per_case(records: list[dict], key: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if key in r:
            out[r["case"]].append(r[key])
    return out


def finite(values) -> list[float]:
    """The values that count in a mean: NaN (e.g. both masks empty, or PSS where L1 is invalid) and None left out."""
    return [v for v in values if v is not None and np.isfinite(v)]


def _mean(values) -> float | None:
    values = finite(values)
    return float(np.mean(values)) if values else None


def _case_stat(records: list[dict], key: str, seed: int) -> dict:
    """Mean over cases of each case's mean (prompts of one case are not independent), with its interval."""
    per_case = _per_case(records, key)
    case_means = [_mean(v) for v in per_case.values()]
    valid = [c for c in case_means if c is not None]
    return {
        "mean": _mean(valid),
        "n_valid": len(valid),
        "n_prompts": int(sum(np.isfinite(v) for vs in per_case.values() for v in vs)),
        "ci95": m.bootstrap_ci(per_case, seed=seed),
    }


def summarize(records: list[dict], seed: int = 0) -> dict:
    """SemantiBench over the records; a merged dataset's also per source (of the prompts' structures) and its
    cross-source false-positive rate (another source's structure asked of an image that cannot contain it)."""
    cross = [r for r in records if r.get("cross_source")]
    records = [r for r in records if not r.get("cross_source")]
    out = _summary(records, seed)
    sources = sorted({r["source"] for r in records if "source" in r})
    if len(sources) > 1:
        out["per_source"] = {s: _summary([r for r in records if r.get("source") == s], seed) for s in sources}
    if cross:
        out["cross_source"] = {
            "n": len(cross),
            "false_positive_rate": _mean(r["n_pred"] > 0 for r in cross),
            "mean_predicted_voxels": _mean(r["n_pred"] for r in cross),
        }
    return out


def _summary(records: list[dict], seed: int) -> dict:
    present = {r["level"] for r in records}
    levels = [*LEVELS, *(lv for lv in HELDOUT_LEVELS if lv in present)]
    per_level = {}
    for level in levels:
        rs = [r for r in records if r["level"] == level]
        per_level[level] = {
            "dice": _mean(r["dice"] for r in rs),
            "iou": _mean(r["iou"] for r in rs),
            "n": len(rs),
            "ci95": m.bootstrap_ci(_per_case(rs, "dice"), seed=seed),
        }
    per_structure = {}
    for s in sorted({r["structure"] for r in records}):
        dice = {lv: _mean(r["dice"] for r in records if r["structure"] == s and r["level"] == lv) for lv in levels}
        per_structure[s] = {
            "dice": dice,
            "disparity": m.disparity({lv: dice[lv] for lv in LEVELS}),
            "leakage_l3": _mean(r.get("leakage") for r in records if r["structure"] == s),
        }
    dice_levels = {lv: per_level[lv]["dice"] for lv in LEVELS}
    multi = [r for r in records if "exclusions" in r]
    absent = [r for r in records if r["level"] == "absent"]
    scores = {
        name: _case_stat(multi if score.multi else records, score.record_key, seed) for name, score in SCORES.items()
    }
    return {
        "per_level": per_level,
        **scores,
        "absent": {
            "n": len(absent),
            "false_positive_rate": _mean(r["n_pred"] > 0 for r in absent),
            "mean_predicted_voxels": _mean(r["n_pred"] for r in absent),
        },
        "per_structure": per_structure,
        "disparity": m.disparity(dice_levels),
        "rules": m.__doc__.strip(),
    }
