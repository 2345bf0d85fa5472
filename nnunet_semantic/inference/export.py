"""A prompt's foreground probabilities (preprocessed space) -> its binary mask in the input's geometry, on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from nnunet_semantic.inference.postprocessing import remove_small_components

BINARY_LABELS = {"background": 0, "target": 1}


def export_binary(
    probability: np.ndarray, plans_manager, configuration_manager, properties: dict, return_probabilities: bool = False
):
    """A foreground probability map in preprocessed space -> the binary mask in the input's geometry (nnU-Net's
    own resampling and un-cropping), or (mask, probabilities [2, ...]) with `return_probabilities`."""
    from nnunetv2.inference.export_prediction import convert_predicted_logits_to_segmentation_with_correct_shape
    from nnunetv2.utilities.label_handling.label_handling import LabelManager

    p = np.clip(probability, 1e-6, 1 - 1e-6)
    logits = torch.from_numpy(np.stack([np.zeros_like(p), np.log(p) - np.log1p(-p)]))  # softmax gives p back
    return convert_predicted_logits_to_segmentation_with_correct_shape(
        logits,
        plans_manager,
        configuration_manager,
        LabelManager(BINARY_LABELS, None),
        properties,
        return_probabilities,
    )


def export_mask(
    probability: np.ndarray,
    plans_manager,
    configuration_manager,
    properties: dict,
    min_voxels: int,
    return_probabilities: bool = False,
):
    """`export_binary` with the mask's components under `min_voxels` removed, as every prediction is exported."""
    result = export_binary(probability, plans_manager, configuration_manager, properties, return_probabilities)
    if return_probabilities:
        return remove_small_components(result[0], min_voxels), result[1]
    return remove_small_components(result, min_voxels)


def export_case(
    probabilities: np.ndarray,
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
    for i, (p, path, smallest) in enumerate(zip(probabilities, files, min_voxels)):
        result = export_mask(
            p, plans_manager, configuration_manager, properties, smallest, probabilities_for is not None
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
