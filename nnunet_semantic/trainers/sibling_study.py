"""A fast reproduction of sibling-prompt collapse: does a trainer's recipe make the model read its prompt?

Tiny images hold one elongated structure split into a front and a back half that only position tells apart,
and (in most images) a disjoint second structure. The prompts are the hippocampus' own names, encoded by the real
text encoder, so the sibling vectors are as close as in the real data. A small U-Net is trained with the
project's SemanticUNet, nnU-Net's Dice+CE, the part losses, the prompt sampling and the optimisers of a trainer
class (its `fusion`, `prompts_per_sample`, `absent_prompts`, `centre_text`, `text_lr`, ...), then scored on
held-out images: sibling overlap (Dice between the "anterior" and "posterior" predictions), Dice per prompt,
and false positives for absent structures. A prompt-blind model has sibling overlap near 1.

    python -m nnunet_semantic.trainers.sibling_study --trainers SemanticTrainer SemanticTrainer_additiveFusion
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

import numpy as np
import torch
from dynamic_network_architectures.architectures.unet import PlainConvUNet
from nnunetv2.training.loss.compound_losses import DC_and_CE_loss
from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss
from torch import nn

from nnunet_semantic.evaluation.metrics import dice_from_counts
from nnunet_semantic.networks.semantic_unet import SemanticUNet
from nnunet_semantic.prompts.sidecar import Prompt
from nnunet_semantic.text.bank import EmbeddingBank
from nnunet_semantic.trainers.losses import semantic_loss
from nnunet_semantic.trainers.optimizers import build_optimizers, set_text_lr
from nnunet_semantic.trainers.prompt_table import PromptTable
from nnunet_semantic.trainers.transforms import prompt_masks

SIZE = 32
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


def make_image(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(image [1, S, S] float32, labels [S, S] int16): an elongated structure of one intensity whose FRONT half is
    thick and BACK half thin (as the hippocampus' head and tail), pointing left or right at random, so that only
    its shape tells the halves apart; a brighter disc elsewhere in 70% of images."""
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


def _network(text_dim: int, fusion: str) -> SemanticUNet:
    n = len(WIDTHS)
    strides = [[1, 1]] + [[2, 2]] * (n - 1)
    outputs = 1 + OTHER if fusion == "labels" else 2
    unet = PlainConvUNet(1, n, WIDTHS, nn.Conv2d, 3, strides, 2, outputs, [2] * (n - 1), True, nn.InstanceNorm2d,
                         {"eps": 1e-5, "affine": True}, None, None, nn.LeakyReLU, {"inplace": True},
                         deep_supervision=False)
    return SemanticUNet(unet, 1, WIDTHS, strides, (SIZE, SIZE), text_dim, fusion)


@dataclass
class StudyResult:
    trainer: str
    seed: int
    iterations: int
    sibling_overlap: float
    dice: dict[str, float]
    absent_false_positive_rate: float
    seconds: float


def _table(cases: int, rng: np.random.Generator, trainer, bank: EmbeddingBank):
    data = [make_image(rng) for _ in range(cases)]
    absent = dict(STRUCTURES) if trainer.absent_prompts else None
    table = PromptTable({str(i): _prompts(seg) for i, (_, seg) in enumerate(data)}, trainer.merged_prompt, absent)
    table.attach(bank)
    return data, table


def encode_texts(encoder) -> EmbeddingBank:
    """Every text the study uses, encoded once by the real encoder."""
    texts = sorted({t for p in PROMPTS for t in (p.text, p.pos_text, p.neg_text) if t})
    return EmbeddingBank(encoder.name, encoder.fingerprint, texts, encoder.encode(texts))


def run(trainer, bank: EmbeddingBank, seed: int = 0, iterations: int = 300, batch_size: int = 16,
        train_cases: int = 200, test_cases: int = 40, lr: float = 0.01) -> StudyResult:
    """Train the trainer class's recipe on the toy task and score it on held-out images."""
    import time

    start = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data, table = _table(train_cases, rng, trainer, bank)
    net = _network(bank.vectors.shape[1], trainer.fusion)
    if trainer.centre_text:
        net.centre.set_mean(torch.from_numpy(table.vectors))
    if trainer.vocabulary_temperature:
        net.centre.set_vocabulary(torch.from_numpy(table.vectors), trainer.vocabulary_temperature)
    sgd, text_opt = build_optimizers(net, lr, 3e-5, trainer.text_lr, trainer.text_weight_decay)
    seg_loss, label_loss = (DC_and_CE_loss({"batch_dice": batch_dice, "smooth": 1e-5, "do_bg": False, "ddp": False},
                                           {}, weight_ce=1, weight_dice=1, dice_class=MemoryEfficientSoftDiceLoss)
                            for batch_dice in (not trainer.per_prompt_dice, True))
    k = trainer.prompts_per_sample
    net.train()
    for it in range(iterations):
        progress = it / iterations
        for group in sgd.param_groups:
            group["lr"] = lr * (1 - progress) ** 0.9
        if text_opt is not None:
            set_text_lr(text_opt, trainer.text_lr, it + 1, trainer.text_warmup, progress)
        keys = rng.integers(0, train_cases, batch_size)
        images, masks, pos, neg, has_neg, pos_labels, neg_labels = [], [], [], [], [], [], []
        for key in keys:
            image, seg = data[key]
            case = table.cases[str(key)]
            index = case.sample(k, rng)
            for axis in (0, 1):  # mirroring, as nnU-Net's augmentation: only the shape tells front from back
                if rng.random() < 0.5:
                    image, seg = np.flip(image, axis + 1).copy(), np.flip(seg, axis).copy()
            seg = torch.from_numpy(seg)
            masks.append(torch.cat([torch.stack([prompt_masks(seg, case.targets[i], case.avoids[i])
                                                 for i in index], 1).flatten(0, 1), seg[None]]))
            images.append(torch.from_numpy(image))
            p, n, h = table.text_arrays(str(key), index)
            pos.append(p), neg.append(n), has_neg.append(h)
            for labels, names in zip(table.memberships(str(key), index, OTHER), (pos_labels, neg_labels)):
                names.append(labels)
        text = {"pos": torch.from_numpy(np.stack(pos)), "neg": torch.from_numpy(np.stack(neg)),
                "has_neg": torch.from_numpy(np.stack(has_neg))}
        memberships = None if trainer.membership_weight is None else \
            tuple(torch.from_numpy(np.stack(m)) for m in (pos_labels, neg_labels))
        loss, _, _ = semantic_loss(seg_loss, net, net(torch.stack(images), text), [torch.stack(masks)],
                                   text["has_neg"], trainer.exclusion_weight, False,
                                   label_loss if trainer.label_supervision else None, memberships,
                                   trainer.membership_weight or 0.0)
        optimizers = [o for o in (sgd, text_opt) if o is not None]
        for o in optimizers:
            o.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 12)
        for o in optimizers:
            o.step()
    return StudyResult(trainer.__name__, seed, iterations, **evaluate(net, table, bank, rng, test_cases),
                       seconds=time.perf_counter() - start)


@torch.no_grad()
def evaluate(net: SemanticUNet, table: PromptTable, bank: EmbeddingBank, rng: np.random.Generator,
             cases: int) -> dict:
    """Held-out images: sibling overlap, Dice per prompt text, and the absent structures' false-positive rate."""
    net.eval()
    data = [make_image(rng) for _ in range(cases)]
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
        pred = net.decode(features, {"pos": pos, "neg": neg, "has_neg": has_neg}).argmax(1).bool()
        ref = prompt_masks(segs, p.target, p.avoid)[0].bool()
        preds[text] = pred
        counts[text] = [int((pred & ref).sum()), int((pred & ~ref).sum()), int((~pred & ref).sum())]
    a, b = (preds[s].flatten(1) for s in SIBLINGS)
    overlap = [dice_from_counts(int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum())) for x, y in zip(a, b)]
    lacking = ~(segs == OTHER).flatten(1).any(1)
    fp = preds["nodule"].flatten(1).any(1)[lacking]
    return {"sibling_overlap": float(np.nanmean(overlap)),
            "dice": {t: round(dice_from_counts(*c), 4) for t, c in counts.items()},
            "absent_false_positive_rate": float(fp.float().mean()) if len(fp) else float("nan")}


def main() -> None:
    import nnunet_semantic.trainers as trainers
    from nnunet_semantic.text import get_encoder

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainers", nargs="+", default=["SemanticTrainer", "SemanticTrainer_additiveFusion"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    bank = encode_texts(get_encoder("minilm"))
    for name in args.trainers:
        for seed in args.seeds:
            print(json.dumps(asdict(run(getattr(trainers, name), bank, seed, args.iterations))), flush=True)


if __name__ == "__main__":
    main()
