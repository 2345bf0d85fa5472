"""A prompt's foreground probabilities (preprocessed space) -> its binary mask in the input's geometry."""

from __future__ import annotations

import numpy as np
import torch

BINARY_LABELS = {"background": 0, "target": 1}


def export_binary(probability: np.ndarray, plans_manager, configuration_manager, properties: dict,
                  return_probabilities: bool = False):
    """A foreground probability map in preprocessed space -> the binary mask in the input's geometry (nnU-Net's
    own resampling and un-cropping), or (mask, probabilities [2, ...]) with `return_probabilities`."""
    from nnunetv2.inference.export_prediction import convert_predicted_logits_to_segmentation_with_correct_shape
    from nnunetv2.utilities.label_handling.label_handling import LabelManager

    p = np.clip(probability, 1e-6, 1 - 1e-6)
    logits = torch.from_numpy(np.stack([np.zeros_like(p), np.log(p) - np.log1p(-p)]))  # softmax gives p back
    return convert_predicted_logits_to_segmentation_with_correct_shape(
        logits, plans_manager, configuration_manager, LabelManager(BINARY_LABELS, None), properties,
        return_probabilities)
