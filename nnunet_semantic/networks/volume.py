"""Segment a 3D volume slice by slice with a SemanticUNet: image streams once, every prompt decoded from them."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def total_stride(strides) -> tuple[int, int]:
    return tuple(int(np.prod([s[a] for s in strides])) for a in range(2))


@torch.inference_mode()
def segment_volume(network, volume: np.ndarray, texts: list[dict[str, torch.Tensor]], strides,
                   min_size=(0, 0), batch_size: int = 16, device: torch.device | str = "cpu") -> np.ndarray:
    """volume [C, Z, Y, X] -> foreground probabilities [len(texts), Z, Y, X].

    Each text is one prompt's {"pos": [D], "neg": [D], "has_neg": bool tensor}. Slices are padded to a multiple
    of the network's total stride (and at least `min_size`), which a fully convolutional U-Net accepts whole.
    """
    c, z, y, x = volume.shape
    sy, sx = total_stride(strides)
    ty, tx = max(-(-y // sy) * sy, min_size[0]), max(-(-x // sx) * sx, min_size[1])
    out = np.zeros((len(texts), z, y, x), np.float32)
    for start in range(0, z, batch_size):
        chunk = torch.from_numpy(np.ascontiguousarray(volume[:, start:start + batch_size].transpose(1, 0, 2, 3)))
        chunk = F.pad(chunk.float(), (0, tx - x, 0, ty - y)).to(device)
        features = network.encode_image(chunk)
        for i, text in enumerate(texts):
            batch = {k: v[None].expand(len(chunk), *v.shape).to(device) for k, v in text.items()}
            logits = network.decode(features, batch)
            logits = logits[0] if isinstance(logits, (list, tuple)) else logits
            out[i, start:start + len(chunk)] = torch.softmax(logits.float(), 1)[:, 1, :y, :x].cpu().numpy()
    return out


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
