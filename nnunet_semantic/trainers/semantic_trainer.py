"""The prompt-conditioned trainer, used as `nnUNetv2_train D CONFIG F -tr SemanticTrainer`."""

from __future__ import annotations

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer


class SemanticTrainer(nnUNetTrainer):
    """Entry point for prompt-conditioned training.

    Until the dual-stream network, prompt-aware loader and exclusion loss land (trainer issue), this
    trains exactly like `nnUNetTrainer`: it exists so that nnU-Net's lookup, pickling and the CLI
    wiring are in place and tested.
    """
