"""A SemantiBench summary read once: `summary.json` keeps nnU-Net's shape on disk (its `semantic` section a dict),
and every reader (the evaluation command, the demo, the report, the validation log, the benchmarks) holds this
typed view instead of indexing the dict."""

from __future__ import annotations

from dataclasses import dataclass, field

from nnunet_semantic.errors import InputError
from nnunet_semantic.evaluation.metrics import LEAKAGE_FLAG
from nnunet_semantic.evaluation.scores import SCORES

REQUIRED = ("per_level", "per_structure", "pss", "invariance_l2", "leakage_l3")
# the row's level columns: the named levels, and L1 / L3 targets asked in held-out wordings
ROW_LEVELS = {
    "L1_dice": "L1",
    "L2_dice": "L2",
    "L3_dice": "L3",
    "L1_heldout_dice": "L2_heldout",
    "L3_heldout_dice": "L3_heldout",
}


@dataclass(frozen=True)
class SemanticSummary:
    per_level: dict[str, dict]  # level -> dice, iou, n, ci95
    scores: dict[str, dict]  # SCORES name -> mean, n_valid, n_prompts, ci95 (absent scores of older files: none)
    per_structure: dict[str, dict]  # structure -> dice per level, disparity, leakage_l3
    absent: dict = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)  # one per scored prompt
    per_source: dict[str, SemanticSummary] = field(default_factory=dict)  # a merged dataset's sources
    cross_source: dict = field(default_factory=dict)
    rules: str = ""

    @classmethod
    def of(cls, semantic: dict, where: str = "summary") -> SemanticSummary:
        """The typed view of a `semantic` section; a missing field is one error naming it and `where`."""
        if not isinstance(semantic, dict):
            raise InputError(where, "no 'semantic' section: not a summary written by nnUNetv2_evaluate_semantic")
        for key in REQUIRED:
            if key not in semantic:
                raise InputError(where, f"field 'semantic.{key}' missing")
        return cls(
            semantic["per_level"],
            {name: semantic[name] for name in SCORES if name in semantic},
            semantic["per_structure"],
            semantic.get("absent") or {},
            semantic.get("metric_per_prompt", []),
            {s: cls.of(sub, where) for s, sub in (semantic.get("per_source") or {}).items()},
            semantic.get("cross_source") or {},
            semantic.get("rules", ""),
        )

    def dice(self, level: str) -> float | None:
        return self.per_level.get(level, {}).get("dice")

    def mean(self, score: str) -> float | None:
        SCORES[score]  # an unknown name is an error naming the known ones
        return self.scores.get(score, {}).get("mean")

    def n_valid(self, score: str) -> int:
        return self.scores.get(score, {}).get("n_valid", 0)

    def structure_dice(self, level: str = "L1") -> dict[str, float]:
        """structure -> its Dice at `level`, where it has one."""
        return {s: v["dice"][level] for s, v in self.per_structure.items() if v["dice"].get(level) is not None}

    @property
    def pss_is_gamed(self) -> bool:
        """PSS is not evidence of compliance when L3 leakage is high: a small excluded part keeps PSS small even
        when the model paints it."""
        leakage = self.mean("leakage_l3")
        return leakage is not None and leakage > LEAKAGE_FLAG

    def row(self) -> dict[str, float | int | None]:
        """The numbers a result is read by, as one flat row (None where it had no such prompts): what the
        evaluation command, the demo and the benchmarks print and record."""
        return {
            **{key: self.dice(level) for key, level in ROW_LEVELS.items()},
            **{name: self.mean(name) for name in SCORES},
            "absent_false_positive_rate": self.absent.get("false_positive_rate"),
            "n_prompts": len(self.records),
        }
