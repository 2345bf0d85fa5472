"""What every text encoder offers, and how its identity is fingerprinted."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class TextEncoder(Protocol):
    name: str
    dim: int
    fingerprint: str  # changes whenever the weights or the configuration that shapes the vectors change

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 [N, dim], rows L2-normalised."""
        ...


def file_fingerprint(paths: Iterable[Path], extra: str = "") -> str:
    """sha256 over small files whole and large files' size, head and tail: cheap, and any real change shows."""
    h = hashlib.sha256(extra.encode())
    for path in sorted(Path(p) for p in paths):
        size = path.stat().st_size
        h.update(f"{path.name}:{size}".encode())
        with path.open("rb") as f:
            if size <= 4 << 20:
                h.update(f.read())
            else:
                h.update(f.read(1 << 20))
                f.seek(-(1 << 20), 2)
                h.update(f.read())
    return h.hexdigest()[:16]


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
