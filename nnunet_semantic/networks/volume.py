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
