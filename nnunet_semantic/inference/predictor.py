"""SemanticPredictor: nnU-Net's predictor for prompt-conditioned models.

nnU-Net's preprocessing and its export back to the input geometry are reused as they are; the network is the
SemanticUNet described by the checkpoint's `semantic` entry. Each case's image streams run once (per fold)
and every prompt is decoded from them; prompt texts are encoded once per run.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from batchgenerators.utilities.file_and_folder_operations import load_json
from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
from nnunetv2.utilities.label_handling.label_handling import LabelManager, determine_num_input_channels
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from nnunet_semantic.errors import PromptError, SemanticError
from nnunet_semantic.networks import build_semantic_unet
from nnunet_semantic.networks.volume import BINARY_LABELS, export_binary, segment_volume
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.parser import parse, split_exclusion
from nnunet_semantic.text import get_encoder


@dataclass
class ResolvedPrompt:
    text: str
    pos_text: str  # what E_pos encodes
    neg_text: str  # what E_neg encodes ("" = no exclusion)
    parse: dict | None  # the ontology's reading (target/avoid/pos/neg), None when it could not parse

    def to_dict(self) -> dict:
        return {"text": self.text, "parsed": self.parse is not None, **(self.parse or {}),
                "encoded": {"target": self.pos_text, "exclusion": self.neg_text}}


class SemanticPredictor(nnUNetPredictor):
    def initialize_from_trained_model_folder(self, model_training_output_dir: str, use_folds=None,
                                             checkpoint_name: str = "checkpoint_final.pth"):
        folder = Path(model_training_output_dir)
        if not (folder / "plans.json").is_file():
            raise SemanticError(f"{folder} is not a trained model folder (no plans.json): train it first")
        dataset_json, plans = load_json(str(folder / "dataset.json")), load_json(str(folder / "plans.json"))
        plans_manager = PlansManager(plans)
        folds = use_folds if use_folds is not None else self.auto_detect_available_folds(str(folder), checkpoint_name)
        parameters, meta, checkpoint = [], None, None
        for fold in folds:
            path = folder / f"fold_{fold}" / checkpoint_name
            if not path.is_file():
                raise SemanticError(f"{path} not found (folds {list(folds)}, checkpoint {checkpoint_name})")
            checkpoint = torch.load(path, map_location="cpu", weights_only=False)
            if "semantic" not in checkpoint:
                raise SemanticError(f"{path} has no 'semantic' entry: it was not trained by a SemanticTrainer")
            meta = meta or checkpoint["semantic"]
            parameters.append(checkpoint["network_weights"])
        configuration_manager = plans_manager.get_configuration(checkpoint["init_args"]["configuration"])
        network = build_semantic_unet(configuration_manager,
                                      determine_num_input_channels(plans_manager, configuration_manager,
                                                                   dataset_json),
                                      meta["text_dim"], meta["fusion"], meta["frequency_input"],
                                      meta["frequency_backbone"], deep_supervision=False,
                                      semantic_stream=meta.get("semantic_stream", "unet"),
                                      fusion_site=meta.get("fusion_site", "encoder"),
                                      num_labels=meta.get("num_labels", 1))
        for weights in parameters:  # checkpoints from before text centring: no mean, which is no centring
            weights.setdefault("centre.mean", torch.zeros(meta["text_dim"]))
        try:  # fail here, with the file named, if the weights do not fit the network this version builds
            network.load_state_dict(parameters[0])
        except RuntimeError as e:
            raise SemanticError(f"{folder / f'fold_{folds[0]}' / checkpoint_name}: its weights do not fit the "
                                f"network this version of nnunet_semantic builds ({str(e).splitlines()[1].strip()}); "
                                "retrain, or predict with the version that trained it") from None
        self.manual_initialization(network, plans_manager, configuration_manager, parameters, dataset_json,
                                   checkpoint["trainer_name"], checkpoint.get("inference_allowed_mirroring_axes"))
        self.label_manager = LabelManager(BINARY_LABELS, None)  # the network answers target / not target
        self.semantic = meta
        self.ontology = Ontology.from_dict(meta["ontology"], f"{folder}/dataset.json") if meta.get("ontology") \
            else None
        self.encoder = get_encoder(meta["text_encoder"], device=self.device.type)
        if self.encoder.fingerprint != meta["encoder_fingerprint"]:
            raise SemanticError(f"the installed {meta['text_encoder']} text encoder ({self.encoder.fingerprint}) is "
                                f"not the one this model was trained with ({meta['encoder_fingerprint']})")
        self._vectors: dict[str, np.ndarray] = {}

    # --- prompts ----------------------------------------------------------------------------------
    def resolve(self, text: str, strict: bool = False) -> ResolvedPrompt:
        """The ontology's reading of a prompt. A prompt the ontology cannot read is segmented from its free text,
        still split at its connectives into a target and an exclusion part (warning), or refused with the
        vocabulary under `strict`. An exclusion that names nothing is always an error."""
        try:
            pos_text, neg_text = split_exclusion(text)
        except PromptError as e:
            raise SemanticError(str(e)) from None
        try:
            if self.ontology is None:
                raise PromptError("the model carries no ontology")
            parsed = parse(text, self.ontology)
        except PromptError as e:
            if strict:
                vocabulary = ", ".join(sorted(self.ontology.structures)) if self.ontology else "none"
                raise SemanticError(f"{e}. Known structures: {vocabulary}") from None
            if self.semantic.get("merged_prompt"):
                pos_text, neg_text = text, ""
            warnings.warn(f"{e}; segmenting from the free text"
                          + (f" ('{pos_text}' excluding '{neg_text}')" if neg_text else ""), stacklevel=2)
            return ResolvedPrompt(text, pos_text, neg_text, None)
        if self.semantic.get("merged_prompt") or not parsed.avoid:
            return ResolvedPrompt(text, text if self.semantic.get("merged_prompt") else parsed.pos_text or text, "",
                                  parsed.to_dict())
        return ResolvedPrompt(text, parsed.pos_text, parsed.neg_text, parsed.to_dict())

    def _text_tensors(self, prompts: list[ResolvedPrompt]) -> list[dict[str, torch.Tensor]]:
        new = sorted({t for p in prompts for t in (p.pos_text, p.neg_text) if t and t not in self._vectors})
        if new:
            self._vectors.update(zip(new, self.encoder.encode(new)))
        out = []
        for p in prompts:
            pos = torch.from_numpy(self._vectors[p.pos_text])
            neg = torch.from_numpy(self._vectors[p.neg_text]) if p.neg_text else torch.zeros_like(pos)
            out.append({"pos": pos, "neg": neg, "has_neg": torch.tensor(bool(p.neg_text))})
        return out

    # --- prediction -------------------------------------------------------------------------------
    def predict_prompts(self, image: np.ndarray, properties: dict, prompts: list[str], strict: bool = False,
                        return_probabilities: bool = False):
        """image [C, *spatial] as nnU-Net's readers give it -> (one result per prompt, resolved prompts).

        A result is a binary mask in the input's geometry, or (mask, probabilities [2, ...]) with
        `return_probabilities`."""
        resolved = [self.resolve(t, strict) for t in prompts]
        texts = self._text_tensors(resolved)
        preprocessor = self.configuration_manager.preprocessor_class(verbose=False)
        data, _, props = preprocessor.run_case_npy(image, None, properties, self.plans_manager,
                                                   self.configuration_manager, self.dataset_json)
        strides = self.configuration_manager.network_arch_init_kwargs["strides"]
        probs = 0
        for params in self.list_of_parameters:  # several folds: an ensemble of probabilities
            self.network.load_state_dict(params)
            self.network.to(self.device).eval()
            probs = probs + segment_volume(self.network, data, texts, strides, self.configuration_manager.patch_size,
                                           device=self.device)
        probs = probs / len(self.list_of_parameters)
        return [export_binary(p, self.plans_manager, self.configuration_manager, props, return_probabilities)
                for p in probs], resolved

    def predict_numpy(self, image: np.ndarray, prompts: list[str], spacing=(1.0, 1.0, 1.0), strict: bool = False):
        """Python API: a [C, Z, Y, X] array and prompts -> one binary mask per prompt (same shape as the image)."""
        properties = {"spacing": list(spacing)}
        results, _ = self.predict_prompts(np.asarray(image, np.float32), properties, list(prompts), strict)
        return results
