"""Ablations, baselines and schedules as tiny subclasses, the nnU-Net way (`nnUNetTrainer_5epochs`)."""

from __future__ import annotations

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_semantic.trainers.orientation import KeepOrientation
from nnunet_semantic.trainers.semantic_trainer import SemanticTrainer

DEMO_EPOCHS, DEMO_ITERATIONS = 15, 25


class SemanticTrainer_noExclusionLoss(SemanticTrainer):
    """The parts of a composed prompt get no loss of their own (only the composed mask is supervised)."""

    exclusion_weight = 0.0


class SemanticTrainer_mirrored(SemanticTrainer):
    """nnU-Net's mirroring and rotation whatever the structures' names: the ablation of keeping orientation."""

    keep_orientation = False


class nnUNetTrainer_keepOrientation(KeepOrientation, nnUNetTrainer):
    """The non-promptable specialist with the same augmentation, to compare like for like."""


class SemanticTrainer_mergedPrompt(SemanticTrainer):
    """One embedding of the whole text, no pos/neg split, so nothing to compose and no exclusion loss."""

    merged_prompt = True
    exclusion_weight = 0.0


class SemanticTrainer_noFrequency(SemanticTrainer):
    frequency_input = "raw"


class SemanticTrainer_onePrompt(SemanticTrainer):
    """One prompt per sample, as before: sibling prompts never meet on the same pixels in one step."""

    prompts_per_sample = 1


class SemanticTrainer_noAbsent(SemanticTrainer):
    absent_prompts = False


class SemanticTrainer_rawText(SemanticTrainer):
    """Uncentred text vectors (MiniLM cosine of "anterior" / "posterior hippocampus": 0.83)."""

    centre_text = False


class SemanticTrainer_sgdText(SemanticTrainer):
    """nnU-Net's SGD (momentum 0.99) for the text path too."""

    text_lr = None


class SemanticTrainer_queryHead(SemanticTrainer):
    """The text generates each decoder stage's classifier (SAT's query path) instead of reading the dataset's labels:
    it can name regions no label describes, but on the real hippocampus it collapsed to one classifier for sibling
    prompts (see the README's "What was tried")."""

    fusion = "query"


class SemanticTrainer_noLabelLoss(SemanticTrainer):
    """The labels head's map of the dataset's labels learns only through the prompts' masks."""

    label_supervision = False


class SemanticTrainer_noMembershipLoss(SemanticTrainer):
    """The labels head's reading of a text learns only through the prompts' masks."""

    membership_weight = None


class SemanticTrainer_noReword(SemanticTrainer):
    """Every training prompt in its sidecar's own wording: no swap for another wording of the structure."""

    reword = 0.0


class SemanticTrainer_noVocabulary(SemanticTrainer):
    """Every text read as itself: a wording never trained on is not projected onto the training wordings."""

    vocabulary_temperature = None


class SemanticTrainer_batchDice(SemanticTrainer):
    """nnU-Net's batch Dice, pooled over every prompt map of the batch."""

    per_prompt_dice = False


class SemanticTrainer_additiveFusion(SemanticTrainer):
    """The first design, kept for the comparison: additive CMSG gates on the decoder's stages in front of nnU-Net's
    fixed classifier, one prompt per sample, uncentred text, nnU-Net's SGD for every parameter, no absent prompts.
    Trained through nnU-Net it paints the same mask for sibling prompts."""

    fusion = "cmsg"
    prompts_per_sample = 1
    per_prompt_dice = False
    absent_prompts = False
    centre_text = False
    text_lr = None


class SemanticTrainer_alphaGateOnly(SemanticTrainer_additiveFusion):
    """The second paper's fusion alone: F_fused = F_sem + (1 + alpha) * F_freq, no logical gates."""

    fusion = "alpha"
    exclusion_weight = 0.0


class SemanticTrainer_encoderFusion(SemanticTrainer_additiveFusion):
    """CMSG on the encoder's skips, as the papers place it: the whole decoder then runs once per prompt."""

    fusion_site = "encoder"


class SemanticTrainer_DHN(SemanticTrainer):
    dhn_gamma = 2.0


class SemanticTrainer_BiomedCLIP(SemanticTrainer):
    """Adds BiomedCLIP's ViT-B/16 to the semantic stream (weights from $NNUNET_SEMANTIC_BIOMEDCLIP_DIR or the hub
    cache; random with a warning otherwise). A GPU run: the ViT sees every slice at 224x224."""

    semantic_stream = "biomedclip"


class TextConcatTrainer(SemanticTrainer_additiveFusion):
    """UNet-CLIP-style baseline: the whole prompt's embedding tiled and concatenated at the bottleneck."""

    fusion = "concat"
    merged_prompt = True
    exclusion_weight = 0.0


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
