"""Augmentation that keeps directions, for datasets whose structures are named by one ("anterior hippocampus").

nnU-Net mirrors every axis in training and at prediction, and rotates near-square 2D patches by up to 180 degrees:
half of the patches then show the front half of an organ behind its back half, labelled "anterior", so sibling
halves can only be told apart by their shape. Without mirroring and with rotations that cannot reverse an axis,
where a part lies says which part it is (for mirroring, this is nnU-Net's `nnUNetTrainerNoMirroring`, the usual
choice where labels are left and right). Per axis (`keep_orientation = "named axes"`): only the axes that run
along a direction the structures name (left-right for "left kidney") stay unmirrored, found from each preprocessed
case's direction cosines; the others keep nnU-Net's mirroring."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from batchgenerators.utilities.file_and_folder_operations import load_pickle
from nnunetv2.training.data_augmentation.compute_initial_patch_size import get_patch_size

MAX_ROTATION = np.deg2rad(15)  # nnU-Net's rotation for elongated 2D patches
# the body axis each direction word runs along, in ITK's patient frame (x: right-left, y: front-back, z: feet-head)
BODY_AXIS = {"left": 0, "right": 0, "anterior": 1, "posterior": 1, "front": 1, "rear": 1, "ventral": 1, "dorsal": 1}
BODY_AXIS |= dict.fromkeys(("superior", "inferior", "cranial", "caudal", "rostral", "upper", "lower"), 2)
DIRECTIONS = re.compile(rf"\b({'|'.join(BODY_AXIS)})\b", re.IGNORECASE)


def names_a_direction(ontology) -> bool:
    """Whether a structure of the dataset's ontology is named by a direction."""
    return bool(named_body_axes(ontology))


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


def named_body_axes(ontology) -> set[int]:
    """The body axes along which a structure of the ontology is named ("left kidney": 0, right-left)."""
    names = (n for s in ontology.structures.values() for n in (s.name, *s.names))
    return {BODY_AXIS[word.lower()] for n in names for word in DIRECTIONS.findall(n)}


def body_axes_of_array(direction: Sequence[float]) -> tuple[int, int, int]:
    """ITK direction cosines of a 3D image (row-major 3x3; column a: index axis a in the patient frame) -> the body
    axis that each numpy axis (z, y, x: index axes k, j, i) runs along most."""
    cosines = np.abs(np.asarray(direction, float).reshape(3, 3))
    return tuple(int(cosines[:, a].argmax()) for a in (2, 1, 0))


def mirror_axes_keeping(
    named: set[int], properties: Iterable[dict], transpose_forward: Sequence[int], mirror_axes: Sequence[int], dims: int
) -> tuple[int, ...] | None:
    """nnU-Net's mirror axes of a `dims`-D patch without those that run along a named body axis in any case (the
    preprocessed volume's axis p is the image's numpy axis transpose_forward[p]; a 2D patch is its last two); None
    where a case's orientation is not known (no 3D direction cosines: then no axis is mirrored)."""
    kept = set()
    for case in properties:
        direction = case.get("sitk_stuff", {}).get("direction")
        if direction is None or len(direction) != 9:
            return None
        body = body_axes_of_array(direction)
        kept |= {a for a in mirror_axes if body[transpose_forward[a + 3 - dims]] in named}
    return tuple(a for a in mirror_axes if a not in kept)


def keeping_named_axes(trainer, configured: tuple) -> tuple:
    """`orientation_preserving`, with the axes that no named direction runs along mirrored as nnU-Net mirrors them."""
    named = named_body_axes(trainer.ontology)
    if not named:
        return configured
    properties = [load_pickle(str(f)) for f in sorted(Path(trainer.preprocessed_dataset_folder).glob("*.pkl"))]
    dims = len(trainer.configuration_manager.patch_size)
    axes = mirror_axes_keeping(named, properties, trainer.plans_manager.transpose_forward, configured[3] or (), dims)
    rotation, dummy_2d, initial_patch_size, _ = orientation_preserving(trainer, configured)
    trainer.inference_allowed_mirroring_axes = axes or None
    trainer.print_to_log_file(f"orientation: mirroring axes {axes or 'none'} (kept: those along body axes {named})")
    return rotation, dummy_2d, initial_patch_size, axes or None
