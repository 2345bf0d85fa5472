"""Augmentation that keeps directions, for datasets whose structures are named by one ("anterior hippocampus").

nnU-Net mirrors every axis in training and at prediction, and rotates near-square 2D patches by up to 180 degrees:
half of the patches then show the front half of an organ behind its back half, labelled "anterior", so sibling
halves can only be told apart by their shape. Without mirroring and with rotations that cannot reverse an axis,
where a part lies says which part it is (for mirroring, this is nnU-Net's `nnUNetTrainerNoMirroring`, the usual
choice where labels are left and right)."""

from __future__ import annotations

import re

import numpy as np
from nnunetv2.training.data_augmentation.compute_initial_patch_size import get_patch_size

MAX_ROTATION = np.deg2rad(15)  # nnU-Net's rotation for elongated 2D patches
DIRECTIONS = re.compile(
    r"\b(left|right|anterior|posterior|superior|inferior|cranial|caudal|rostral|dorsal|ventral|"
    r"upper|lower|front|rear)\b",
    re.IGNORECASE,
)


def names_a_direction(ontology) -> bool:
    """Whether a structure of the dataset's ontology is named by a direction."""
    return any(DIRECTIONS.search(n) for s in ontology.structures.values() for n in (s.name, *s.names))


def orientation_preserving(trainer, configured: tuple) -> tuple:
    """nnU-Net's (rotation, dummy_2d, initial_patch_size, mirror_axes) without mirroring (in training and at
    prediction) and with rotation within +-15 degrees."""
    rotation, dummy_2d, _, _ = configured
    rotation = (max(rotation[0], -MAX_ROTATION), min(rotation[1], MAX_ROTATION))
    patch_size = trainer.configuration_manager.patch_size
    initial_patch_size = get_patch_size(patch_size, rotation, rotation, rotation, (0.85, 1.25))
    if dummy_2d:
        initial_patch_size[0] = patch_size[0]
    trainer.inference_allowed_mirroring_axes = None
    return rotation, dummy_2d, initial_patch_size, None


class KeepOrientation:
    """Mix in before an nnU-Net trainer to keep orientation whatever the dataset."""

    def configure_rotation_dummyDA_mirroring_and_inital_patch_size(self):
        return orientation_preserving(self, super().configure_rotation_dummyDA_mirroring_and_inital_patch_size())
