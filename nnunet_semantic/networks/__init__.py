"""SemanticUNet, its prompt heads, and the one builder that makes it from nnU-Net's plans and a config."""

from nnunet_semantic.networks.builder import build_network
from nnunet_semantic.networks.config import NetworkConfig
from nnunet_semantic.networks.heads import HEADS
from nnunet_semantic.networks.semantic_unet import SemanticUNet
from nnunet_semantic.networks.types import PromptedImages, PromptOutput

__all__ = ["HEADS", "NetworkConfig", "PromptOutput", "PromptedImages", "SemanticUNet", "build_network"]
