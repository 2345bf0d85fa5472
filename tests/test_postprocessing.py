"""Issue 12: stray voxels for absent structures. A prompted mask keeps only components of a size its structure has
in training (a share of its smallest training volume); what the converters recorded sets the limit."""

from __future__ import annotations

import numpy as np

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
