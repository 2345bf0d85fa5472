"""Embedding bank: every distinct text encoded once per encoder, cached in the preprocessed dataset folder.

`nnUNet_preprocessed/DatasetXXX/text_embeddings/<encoder>.npz` holds `texts`, `vectors` and the encoder's
`fingerprint`; `<encoder>.heldout.npz` the held-out wordings' (validation only: kept apart, so training never reads
them). Updates are incremental; a bank from other weights is rebuilt, never mixed; a corrupt bank is
rebuilt with a warning. Training reads vectors from here and never runs the encoder inside an iteration.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnunet_semantic.text.base import TextEncoder

BANK_DIR = "text_embeddings"


def bank_path(preprocessed_folder: Path, encoder_name: str, part: str = "") -> Path:
    return Path(preprocessed_folder) / BANK_DIR / f"{encoder_name}{f'.{part}' if part else ''}.npz"


@dataclass
class EmbeddingBank:
    encoder: str
    fingerprint: str
    texts: list[str]
    vectors: np.ndarray  # float32 [len(texts), dim]

    def __post_init__(self) -> None:
        self._index = {t: i for i, t in enumerate(self.texts)}

    def __contains__(self, text: str) -> bool:
        return text in self._index

    def __len__(self) -> int:
        return len(self.texts)

    def get(self, texts: Iterable[str]) -> np.ndarray:
        texts = list(texts)
        missing = [t for t in texts if t not in self._index]
        if missing:
            raise KeyError(
                f"texts not in the {self.encoder} embedding bank: {missing[:5]}"
                + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            )
        return self.vectors[[self._index[t] for t in texts]]

    def update(self, encoder: TextEncoder, texts: Iterable[str]) -> int:
        """Encode the texts not yet in the bank; returns how many were new."""
        new = sorted({t for t in texts if t and t not in self._index})
        if new:
            vectors = encoder.encode(new)
            self.vectors = np.concatenate([self.vectors.reshape(-1, vectors.shape[1]), vectors]).astype(np.float32)
            self.texts += new
            self.__post_init__()
        return len(new)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        np.savez(
            tmp,
            texts=np.array(self.texts, dtype=str),
            vectors=self.vectors,
            encoder=np.array(self.encoder),
            fingerprint=np.array(self.fingerprint),
        )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> EmbeddingBank | None:
        """The bank at `path`, None if there is none; a corrupt file warns and counts as none."""
        if not Path(path).is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as f:
                if not np.issubdtype(f["vectors"].dtype, np.floating):
                    raise ValueError(f"vectors of dtype {f['vectors'].dtype}, not floating point")
                bank = cls(
                    str(f["encoder"]),
                    str(f["fingerprint"]),
                    [str(t) for t in f["texts"]],
                    f["vectors"].astype(np.float32),
                )
            if bank.vectors.ndim != 2 or len(bank.texts) != len(bank.vectors):
                raise ValueError("texts and vectors differ in length")
            return bank
        except Exception as e:  # noqa: BLE001 - any unreadable bank is rebuilt
            warnings.warn(f"embedding bank {path} is unreadable ({e}); rebuilding it", stacklevel=2)
            return None


def build_bank(
    preprocessed_folder: Path, encoder: TextEncoder, texts: Iterable[str], part: str = ""
) -> tuple[EmbeddingBank, int]:
    """Load the encoder's bank (or its `part`, e.g. "heldout"), add the missing texts, save; returns (bank, number of
    texts encoded now)."""
    path = bank_path(preprocessed_folder, encoder.name, part)
    bank = EmbeddingBank.load(path)
    if bank is not None and bank.fingerprint != encoder.fingerprint:
        warnings.warn(
            f"embedding bank {path} was made by other {encoder.name} weights "
            f"({bank.fingerprint} != {encoder.fingerprint}); re-encoding every text",
            stacklevel=2,
        )
        bank = None
    if (
        bank is not None
        and len(bank)
        and (
            bank.vectors.shape[1] != encoder.dim
            or not np.isfinite(bank.vectors).all()
            or not np.abs(bank.vectors).sum(1).all()
        )
    ):
        warnings.warn(
            f"embedding bank {path} holds {bank.vectors.shape[1]}-wide, all-zero or non-finite vectors "
            f"(the {encoder.name} encoder makes {encoder.dim}-wide unit ones); re-encoding every text",
            stacklevel=2,
        )
        bank = None
    if bank is None:
        bank = EmbeddingBank(encoder.name, encoder.fingerprint, [], np.zeros((0, encoder.dim), np.float32))
    n_new = bank.update(encoder, texts)
    if n_new or not path.is_file():
        bank.save(path)
    return bank, n_new
