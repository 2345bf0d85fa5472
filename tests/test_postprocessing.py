"""Issue 12: stray voxels for absent structures. A prompted mask keeps only components of a size its structure has
in training (a share of its smallest training volume); what the converters recorded sets the limit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnunet_semantic.inference.postprocessing import min_component_voxels, remove_small_components

COUNTS = [{"1": 5000, "2": 190}, {"1": 6000, "2": 400, "3": 250}, {"1": 5500}]


def test_the_limit_is_a_share_of_the_smallest_training_volume_of_the_prompts_set():
    assert min_component_voxels(COUNTS, [2], []) == 19
    assert min_component_voxels(COUNTS, [3], []) == 25
    assert min_component_voxels(COUNTS, [2, 3], []) == 19  # "masses": the smallest union, 190
    assert min_component_voxels(COUNTS, [1, 2, 3], [2, 3]) == 500  # "organ excluding lesion and cyst": label 1
    assert min_component_voxels(COUNTS, [4], []) == 0  # never seen in training: no limit
    assert min_component_voxels(COUNTS, [2], [], fraction=0) == 0
    assert min_component_voxels([], [2], []) == 0  # a checkpoint without label counts


def test_small_components_go_and_large_ones_stay_whole():
    mask = np.zeros((4, 20, 20), np.uint8)
    mask[1:3, 2:10, 2:10] = 1  # 128 voxels
    mask[0, 15, 15] = mask[3, 18, 1] = 1  # two stray voxels
    mask[2, 14:16, 14:16] = 1  # 4 voxels, touching nothing
    mask[3, 10, 10] = 1  # touches the big component at a corner: part of it
    cleaned = remove_small_components(mask, 19)
    assert cleaned.dtype == mask.dtype and cleaned.sum() == 129 and cleaned[3, 10, 10] == 1
    assert np.array_equal(remove_small_components(mask, 0), mask)
    assert not remove_small_components(np.isin(mask, 5).astype(np.uint8), 19).any()
    assert remove_small_components(mask, 200).sum() == 0  # an absent structure's debris: nothing left


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (3.0, 0.7, 1.3)], ids=["no resampling", "resampled"])
def test_a_prompts_export_is_nnunets_export_of_its_two_class_logits(spacing):
    """Issue 36 (prediction cost): one channel is exported instead of nnU-Net's [0, l] pair; the mask must be
    nnU-Net's (its resampling, argmax, un-cropping, transpose) and the probabilities its softmax."""
    from net_helpers import plan_2d
    from nnunetv2.inference.export_prediction import convert_predicted_logits_to_segmentation_with_correct_shape
    from nnunetv2.utilities.label_handling.label_handling import LabelManager
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    from nnunet_semantic.inference.export import BINARY_LABELS, export_binary

    plans = PlansManager({"transpose_forward": [0, 2, 1], "transpose_backward": [0, 2, 1], "configurations": {}})
    configuration = plan_2d((16, 16), (8, 16))  # a 2D plan at 1 x 1 mm: slices resampled in plane
    preprocessed = (5, 12, 9) if spacing == (1.0, 1.0, 1.0) else (5, 8, 12)
    properties = {"spacing": list(spacing), "shape_before_cropping": (6, 14, 11),
                  "shape_after_cropping_and_before_resampling": (5, 12, 9), "bbox_used_for_cropping": [[1, 6], [0, 12],
                                                                                                      [2, 11]]}
    logit = torch.randn(preprocessed, generator=torch.Generator().manual_seed(0)).numpy() * 4
    mask, probabilities = export_binary(logit, plans, configuration, properties, return_probabilities=True)
    pair = torch.from_numpy(np.stack([np.zeros_like(logit), logit]))
    nnunet = convert_predicted_logits_to_segmentation_with_correct_shape(
        pair, plans, configuration, LabelManager(BINARY_LABELS, None), properties, return_probabilities=True)
    assert mask.shape == (6, 11, 14) and np.array_equal(mask, nnunet[0]) and 0 < mask.mean() < 0.5
    np.testing.assert_allclose(probabilities, nnunet[1], atol=1e-6)
    assert np.array_equal(export_binary(logit, plans, configuration, properties), mask)
