"""SemanticTrainer: prompt-conditioned training through `nnUNetv2_train D CONFIG F -tr SemanticTrainer`.

nnU-Net's 5-argument trainer with: a SemanticUNet built from the plans, whose prompt makes the classifier (by
default it reads which of the dataset's labels the prompt names; nnU-Net's own label map supervises the labels); K
prompts per sample (verified prompts of the case and empty-target prompts for structures it lacks), all answered
from the same image features, so sibling prompts get contradictory targets on the same pixels; text vectors from
the embedding bank (built once before training; the encoder never runs inside an iteration), centred over the
training texts; each prompt's masks made after spatial augmentation; loss = nnU-Net's Dice+CE on the composed
mask + `exclusion_weight` * (BCE of each part against its own mask); AdamW for the text path, nnU-Net's SGD for
the rest. Experiments are subclasses that change one attribute (see `variants.py`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from batchgenerators.dataloading.nondet_multi_threaded_augmenter import NonDetMultiThreadedAugmenter
from batchgenerators.dataloading.single_threaded_augmenter import SingleThreadedAugmenter
from batchgeneratorsv2.transforms.utils.compose import ComposeTransforms
from batchgeneratorsv2.transforms.utils.deep_supervision_downsampling import DownsampleSegForDSTransform
from nnunetv2.training.lr_scheduler.polylr import PolyLRScheduler
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
from nnunetv2.utilities.default_n_proc_DA import get_allowed_n_proc_DA
from nnunetv2.utilities.helpers import dummy_context
from torch import autocast
from torch import distributed as dist
from torch._dynamo import OptimizedModule
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from nnunet_semantic.evaluation.metrics import dice_from_counts
from nnunet_semantic.networks import build_semantic_unet
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER, read_sidecar_folder
from nnunet_semantic.prompts.wording import training_wordings
from nnunet_semantic.text import get_encoder
from nnunet_semantic.text.bank import build_bank
from nnunet_semantic.trainers.data_loader import SemanticDataLoader
from nnunet_semantic.trainers.logger import SemanticLocalLogger
from nnunet_semantic.trainers.losses import dynamic_hard_negative_loss, semantic_loss
from nnunet_semantic.trainers.optimizers import build_optimizers, set_text_lr
from nnunet_semantic.trainers.orientation import names_a_direction, orientation_preserving
from nnunet_semantic.trainers.prompt_table import PromptTable, prompt_texts, sidecar_folder
from nnunet_semantic.trainers.transforms import PromptMaskTransform

LEVELS = (1, 2, 3)


class SemanticTrainer(nnUNetTrainer):
    text_encoder = "minilm"  # a name for nnunet_semantic.text.get_encoder
    exclusion_weight = 1.0  # lambda of the loss on each part of a composed prompt (the exclusion loss)
    # "labels" (the text reads which of the dataset's labels it names, the image path is nnU-Net's label softmax),
    # "query" (the text generates each stage's classifier), both with the exclusion composed on masks; "cmsg"
    # (additive logical gates + alpha before a fixed classifier), "alpha" (alpha fusion only), "concat" (UNet-CLIP)
    fusion = "labels"
    # where additive gates meet the image: "decoder" stages (the decoder runs once per image, so many prompts per
    # case are cheap) or "encoder" stages (the papers' placement: the whole decoder runs once per prompt)
    fusion_site = "decoder"
    prompts_per_sample = 8  # K prompts of a patch trained on the same features (all of them if the case has fewer)
    absent_prompts = True  # structures the case lacks are prompted too, with empty targets
    centre_text = True  # subtract the training texts' mean vector (stored in the network, so prediction does too)
    # a text is read as the softmax(T * cosine)-weighted mix of the training texts' vectors (stored in the network):
    # a wording never trained on is read as its nearest training wordings; None: as itself
    vocabulary_temperature: float | None = 100.0
    text_lr: float | None = 1e-3  # AdamW for the text path; None: nnU-Net's SGD for every parameter
    text_weight_decay = 1e-2
    text_warmup = 50  # iterations of linear warm-up of the text path's learning rate
    # Dice per prompt map (True) or pooled over the batch (nnU-Net's `batch_dice` for 2D): pooled over K prompts,
    # the whole-organ maps dominate and painting the whole organ for "anterior hippocampus" costs little
    per_prompt_dice = True
    label_supervision = True  # the `labels` head's map of the dataset's labels also learns from the label map
    # weight of the `labels` head's reading of each text against the labels its prompt names; None: masks only
    membership_weight: float | None = 1.0
    # share of training texts (and exclusion parts) swapped for another training wording of the same structure:
    # its names, synonyms and descriptions, in request templates ("show the X", "X area"); held-out wordings never
    reword = 0.5
    # no mirroring, rotation within +-15 degrees (orientation.py); None: when a structure is named by a direction
    keep_orientation: bool | None = None
    frequency_input = "dwt"  # "dwt" or "raw" (the no-frequency ablation)
    frequency_backbone = "auto"  # "auto", "scaled" or "convnext_tiny"
    semantic_stream = "unet"  # "unet" (the planned encoder) or "biomedclip" (plus BiomedCLIP's ViT-B/16)
    merged_prompt = False  # True: one embedding of the whole text, no pos/neg split
    dhn_gamma: float | None = None  # Dynamic Hard Negative focusing; None disables the term
    dhn_weight = 1.0
    validation_mirroring = True  # mirroring test-time augmentation in the end-of-training validation, as nnU-Net
    validation_heldout = True  # the end-of-training validation also scores the held-out wordings (prompts_heldout/)
    # (epochs, training iterations per epoch, validation iterations per epoch); None keeps nnU-Net's value
    schedule: tuple[int | None, int | None, int | None] = (None, None, None)

    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device("cuda")):  # noqa: B008 - nnU-Net's own signature
        super().__init__(plans, configuration, fold, dataset_json, device)
        epochs, iterations, val_iterations = self.schedule
        self.num_epochs = epochs or self.num_epochs
        self.num_iterations_per_epoch = iterations or self.num_iterations_per_epoch
        self.num_val_iterations_per_epoch = val_iterations or self.num_val_iterations_per_epoch
        self.logger.local_logger = SemanticLocalLogger()
        self.prompts: PromptTable | None = None
        self.text_dim = self.encoder_fingerprint = None
        self.text_optimizer: torch.optim.Optimizer | None = None
        self._label_counts: list[dict[str, int]] | None = None
        self._text_steps = 0

    # --- set-up ---------------------------------------------------------------------------------
    def initialize(self):
        if not self.was_initialized:
            self._prepare_text()
            super().initialize()
            vectors = torch.from_numpy(self.prompts.vectors)
            if self.centre_text:
                self._module().centre.set_mean(vectors)
            if self.vocabulary_temperature:
                self._module().centre.set_vocabulary(vectors, self.vocabulary_temperature)
        else:
            super().initialize()  # nnU-Net's own "already initialized" error

    def _prepare_text(self) -> None:
        """Prompts and their vectors, before the network (whose text width depends on the encoder)."""
        folder = Path(self.preprocessed_dataset_folder_base)
        structures = self.dataset_json["semantic"]["structures"]
        absent = {name: tuple(s["labels"]) for name, s in structures.items()} if self.absent_prompts else None
        ontology = Ontology.from_dataset_json(self.dataset_json)
        wordings = [training_wordings(s) for s in ontology.structures.values()] if self.reword else None
        self.prompts = PromptTable.load(folder, self.merged_prompt, absent, wordings)
        if self.is_ddp and self.local_rank != 0:
            dist.barrier()  # rank 0 builds the bank; the others then find it complete
        structure_names = tuple(structures)  # the per-label L1 prompts
        bank, n_new = build_bank(folder, get_encoder(self.text_encoder, device=self.device.type),
                                 [*self.prompts.texts, *structure_names])
        if self.is_ddp and self.local_rank == 0:
            dist.barrier()
        self.prompts.attach(bank, structure_names)
        self.text_dim, self.encoder_fingerprint = bank.vectors.shape[1], bank.fingerprint
        self.print_to_log_file(f"text encoder {self.text_encoder} ({bank.fingerprint}): {len(self.prompts.texts)} "
                               f"prompt texts, {n_new} newly encoded; {len(self.prompts.cases)} cases with prompts")

    def build_network_architecture(self, plans_manager, configuration_manager, num_input_channels,
                                   num_output_channels, enable_deep_supervision=True):
        """2 outputs (background / prompted target) whatever the dataset's label count."""
        return build_semantic_unet(configuration_manager, num_input_channels, self.text_dim, self.fusion,
                                   self.frequency_input, self.frequency_backbone, enable_deep_supervision,
                                   self.semantic_stream, self.fusion_site, num_output_channels - 1)

    def _module(self):
        mod = self.network.module if isinstance(self.network, DDP) else self.network
        return mod._orig_mod if isinstance(mod, OptimizedModule) else mod

    def configure_optimizers(self):
        optimizer, self.text_optimizer = build_optimizers(self._module(), self.initial_lr, self.weight_decay,
                                                          self.text_lr, self.text_weight_decay)
        return optimizer, PolyLRScheduler(optimizer, self.initial_lr, self.num_epochs)

    def _set_text_lr(self) -> None:
        """Linear warm-up over `text_warmup` iterations, then nnU-Net's poly decay by epoch."""
        self._text_steps += 1
        set_text_lr(self.text_optimizer, self.text_lr, self._text_steps, self.text_warmup,
                    self.current_epoch / self.num_epochs)

    def _build_loss(self):
        self.label_loss = super()._build_loss() if self.label_supervision else None  # nnU-Net's, unchanged
        loss = super()._build_loss()
        if self.per_prompt_dice:
            inner = getattr(loss, "loss", loss)  # inside nnU-Net's deep-supervision wrapper
            getattr(inner.dc, "_orig_mod", inner.dc).batch_dice = False
        return loss

    # --- data -----------------------------------------------------------------------------------
    def configure_rotation_dummyDA_mirroring_and_inital_patch_size(self):
        configured = super().configure_rotation_dummyDA_mirroring_and_inital_patch_size()
        keep = self.keep_orientation
        if keep is None:
            keep = names_a_direction(self.dataset_json["semantic"]["structures"])
        return orientation_preserving(self, configured) if keep else configured

    @staticmethod
    def get_training_transforms(patch_size, rotation_for_DA, deep_supervision_scales, mirror_axes,
                                do_dummy_2d_data_aug, use_mask_for_norm=None, is_cascaded=False,
                                foreground_labels=None, regions=None, ignore_label=None):
        base = nnUNetTrainer.get_training_transforms(patch_size, rotation_for_DA, None, mirror_axes,
                                                     do_dummy_2d_data_aug, use_mask_for_norm, is_cascaded,
                                                     foreground_labels, None, ignore_label)
        return SemanticTrainer._with_prompt_masks(base, deep_supervision_scales)

    @staticmethod
    def get_validation_transforms(deep_supervision_scales, is_cascaded=False, foreground_labels=None, regions=None,
                                  ignore_label=None):
        base = nnUNetTrainer.get_validation_transforms(None, is_cascaded, foreground_labels, None, ignore_label)
        return SemanticTrainer._with_prompt_masks(base, deep_supervision_scales)

    @staticmethod
    def _with_prompt_masks(base, deep_supervision_scales):
        """Masks after all of nnU-Net's augmentation, deep-supervision downsampling after the masks."""
        transforms = [base, PromptMaskTransform()]
        if deep_supervision_scales is not None:
            transforms.append(DownsampleSegForDSTransform(ds_scales=deep_supervision_scales))
        return ComposeTransforms(transforms)

    def get_dataloaders(self):
        patch_size = self.configuration_manager.patch_size
        ds_scales = self._get_deep_supervision_scales()
        rotation, dummy_2d, initial_patch_size, mirror_axes = \
            self.configure_rotation_dummyDA_mirroring_and_inital_patch_size()
        labels = self.label_manager.foreground_labels
        tr_transforms = self.get_training_transforms(patch_size, rotation, ds_scales, mirror_axes, dummy_2d,
                                                     self.configuration_manager.use_mask_for_norm, False, labels)
        val_transforms = self.get_validation_transforms(ds_scales, False, labels)
        dataset_tr, dataset_val = self.get_tr_and_val_datasets()
        common = dict(oversample_foreground_percent=self.oversample_foreground_percent, sampling_probabilities=None,
                      pad_sides=None, probabilistic_oversampling=self.probabilistic_oversampling, prompts=self.prompts,
                      prompts_per_sample=self.prompts_per_sample)
        dl_tr = SemanticDataLoader(dataset_tr, self.batch_size, initial_patch_size, patch_size, self.label_manager,
                                   transforms=tr_transforms, reword=self.reword, **common)
        dl_val = SemanticDataLoader(dataset_val, self.batch_size, patch_size, patch_size, self.label_manager,
                                    transforms=val_transforms, **common)
        n_proc = get_allowed_n_proc_DA()
        if n_proc == 0:
            gen_tr, gen_val = SingleThreadedAugmenter(dl_tr, None), SingleThreadedAugmenter(dl_val, None)
        else:
            pin = self.device.type == "cuda"
            gen_tr = NonDetMultiThreadedAugmenter(dl_tr, None, n_proc, max(6, n_proc // 2), None, pin, 0.002)
            gen_val = NonDetMultiThreadedAugmenter(dl_val, None, max(1, n_proc // 2), max(3, n_proc // 4), None, pin,
                                                   0.002)
        next(gen_tr), next(gen_val)
        return gen_tr, gen_val

    # --- steps ----------------------------------------------------------------------------------
    def _to_device(self, batch: dict):
        data = batch["data"].to(self.device, non_blocking=True)
        target = batch["target"] if isinstance(batch["target"], list) else [batch["target"]]
        target = [t.to(self.device, non_blocking=True) for t in target]
        text = {"pos": batch["text_pos"], "neg": batch["text_neg"], "has_neg": batch["has_neg"],
                "pos_labels": batch["pos_labels"], "neg_labels": batch["neg_labels"]}
        return data, target, {k: v.to(self.device, non_blocking=True) for k, v in text.items()}

    def _loss(self, output, target: list[torch.Tensor], text: dict[str, torch.Tensor]):
        memberships = None if self.membership_weight is None else (text["pos_labels"], text["neg_labels"])
        total, l_exc, composed = semantic_loss(self.loss, self._module(), output, target, text["has_neg"],
                                               self.exclusion_weight, self.enable_deep_supervision, self.label_loss,
                                               memberships, self.membership_weight or 0.0)
        if self.dhn_gamma is not None:
            with torch.autocast(self.device.type, enabled=False):
                outputs = output if isinstance(output, (list, tuple)) else [output]
                total = total + self.dhn_weight * dynamic_hard_negative_loss(outputs[0], composed, self.dhn_gamma)
        return total, l_exc, composed

    def train_step(self, batch: dict) -> dict:
        data, target, text = self._to_device(batch)
        self.optimizer.zero_grad(set_to_none=True)
        optimizers = [self.optimizer]
        if self.text_optimizer is not None:
            self.text_optimizer.zero_grad(set_to_none=True)
            self._set_text_lr()
            optimizers.append(self.text_optimizer)
        with autocast(self.device.type, enabled=True) if self.device.type == "cuda" else dummy_context():
            loss, l_exc, _ = self._loss(self.network(data, text), target, text)
        if self.grad_scaler is not None:
            self.grad_scaler.scale(loss).backward()
            for optimizer in optimizers:
                self.grad_scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(self.network.parameters(), 12)
            for optimizer in optimizers:
                self.grad_scaler.step(optimizer)
            self.grad_scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.network.parameters(), 12)
            for optimizer in optimizers:
                optimizer.step()
        return {"loss": loss.detach().cpu().numpy(), "exclusion_loss": l_exc.detach().cpu().numpy()}

    def _gather(self, values) -> np.ndarray:
        """Every worker's values, concatenated (just these values without DDP)."""
        values = np.asarray(values, dtype=np.float64).ravel()
        if self.is_ddp:
            gathered = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, values)
            values = np.concatenate(gathered)
        return values

    def on_train_epoch_end(self, train_outputs: list[dict]):
        super().on_train_epoch_end(train_outputs)
        self.logger.log("train_exclusion_losses", float(np.mean(self._gather([o["exclusion_loss"]
                                                                              for o in train_outputs]))),
                        self.current_epoch)

    def validation_step(self, batch: dict) -> dict:
        data, target, text = self._to_device(batch)
        with autocast(self.device.type, enabled=True) if self.device.type == "cuda" else dummy_context():
            output = self.network(data, text)
            loss, l_exc, ref = self._loss(output, target, text)
        logits = output[0] if isinstance(output, (list, tuple)) else output
        pred, ref = logits.argmax(1).bool(), ref[:, 0].bool()
        axes = tuple(range(1, pred.ndim))
        tp, fp, fn = ((pred & ref).sum(axes), (pred & ~ref).sum(axes), (~pred & ref).sum(axes))
        tp, fp, fn = (t.double().cpu().numpy() for t in (tp, fp, fn))
        return {"loss": loss.detach().cpu().numpy(), "exclusion_loss": l_exc.detach().cpu().numpy(),
                "tp_hard": tp.sum(keepdims=True), "fp_hard": fp.sum(keepdims=True), "fn_hard": fn.sum(keepdims=True),
                "tp_sample": tp, "fp_sample": fp, "fn_sample": fn, "level": batch["level"].numpy().ravel()}

    def on_validation_epoch_end(self, val_outputs: list[dict]):
        super().on_validation_epoch_end(val_outputs)
        self.logger.log("val_exclusion_losses", float(np.mean(self._gather([o["exclusion_loss"]
                                                                            for o in val_outputs]))),
                        self.current_epoch)
        stats = {k: self._gather(np.concatenate([o[k] for o in val_outputs]))
                 for k in ("tp_sample", "fp_sample", "fn_sample", "level")}
        per_level = {}
        for level in LEVELS:
            sel = stats["level"] == level
            per_level[level] = dice_from_counts(*(stats[k][sel].sum() for k in ("tp_sample", "fp_sample", "fn_sample")))
            self.logger.log(f"dice_L{level}", per_level[level], self.current_epoch)
        self.print_to_log_file("pseudo dice per prompt level", {f"L{k}": round(v, 4) for k, v in per_level.items()},
                               "exclusion loss", round(self.logger.get_value("train_exclusion_losses", -1), 4))

    # --- checkpoint and final validation --------------------------------------------------------
    def semantic_metadata(self) -> dict:
        """What prediction needs besides the weights: how text becomes vectors, and the vocabulary."""
        return {"version": 2, "text_encoder": self.text_encoder, "encoder_fingerprint": self.encoder_fingerprint,
                "text_dim": self.text_dim, "fusion": self.fusion, "frequency_input": self.frequency_input,
                "frequency_backbone": self.frequency_backbone, "merged_prompt": self.merged_prompt,
                "semantic_stream": self.semantic_stream, "fusion_site": self._module().fusion_site,
                "num_labels": self.label_manager.num_segmentation_heads - 1,
                "prompts_per_sample": self.prompts_per_sample, "centre_text": self.centre_text,
                "text_lr": self.text_lr, "membership_weight": self.membership_weight, "reword": self.reword,
                "vocabulary_temperature": self.vocabulary_temperature, "label_counts": self._training_label_counts(),
                "ontology": self.dataset_json.get("semantic")}

    def save_checkpoint(self, filename: str) -> None:
        super().save_checkpoint(filename)
        if self.local_rank == 0 and not self.disable_checkpointing:
            checkpoint = torch.load(filename, map_location="cpu", weights_only=False)
            checkpoint["semantic"] = self.semantic_metadata()
            if self.text_optimizer is not None:
                checkpoint["text_optimizer_state"] = self.text_optimizer.state_dict()
            torch.save(checkpoint, filename)

    def load_checkpoint(self, filename_or_checkpoint) -> None:
        # read again: nnU-Net 2.8's load_checkpoint takes only a file name (given a dict, it fails)
        super().load_checkpoint(filename_or_checkpoint)
        checkpoint = filename_or_checkpoint if isinstance(filename_or_checkpoint, dict) else \
            torch.load(filename_or_checkpoint, map_location=self.device, weights_only=False)
        if self.text_optimizer is not None and "text_optimizer_state" in checkpoint:
            self.text_optimizer.load_state_dict(checkpoint["text_optimizer_state"])
        self._text_steps = self.current_epoch * self.num_iterations_per_epoch

    def _label_texts(self) -> dict[int, str]:
        """One L1 prompt per label: the smallest ontology structure holding it (its name is an L1 prompt).
        Returned largest structure first, so that painting in this order leaves the most specific label."""
        structures = self.dataset_json["semantic"]["structures"]
        choice = {}
        for label in self.label_manager.foreground_labels:
            holding = [(len(s["labels"]), name) for name, s in structures.items() if label in s["labels"]]
            if holding:
                choice[label] = min(holding)
        return {label: name for label, (_, name) in sorted(choice.items(), key=lambda kv: -kv[1][0])}

    def _training_label_counts(self) -> list[dict[str, int]]:
        """Voxels per label of each of the fold's training cases (the converters' verification record): the
        sizes a structure has, from which prediction removes stray components."""
        if self._label_counts is None:
            path = sidecar_folder(Path(self.preprocessed_dataset_folder_base)) / "verification.json"
            cases = json.loads(path.read_text()).get("cases", {}) if path.is_file() else {}
            self._label_counts = [cases[k]["label_counts"] for k in self.do_split()[0] if k in cases]
        return self._label_counts

    def _heldout_texts(self) -> tuple[Path | None, dict, dict[str, np.ndarray]]:
        """The held-out-wording sidecars (folder, case -> prompts) and their texts' vectors, encoded here and never
        put into the training bank."""
        folder = sidecar_folder(Path(self.preprocessed_dataset_folder_base), HELDOUT_FOLDER, required=False) \
            if self.validation_heldout else None
        sidecars = read_sidecar_folder(folder) if folder else {}
        texts = sorted({t for ps in sidecars.values() for p in ps for t in prompt_texts(p, self.merged_prompt) if t})
        vectors = get_encoder(self.text_encoder, device=self.device.type).encode(texts).astype(np.float32) \
            if texts else []
        return folder, sidecars, dict(zip(texts, vectors))

    def perform_actual_validation(self, save_probabilities: bool = False):
        """Two summaries for the fold's validation cases, in the images' own geometry:
        `validation/summary.json` (nnU-Net's, from a label map composed of one L1 prompt per label, so nnU-Net's
        tools keep working) and `validation_semantic/summary.json` (every verified prompt, and every prompt in a
        held-out wording where the dataset has `prompts_heldout/`; SemantiBench); stray components removed as
        prediction removes them."""
        from nnunetv2.evaluation.evaluate_predictions import compute_metrics_on_folder

        from nnunet_semantic.evaluation.evaluate import evaluate_folders
        from nnunet_semantic.inference.export import export_binary
        from nnunet_semantic.inference.postprocessing import min_component_voxels, remove_small_components
        from nnunet_semantic.inference.predictor import SemanticPredictor
        from nnunet_semantic.prompts.sidecar import prediction_name

        if self.local_rank != 0:
            return
        self.set_deep_supervision_enabled(False)
        self.network.eval()
        _, val_keys = self.do_split()
        val_keys = [k for k in val_keys if k in self.prompts.cases]
        dataset = self.dataset_class(self.preprocessed_dataset_folder, val_keys)
        predictor = SemanticPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=self.validation_mirroring,
                                      perform_everything_on_device=True, device=self.device, verbose=False,
                                      allow_tqdm=False)  # as nnU-Net validates: its sliding window, mirroring
        predictor.manual_initialization(self._module(), self.plans_manager, self.configuration_manager, None,
                                        self.dataset_json, self.__class__.__name__,
                                        self.inference_allowed_mirroring_axes)
        out = Path(self.output_folder)
        (out / "validation").mkdir(exist_ok=True)
        (out / "validation_semantic").mkdir(exist_ok=True)
        writer = self.plans_manager.image_reader_writer_class()
        ending = self.dataset_json["file_ending"]
        label_texts = self._label_texts()
        structures = self.dataset_json["semantic"]["structures"]
        label_counts = self._training_label_counts()
        heldout_folder, heldout, heldout_vectors = self._heldout_texts()
        for key in tqdm(val_keys, desc="validation", disable=not val_keys):
            data, _, _, properties = dataset.load_case(key)
            seen = self.prompts.sidecars[key]
            prompts = seen + heldout.get(key, [])
            texts = [self.prompts.text_arrays(key, i) for i in range(len(seen))]
            for prompt in heldout.get(key, []):
                pos, neg = (heldout_vectors.get(t) for t in prompt_texts(prompt, self.merged_prompt))
                texts.append((pos, np.zeros_like(pos) if neg is None else neg, neg is not None))
            texts += [(self.prompts.vector(name), np.zeros_like(self.prompts.vector(name)), False)
                      for name in label_texts.values()]
            sets = [(p.target, p.avoid) for p in prompts] + [(structures[n]["labels"], ())
                                                             for n in label_texts.values()]
            probs = predictor.prompt_probabilities(data, [{"pos": torch.from_numpy(p), "neg": torch.from_numpy(n),
                                                           "has_neg": torch.tensor(h)} for p, n, h in texts])
            masks = [remove_small_components(
                export_binary(p, self.plans_manager, self.configuration_manager, properties),
                min_component_voxels(label_counts, target, avoid, predictor.min_component_fraction))
                for p, (target, avoid) in zip(probs, sets)]
            for prompt, mask in zip(prompts, masks):
                writer.write_seg(mask.astype(np.uint8), str(out / "validation_semantic" /
                                                            prediction_name(key, prompt.text, ending)), properties)
            composed = np.zeros_like(masks[0], dtype=np.uint8)
            for label, mask in zip(label_texts, masks[len(prompts):]):
                composed[mask > 0] = label
            writer.write_seg(composed, str(out / "validation" / f"{key}{ending}"), properties)
        gt = Path(self.preprocessed_dataset_folder_base) / "gt_segmentations"
        metrics = compute_metrics_on_folder(str(gt), str(out / "validation"), str(out / "validation" / "summary.json"),
                                            writer, ending, self.label_manager.foreground_labels,
                                            self.label_manager.ignore_label, chill=True, num_processes=1)
        semantic = evaluate_folders(gt, out / "validation_semantic", [sidecar_folder(
            Path(self.preprocessed_dataset_folder_base)), *([heldout_folder] if heldout_folder else [])],
            out / "validation_semantic" / "summary.json", Path(self.preprocessed_dataset_folder_base) /
            "dataset.json", ending, val_keys)["semantic"]
        self.print_to_log_file("Mean validation Dice (L1 prompt per label): ", metrics["foreground_mean"]["Dice"])
        self.print_to_log_file("SemantiBench on validation:", {k: v["dice"] for k, v in semantic["per_level"].items()},
                               "PSS", semantic["pss"]["mean"], "leakage L3", semantic["leakage_l3"]["mean"],
                               "invariance (held-out wordings)", semantic["invariance_heldout"]["mean"])
        self.set_deep_supervision_enabled(True)
