"""Budgets: (epochs, training iterations per epoch, validation iterations per epoch)."""

from __future__ import annotations

from nnunet_semantic.trainers.semantic_trainer import SemanticTrainer
from nnunet_semantic.trainers.variants.baselines import TextConcatTrainer

DEMO_EPOCHS, DEMO_ITERATIONS = 15, 25


class SemanticTrainer_smoke(SemanticTrainer):
    """1 epoch of 10 training and 2 validation iterations: proves the pipeline runs, nothing more."""

    schedule = (1, 10, 2)
    validation_mirroring = False


class SemanticTrainer_demo(SemanticTrainer):
    """The demo's budget: a few minutes on 2 CPU cores for the phantom, enough to learn its prompts."""

    schedule = (DEMO_EPOCHS, DEMO_ITERATIONS, 5)
    validation_mirroring = False  # 4x the prediction time on 2 cores; the demo predicts without it too
    validation_heldout = False  # the demo scores held-out wordings on its test cases


class SemanticTrainer_5epochs(SemanticTrainer):
    schedule = (5, None, None)


class SemanticTrainer_20epochs(SemanticTrainer):
    schedule = (20, None, None)


class SemanticTrainer_50epochs(SemanticTrainer):
    schedule = (50, None, None)


class SemanticTrainer_100epochs(SemanticTrainer):
    schedule = (100, None, None)


class TextConcatTrainer_smoke(TextConcatTrainer):
    schedule = SemanticTrainer_smoke.schedule
    validation_mirroring = False


class TextConcatTrainer_demo(TextConcatTrainer):
    schedule = SemanticTrainer_demo.schedule
    validation_mirroring = False
    validation_heldout = False


class TextConcatTrainer_5epochs(TextConcatTrainer):
    schedule = (5, None, None)


class TextConcatTrainer_20epochs(TextConcatTrainer):
    schedule = (20, None, None)
