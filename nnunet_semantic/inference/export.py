"""A prompt's foreground logits (preprocessed space) -> its binary mask in the input's geometry, on disk."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from nnunet_semantic.inference.postprocessing import remove_small_components

BINARY_LABELS = {"background": 0, "target": 1}


def export_binary(
    logit: np.ndarray, plans_manager, configuration_manager, properties: dict, return_probabilities: bool = False
):
    """A prompt's foreground logits in preprocessed space -> its binary mask in the input's geometry, or (mask,
    probabilities [2, ...]) with `return_probabilities`: what nnU-Net's export gives for the logits [0, l] (softmax:
    sigmoid(l)), computed on the one channel that carries information (the plan's resampling of the logits, each
    channel on its own, then argmax: l > 0; un-cropping; the transpose back)."""
    from acvl_utils.cropping_and_padding.bounding_boxes import insert_crop_into_image

    spacing = [properties["spacing"][i] for i in plans_manager.transpose_forward]
    shape = properties["shape_after_cropping_and_before_resampling"]
    planned = configuration_manager.spacing
    current = planned if len(planned) == len(shape) else [spacing[0], *planned]
    logit = configuration_manager.resampling_fn_probabilities(np.asarray(logit)[None], shape, current, spacing)[0]
    bbox, full = properties["bbox_used_for_cropping"], properties["shape_before_cropping"]
    mask = insert_crop_into_image(np.zeros(full, np.uint8), (logit > 0).astype(np.uint8), bbox)
    mask = mask.transpose(plans_manager.transpose_backward)
    if not return_probabilities:
        return mask
    probabilities = np.zeros((2, *full), np.float32)
    probabilities[0] = 1  # outside the crop: background, as nnU-Net's revert_cropping_on_probabilities
    foreground = torch.sigmoid(torch.from_numpy(np.asarray(logit, np.float32))).numpy()
    insert_crop_into_image(probabilities, np.stack([1 - foreground, foreground]), bbox)
    return mask, probabilities.transpose([0, *(i + 1 for i in plans_manager.transpose_backward)])


def export_mask(
    logit: np.ndarray,
    plans_manager,
    configuration_manager,
    properties: dict,
    min_voxels: int,
    return_probabilities: bool = False,
):
    """`export_binary` with the mask's components under `min_voxels` removed, as every prediction is exported."""
    result = export_binary(logit, plans_manager, configuration_manager, properties, return_probabilities)
    if return_probabilities:
        return remove_small_components(result[0], min_voxels), result[1]
    return remove_small_components(result, min_voxels)


def export_case(
    logits: np.ndarray,
    properties: dict,
    files: list[Path],
    min_voxels: list[int],
    combined: Path | None,
    probabilities_for: str | None,
    plans_manager,
    configuration_manager,
) -> dict[tuple[int, int], int]:
    """One case's prompts onto disk (runs in an export worker): a mask per prompt, with `combined` a label map (label
    i + 1 = prompt i), with `probabilities_for` (the file ending) also `<name>.npz` beside each mask. Returns the
    overlaps of the label map, (earlier prompt, later prompt) -> voxels the later one painted over."""
    writer = plans_manager.image_reader_writer_class()
    label_map, overlaps = None, {}
    for i, (logit, path, smallest) in enumerate(zip(logits, files, min_voxels)):
        result = export_mask(
            logit, plans_manager, configuration_manager, properties, smallest, probabilities_for is not None
        )
        mask, probability = result if probabilities_for else (result, None)
        writer.write_seg(mask.astype(np.uint8), str(path), properties)
        if probability is not None:
            np.savez_compressed(
                path.with_name(path.name[: -len(probabilities_for)] + ".npz"), probabilities=probability
            )
        if combined is not None:
            label_map = np.zeros_like(mask, np.uint8) if label_map is None else label_map
            under = label_map[mask > 0]
            for earlier, voxels in zip(*np.unique(under[under > 0], return_counts=True)):
                overlaps[int(earlier) - 1, i] = int(voxels)
            label_map[mask > 0] = i + 1
    if label_map is not None:
        writer.write_seg(label_map, str(combined), properties)
    return overlaps


def warn_overlaps(painted_over: dict[str, dict[tuple[int, int], int]], prompts: dict[str, list[str]]) -> None:
    """--combined holds one label per voxel: where two prompts' masks meet, the later prompt's label is kept."""
    pairs: dict[tuple[str, str], list[int]] = {}
    for case, overlaps in painted_over.items():
        for (earlier, later), voxels in overlaps.items():
            pairs.setdefault((prompts[case][earlier], prompts[case][later]), []).append(voxels)
    if pairs:
        lines = "\n".join(
            f"  '{b}' painted over '{a}': {sum(v)} voxels in {len(v)} case(s)" for (a, b), v in pairs.items()
        )
        warnings.warn(
            "--combined: prompts' masks overlap, and a label map holds one label per voxel (the later "
            f"prompt's; each prompt's own file is whole):\n{lines}",
            stacklevel=3,
        )
