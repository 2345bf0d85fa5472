"""Trainers for `nnUNetv2_train -tr NAME`; found by nnU-Net through the `nnUNet_extTrainer` shim."""

from nnunet_semantic.trainers.semantic_trainer import SemanticTrainer

__all__ = ["SemanticTrainer"]
