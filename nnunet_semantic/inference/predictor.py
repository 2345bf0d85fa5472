"""SemanticPredictor: nnU-Net's predictor for prompt-conditioned models.

nnU-Net's preprocessing, its sliding window (tiles of the planned patch size, Gaussian importance weighting,
`tile_step_size`), its mirroring test-time augmentation and its export back to the input geometry are reused as
they are: for the tile loop the network is wrapped so that one call answers every prompt of a chunk (the image
part runs once per tile and mirror, each prompt is one output channel of foreground logits). The network is the
SemanticUNet described by the checkpoint's card (`networks/card.py`); prompt texts are encoded once per run.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from batchgenerators.utilities.file_and_folder_operations import load_json
from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
from nnunetv2.utilities.label_handling.label_handling import LabelManager, determine_num_input_channels
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from nnunet_semantic.errors import PromptError, SemanticError, UnknownPart, UnknownStructure
from nnunet_semantic.inference.export import BINARY_LABELS, export_binary
from nnunet_semantic.inference.postprocessing import (
    MIN_COMPONENT_FRACTION,
    min_component_voxels,
    remove_small_components,
)
from nnunet_semantic.networks import NetworkConfig, build_network
from nnunet_semantic.networks.card import checkpoint_card, load_checkpoint
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.parser import parse, split_exclusion
from nnunet_semantic.prompts.wording import heldout_wordings
from nnunet_semantic.text import get_encoder


class PromptedNetwork(torch.nn.Module):
    """network(x) for nnU-Net's tile loop: [B, K, ...] foreground logits of K fixed prompts, the image encoded
    once for all of them."""

    def __init__(self, network: torch.nn.Module, texts: list[dict[str, torch.Tensor]]):
        super().__init__()
        self.network, self.texts = network, {k: torch.stack([t[k] for t in texts]) for k in texts[0]}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.network.encode_image(x)
        text = {k: v[None].expand(len(x), *v.shape).to(x.device) for k, v in self.texts.items()}
        logits = self.network.decode(features, text).logits[0].float().unflatten(0, (len(x), -1))  # [B, K, 2, ...]
        return logits[:, :, 1] - logits[:, :, 0]


@dataclass
class ResolvedPrompt:
    text: str
    pos_text: str  # what E_pos encodes
    neg_text: str  # what E_neg encodes ("" = no exclusion)
    parse: dict | None  # the ontology's reading (target/avoid/pos/neg), None when it could not parse
    nearest: dict | None = None  # free text only: the closest known structure by text embedding

    def to_dict(self) -> dict:
        free = [{"role": "target", "phrase": self.pos_text, "structures": [self.nearest["structure"]],
                 "by": "nearest text", "confidence": self.nearest["similarity"], "encoded": self.pos_text}] \
            if self.nearest else []
        return {"text": self.text, "parsed": self.parse is not None, **(self.parse or {"resolution": free}),
                "encoded": {"target": self.pos_text, "exclusion": self.neg_text},
                **({"nearest": self.nearest} if self.nearest else {})}


class SemanticPredictor(nnUNetPredictor):
    # prompts per sliding-window pass (the image is encoded once per pass; the output buffer holds this many channels
    # per voxel); None: as many as fit CHUNK_BUFFER_BYTES of nnU-Net's half-precision buffer, at least 16
    prompt_chunk: int | None = None
    CHUNK_BUFFER_BYTES = 2 ** 30
    # components under this share of the smallest training volume of a parsed prompt's set are removed (0: none)
    min_component_fraction = MIN_COMPONENT_FRACTION

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
            checkpoint = load_checkpoint(path)
            meta = meta or checkpoint_card(checkpoint, path)
            parameters.append(checkpoint["network_weights"])
        configuration_manager = plans_manager.get_configuration(checkpoint["init_args"]["configuration"])
        num_input_channels = determine_num_input_channels(plans_manager, configuration_manager, dataset_json)
        network = build_network(configuration_manager, num_input_channels, NetworkConfig.from_dict(meta["config"]),
                                deep_supervision=False)
        try:  # fail here, with the file named, if the weights do not fit the network this version builds
            network.load_state_dict(parameters[0])
        except RuntimeError as e:
            raise SemanticError(f"{folder / f'fold_{folds[0]}' / checkpoint_name}: its weights do not fit the "
                                f"network this version of nnunet_semantic builds ({str(e).splitlines()[1].strip()}); "
                                "retrain, or predict with the version that trained it") from None
        self.manual_initialization(network, plans_manager, configuration_manager, parameters, dataset_json,
                                   checkpoint["trainer_name"], checkpoint.get("inference_allowed_mirroring_axes"))
        self.label_manager = LabelManager(BINARY_LABELS, None)  # the network answers target / not target
        self.semantic = {k: v for k, v in meta.items() if k != "config"}
        self.ontology = Ontology.from_dict(meta["ontology"], f"{folder}/dataset.json") if meta.get("ontology") \
            else None
        self.encoder = get_encoder(meta["text_encoder"], device=self.device.type)
        if self.encoder.fingerprint != meta["encoder_fingerprint"]:
            raise SemanticError(f"the installed {meta['text_encoder']} text encoder ({self.encoder.fingerprint}) is "
                                f"not the one this model was trained with ({meta['encoder_fingerprint']})")
        self._vectors: dict[str, np.ndarray] = {}
        self._threshold: float | None = None

    # --- prompts ----------------------------------------------------------------------------------
    def resolve(self, text: str, strict: bool = False, allow_unknown: bool = False) -> ResolvedPrompt:
        """The ontology's reading of a prompt. A target the ontology cannot read is answered from its free text
        only when its text lies as close to the model's wordings as the held-out wordings do (`unknown_threshold`),
        or under `allow_unknown` (marked); an exclusion the ontology cannot read, "not X" alone, an empty or
        ambiguous prompt are refused with what to write instead. `strict` refuses all free text."""
        known = ", ".join(sorted(self.ontology.structures)) if self.ontology else "none"
        try:
            if self.ontology is None:
                raise UnknownStructure("the model carries no ontology")
            parsed = parse(text, self.ontology)
        except UnknownStructure as e:
            try:  # a prompt whose exclusion cannot be placed is refused: never encoded as one target text
                pos_text, neg_text = split_exclusion(text)
            except PromptError as split:
                raise SemanticError(f"{split}. Known structures: {known}") from None
            if self.semantic.get("merged_prompt") or not neg_text:
                pos_text, neg_text = " ".join(text.split()), ""
            nearest = None if strict else self.nearest_structure(pos_text)
            close = self.ontology is None or (nearest is not None and not nearest["low_confidence"])
            named = e.role == "exclusion" or isinstance(e, UnknownPart)  # read by its words, and not there
            if strict or not allow_unknown and (named or not close):
                why = "" if strict or named else (
                    f"; its text is far from every structure the model knows (nearest '{nearest['structure']}', "
                    f"similarity {nearest['similarity']:.2f} < {nearest['threshold']:.2f})")
                raise SemanticError(f"{e}{why}. Known structures: {known}"
                                    + ("" if strict else "; --allow-unknown answers it from its free text")) from None
            if neg_text and nearest and e.role == "target":
                neg_text = self._exclusion_within(nearest, neg_text, allow_unknown, known)
            confidence = (f"; nearest known structure '{nearest['structure']}' (text similarity "
                          f"{nearest['similarity']:.2f}{', low confidence' if nearest['low_confidence'] else ''})"
                          if nearest else "")
            warnings.warn(f"{e}; segmenting from the free text"
                          + (f" ('{pos_text}' excluding '{neg_text}')" if neg_text else "") + confidence,
                          stacklevel=2)
            return ResolvedPrompt(text, pos_text, neg_text, None, nearest)
        except PromptError as e:
            raise SemanticError(f"{e}. Known structures: {known}") from None
        if parsed.avoid and not self.semantic.get("merged_prompt"):
            return ResolvedPrompt(text, parsed.pos_text, parsed.neg_text, parsed.to_dict())
        if parsed.as_written:  # encoded as written (typos corrected), as training encodes it
            return ResolvedPrompt(text, parsed.respelled or " ".join(text.split()), "", parsed.to_dict())
        merged = f"{parsed.pos_text} excluding {parsed.neg_text}" if parsed.avoid else parsed.pos_text
        return ResolvedPrompt(text, merged, "", parsed.to_dict())

    def _exclusion_within(self, nearest: dict, neg_text: str, allow_unknown: bool, known: str) -> str:
        """A free-text target's exclusion read among the parts of the structure its text is nearest to (the part's
        name is encoded, and recorded); one it names no part of is refused, or kept as written with
        `allow_unknown`."""
        try:
            inner = parse(f"{nearest['structure']} excluding {neg_text}", self.ontology)
        except PromptError as e:
            if allow_unknown:
                return neg_text
            raise SemanticError(f"the exclusion '{neg_text}' of a prompt read by its nearest structure "
                                f"'{nearest['structure']}' is no part of it ({e}). Known structures: {known}; "
                                "--allow-unknown answers it from its free text") from None
        nearest["exclusion"] = list(inner.avoid_structures)
        return inner.neg_text

    def sources_of(self, prompt: ResolvedPrompt) -> dict:
        """{"sources": structure -> source} for a model of a merged dataset (empty otherwise): which dataset taught
        each structure the prompt names."""
        sources = (self.semantic.get("ontology") or {}).get("sources")
        if not sources or prompt.parse is None:
            return {}
        of = {name: key for key, s in sources.items() for name in s["structures"]}
        names = [*prompt.parse.get("target_structures", []), *prompt.parse.get("avoid_structures", [])]
        return {"sources": {n: of.get(n) for n in names}}

    MARGIN = 0.02  # below the least similar held-out wording: what still counts as close to the model's wordings

    @property
    def unknown_threshold(self) -> float:
        """The text similarity a free-text target needs to be answered: that of the model's held-out wordings
        (never trained on, every one a valid request) to its training wordings, the least similar one, less MARGIN."""
        if self._threshold is None:
            heldout = [w for s in self.ontology.structures.values() for w in heldout_wordings(s)]
            self._encode(heldout)
            self._threshold = min(self._similarity(w)[2] for w in heldout) - self.MARGIN
        return self._threshold

    def _similarity(self, text: str) -> tuple[str, str, float]:
        """(structure, its training wording nearest `text`, their cosine similarity)."""
        phrases = {p: name for name, s in self.ontology.structures.items() for p in s.phrases()}
        self._encode([*phrases, text])
        similarity = {p: float(self._vectors[p] @ self._vectors[text]) for p in phrases}
        best = max(similarity, key=similarity.get)
        return phrases[best], best, similarity[best]

    def nearest_structure(self, text: str) -> dict | None:
        """The known structure whose name, synonym or description is closest to `text` by text embedding (cosine):
        how far a free-text prompt is from anything the model was trained to segment."""
        if self.ontology is None:
            return None
        structure, phrase, similarity = self._similarity(text)
        threshold = self.unknown_threshold
        return {"structure": structure, "phrase": phrase,
                "similarity": round(similarity, 4), "threshold": round(threshold, 4),
                "low_confidence": similarity < threshold}

    def _encode(self, texts) -> None:
        new = sorted({t for t in texts if t and t not in self._vectors})
        if new:
            self._vectors.update(zip(new, self.encoder.encode(new)))

    def _text_tensors(self, prompts: list[ResolvedPrompt]) -> list[dict[str, torch.Tensor]]:
        self._encode(t for p in prompts for t in (p.pos_text, p.neg_text))
        out = []
        for p in prompts:
            pos = torch.from_numpy(self._vectors[p.pos_text])
            neg = torch.from_numpy(self._vectors[p.neg_text]) if p.neg_text else torch.zeros_like(pos)
            out.append({"pos": pos, "neg": neg, "has_neg": torch.tensor(bool(p.neg_text))})
        return out

    # --- prediction -------------------------------------------------------------------------------
    def min_component_voxels(self, prompt: ResolvedPrompt) -> int:
        """The smallest connected component a parsed prompt's mask keeps (0: no limit, e.g. free text, or a
        checkpoint without the training cases' label counts)."""
        if prompt.parse is None:
            return 0
        return min_component_voxels(self.semantic.get("label_counts", []), prompt.parse["target"],
                                    prompt.parse["avoid"], self.min_component_fraction)

    def predict_prompts(self, image: np.ndarray, properties: dict, prompts: list[str], strict: bool = False,
                        return_probabilities: bool = False, allow_unknown: bool = False):
        """image [C, *spatial] as nnU-Net's readers give it -> (one result per prompt, resolved prompts).

        A result is a binary mask in the input's geometry (stray components removed), or (mask, probabilities
        [2, ...]) with `return_probabilities`."""
        resolved = [self.resolve(t, strict, allow_unknown) for t in prompts]
        texts = self._text_tensors(resolved)
        preprocessor = self.configuration_manager.preprocessor_class(verbose=False)
        data, _, props = preprocessor.run_case_npy(image, None, properties, self.plans_manager,
                                                   self.configuration_manager, self.dataset_json)
        results = []
        for r, p in zip(resolved, self.prompt_probabilities(data, texts)):
            result = export_binary(p, self.plans_manager, self.configuration_manager, props, return_probabilities)
            mask = remove_small_components(result[0] if return_probabilities else result,
                                           self.min_component_voxels(r))
            results.append((mask, result[1]) if return_probabilities else mask)
        return results, resolved

    def prompt_probabilities(self, data, texts: list[dict[str, torch.Tensor]]) -> np.ndarray:
        """Preprocessed [C, *spatial] (array or tensor) -> foreground probabilities [K, *spatial]."""
        data = data if isinstance(data, torch.Tensor) else torch.from_numpy(np.asarray(data, np.float32))
        return torch.sigmoid(self.prompt_logits(data, texts)).numpy()

    def prompt_logits(self, data: torch.Tensor, texts: list[dict[str, torch.Tensor]]) -> torch.Tensor:
        """Preprocessed [C, *spatial] -> foreground logits [K, *spatial] by nnU-Net's sliding window (mirroring
        unless `use_mirroring` is off), `prompt_chunk` prompts per pass; several folds average their logits."""
        logits, parameters = None, self.list_of_parameters or [None]  # None: the network as it is (validation)
        for params in parameters:
            if params is not None:  # as nnU-Net loads them: a compiled network (nnUNet_compile) holds _orig_mod
                getattr(self.network, "_orig_mod", self.network).load_state_dict(params)
            chunk = self.prompt_chunk or max(16, self.CHUNK_BUFFER_BYTES // (2 * data[0].numel()))
            fold = torch.cat([self._sliding_window(data, texts[i:i + chunk]) for i in range(0, len(texts), chunk)])
            logits = fold if logits is None else logits + fold
        return logits / len(parameters)

    def _sliding_window(self, data: torch.Tensor, texts: list[dict[str, torch.Tensor]]) -> torch.Tensor:
        with self._answering(texts):
            return self.predict_sliding_window_return_logits(data).float().cpu()

    @contextlib.contextmanager
    def _answering(self, texts: list[dict[str, torch.Tensor]]):
        """nnU-Net's tile loop calls self.network(x) and sizes its buffer by the label manager's head count:
        for the loop, the network answers the prompts and there is one head per prompt."""
        network, labels = self.network, self.label_manager
        self.network = PromptedNetwork(network, texts)
        self.label_manager = SimpleNamespace(num_segmentation_heads=len(texts))
        try:
            yield
        finally:
            self.network, self.label_manager = network, labels

    def predict_numpy(self, image: np.ndarray, prompts: list[str], spacing=(1.0, 1.0, 1.0), strict: bool = False):
        """Python API: a [C, Z, Y, X] array and prompts -> one binary mask per prompt (same shape as the image)."""
        properties = {"spacing": list(spacing)}
        results, _ = self.predict_prompts(np.asarray(image, np.float32), properties, list(prompts), strict)
        return results
