"""How a merged dataset's sources are drawn (the default, sqrt(cases), is MultiTalent's; `source_sampling = "cases"`
in a subclass draws in proportion to cases, as nnU-Net would)."""

from __future__ import annotations

from nnunet_semantic.trainers.semantic_trainer import SemanticTrainer


class SemanticTrainer_equalSources(SemanticTrainer):
    """Every source drawn equally often: each of N sources gets 1/N of the budget, however few its cases."""

    source_sampling = "sources"
