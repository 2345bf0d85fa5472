"""The multi-class segmentation becomes the prompt's binary target and avoid masks, after spatial
augmentation (so both are warped alike) and before deep-supervision downsampling."""

from __future__ import annotations

import torch
from batchgeneratorsv2.transforms.base.basic_transform import BasicTransform


def prompt_masks(seg: torch.Tensor, target, avoid) -> torch.Tensor:
    """[2, ...]: isin(seg, target) & ~isin(seg, avoid), and isin(seg, avoid) (the region the gate must close)."""
    target = torch.as_tensor(list(target), dtype=seg.dtype)
    avoid = torch.as_tensor(list(avoid), dtype=seg.dtype)
    in_avoid = torch.isin(seg, avoid)
    return torch.stack([torch.isin(seg, target) & ~in_avoid, in_avoid]).to(torch.int16)


class PromptMaskTransform(BasicTransform):
    """Reads `prompt_target` / `prompt_avoid` from the sample and replaces its segmentation by the two masks."""

    def apply(self, data_dict, **params):
        seg = data_dict["segmentation"]
        data_dict["segmentation"] = prompt_masks(seg[0], data_dict["prompt_target"], data_dict["prompt_avoid"])
        return data_dict
