"""One part of the recipe taken away: the seeds' ablations and the levers that made prompts work."""

from __future__ import annotations

from nnunet_semantic.trainers.semantic_trainer import SemanticTrainer


class SemanticTrainer_noExclusionLoss(SemanticTrainer):
    """The parts of a composed prompt get no loss of their own (only the composed mask is supervised)."""

    exclusion_weight = 0.0


class SemanticTrainer_mergedPrompt(SemanticTrainer):
    """One embedding of the whole text, no pos/neg split, so nothing to compose and no exclusion loss."""

    merged_prompt = True
    exclusion_weight = 0.0


class SemanticTrainer_noFrequency(SemanticTrainer):
    """The frequency stream sees the image at half resolution instead of its Haar bands."""

    frequency_input = "raw"


class SemanticTrainer_mirrored(SemanticTrainer):
    """nnU-Net's mirroring and rotation whatever the structures' names: the ablation of keeping orientation."""

    keep_orientation = False


class SemanticTrainer_mirrorOtherAxes(SemanticTrainer):
    """The orientation rule per axis: the axes along a direction the structures name stay unmirrored (left-right
    for "left kidney"), the others are mirrored as nnU-Net mirrors them (issue 37; not the default until measured)."""

    keep_orientation = "named axes"


class SemanticTrainer_onePrompt(SemanticTrainer):
    """One prompt per sample: sibling prompts never meet on the same pixels in one step."""

    prompts_per_sample = 1


class SemanticTrainer_rawText(SemanticTrainer):
    """Uncentred text vectors (MiniLM cosine of "anterior" / "posterior hippocampus": 0.83)."""

    centre_text = False


class SemanticTrainer_sgdText(SemanticTrainer):
    """nnU-Net's SGD (momentum 0.99) for the text path too."""

    text_lr = None


class SemanticTrainer_noLabelLoss(SemanticTrainer):
    """The labels head's map of the dataset's labels learns only through the prompts' masks."""

    label_supervision = False


class SemanticTrainer_noMembershipLoss(SemanticTrainer):
    """The labels head's reading of a text learns only through the prompts' masks."""

    membership_weight = None


class SemanticTrainer_noReword(SemanticTrainer):
    """Every training prompt in its sidecar's own wording: no swap for another wording of the structure."""

    reword = 0.0
