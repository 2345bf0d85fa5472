"""The per-case scores of a SemantiBench summary, registered by name: the summary computes each one, and the
evaluation command, the report, the demo and the benchmarks read and print them by looping over this registry (a
new score is one `SCORES.register` here, not an edit in every reader)."""

from __future__ import annotations

from dataclasses import dataclass

from nnunet_semantic.registry import Registry


@dataclass(frozen=True)
class Score:
    """The mean over cases of each case's mean of a per-prompt record value (`record_key`); `multi`: only prompts
    with two or more exclusions. `label` is how tables name it; `lower_is_better` how it is read."""

    record_key: str
    label: str
    lower_is_better: bool
    multi: bool = False


SCORES: Registry[Score] = Registry("score")
SCORES.register("pss", Score("pss", "PSS", lower_is_better=True))
SCORES.register("invariance_l2", Score("invariance", "L2 invariance", lower_is_better=False))
SCORES.register("invariance_heldout", Score("invariance_heldout", "L2 invariance, unseen wording", False))
SCORES.register(
    "invariance_paraphrase", Score("invariance_paraphrase", "L2 invariance, parts as people phrase them", False)
)
SCORES.register("leakage_l3", Score("leakage", "L3 leakage", lower_is_better=True))
SCORES.register("leakage_l3_heldout", Score("leakage_heldout", "L3 leakage, unseen wording", True))
SCORES.register("leakage_l3_paraphrase", Score("leakage_paraphrase", "L3 leakage, parts as people phrase them", True))
SCORES.register("leakage_l3_multi", Score("leakage", "L3 leakage, two or more exclusions", True, multi=True))
