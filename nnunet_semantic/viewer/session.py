"""A trained model and the image it segments, as the napari widget drives them (no Qt here: the tests and a script
can drive it the same way). Everything goes through SemanticPredictor's public API. torch and the predictor are
imported with the module, on napari's thread: torch's extensions crash when first imported in a worker thread."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.inference.predictor import SemanticPredictor


@dataclass
class Answer:
    """One prompt's outcome: its mask in the image's geometry and how it was read, or the line refusing it."""

    text: str
    reading: list[str]
    mask: np.ndarray | None = None
    refused: str | None = None


@dataclass
class Progress:
    done: int
    total: int
    what: str


def channels_of(arrays: Sequence[np.ndarray], scale: Sequence[float]) -> tuple[np.ndarray, list[float]]:
    """Image layers (one per channel, same shape, or one layer with the channels first) -> nnU-Net's image
    [C, Z, Y, X] and spacing (z, y, x); a 2D image gets nnU-Net's placeholder slice spacing of 999."""
    arrays = [np.asarray(a, np.float32) for a in arrays]
    if len({a.shape for a in arrays}) > 1:
        raise SemanticError(f"the channel layers differ in shape: {[a.shape for a in arrays]}")
    image = np.stack(arrays) if len(arrays) > 1 or arrays[0].ndim < 4 else arrays[0]
    spacing = [float(s) for s in scale][-3:]
    if image.ndim == 3:  # one 2D slice per channel
        image, spacing = image[:, None], [999.0, *spacing[-2:]]
    if image.ndim != 4:
        raise SemanticError(f"an image layer of shape {arrays[0].shape}: expected (Y, X), (Z, Y, X) or (C, Z, Y, X)")
    return image, spacing


class PromptSession:
    """The model (`load`), then the image (`set_image`: preprocessed once however many prompts follow), then
    `segment(prompts)`: each prompt resolved on its own (a refused one does not stop the others), the rest answered
    in one sliding-window pass (the image part runs once per tile for all of them). With the `labels` head the
    image's label logits are kept too: a later prompt on the same image is composed from them without the network."""

    def __init__(self) -> None:
        self.predictor, self.model_folder = None, None
        self._image_key: tuple | None = None
        self._case: tuple[np.ndarray, dict, list | None] | None = None  # preprocessed image, properties, labels

    def load(
        self,
        model_folder: Path,
        folds: Sequence[int | str] = (0,),
        checkpoint: str = "checkpoint_final.pth",
        device: str = "cpu",
    ) -> list[str]:
        """A trained model folder (`nnUNet_results/<dataset>/<trainer>__<plans>__<configuration>`) -> the
        structures it answers, with their labels."""
        if not str(model_folder).strip() or Path(model_folder) == Path("."):
            raise SemanticError(
                "give the trained model folder (nnUNet_results/DatasetXXX/TRAINER__PLANS__CONFIGURATION)"
            )
        if device == "cuda" and not torch.cuda.is_available():
            raise SemanticError("no CUDA device here: choose cpu")
        predictor = SemanticPredictor(
            tile_step_size=0.5,
            use_mirroring=True,
            perform_everything_on_device=device == "cuda",
            device=torch.device(device),
            verbose=False,
            allow_tqdm=False,
        )
        predictor.initialize_from_trained_model_folder(str(model_folder), list(folds), checkpoint)
        self.predictor, self.model_folder, self._image_key, self._case = predictor, Path(model_folder), None, None
        return self.structures

    @property
    def structures(self) -> list[str]:
        ontology = self.predictor.ontology if self.predictor else None
        if ontology is None:
            return []
        return [f"{name} (labels {', '.join(map(str, sorted(s.labels)))})" for name, s in ontology.structures.items()]

    @property
    def channels(self) -> list[str]:
        return list(self.predictor.dataset_json["channel_names"].values()) if self.predictor else []

    def set_layers(self, arrays: Sequence[np.ndarray], scale: Sequence[float], properties: dict | None) -> None:
        """Image layers, one per channel (`channels_of`), with nnU-Net's reader properties of the first (None: a
        layer from elsewhere, its scale as spacing)."""
        if self.predictor is None:
            raise SemanticError("load a model first")
        if len(arrays) > 1 and len(arrays) != len(self.channels):  # before their shapes are compared
            raise self._wrong_channels(len(arrays))
        image, spacing = channels_of(arrays, scale)
        self.set_image(image, properties or {"spacing": spacing})

    def set_image(self, image: np.ndarray, properties: dict) -> None:
        """image [C, Z, Y, X] with nnU-Net's reader properties (at least `spacing`); preprocessed at the next
        `segment` unless it is the image already held."""
        if self.predictor is None:
            raise SemanticError("load a model first")
        if image.shape[0] != len(self.channels):
            raise self._wrong_channels(image.shape[0])
        key = (image.shape, str(properties.get("spacing")), hash(image.tobytes()))
        if key != self._image_key:
            self._image_key, self._image, self._properties, self._case = key, image, properties, None

    def _wrong_channels(self, given: int) -> SemanticError:
        return SemanticError(
            f"the model reads {len(self.channels)} channel(s) ({', '.join(self.channels)}); "
            f"{given} given: choose one image layer per channel, in this order"
        )

    def segment(self, prompts: Sequence[str], allow_unknown: bool = False) -> Iterator[Progress | Answer]:
        """Progress steps, then one Answer per distinct prompt, in the prompts' order (checked before it starts)."""
        if self._image_key is None:
            raise SemanticError("choose an image first")
        texts = list(dict.fromkeys(" ".join(t.split()) for t in prompts if t.strip()))
        if not texts:
            raise SemanticError("no prompt: type one or more, one per line")
        return self._answers(texts, allow_unknown)

    def _answers(self, texts: list[str], allow_unknown: bool) -> Iterator[Progress | Answer]:
        total, resolved, refused = len(texts) + 2, {}, {}
        for text in texts:
            try:
                resolved[text] = self.predictor.resolve(text, allow_unknown=allow_unknown)
            except SemanticError as e:
                refused[text] = str(e)
        if resolved and self._case is None:
            yield Progress(0, total, "preprocessing the image and running the network (once per image)")
            data, props = self.predictor.preprocess(self._image, self._properties)
            self._case = data, props, self.predictor.label_logits(data, props)
        answers = {t: Answer(t, [], refused=why) for t, why in refused.items()}
        if resolved:
            yield Progress(1, total, f"segmenting {len(resolved)} prompt(s)")
            data, props, labels = self._case
            masks = self.predictor.predict_case(data, list(resolved.values()), props, labels=labels)
            for t, r, mask in zip(resolved, resolved.values(), masks):
                answers[t] = Answer(t, r.explain(), mask=np.asarray(mask, np.uint8))
        for i, text in enumerate(texts):
            yield Progress(i + 2, total, text)
            yield answers[text]
