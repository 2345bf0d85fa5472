"""Trainers for `nnUNetv2_train -tr NAME`; found by nnU-Net through the `nnUNet_extTrainer` shim."""

from nnunet_semantic.trainers.semantic_trainer import SemanticTrainer
from nnunet_semantic.trainers.variants.ablations import (
    SemanticTrainer_mergedPrompt,
    SemanticTrainer_mirrored,
    SemanticTrainer_mirrorOtherAxes,
    SemanticTrainer_noExclusionLoss,
    SemanticTrainer_noFrequency,
    SemanticTrainer_noLabelLoss,
    SemanticTrainer_noMembershipLoss,
    SemanticTrainer_noReword,
    SemanticTrainer_onePrompt,
    SemanticTrainer_rawText,
    SemanticTrainer_sgdText,
)
from nnunet_semantic.trainers.variants.baselines import (
    SemanticTrainer_additiveFusion,
    SemanticTrainer_alphaGateOnly,
    SemanticTrainer_BiomedCLIP,
    SemanticTrainer_DHN,
    SemanticTrainer_encoderFusion,
    SemanticTrainer_queryHead,
    TextConcatTrainer,
    nnUNetTrainer_keepOrientation,
)
from nnunet_semantic.trainers.variants.sampling import SemanticTrainer_equalSources
from nnunet_semantic.trainers.variants.schedules import TRAINERS as _SCHEDULED

globals().update(_SCHEDULED)  # SemanticTrainer_smoke, _demo, _5epochs, ...: one table in variants/schedules.py

__all__ = [
    "SemanticTrainer",
    "nnUNetTrainer_keepOrientation",
    "SemanticTrainer_additiveFusion",
    "SemanticTrainer_alphaGateOnly",
    "SemanticTrainer_BiomedCLIP",
    "SemanticTrainer_DHN",
    "SemanticTrainer_encoderFusion",
    "SemanticTrainer_equalSources",
    "SemanticTrainer_mergedPrompt",
    "SemanticTrainer_mirrored",
    "SemanticTrainer_mirrorOtherAxes",
    "SemanticTrainer_noExclusionLoss",
    "SemanticTrainer_noFrequency",
    "SemanticTrainer_noLabelLoss",
    "SemanticTrainer_noMembershipLoss",
    "SemanticTrainer_noReword",
    "SemanticTrainer_onePrompt",
    "SemanticTrainer_queryHead",
    "SemanticTrainer_rawText",
    "SemanticTrainer_sgdText",
    "TextConcatTrainer",
    *_SCHEDULED,
]
