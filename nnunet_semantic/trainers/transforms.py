"""The multi-class segmentation becomes each prompt's binary masks, after spatial augmentation (so all are warped
alike) and before deep-supervision downsampling."""

from __future__ import annotations

import torch
from batchgeneratorsv2.transforms.base.basic_transform import BasicTransform

MASKS = ("composed", "target", "avoid")


def prompt_masks(seg: torch.Tensor, target, avoid) -> torch.Tensor:
    """[3, ...]: the prompt's mask isin(seg, target) & ~isin(seg, avoid), and its parts isin(seg, target) and
    isin(seg, avoid), each supervising its own half of `p = p(target) * (1 - p(avoid))`."""
    in_target = torch.isin(seg, torch.as_tensor(list(target), dtype=seg.dtype))
    in_avoid = torch.isin(seg, torch.as_tensor(list(avoid), dtype=seg.dtype))
    return torch.stack([in_target & ~in_avoid, in_target, in_avoid]).to(torch.int16)


class PromptMaskTransform(BasicTransform):
    """Reads the lists `prompt_target` / `prompt_avoid` (K prompts) from the sample and replaces its segmentation
    by [3 * K + 1, ...]: the masks, `MASKS` major (channel `m * K + k` is mask m of prompt k), then the label map
    itself (the `labels` head learns the dataset's labels from it, as nnU-Net does)."""

    def apply(self, data_dict, **params):
        seg = data_dict["segmentation"][0]
        masks = [prompt_masks(seg, t, a) for t, a in zip(data_dict["prompt_target"], data_dict["prompt_avoid"])]
        data_dict["segmentation"] = torch.cat([torch.stack(masks, 1).flatten(0, 1), seg[None].to(torch.int16)])
        return data_dict
