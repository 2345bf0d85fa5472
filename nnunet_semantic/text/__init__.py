"""Text encoders (MiniLM offline default, BiomedCLIP) and the cached embedding bank."""

from nnunet_semantic.text.base import TextEncoder
from nnunet_semantic.text.factory import ENCODERS, get_encoder

__all__ = ["ENCODERS", "TextEncoder", "get_encoder"]
