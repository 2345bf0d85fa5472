"""SemanticTrainer: prompt-conditioned training through `nnUNetv2_train D CONFIG F -tr SemanticTrainer`.

nnU-Net's trainer, its loader, augmentation, `train_step`, schedule and checkpoints, with: a SemanticUNet built from
the plans and the recipe (`recipe.py`), whose prompt makes the classifier (by default it reads which of the dataset's
labels the prompt names; nnU-Net's own label map supervises the labels); K prompts per sample drawn after nnU-Net's
augmentation (`prompt_batch.py`: verified prompts of the case and empty-target prompts for structures it lacks), all
answered from the same image features, so sibling prompts get contradictory targets on the same pixels; text vectors
from the embedding bank (built once before training; the encoder never runs inside an iteration), centred over the
training texts; loss = nnU-Net's Dice+CE on the composed mask + `exclusion_weight` * (BCE of each part against its
own mask) (`losses.py`); AdamW for the text path beside nnU-Net's SGD, behind one optimizer (`optimizers.py`).
Experiments are subclasses that change one attribute (`variants/`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from nnunetv2.training.lr_scheduler.polylr import PolyLRScheduler
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
from nnunetv2.utilities.helpers import dummy_context
from nnunetv2.utilities.label_handling.label_handling import LabelManager
from torch import autocast
from torch import distributed as dist
from torch._dynamo import OptimizedModule
from torch.nn.parallel import DistributedDataParallel as DDP

from nnunet_semantic.evaluation.metrics import dice_from_counts
from nnunet_semantic.networks import NetworkConfig, build_network
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.wording import training_wordings
from nnunet_semantic.source_plans import source_managers
from nnunet_semantic.text import get_encoder
from nnunet_semantic.text.bank import build_bank
from nnunet_semantic.trainers.cpu_process import configure_cpu_process
from nnunet_semantic.trainers.logger import SemanticLocalLogger
from nnunet_semantic.trainers.losses import SemanticLoss, two_class_loss
from nnunet_semantic.trainers.optimizers import build_optimizer
from nnunet_semantic.trainers.orientation import keeping_named_axes, names_a_direction, orientation_preserving
from nnunet_semantic.trainers.prompt_batch import PromptSampler
from nnunet_semantic.trainers.prompt_table import PromptTable, sidecar_folder
from nnunet_semantic.trainers.recipe import SemanticRecipe, recipe_of
from nnunet_semantic.trainers.sources import SourceMixer, Sources, source_loaders

LEVELS = (1, 2, 3)


class SemanticTrainer(SemanticRecipe, nnUNetTrainer):
    def __init__(
        self,
        plans: dict,
        configuration: str,
        fold: int,
        dataset_json: dict,
        device: torch.device = torch.device("cuda"),  # noqa: B008 - nnU-Net's own signature
    ):
        super().__init__(plans, configuration, fold, dataset_json, device)
        if device.type == "cpu":  # its threads (an explicit OMP_NUM_THREADS) and its allocator (`cpu_process.py`)
            configure_cpu_process()
        if self.is_cascaded:  # one line, not a traceback from nnU-Net's loader of the previous stage's maps
            raise SystemExit(
                f"error: configuration '{configuration}' is the cascade's second stage (the previous stage's label "
                "maps as input), which SemanticTrainer does not support: train 3d_fullres, 3d_lowres or 2d"
            )
        if self.is_ddp and device.type == "cpu":  # nnU-Net's DDP sets one GPU per rank; under gloo it is the CPU
            self.device, self.grad_scaler = device, None
        if self.label_manager.has_regions:  # prompts name sets of labels: the integer labels underneath are learnt
            self.label_manager = LabelManager(
                dataset_json["labels"], dataset_json.get("regions_class_order"), force_use_labels=True
            )
        epochs, iterations, val_iterations = self.schedule
        self.num_epochs = epochs or self.num_epochs
        self.num_iterations_per_epoch = iterations or self.num_iterations_per_epoch
        self.num_val_iterations_per_epoch = val_iterations or self.num_val_iterations_per_epoch
        self.logger.local_logger = SemanticLocalLogger()
        self.ontology = Ontology.from_dataset_json(  # the dataset's semantics, parsed once
            dataset_json, f"{self.preprocessed_dataset_folder_base}/dataset.json"
        )
        self.sources = Sources.of(self.ontology)  # None: one dataset
        # None: one plan for all cases
        self.source_plans = source_managers(self.plans_manager, self.configuration_manager)
        if self.source_plans is not None and (self.sources is None or self.is_ddp):
            raise SystemExit(
                f"error: configuration '{configuration}' has a plan per source (`nnunet-semantic plan-sources`), "
                + ("but the dataset has no sources" if self.sources is None else "which trains on one device")
            )
        self._only_source: str | None = None
        self.prompts: PromptTable | None = None
        self.sampler: PromptSampler | None = None
        self.text_dim = self.encoder_fingerprint = None

    # --- set-up ---------------------------------------------------------------------------------
    def initialize(self):
        if not self.was_initialized:
            self._prepare_text()
        if self.is_ddp and self.device.type == "cpu":
            self._initialize_cpu_ddp()
        else:
            super().initialize()  # nnU-Net's own "already initialized" error the second time
        network, vectors = self._module(), torch.from_numpy(self.prompts.vectors)
        if self.centre_text:
            network.centre.set_mean(vectors)
        if self.vocabulary_temperature:
            network.centre.set_vocabulary(vectors, self.vocabulary_temperature)
        network.metadata = self.semantic_metadata()
        self.print_to_log_file(network.describe())

    def _initialize_cpu_ddp(self) -> None:
        """nnU-Net's initialisation, but DDP without GPU ids (nnU-Net names rank i's GPU, which a CPU module must
        not): the gloo backend runs nnU-Net's multi-GPU path on the CPU, which is how the tests prove it."""
        self.is_ddp = False
        try:
            super().initialize()
        finally:
            self.is_ddp = True
        self._set_batch_size_and_oversample()  # each rank's share of the batch, as nnU-Net sets it under DDP
        self.network = DDP(self.network)
        self.loss = self._build_loss()  # nnU-Net's DDP weighting of the deep-supervision outputs

    def _prepare_text(self) -> None:
        """Prompts and their vectors, before the network (whose text width depends on the encoder)."""
        folder, ontology = Path(self.preprocessed_dataset_folder_base), self.ontology
        every = ontology.label_sets()
        absent = (
            None
            if not self.absent_prompts
            else (lambda case: every)
            if self.sources is None
            else (lambda case: self.sources.absent_structures(case, every))
        )
        every_wording = [training_wordings(s) for s in ontology.structures.values()]
        wordings = every_wording if self.reword or self.vocabulary_membership else None
        if self.is_ddp and self.local_rank != 0:
            dist.barrier()  # rank 0 refreshes the sidecar copy and builds the bank; the others then find both complete
        self.prompts = PromptTable.load(folder, self.merged_prompt, absent, wordings)
        structure_names = tuple(every)  # the per-label L1 prompts
        bank, n_new = build_bank(
            folder, get_encoder(self.text_encoder, device=self.device.type), [*self.prompts.texts, *structure_names]
        )
        if self.is_ddp and self.local_rank == 0:
            dist.barrier()
        self.prompts.attach(bank, structure_names)
        vocabulary = (
            None
            if not self.vocabulary_membership
            else [(texts, tuple(s.labels)) for texts, s in zip(every_wording, ontology.structures.values())]
        )
        self.sampler = PromptSampler(
            self.prompts,
            self.prompts_per_sample,
            len(self.label_manager.foreground_labels),
            self.reword,
            self.sources,
            vocabulary,
        )
        self.text_dim, self.encoder_fingerprint = bank.vectors.shape[1], bank.fingerprint
        self.print_to_log_file(
            f"text encoder {self.text_encoder} ({bank.fingerprint}): {len(self.prompts.texts)} "
            f"prompt texts, {n_new} newly encoded; {len(self.prompts.cases)} cases with prompts"
        )

    def network_config(self) -> NetworkConfig:
        return NetworkConfig(
            self.text_dim,
            len(self.label_manager.foreground_labels),
            self.head,
            self.head_site,
            self.frequency_input,
            self.frequency_backbone,
            self.semantic_stream,
        )

    def build_network_architecture(
        self,
        plans_manager,
        configuration_manager,
        num_input_channels,
        num_output_channels,
        enable_deep_supervision=True,
    ):
        """A method, not nnU-Net's static one: the network depends on the recipe and the text encoder."""
        return build_network(configuration_manager, num_input_channels, self.network_config(), enable_deep_supervision)

    def _module(self):
        mod = self.network.module if isinstance(self.network, DDP) else self.network
        return mod._orig_mod if isinstance(mod, OptimizedModule) else mod

    def configure_optimizers(self):
        optimizer = build_optimizer(
            self._module(), self.initial_lr, self.weight_decay, self.text_lr, self.text_weight_decay, self.text_warmup
        )
        return optimizer, PolyLRScheduler(optimizer, self.initial_lr, self.num_epochs)

    def _build_loss(self):
        seg_loss = super()._build_loss()
        if self.per_prompt_dice:
            inner = getattr(seg_loss, "loss", seg_loss)  # inside nnU-Net's deep-supervision wrapper
            getattr(inner.dc, "_orig_mod", inner.dc).batch_dice = False
        return SemanticLoss(
            two_class_loss(seg_loss),  # the prompts' maps have two classes: nnU-Net's loss in closed form
            super()._build_loss() if self.label_supervision else None,
            self.enable_deep_supervision,
            self.exclusion_weight,
            self.membership_weight,
            self.dhn_gamma,
            self.dhn_weight,
        )

    # --- data: nnU-Net's loaders and augmentation; the prompts' masks come from its augmented label map --------
    def configure_rotation_dummyDA_mirroring_and_inital_patch_size(self):
        configured = super().configure_rotation_dummyDA_mirroring_and_inital_patch_size()
        keep = self.keep_orientation
        if keep == "named axes":
            return keeping_named_axes(self, configured)
        if keep is None:
            keep = names_a_direction(self.ontology)
        return orientation_preserving(self, configured) if keep else configured

    def do_split(self):
        """nnU-Net's, from splits_final.json; a merged dataset's is written first, each source split on its own."""
        path = Path(self.preprocessed_dataset_folder_base) / "splits_final.json"
        if self.sources is not None and self.fold != "all" and not path.is_file():
            path.write_text(json.dumps(self.sources.splits(), indent=1))
        return super().do_split()

    def get_tr_and_val_datasets(self):
        dataset_tr, dataset_val = super().get_tr_and_val_datasets()
        if self._only_source is not None:  # one source's loader (a plan per source)
            for d in (dataset_tr, dataset_val):
                d.identifiers = [k for k in d.identifiers if self.sources.of_case[k] == self._only_source]
        elif self.sources is not None:  # nnU-Net's loader draws uniformly over these
            dataset_tr.identifiers = self.sources.weighted(dataset_tr.identifiers, self.source_sampling)
        return dataset_tr, dataset_val

    def get_dataloaders(self):
        """nnU-Net's loaders; with a plan per source, one pair per source mixed per batch (`sources.py`)."""
        if self.source_plans is None:
            return super().get_dataloaders()
        return source_loaders(self, super().get_dataloaders)

    def on_train_end(self):
        for loader in (self.dataloader_train, self.dataloader_val):
            if isinstance(loader, SourceMixer):
                loader._finish()
        super().on_train_end()

    # --- steps ----------------------------------------------------------------------------------
    def train_step(self, batch: dict) -> dict:
        out = super().train_step(self.sampler(batch))
        return {**out, "exclusion_loss": self.loss.last_exclusion.cpu().numpy()}

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
        self.logger.log(
            "train_exclusion_losses",
            float(np.mean(self._gather([o["exclusion_loss"] for o in train_outputs]))),
            self.current_epoch,
        )

    def validation_step(self, batch: dict) -> dict:
        """Loss and per-prompt counts of the composed masks, with each prompt's level."""
        batch = self.sampler(batch, train=False)
        data, target = batch["data"].to(self.device), batch["target"].to(self.device)
        with autocast(self.device.type, enabled=True) if self.device.type == "cuda" else dummy_context():
            output = self.network(data)
            loss = self.loss(output, target)
        pred, ref = output.logits[0].argmax(1).bool(), target.masks(0)[:, 0].bool()
        axes = tuple(range(1, pred.ndim))
        tp, fp, fn = ((pred & ref).sum(axes), (pred & ~ref).sum(axes), (~pred & ref).sum(axes))
        tp, fp, fn = (t.double().cpu().numpy() for t in (tp, fp, fn))
        return {
            "loss": loss.detach().cpu().numpy(),
            "exclusion_loss": self.loss.last_exclusion.cpu().numpy(),
            "tp_hard": tp.sum(keepdims=True),
            "fp_hard": fp.sum(keepdims=True),
            "fn_hard": fn.sum(keepdims=True),
            "tp_sample": tp,
            "fp_sample": fp,
            "fn_sample": fn,
            "level": target.level.cpu().numpy().ravel(),
        }

    def on_validation_epoch_end(self, val_outputs: list[dict]):
        # per-prompt values are as long as their batch, which differs between sources with a plan each: kept out
        # of nnU-Net's collation, which stacks every key
        per_prompt = ("tp_sample", "fp_sample", "fn_sample", "level")
        super().on_validation_epoch_end([{k: v for k, v in o.items() if k not in per_prompt} for o in val_outputs])
        self.logger.log(
            "val_exclusion_losses",
            float(np.mean(self._gather([o["exclusion_loss"] for o in val_outputs]))),
            self.current_epoch,
        )
        stats = {k: self._gather(np.concatenate([o[k] for o in val_outputs])) for k in per_prompt}
        per_level = {}
        for level in LEVELS:
            sel = stats["level"] == level
            per_level[level] = dice_from_counts(*(stats[k][sel].sum() for k in ("tp_sample", "fp_sample", "fn_sample")))
            self.logger.log(f"dice_L{level}", per_level[level], self.current_epoch)
        self.print_to_log_file(
            "pseudo dice per prompt level",
            {f"L{k}": round(v, 4) for k, v in per_level.items()},
            "exclusion loss",
            round(self.logger.get_value("train_exclusion_losses", -1), 4),
        )

    # --- what the checkpoint carries, and the final validation ------------------------------------
    def semantic_metadata(self) -> dict:
        """What prediction needs besides the weights and the network config (the card, `networks/card.py`): the
        whole recipe, the text encoder's fingerprint, the ontology and the training cases' label sizes."""
        return {
            **recipe_of(self),
            "encoder_fingerprint": self.encoder_fingerprint,
            "label_counts": self._training_label_counts(),
            "ontology": self.ontology.to_dict(),
        }

    def _training_label_counts(self) -> list[dict[str, int]]:
        """Voxels per label of each of the fold's training cases (the converters' verification record): the
        sizes a structure has, from which prediction removes stray components."""
        path = sidecar_folder(Path(self.preprocessed_dataset_folder_base)) / "verification.json"
        cases = json.loads(path.read_text()).get("cases", {}) if path.is_file() else {}
        return [cases[k]["label_counts"] for k in self.do_split()[0] if k in cases]

    def perform_actual_validation(self, save_probabilities: bool = False):
        if self.local_rank != 0:
            return
        from nnunet_semantic.trainers.validation import validate_fold

        self.set_deep_supervision_enabled(False)
        self.network.eval()
        validate_fold(self)
        self.set_deep_supervision_enabled(True)
