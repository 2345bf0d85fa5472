"""Build a SemanticUNet from nnU-Net's plans, so self-configuration still decides the topology."""

from __future__ import annotations

from nnunetv2.utilities.get_network_from_plans import get_network_from_plans

from nnunet_semantic.networks.semantic_unet import SemanticUNet


def build_semantic_unet(configuration_manager, num_input_channels: int, text_dim: int, fusion: str = "labels",
                        frequency_input: str = "dwt", frequency_backbone: str = "auto",
                        deep_supervision: bool = True, semantic_stream: str = "unet",
                        fusion_site: str = "decoder", num_labels: int = 1) -> SemanticUNet:
    """Semantic stream = the plans' 2D `arch_kwargs` (PlainConvUNet or ResEnc) with 2 outputs (bg / target), or
    with background + `num_labels` outputs for the `labels` head."""
    if len(configuration_manager.patch_size) != 2:
        raise ValueError("SemanticUNet is a 2D network: train a 2d configuration (e.g. 2d or 2d_cpu)")
    kwargs = configuration_manager.network_arch_init_kwargs
    unet = get_network_from_plans(configuration_manager.network_arch_class_name, kwargs,
                                  configuration_manager.network_arch_init_kwargs_req_import, num_input_channels,
                                  1 + num_labels if fusion == "labels" else 2,
                                  allow_init=True, deep_supervision=deep_supervision)
    return SemanticUNet(unet, num_input_channels, list(kwargs["features_per_stage"]), kwargs["strides"],
                        configuration_manager.patch_size, text_dim, fusion, frequency_input, frequency_backbone,
                        semantic_stream, fusion_site)
