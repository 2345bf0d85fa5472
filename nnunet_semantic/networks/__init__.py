"""Haar DWT, frequency stream, CMSG gates and SemanticUNet."""

from nnunet_semantic.networks.builder import build_semantic_unet
from nnunet_semantic.networks.semantic_unet import FUSIONS, SemanticUNet

__all__ = ["FUSIONS", "SemanticUNet", "build_semantic_unet"]
