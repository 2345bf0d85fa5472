"""Trainers for `nnUNetv2_train -tr NAME`; found by nnU-Net through the `nnUNet_extTrainer` shim."""

from nnunet_semantic.trainers.semantic_trainer import SemanticTrainer
from nnunet_semantic.trainers.variants import (
    SemanticTrainer_5epochs,
    SemanticTrainer_20epochs,
    SemanticTrainer_50epochs,
    SemanticTrainer_100epochs,
    SemanticTrainer_alphaGateOnly,
    SemanticTrainer_BiomedCLIP,
    SemanticTrainer_demo,
    SemanticTrainer_DHN,
    SemanticTrainer_mergedPrompt,
    SemanticTrainer_noExclusionLoss,
    SemanticTrainer_noFrequency,
    SemanticTrainer_smoke,
    TextConcatTrainer,
    TextConcatTrainer_5epochs,
    TextConcatTrainer_20epochs,
    TextConcatTrainer_demo,
    TextConcatTrainer_smoke,
)

__all__ = [
    "SemanticTrainer",
    "SemanticTrainer_5epochs",
    "SemanticTrainer_20epochs",
    "SemanticTrainer_50epochs",
    "SemanticTrainer_100epochs",
    "SemanticTrainer_alphaGateOnly",
    "SemanticTrainer_demo",
    "SemanticTrainer_BiomedCLIP",
    "SemanticTrainer_DHN",
    "SemanticTrainer_mergedPrompt",
    "SemanticTrainer_noExclusionLoss",
    "SemanticTrainer_noFrequency",
    "SemanticTrainer_smoke",
    "TextConcatTrainer",
    "TextConcatTrainer_5epochs",
    "TextConcatTrainer_20epochs",
    "TextConcatTrainer_demo",
    "TextConcatTrainer_smoke",
]
