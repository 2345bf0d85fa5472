"""Issue 5: SemanticTrainer and its variants through nnU-Net, on a real hippocampus subset."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import DATASET, train
from helpers import read_nii, trainer_on
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
from nnunetv2.utilities.find_objects import recursive_find_trainer_class_by_name

import nnunet_semantic.trainers as trainers
from nnunet_semantic.networks.card import checkpoint_card
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.text.minilm import MiniLMEncoder
from nnunet_semantic.trainers import SemanticTrainer
from nnunet_semantic.trainers.orientation import body_axes_of_array, mirror_axes_keeping, names_a_direction
from nnunet_semantic.trainers.prompt_batch import PromptTargets
from nnunet_semantic.trainers.prompt_table import prompt_texts
from nnunet_semantic.trainers.recipe import RECIPE
from nnunet_semantic.trainers.validation import heldout_texts

VARIANTS = ["SemanticTrainer", "SemanticTrainer_noExclusionLoss", "SemanticTrainer_mergedPrompt",
            "SemanticTrainer_noFrequency", "SemanticTrainer_alphaGateOnly", "SemanticTrainer_DHN", "TextConcatTrainer",
            "SemanticTrainer_encoderFusion", "SemanticTrainer_additiveFusion", "SemanticTrainer_sgdText",
            "SemanticTrainer_queryHead"]


@pytest.mark.parametrize("name", trainers.__all__)
def test_every_variant_resolves_by_name_through_nnunet(name, nnunet_env, capsys):
    cls = recursive_find_trainer_class_by_name(name)
    assert cls is getattr(trainers, name) and issubclass(cls, nnUNetTrainer if name.startswith("nnUNet") else
                                                         SemanticTrainer)


def _seeded(seed: int):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _real_slice(hippocampus: Path, min_voxels: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """([1, Y, X] image, [1, Y, X] labels): hippocampus_001's first axial slice with >= `min_voxels` of each half."""
    seg3d = read_nii(hippocampus / "labelsTr" / "hippocampus_001.nii.gz").astype(np.int16)
    img3d = read_nii(hippocampus / "imagesTr" / "hippocampus_001.nii.gz").astype(np.float32)
    z = int(np.argmax([(s == 1).sum() >= min_voxels and (s == 2).sum() >= min_voxels for s in seg3d]))
    return torch.from_numpy(img3d[z][None]), torch.from_numpy(seg3d[z][None])


def _targets(segs: list[torch.Tensor], targets, avoids, labels: int = 2) -> PromptTargets:
    """One sample's prompts (target / avoid label ids) over nnU-Net's label maps [1, ...] at each scale."""
    sets = torch.zeros(2, 1, len(targets), labels)
    for k, (target, avoid) in enumerate(zip(targets, avoids)):
        sets[0, 0, k, [t - 1 for t in target]], sets[1, 0, k, [a - 1 for a in avoid]] = 1, 1
    flags = torch.tensor([[bool(a) for a in avoids]])
    return PromptTargets([s[None] for s in segs], sets[0], sets[1], sets[0], sets[1], flags, flags.int())


def test_prompt_masks_follow_the_set_rule_on_real_slices(hippocampus):
    image, seg = _real_slice(hippocampus)
    # without spatial augmentation the masks are exactly the set rule, at every deep-supervision scale
    # (K = 2 prompts: composed, target, avoid masks per prompt, read off nnU-Net's own targets)
    val = SemanticTrainer.get_validation_transforms([[1, 1], [0.5, 0.5]], foreground_labels=[1, 2])
    segs = val(image=image, segmentation=seg)["segmentation"]
    assert torch.equal(segs[0][0], seg[0])  # nnU-Net's label map itself
    targets = _targets(segs, [(1, 2), (1,)], [(2,), ()])
    (composed, target, avoid), second = targets.masks(0).bool()
    assert torch.equal(composed, seg[0] == 1) and torch.equal(avoid, seg[0] == 2)
    assert torch.equal(target, seg[0] > 0) and torch.equal(second[0], seg[0] == 1) and not second[2].any()
    assert targets.masks(1).shape == (2, 3, *(round(s * 0.5) for s in seg.shape[1:]))
    # with nnU-Net's augmentation, the masks of different prompts warp alike (they come from one label map)
    tr = SemanticTrainer.get_training_transforms((56, 40), (-np.pi, np.pi), None, (0, 1), False, [False],
                                                 foreground_labels=[1, 2])
    _seeded(3)
    warped = tr(image=image.clone(), segmentation=seg.clone())["segmentation"]
    whole, l3, posterior = _targets([warped], [(1, 2), (1, 2), (2,)], [(), (2,), ()]).masks(0).bool()
    assert whole[0].any() and l3[2].any()
    assert torch.equal(l3[0] | l3[2], whole[0]) and not (l3[0] & l3[2]).any() and torch.equal(l3[1], whole[0])
    assert torch.equal(l3[2], posterior[0]) and not whole[2].any()


@pytest.mark.parametrize("batch_dice", [False, True])
def test_the_prompt_maps_loss_is_nnunets_dice_ce_in_closed_form(batch_dice):
    """The two-class maps' loss in closed form: nnU-Net's own Dice+CE, value and gradients, at every deep-supervision
    scale; a configuration it does not cover (an ignore label) runs nnU-Net's loss itself."""
    from nnunetv2.training.loss.compound_losses import DC_and_CE_loss
    from nnunetv2.training.loss.deep_supervision import DeepSupervisionWrapper
    from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss

    from nnunet_semantic.networks.heads.compose import two_class
    from nnunet_semantic.trainers.losses import TwoClassDiceCE, two_class_loss

    def nnunet(ignore_label=None):
        return DeepSupervisionWrapper(DC_and_CE_loss({"batch_dice": batch_dice, "smooth": 1e-5, "do_bg": False,
                                                      "ddp": False}, {}, ignore_label=ignore_label,
                                                     dice_class=MemoryEfficientSoftDiceLoss), [0.8, 0.2, 0.0])

    _seeded(0)
    shapes = [(12, 14, 10), (12, 7, 5), (12, 4, 3)]
    z = [torch.randn(s, requires_grad=True) for s in shapes]
    masks = [(torch.rand(s) > 0.6).to(torch.int16)[:, None] for s in shapes]
    masks[0][3] = 0  # a prompt with an empty target
    grads = []
    for loss in (nnunet(), two_class_loss(nnunet())):
        value = loss([two_class(x) for x in z], masks)
        grads.append((value, *torch.autograd.grad(value, z[:2])))
    assert isinstance(two_class_loss(nnunet()).loss, TwoClassDiceCE)
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)
    ignoring = TwoClassDiceCE(nnunet(ignore_label=2).loss)
    assert torch.equal(ignoring(two_class(z[0]), masks[0]), nnunet(ignore_label=2).loss(two_class(z[0]), masks[0]))


def test_a_cpu_training_keeps_freed_memory_unless_the_user_tuned_the_allocator(monkeypatch):
    """glibc's malloc told to keep what a step frees (each step's tensors page-faulted afresh without it); left alone
    where the user set its MALLOC_* variables, and off glibc."""
    import platform

    from nnunet_semantic.trainers.cpu_process import ALLOCATOR_VARIABLES, keep_freed_memory

    for name in ALLOCATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert not keep_freed_memory()
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    assert keep_freed_memory() == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")


def _trainer(cls, root: Path):
    return trainer_on(cls, root / "nnUNet_preprocessed" / DATASET)


def test_directional_names_keep_orientation_so_the_front_half_is_never_shown_behind_the_back_half(planned, hippocampus,
                                                                                                   monkeypatch):
    """nnU-Net's mirroring and 180-degree 2D rotation put the anterior half behind the posterior one in a share of
    the patches; on a dataset whose structures are named by a direction, SemanticTrainer never does, and predicts
    without mirroring too. Names without a direction keep nnU-Net's augmentation."""
    root, env = planned
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    image, seg = _real_slice(hippocampus, min_voxels=21)

    def front_first(seg: torch.Tensor) -> bool:  # anterior (label 1) before posterior (2) along the slice's rows
        rows = [torch.nonzero(seg == label)[:, 0].float().mean() for label in (1, 2)]
        return bool(rows[0] < rows[1])

    original = front_first(seg[0])
    # issue 37, the rule per axis: the cases' direction cosines put front-back along the slice's rows (patch axis 0)
    # and right-left along its columns; SemanticTrainer_mirrorOtherAxes mirrors the columns only
    mirrors = {trainers.SemanticTrainer_mirrored: (0, 1), SemanticTrainer: None,
               trainers.nnUNetTrainer_keepOrientation: None, trainers.SemanticTrainer_mirrorOtherAxes: (1,)}
    for cls, reverses in ((trainers.SemanticTrainer_mirrored, True), (SemanticTrainer, False),
                          (trainers.nnUNetTrainer_keepOrientation, False),
                          (trainers.SemanticTrainer_mirrorOtherAxes, False)):
        trainer = _trainer(cls, root)
        rotation, dummy_2d, _, mirror_axes = trainer.configure_rotation_dummyDA_mirroring_and_inital_patch_size()
        assert mirror_axes == trainer.inference_allowed_mirroring_axes == mirrors[cls], cls.__name__
        transforms = SemanticTrainer.get_training_transforms((56, 40), rotation, None, mirror_axes, dummy_2d, [False],
                                                             foreground_labels=[1, 2])
        flipped = 0
        for seed in range(30):
            _seeded(seed)
            out = transforms(image=image.clone(), segmentation=seg.clone())["segmentation"]
            flipped += front_first(out[0]) != original
        assert flipped > 5 if reverses else flipped == 0, (cls.__name__, flipped)
    assert names_a_direction(Ontology.of_dataset(root / "nnUNet_preprocessed" / DATASET))
    # numpy axes (z, y, x) of an axial image run feet-head, front-back, right-left; of a sagittal one right-left first
    sagittal = (0, 0, 1, 1, 0, 0, 0, 1, 0)
    assert body_axes_of_array((-1, 0, 0, 0, -1, 0, 0, 0, 1)) == (2, 1, 0) and body_axes_of_array(sagittal) == (0, 2, 1)
    assert mirror_axes_keeping({0}, [{"sitk_stuff": {"direction": sagittal}}], (0, 1, 2), (0, 1, 2), 3) == (1, 2)
    assert mirror_axes_keeping({0}, [{"spacing": (1, 1)}], (0, 1), (0, 1), 2) is None  # orientation unknown
    kidney = {"kidney": {"labels": [1], "names": ["kidney"]}, "tumor": {"labels": [2], "names": ["renal tumor"]}}
    assert not names_a_direction(Ontology.from_dict({"structures": kidney}))


@pytest.mark.parametrize("name", VARIANTS)
def test_one_training_step_reaches_every_parameter(name, planned, monkeypatch):
    root, env = planned
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("nnUNet_n_proc_DA", "0")
    trainer = _trainer(getattr(trainers, name), root)
    trainer.initialize()
    trainer.dataloader_train, trainer.dataloader_val = trainer.get_dataloaders()  # nnU-Net's own
    batch = next(trainer.dataloader_train)
    prompted = trainer.sampler(batch)
    k = trainer.prompts_per_sample
    assert prompted["target"].masks(0).shape[:2] == (4 * k, 3) and prompted["data"].pos.shape == (4, k, 384)
    assert set(prompted["target"].level.flatten().tolist()) <= {0, 1, 2, 3}
    # nnU-Net weights the lowest deep-supervision output 0, and 1e-6 under DDP so that every parameter gets a
    # gradient in every step; train with the DDP weighting
    for loss in (trainer.loss.seg_loss, trainer.loss.label_loss):
        if loss is not None:
            loss.weight_factors = (*loss.weight_factors[:-1], 1e-6)
    trainer.network.train()
    _seeded(0)
    has_neg = trainer.sampler(batch)["data"].has_neg
    _seeded(0)
    out = trainer.train_step(batch)  # nnU-Net's train_step on the prompted batch
    assert np.isfinite(out["loss"])
    missing = [n for n, p in trainer.network.named_parameters() if p.grad is None]
    assert missing == []
    excludes = trainer.head == "cmsg" or (trainer.head in ("labels", "query") and bool(has_neg.any()))
    assert (float(out["exclusion_loss"]) > 0) == excludes


def test_nnunetv2_train_smoke_resume_val_and_pretrained(planned, smoke_model):
    root, env = planned
    fold, stdout = smoke_model
    assert "Using trainer 'SemanticTrainer_smoke'" in stdout and "pseudo dice per prompt level" in stdout
    checkpoint = torch.load(fold / "checkpoint_final.pth", weights_only=False)
    meta = checkpoint_card(checkpoint, fold)
    assert meta["text_encoder"] == "minilm" and len(meta["encoder_fingerprint"]) == 16
    assert "posterior hippocampus" in meta["ontology"]["structures"]
    assert set(RECIPE) <= set(meta) and meta["config"]["head"] == "labels"  # the whole recipe, always
    # both optimisers' states are in nnU-Net's own optimizer entry
    assert set(checkpoint["optimizer_state"]) == {"image", "text", "text_steps"}
    assert checkpoint["optimizer_state"]["text_steps"] == 10
    assert (fold / "progress.png").stat().st_size > 10_000
    log = checkpoint["logging"]
    assert len(log["train_exclusion_losses"]) == 1 and np.isfinite(log["train_exclusion_losses"][0])
    # nnU-Net's own validation summary (one L1 prompt per label composes the label map), read by nnU-Net's loader
    from nnunetv2.evaluation.evaluate_predictions import load_summary_json

    nnunet_summary = load_summary_json(str(fold / "validation" / "summary.json"))
    assert set(nnunet_summary["mean"]) == {1, 2} and len(nnunet_summary["metric_per_case"]) == 3
    summary = load_summary_json(str(fold / "validation_semantic" / "summary.json"))
    assert summary["semantic"]["per_level"]["L3"]["n"] > 0 and set(summary["mean"]) == {1}
    assert {"pss", "invariance_l2", "leakage_l3", "per_structure", "disparity"} <= set(summary["semantic"])
    # held-out wordings (prompts_heldout/) are predicted and scored beside the seen ones
    assert summary["semantic"]["per_level"]["L2_heldout"]["n"] > 0
    assert summary["semantic"]["per_level"]["L3_heldout"]["n"] > 0
    assert any("invariance_heldout" in r for r in summary["semantic"]["metric_per_prompt"])  # NaN below L1 0.8
    # nnU-Net's own continuation and validation-only entry points
    for name in ("validation", "validation_semantic"):
        (fold / name / "summary.json").unlink()
    train(env, "0", "-tr", "SemanticTrainer_smoke", "--val")
    assert (fold / "validation" / "summary.json").is_file()
    assert (fold / "validation_semantic" / "summary.json").is_file()
    train(env, "0", "-tr", "SemanticTrainer_smoke", "--c")
    # a SemanticTrainer checkpoint initialises another fold's training
    stdout = train(env, "1", "-tr", "SemanticTrainer_smoke", "-pretrained_weights", str(fold / "checkpoint_final.pth"))
    assert "pretrained" in stdout.lower()


def test_heldout_wordings_never_reach_the_training_bank_and_rewording_keeps_the_structure(planned, smoke_model,
                                                                                          monkeypatch):
    """Issue 14: what training encodes (the bank, the prompt table) holds every training wording of each structure
    and none of the held-out ones; a reworded text is another wording of the same structure. Validation keeps the
    held-out wordings' vectors in a bank of their own, so a second validation never loads the encoder."""
    from nnunet_semantic.prompts.ontology import Ontology, normalize
    from nnunet_semantic.prompts.sidecar import read_sidecar_folder
    from nnunet_semantic.prompts.wording import heldout_wordings, training_wordings
    from nnunet_semantic.text.bank import EmbeddingBank, bank_path

    root, env = planned
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    trainer = _trainer(SemanticTrainer, root)
    trainer._prepare_text()
    table = trainer.prompts
    raw = root / "nnUNet_raw" / DATASET
    # the held-out prompts' texts and every held-out wording (an exclusion's parts may be trained names: "segment the
    # hippocampus apart from the hippocampal head" is a held-out request around them)
    heldout = {p.text for ps in read_sidecar_folder(raw / "prompts_heldout").values() for p in ps}
    ontology = Ontology.from_dataset_json(trainer.dataset_json)
    heldout |= {t for s in ontology.structures.values() for t in heldout_wordings(s)}
    assert any("segment the" in t for t in heldout) and len(heldout) > 20
    pre = root / "nnUNet_preprocessed" / DATASET
    bank = EmbeddingBank.load(bank_path(pre, "minilm"))
    for texts in (table.texts, bank.texts):
        assert not {normalize(t) for t in texts} & {normalize(t) for t in heldout}
    # the smoke model's validation filled the held-out bank; validating again reads it, and encodes nothing
    heldout_bank = EmbeddingBank.load(bank_path(pre, "minilm", "heldout"))
    monkeypatch.setattr(MiniLMEncoder, "encode", lambda self, texts: pytest.fail(f"encoded {texts[:3]} again"))
    _, sidecars, vectors = heldout_texts(trainer)
    assert set(vectors) == set(heldout_bank.texts) == {t for ps in sidecars.values() for p in ps
                                                       for t in prompt_texts(p, trainer.merged_prompt) if t}
    assert all(np.array_equal(v, heldout_bank.get([t])[0]) for t, v in vectors.items())
    anterior = ontology.structures["anterior hippocampus"]
    assert set(training_wordings(anterior)) <= set(table.texts)
    # rewording: every swapped vector is the vector of another training wording of the prompt's structure
    case = next(iter(table.cases))
    l1 = [i for i, p in enumerate(table.sidecars[case]) if p.text == "anterior hippocampus"]
    allowed = table.vectors[[table.texts.index(t) for t in training_wordings(anterior)]]
    rng = np.random.default_rng(0)
    swapped = [table.text_arrays(case, np.array(l1), reword=1.0, rng=rng)[0][0] for _ in range(30)]
    assert all(np.isclose(allowed, v).all(1).any() for v in swapped)
    assert len({v.tobytes() for v in swapped}) > 5
    assert np.array_equal(table.text_arrays(case, np.array(l1))[0][0], table.vector("anterior hippocampus"))
