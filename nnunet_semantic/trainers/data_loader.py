"""nnU-Net's 2D data loader with K prompts per sample, all answered from the same patch."""

from __future__ import annotations

import numpy as np
import torch
from acvl_utils.cropping_and_padding.bounding_boxes import crop_and_pad_nd
from nnunetv2.training.dataloading.data_loader import nnUNetDataLoader
from threadpoolctl import threadpool_limits

from nnunet_semantic.trainers.prompt_table import PromptTable


class SemanticDataLoader(nnUNetDataLoader):
    """Per sample: `prompts_per_sample` prompts drawn from the case's sidecar (numpy RNG, levels balanced), a share
    `reword` of their texts in another wording of the same structure; foreground oversampling centred on the first
    one's structure; text vectors [B, K, D] and levels [B, K]."""

    def __init__(self, data, batch_size, patch_size, final_patch_size, label_manager, *args, prompts: PromptTable,
                 prompts_per_sample: int = 1, reword: float = 0.0, **kwargs):
        super().__init__(data, batch_size, patch_size, final_patch_size, label_manager, *args, **kwargs)
        self.num_labels = len(label_manager.foreground_labels)
        self.prompts, self.prompts_per_sample, self.reword = prompts, prompts_per_sample, reword
        missing = [k for k in self.indices if k not in prompts.cases]
        if missing:
            raise RuntimeError(f"cases without verified prompts: {missing[:5]}; reconvert the dataset")

    def generate_train_batch(self):
        keys = self.get_indices()
        data_all, seg_all = None, None
        text = {name: [] for name in ("pos", "neg", "has_neg", "level", "prompt", "pos_labels", "neg_labels")}
        with torch.no_grad(), threadpool_limits(limits=1, user_api=None):
            for j, key in enumerate(keys):
                case = self.prompts.cases[key]
                index = case.sample(self.prompts_per_sample)
                data, seg, _, properties = self._data.load_case(key)
                locations = {k: v for k, v in properties["class_locations"].items() if k in case.targets[index[0]]}
                bbox_lbs, bbox_ubs = self.get_bbox(data.shape[1:], self.get_do_oversample(j) and bool(locations),
                                                   locations)
                bbox = [[lo, hi] for lo, hi in zip(bbox_lbs, bbox_ubs)]
                image = torch.from_numpy(crop_and_pad_nd(data, bbox, 0)).float()
                seg = torch.from_numpy(crop_and_pad_nd(seg, bbox, -1, cast_cropped_to=np.int16)).to(torch.int16)
                if self.patch_size_was_2d:
                    image, seg = image[:, 0], seg[:, 0]
                sample = self.transforms(image=image, segmentation=seg, prompt_target=[case.targets[i] for i in index],
                                         prompt_avoid=[case.avoids[i] for i in index])
                if data_all is None:
                    data_all = torch.empty((self.batch_size, *sample["image"].shape), dtype=torch.float32)
                    segs = sample["segmentation"]
                    seg_all = [torch.empty((self.batch_size, *s.shape), dtype=s.dtype)
                               for s in (segs if isinstance(segs, list) else [segs])]
                data_all[j] = sample["image"]
                for s_all, s in zip(seg_all, sample["segmentation"] if isinstance(sample["segmentation"], list)
                                    else [sample["segmentation"]]):
                    s_all[j] = s
                pos, neg, has_neg = self.prompts.text_arrays(key, index, self.reword)
                pos_labels, neg_labels = self.prompts.memberships(key, index, self.num_labels)
                for name, value in (("pos", pos), ("neg", neg), ("has_neg", has_neg), ("level", case.levels[index]),
                                    ("prompt", index), ("pos_labels", pos_labels), ("neg_labels", neg_labels)):
                    text[name].append(value)
        return {"data": data_all, "target": seg_all if len(seg_all) > 1 else seg_all[0], "keys": keys,
                "text_pos": torch.from_numpy(np.stack(text["pos"])),
                "text_neg": torch.from_numpy(np.stack(text["neg"])),
                "has_neg": torch.from_numpy(np.stack(text["has_neg"])),
                "level": torch.from_numpy(np.stack(text["level"])),
                "prompt_index": torch.from_numpy(np.stack(text["prompt"])),
                "pos_labels": torch.from_numpy(np.stack(text["pos_labels"])),
                "neg_labels": torch.from_numpy(np.stack(text["neg_labels"]))}
