"""SemanticTrainer's recipe: every knob, in one list. Variants change one attribute (the nnU-Net way), and the
checkpoint records all of them (`recipe_of`), always."""

from __future__ import annotations


class SemanticRecipe:
    text_encoder: str = "minilm"  # a name for nnunet_semantic.text.get_encoder
    # how the prompt meets the image (`networks.heads`): "labels" (the text reads which of the dataset's labels it
    # names), "query" (the text generates each stage's classifier), "cmsg" / "alpha" (additive gates before a fixed
    # classifier), "concat" (UNet-CLIP)
    head: str = "labels"
    head_site: str | None = None  # additive gates: "decoder" stages or "encoder" skips (the papers'); None: the head's
    frequency_input: str = "dwt"  # "dwt" or "raw" (the no-frequency ablation)
    frequency_backbone: str = "auto"  # "auto", "scaled" or "convnext_tiny"
    semantic_stream: str = "unet"  # "unet" (the planned encoder) or "biomedclip" (plus BiomedCLIP's ViT-B/16)
    merged_prompt: bool = False  # True: one embedding of the whole text, no pos/neg split
    exclusion_weight: float = 1.0  # lambda of the loss on each part of a composed prompt (the exclusion loss)
    prompts_per_sample: int = 8  # K prompts of a patch trained on the same features (all if the case has fewer)
    absent_prompts: bool = True  # structures the case lacks are prompted too, with empty targets
    centre_text: bool = True  # subtract the training texts' mean vector (stored in the network)
    # a text is read as the softmax(T * cosine)-weighted mix of the training texts' vectors (stored in the network):
    # a wording never trained on is read as its nearest training wordings; None: as itself
    vocabulary_temperature: float | None = 100.0
    text_lr: float | None = 1e-3  # AdamW for the text path; None: nnU-Net's SGD for every parameter
    text_weight_decay: float = 1e-2
    text_warmup: int = 50  # iterations of linear warm-up of the text path's learning rate
    # Dice per prompt map (True) or pooled over the batch (nnU-Net's `batch_dice` for 2D): pooled over K prompts,
    # the whole-organ maps dominate and painting the whole organ for "anterior hippocampus" costs little
    per_prompt_dice: bool = True
    label_supervision: bool = True  # the `labels` head's map of the dataset's labels also learns from the label map
    # weight of the `labels` head's reading of each text against the labels its prompt names; None: masks only
    membership_weight: float | None = 1.0
    # the same reading of one wording of every structure per batch, without an image: learns a structure that no
    # case is annotated with whole (a merged dataset's union of two sources' parts)
    vocabulary_membership: bool = True
    # share of training texts (and exclusion parts) swapped for another training wording of the same structure:
    # its names, synonyms and descriptions, in request templates ("show the X", "X area"); held-out wordings never
    reword: float = 0.5
    # no mirroring, rotation within +-15 degrees (orientation.py); None: when a structure is named by a direction;
    # "named axes": only the axes along a named direction unmirrored (SemanticTrainer_mirrorOtherAxes)
    keep_orientation: bool | str | None = None
    dhn_gamma: float | None = None  # Dynamic Hard Negative focusing; None disables the term
    dhn_weight: float = 1.0
    validation_mirroring: bool = True  # mirroring test-time augmentation in the end-of-training validation
    validation_heldout: bool = True  # the end-of-training validation also scores the held-out wordings
    # a merged dataset's sources are drawn with probability proportional to sqrt(their cases) ("sqrt", MultiTalent's),
    # to their cases ("cases", nnU-Net's uniform draw over cases) or equally ("sources")
    source_sampling: str = "sqrt"
    # (epochs, training iterations per epoch, validation iterations per epoch); None keeps nnU-Net's value
    schedule: tuple[int | None, int | None, int | None] = (None, None, None)


RECIPE = tuple(SemanticRecipe.__annotations__)


def recipe_of(trainer) -> dict:
    return {name: getattr(trainer, name) for name in RECIPE}
