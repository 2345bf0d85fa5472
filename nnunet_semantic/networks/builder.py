"""The one place a SemanticUNet is built: nnU-Net's plans decide the topology, the config the rest."""

from __future__ import annotations

from nnunetv2.utilities.get_network_from_plans import get_network_from_plans

from nnunet_semantic.networks.config import NetworkConfig
from nnunet_semantic.networks.semantic_unet import SemanticUNet


def build_network(
    configuration_manager, num_input_channels: int, config: NetworkConfig, deep_supervision: bool = True
) -> SemanticUNet:
    """Semantic stream = the plans' `arch_kwargs` (2D or 3D; PlainConvUNet or ResEnc) with background + `num_labels`
    outputs for the `labels` head, 2 (background / target) otherwise."""
    if len(configuration_manager.patch_size) not in (2, 3):
        raise ValueError(f"SemanticUNet takes 2D or 3D patches, got {configuration_manager.patch_size}")
    kwargs = configuration_manager.network_arch_init_kwargs
    unet = get_network_from_plans(
        configuration_manager.network_arch_class_name,
        kwargs,
        configuration_manager.network_arch_init_kwargs_req_import,
        num_input_channels,
        1 + config.num_labels if config.head == "labels" else 2,
        allow_init=True,
        deep_supervision=deep_supervision,
    )
    return SemanticUNet(
        unet,
        config,
        list(kwargs["features_per_stage"]),
        kwargs["strides"],
        configuration_manager.patch_size,
        num_input_channels,
    )
