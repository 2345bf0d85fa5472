"""Planned topologies for network tests: the real hippocampus plan, a 7-stage 512x512 plan, small 3D plans."""

from __future__ import annotations

from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager


def plan_2d(patch, features, n_conv=2, network="dynamic_network_architectures.architectures.unet.PlainConvUNet",
            batch_size=2, strides=None) -> ConfigurationManager:
    """A configuration as nnU-Net plans it; 2D or 3D by the patch (`strides`: per stage, default 1 then 2s)."""
    n, d = len(features), len(patch)
    strides = strides or [[1] * d] + [[2] * d] * (n - 1)
    arch = {"n_stages": n, "features_per_stage": list(features), "conv_op": f"torch.nn.modules.conv.Conv{d}d",
            "kernel_sizes": [[3] * d] * n, "strides": strides, "conv_bias": True,
            "norm_op": f"torch.nn.modules.instancenorm.InstanceNorm{d}d",
            "norm_op_kwargs": {"eps": 1e-5, "affine": True},
            "dropout_op": None, "dropout_op_kwargs": None, "nonlin": "torch.nn.LeakyReLU",
            "nonlin_kwargs": {"inplace": True}}
    if network.endswith("ResidualEncoderUNet"):
        arch["n_blocks_per_stage"] = [1] + [2] * (n - 1)
    else:
        arch["n_conv_per_stage"] = [n_conv] * n
    arch["n_conv_per_stage_decoder"] = [n_conv] * (n - 1)
    return ConfigurationManager({
        "data_identifier": "x", "preprocessor_name": "DefaultPreprocessor", "batch_size": batch_size,
        "patch_size": list(patch), "median_image_size_in_voxels": list(patch), "spacing": [1.0] * d,
        "normalization_schemes": ["ZScoreNormalization"], "use_mask_for_norm": [False],
        "resampling_fn_data": "resample_data_or_seg_to_shape", "resampling_fn_seg": "resample_data_or_seg_to_shape",
        "resampling_fn_data_kwargs": {}, "resampling_fn_seg_kwargs": {}, "resampling_fn_probabilities":
            "resample_data_or_seg_to_shape", "resampling_fn_probabilities_kwargs": {},
        "architecture": {"network_class_name": network, "arch_kwargs": arch,
                         "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"]},
        "batch_dice": True})


HIPPOCAMPUS = dict(patch=(56, 40), features=(32, 64, 128, 256))
SEVEN_STAGE_512 = dict(patch=(512, 512), features=(32, 64, 128, 256, 512, 512, 512))
# 3D: isotropic, and anisotropic as nnU-Net plans thick slices (no pooling along z at first, as CHAOS' 3d_fullres)
CUBE_3D = dict(patch=(16, 16, 16), features=(8, 16, 32))
THICK_SLICES_3D = dict(patch=(8, 32, 32), features=(8, 16, 32, 32),
                       strides=[[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2]])
