"""Where BiomedCLIP's weights come from: a local folder, or the Hugging Face hub cache.

Nothing here downloads; the loader (text-encoder issue) reads what this finds.
"""

from __future__ import annotations

import os
from pathlib import Path

HUB_ID = "microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224"
LOCAL_DIR_ENV = "NNUNET_SEMANTIC_BIOMEDCLIP_DIR"
CONFIG_FILE = "open_clip_config.json"
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


def _weights_in(folder: Path) -> Path | None:
    if not (folder / CONFIG_FILE).is_file():
        return None
    return next((folder / f for f in WEIGHT_FILES if (folder / f).is_file()), None)


def locate(local_dir: str | os.PathLike | None = None) -> tuple[str, Path] | None:
    """('local-dir', folder) or ('hub-cache', folder) when BiomedCLIP weights are on disk, else None."""
    local_dir = local_dir or os.environ.get(LOCAL_DIR_ENV)
    if local_dir and _weights_in(Path(local_dir)):
        return "local-dir", Path(local_dir)
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    cached = try_to_load_from_cache(HUB_ID, CONFIG_FILE)
    if isinstance(cached, str) and _weights_in(Path(cached).parent):
        return "hub-cache", Path(cached).parent
    return None
