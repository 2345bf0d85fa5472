"""`get_encoder(name)`: a name (or a BiomedCLIP source) -> a text encoder, as open_clip's factory does."""

from __future__ import annotations

from collections.abc import Callable

from nnunet_semantic.registry import Registry
from nnunet_semantic.text.base import TextEncoder

ENCODERS: Registry[Callable[..., TextEncoder]] = Registry("text encoder", also="or local-dir:PATH")


@ENCODERS.register("minilm")
def minilm(**options) -> TextEncoder:
    """all-MiniLM-L6-v2 from its offline package (the default: nothing downloaded)."""
    from nnunet_semantic.text.minilm import MiniLMEncoder

    return MiniLMEncoder(**options)


@ENCODERS.register("biomedclip")
def biomedclip(**options) -> TextEncoder:
    """BiomedCLIP's text tower (option source='local-dir:PATH' | 'hf-hub')."""
    from nnunet_semantic.text.biomedclip import BiomedCLIPEncoder

    return BiomedCLIPEncoder(**options)


def get_encoder(name: str = "minilm", **options) -> TextEncoder:
    """A registered encoder by name, or `local-dir:PATH` / `hf-hub` for BiomedCLIP from that source. Options
    `device`, `batch_size` apply to all."""
    if name.startswith(("local-dir:", "hf-hub")):
        return ENCODERS["biomedclip"](**{"source": name, **options})
    return ENCODERS[name](**options)
