"""The designs compared against, other heads, and the papers' options that cannot be measured here."""

from __future__ import annotations

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_semantic.trainers.orientation import KeepOrientation
from nnunet_semantic.trainers.semantic_trainer import SemanticTrainer


class nnUNetTrainer_keepOrientation(KeepOrientation, nnUNetTrainer):
    """The non-promptable specialist with the same augmentation, to compare like for like."""


class SemanticTrainer_queryHead(SemanticTrainer):
    """The text generates each decoder stage's classifier (SAT's query path) instead of reading the dataset's labels:
    it can name regions no label describes, but on the real hippocampus it collapsed to one classifier for sibling
    prompts (docs/design.md)."""

    head = "query"


class SemanticTrainer_additiveFusion(SemanticTrainer):
    """The first design: additive CMSG gates on the decoder's stages in front of nnU-Net's fixed classifier, one
    prompt per sample, uncentred text, nnU-Net's SGD for every parameter, no absent prompts. Trained through nnU-Net
    it paints the same mask for sibling prompts."""

    head = "cmsg"
    head_site = "decoder"
    prompts_per_sample = 1
    per_prompt_dice = False
    absent_prompts = False
    centre_text = False
    text_lr = None


class SemanticTrainer_alphaGateOnly(SemanticTrainer_additiveFusion):
    """The second paper's fusion alone: F_fused = F_sem + (1 + alpha) * F_freq, no logical gates."""

    head = "alpha"
    exclusion_weight = 0.0


class SemanticTrainer_encoderFusion(SemanticTrainer_additiveFusion):
    """CMSG on the encoder's skips, as the papers place it: the whole decoder then runs once per prompt."""

    head_site = "encoder"


class TextConcatTrainer(SemanticTrainer_additiveFusion):
    """UNet-CLIP-style baseline: the whole prompt's embedding tiled and concatenated at the bottleneck."""

    head = "concat"
    head_site = None
    merged_prompt = True
    exclusion_weight = 0.0


class SemanticTrainer_DHN(SemanticTrainer):
    """The papers' Dynamic Hard Negative term on the composed mask."""

    dhn_gamma = 2.0


class SemanticTrainer_BiomedCLIP(SemanticTrainer):
    """Adds BiomedCLIP's ViT-B/16 to the semantic stream (weights from $NNUNET_SEMANTIC_BIOMEDCLIP_DIR or the hub
    cache; random with a warning otherwise). A GPU run: the ViT sees every slice at 224x224."""

    semantic_stream = "biomedclip"
