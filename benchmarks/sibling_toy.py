"""A fast reproduction of sibling-prompt collapse: does a trainer's recipe make the model read its prompt?

Tiny images hold one elongated structure split into a front and a back half that only position tells apart,
and (in most images) a disjoint second structure. The prompts are the hippocampus' own names, encoded by the real
text encoder, so the sibling vectors are as close as in the real data. A small U-Net is trained with the
project's SemanticUNet, nnU-Net's Dice+CE, the part losses, the prompt sampling and the optimisers of a trainer
class (its `head`, `prompts_per_sample`, `absent_prompts`, `centre_text`, `text_lr`, ...), then scored on
held-out images: sibling overlap (Dice between the "anterior" and "posterior" predictions), Dice per prompt,
and false positives for absent structures. A prompt-blind model has sibling overlap near 1. With `dims=3` the
images are volumes (the structure extruded over a few of DEPTH slices) and the network is the same SemanticUNet on a
3D topology. Run by `sibling_study.py` and by the test suite (tests/test_sibling_prompts.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from dynamic_network_architectures.architectures.unet import PlainConvUNet
from nnunetv2.training.loss.compound_losses import DC_and_CE_loss
from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss
from torch import nn

from nnunet_semantic.evaluation.metrics import dice_from_counts
from nnunet_semantic.networks import NetworkConfig, SemanticUNet
from nnunet_semantic.prompts.sidecar import Prompt
from nnunet_semantic.text.bank import EmbeddingBank
from nnunet_semantic.trainers.losses import SemanticLoss
from nnunet_semantic.trainers.optimizers import build_optimizer
from nnunet_semantic.trainers.prompt_batch import PromptSampler
from nnunet_semantic.trainers.prompt_table import PromptTable

SIZE = 32
DEPTH = 8  # slices of a 3D volume
WIDTHS = (16, 32, 64)
FRONT, BACK, OTHER = 1, 2, 3
STRUCTURES = {"hippocampus": (FRONT, BACK), "anterior hippocampus": (FRONT,), "posterior hippocampus": (BACK,),
              "nodule": (OTHER,)}
SIBLINGS = ("anterior hippocampus", "posterior hippocampus")


PROMPTS = [Prompt(f"L1-{name}", 1, name, labels) for name, labels in STRUCTURES.items()] + [
    Prompt(f"L3-x-{name}", 3, f"hippocampus excluding the {name}", (FRONT, BACK), STRUCTURES[name], "hippocampus",
           name) for name in SIBLINGS]


def _prompts(seg: np.ndarray) -> list[Prompt]:
    """The verified prompts of one image, as the generator would write them (both halves are always present)."""
    present = set(np.unique(seg).tolist())
    return [p for p in PROMPTS if present & set(p.target)]


def make_image(rng: np.random.Generator, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(image [1, S, S] float32, labels [S, S] int16): an elongated structure of one intensity whose FRONT half is
    thick and BACK half thin (as the hippocampus' head and tail), pointing left or right at random, so that only
    its shape tells the halves apart; a brighter disc elsewhere in 70% of images. `dims=3`: [1, DEPTH, S, S] and
    [DEPTH, S, S], the picture on 3 to 6 consecutive slices, the rest background."""
    if dims == 3:
        image, seg = make_image(rng)
        first = int(rng.integers(0, DEPTH - 3))
        slices = np.arange(DEPTH)[:, None, None]
        inside = (slices >= first) & (slices < first + int(rng.integers(3, DEPTH - first + 1)))
        noise = rng.normal(0, 0.1, (DEPTH, SIZE, SIZE))
        return np.where(inside, image, noise)[None].astype(np.float32), np.where(inside, seg, 0).astype(np.int16)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    cy, cx = rng.uniform(9, SIZE - 9), rng.uniform(12, SIZE - 12)
    ry, rx = rng.uniform(3.5, 5), rng.uniform(7, 10)
    side = rng.choice([-1, 1])  # where the front is
    front = (xx - cx) * side >= 0
    blob = ((yy - cy) / np.where(front, ry, ry * 0.45)) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    seg = np.zeros((SIZE, SIZE), np.int16)
    seg[blob & front], seg[blob & ~front] = FRONT, BACK
    image = blob * 1.0
    if rng.random() < 0.7:
        for _ in range(20):
            dy, dx = rng.uniform(3, SIZE - 3, 2)
            disc = (yy - dy) ** 2 + (xx - dx) ** 2 <= 2.5 ** 2
            if not (disc & (np.hypot((yy - cy) / (ry + 2), (xx - cx) / (rx + 2)) <= 1)).any():
                seg[disc], image = OTHER, image + 2 * disc
                break
    image = image + rng.normal(0, 0.1, image.shape)
    return image[None].astype(np.float32), seg


def _network(text_dim: int, trainer, dims: int = 2) -> SemanticUNet:
    n = len(WIDTHS)
    strides = [[1] * dims] + [[2] * dims] * (n - 1)
    config = NetworkConfig(text_dim, OTHER, trainer.head, trainer.head_site, trainer.frequency_input, "scaled")
    outputs = 1 + OTHER if config.head == "labels" else 2
    conv, norm = (nn.Conv3d, nn.InstanceNorm3d) if dims == 3 else (nn.Conv2d, nn.InstanceNorm2d)
    unet = PlainConvUNet(1, n, WIDTHS, conv, 3, strides, 2, outputs, [2] * (n - 1), True, norm,
                         {"eps": 1e-5, "affine": True}, None, None, nn.LeakyReLU, {"inplace": True},
                         deep_supervision=False)
    return SemanticUNet(unet, config, WIDTHS, strides, (DEPTH, SIZE, SIZE)[-dims:], 1)


def _mask(seg: torch.Tensor, target, avoid) -> torch.Tensor:
    return torch.isin(seg, torch.tensor(target)) & ~torch.isin(seg, torch.tensor(avoid, dtype=seg.dtype))


@dataclass
class StudyResult:
    trainer: str
    seed: int
    iterations: int
    sibling_overlap: float
    dice: dict[str, float]
    absent_false_positive_rate: float
    seconds: float


def _table(cases: int, rng: np.random.Generator, trainer, bank: EmbeddingBank, dims: int = 2):
    data = [make_image(rng, dims) for _ in range(cases)]
    absent = (lambda case: dict(STRUCTURES)) if trainer.absent_prompts else None
    table = PromptTable({str(i): _prompts(seg) for i, (_, seg) in enumerate(data)}, trainer.merged_prompt, absent)
    table.attach(bank)
    return data, table


def encode_texts(encoder) -> EmbeddingBank:
    """Every text the study uses, encoded once by the real encoder."""
    texts = sorted({t for p in PROMPTS for t in (p.text, p.pos_text, p.neg_text) if t})
    return EmbeddingBank(encoder.name, encoder.fingerprint, texts, encoder.encode(texts))


def run(trainer, bank: EmbeddingBank, seed: int = 0, iterations: int = 300, batch_size: int = 16,
        train_cases: int = 200, test_cases: int = 40, lr: float = 0.01, dims: int = 2) -> StudyResult:
    """Train the trainer class's recipe on the toy task (2D images or, `dims=3`, volumes) and score it on held-out
    images."""
    start = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data, table = _table(train_cases, rng, trainer, bank, dims)
    net = _network(bank.vectors.shape[1], trainer, dims)
    if trainer.centre_text:
        net.centre.set_mean(torch.from_numpy(table.vectors))
    if trainer.vocabulary_temperature:
        net.centre.set_vocabulary(torch.from_numpy(table.vectors), trainer.vocabulary_temperature)
    optimizer = build_optimizer(net, lr, 3e-5, trainer.text_lr, trainer.text_weight_decay, trainer.text_warmup)
    seg_loss, label_loss = (DC_and_CE_loss({"batch_dice": batch_dice, "smooth": 1e-5, "do_bg": False, "ddp": False},
                                           {}, weight_ce=1, weight_dice=1, dice_class=MemoryEfficientSoftDiceLoss)
                            for batch_dice in (not trainer.per_prompt_dice, True))
    loss = SemanticLoss(seg_loss, label_loss if trainer.label_supervision else None, False, trainer.exclusion_weight,
                        trainer.membership_weight)
    sampler = PromptSampler(table, trainer.prompts_per_sample, OTHER)
    net.train()
    for it in range(iterations):
        for group in optimizer.param_groups:  # nnU-Net's poly decay (the text path's is set in its step)
            group["lr"] = lr * (1 - it / iterations) ** 0.9
        keys = rng.integers(0, train_cases, batch_size)
        images, segs = [], []
        for key in keys:
            image, seg = data[key]
            for axis in range(dims):  # mirroring, as nnU-Net's augmentation: only the shape tells front from back
                if rng.random() < 0.5:
                    image, seg = np.flip(image, axis + 1).copy(), np.flip(seg, axis).copy()
            images.append(torch.from_numpy(image)), segs.append(torch.from_numpy(seg)[None])
        batch = sampler({"data": torch.stack(images), "target": torch.stack(segs), "keys": [str(k) for k in keys]},
                        rng=rng)
        optimizer.zero_grad(set_to_none=True)
        loss(net(batch["data"]), batch["target"]).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 12)
        optimizer.step()
    return StudyResult(trainer.__name__, seed, iterations, **evaluate(net, table, bank, rng, test_cases, dims),
                       seconds=time.perf_counter() - start)


@torch.no_grad()
def evaluate(net: SemanticUNet, table: PromptTable, bank: EmbeddingBank, rng: np.random.Generator,
             cases: int, dims: int = 2) -> dict:
    """Held-out images: sibling overlap, Dice per prompt text, and the absent structures' false-positive rate."""
    net.eval()
    data = [make_image(rng, dims) for _ in range(cases)]
    images = torch.from_numpy(np.stack([d[0] for d in data]))
    segs = torch.from_numpy(np.stack([d[1] for d in data]))
    features = net.encode_image(images)
    counts, preds = {}, {}
    for p in PROMPTS:
        text = p.text
        pos_text, neg_text = (p.text, "") if table.merged or not p.neg_text else (p.pos_text, p.neg_text)
        pos = torch.from_numpy(bank.get([pos_text])[0]).expand(cases, -1)
        neg = torch.from_numpy(bank.get([neg_text])[0]).expand(cases, -1) if neg_text else torch.zeros_like(pos)
        has_neg = torch.full((cases,), bool(neg_text))
        pred = net.decode(features, {"pos": pos, "neg": neg, "has_neg": has_neg}).logits[0].argmax(1).bool()
        ref = _mask(segs, p.target, p.avoid)
        preds[text] = pred
        counts[text] = [int((pred & ref).sum()), int((pred & ~ref).sum()), int((~pred & ref).sum())]
    a, b = (preds[s].flatten(1) for s in SIBLINGS)
    overlap = [dice_from_counts(int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum())) for x, y in zip(a, b)]
    lacking = ~(segs == OTHER).flatten(1).any(1)
    fp = preds["nodule"].flatten(1).any(1)[lacking]
    return {"sibling_overlap": float(np.nanmean(overlap)),
            "dice": {t: round(dice_from_counts(*c), 4) for t, c in counts.items()},
            "absent_false_positive_rate": float(fp.float().mean()) if len(fp) else float("nan")}

