"""`get_encoder(name)`: a name (or a BiomedCLIP source) -> a text encoder, as open_clip's factory does."""

from __future__ import annotations

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.text.base import TextEncoder

ENCODERS = ("minilm", "biomedclip")


def get_encoder(name: str = "minilm", **options) -> TextEncoder:
    """`minilm` (offline default), `biomedclip` (options: source='local-dir:PATH' | 'hf-hub'), or directly
    `local-dir:PATH` / `hf-hub` for BiomedCLIP. Options `device`, `batch_size` apply to all."""
    if name == "minilm":
        from nnunet_semantic.text.minilm import MiniLMEncoder

        return MiniLMEncoder(**options)
    if name == "biomedclip" or name.startswith(("local-dir:", "hf-hub")):
        from nnunet_semantic.text.biomedclip import BiomedCLIPEncoder

        if name != "biomedclip":
            options.setdefault("source", name)
        return BiomedCLIPEncoder(**options)
    raise SemanticError(f"unknown text encoder '{name}'; known: {', '.join(ENCODERS)} (or local-dir:PATH)")
