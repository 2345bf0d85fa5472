"""BiomedCLIP (ViT-B/16 + PubMedBERT, open_clip) from a local folder or the Hugging Face hub.

open_clip's own `local-dir:` still resolves the BERT config by its hub name; here the folder's config is
rewritten in memory so the BERT config and tokenizer are read from the folder too, and nothing touches the
network. The same loader gives the text tower (text encoder) and the vision tower (semantic stream).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.text.base import default_device, file_fingerprint, l2_normalise

HUB_ID = "microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224"
BERT_HUB_ID = "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract"
LOCAL_DIR_ENV = "NNUNET_SEMANTIC_BIOMEDCLIP_DIR"
CONFIG_FILE = "open_clip_config.json"
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
BERT_FILES = ("config.json", "vocab.txt")

# BiomedCLIP's published architecture (its open_clip_config.json), for random-weight models and benchmarks.
MODEL_CFG: dict[str, Any] = {
    "embed_dim": 512,
    "vision_cfg": {
        "timm_model_name": "vit_base_patch16_224",
        "timm_model_pretrained": False,
        "timm_pool": "",
        "timm_proj": "linear",
        "image_size": 224,
    },
    "text_cfg": {
        "hf_model_name": BERT_HUB_ID,
        "hf_tokenizer_name": BERT_HUB_ID,
        "hf_proj_type": "mlp",
        "hf_pooler_type": "cls_last_hidden_state_pooler",
        "context_length": 256,
    },
}
PREPROCESS_CFG = {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}
BERT_BASE = {
    "vocab_size": 30522,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
}

HOW_TO = (
    f"download it once with --source hf-hub, or put BiomedCLIP in a folder: {CONFIG_FILE} and "
    f"{WEIGHT_FILES[1]} from {HUB_ID}, plus "
    f"{' and '.join(BERT_FILES)} (and tokenizer_config.json) from {BERT_HUB_ID}; then pass "
    f"local-dir:FOLDER or set {LOCAL_DIR_ENV}=FOLDER (see README)"
)


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


@dataclass
class BiomedCLIP:
    model: Any  # open_clip CustomTextCLIP: .visual (timm ViT) and .text (HF BERT + projection)
    tokenizer: Any
    preprocess_cfg: dict[str, Any]
    model_cfg: dict[str, Any]
    source: str
    fingerprint: str


def _local(folder: Path, device: str) -> BiomedCLIP:
    import open_clip
    from open_clip.tokenizer import HFTokenizer

    weights = _weights_in(folder)
    missing = [f for f in (CONFIG_FILE, *BERT_FILES) if not (folder / f).is_file()]
    if weights is None:
        missing.append(" or ".join(WEIGHT_FILES))
    if missing:
        raise SemanticError(f"BiomedCLIP folder {folder} lacks {', '.join(missing)}: {HOW_TO}")
    cfg = json.loads((folder / CONFIG_FILE).read_text())
    model_cfg = copy.deepcopy(cfg["model_cfg"])
    model_cfg.pop("custom_text", None)
    text_cfg = model_cfg["text_cfg"]
    text_cfg.update(hf_model_name=str(folder), hf_tokenizer_name=str(folder), hf_model_pretrained=False)
    if "timm_model_name" in model_cfg["vision_cfg"]:
        model_cfg["vision_cfg"]["timm_model_pretrained"] = False
    model = open_clip.CustomTextCLIP(**model_cfg)
    open_clip.load_checkpoint(model, str(weights), strict=True)
    tokenizer = HFTokenizer(
        str(folder), context_length=text_cfg.get("context_length", 256), tokenizer_mode=text_cfg.get("tokenizer_mode")
    )
    fingerprint = file_fingerprint([folder / CONFIG_FILE, weights, *(folder / f for f in BERT_FILES)], "biomedclip")
    return BiomedCLIP(
        model.to(device).eval(),
        tokenizer,
        {**PREPROCESS_CFG, **cfg.get("preprocess_cfg", {})},
        model_cfg,
        f"local-dir:{folder}",
        fingerprint,
    )


@contextlib.contextmanager
def _hub_mode(offline: bool, timeout_s: int = 20):
    """Offline: the hub cache only, no request at all; online: requests that give up after `timeout_s` instead
    of hanging behind a proxy that never answers."""
    from huggingface_hub import constants

    saved = {k: getattr(constants, k) for k in ("HF_HUB_OFFLINE", "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT")}
    saved_env = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    constants.HF_HUB_OFFLINE = offline
    constants.HF_HUB_ETAG_TIMEOUT = constants.HF_HUB_DOWNLOAD_TIMEOUT = timeout_s
    if offline:
        os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(constants, k, v)
        for k, v in saved_env.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _hub(device: str, offline: bool) -> BiomedCLIP:
    import open_clip

    try:
        with _hub_mode(offline):
            model, _ = open_clip.create_model_from_pretrained(f"hf-hub:{HUB_ID}", device=device)
            tokenizer = open_clip.get_tokenizer(f"hf-hub:{HUB_ID}")
    except Exception as e:  # noqa: BLE001 - offline, not cached, or a partial cache: one clear message
        where = "in the hub cache (no download without --source hf-hub)" if offline else "from the hub"
        raise SemanticError(f"BiomedCLIP could not be loaded {where} ({type(e).__name__}); " + HOW_TO) from None
    found = locate()
    fingerprint = file_fingerprint([found[1] / CONFIG_FILE, _weights_in(found[1])], "biomedclip") if found else HUB_ID
    return BiomedCLIP(model.eval(), tokenizer, PREPROCESS_CFG, MODEL_CFG, f"hf-hub:{HUB_ID}", fingerprint)


def load_biomedclip(source: str | os.PathLike | None = None, device: str | None = None) -> BiomedCLIP:
    """`local-dir:PATH` (or a bare path), `hf-hub` (download if needed, with a timeout), or None:
    $NNUNET_SEMANTIC_BIOMEDCLIP_DIR, then the hub cache without any network request."""
    device = device or default_device()
    source = str(source) if source is not None else os.environ.get(LOCAL_DIR_ENV)
    if source and source.startswith("hf-hub"):
        return _hub(device, offline=False)
    if source:
        folder = Path(source.removeprefix("local-dir:"))
        if not folder.is_dir():
            raise SemanticError(f"BiomedCLIP folder {folder} not found: {HOW_TO}")
        return _local(folder, device)
    return _hub(device, offline=True)


def write_random_folder(
    folder: Path,
    vocab: list[str],
    model_cfg: dict[str, Any] | None = None,
    bert: dict[str, Any] | None = None,
    seed: int = 0,
) -> Path:
    """A BiomedCLIP-format folder with random weights (default: the real architecture): for tests, benchmarks
    and offline smoke runs. `vocab` is the BERT word-piece vocabulary, special tokens first."""
    import open_clip
    import torch
    from transformers import BertConfig

    folder.mkdir(parents=True, exist_ok=True)
    BertConfig(**(bert or BERT_BASE) | {"vocab_size": len(vocab)}).save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer_cfg = {"do_lower_case": True, "tokenizer_class": "BertTokenizer"}
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_cfg))
    cfg = copy.deepcopy(model_cfg or MODEL_CFG)
    (folder / CONFIG_FILE).write_text(json.dumps({"model_cfg": cfg, "preprocess_cfg": PREPROCESS_CFG}, indent=1))
    build = copy.deepcopy(cfg)
    build["text_cfg"].update(hf_model_name=str(folder), hf_tokenizer_name=str(folder), hf_model_pretrained=False)
    if "timm_model_name" in build["vision_cfg"]:
        build["vision_cfg"]["timm_model_pretrained"] = False
    torch.manual_seed(seed)
    torch.save(open_clip.CustomTextCLIP(**build).state_dict(), folder / WEIGHT_FILES[1])
    return folder


class BiomedCLIPEncoder:
    name = "biomedclip"

    def __init__(self, source: str | None = None, device: str | None = None, batch_size: int = 32):
        self.clip = load_biomedclip(source, device)
        self.device = next(self.clip.model.parameters()).device
        self.batch_size = batch_size
        self.dim = int(self.clip.model_cfg["embed_dim"])
        self.fingerprint = self.clip.fingerprint

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        out = [np.zeros((0, self.dim), np.float32)]
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                tokens = self.clip.tokenizer(list(texts[i : i + self.batch_size])).to(self.device)
                out.append(self.clip.model.encode_text(tokens, normalize=True).float().cpu().numpy())
        return l2_normalise(np.concatenate(out))
