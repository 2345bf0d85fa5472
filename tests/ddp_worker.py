"""One rank of a two-process SemanticTrainer training under torch.distributed's gloo backend (CPU): what nnU-Net's
`nnUNetv2_train -num_gpus N` runs per GPU (`run_ddp`), with the trainer built directly so the device is the CPU.
Each rank writes what the test compares: its weights, its optimizer state, how many texts it encoded, and the raw
validation batches with the seed each was prompted with, and what `_gather` returned."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch
from helpers import trainer_on
from torch import distributed as dist

from nnunet_semantic.trainers import SemanticTrainer_smoke
from nnunet_semantic.trainers import semantic_trainer as module

VAL_SEED = 1234
LOGGED = ("dice_L1", "dice_L2", "dice_L3", "mean_fg_dice", "val_exclusion_losses")


def run(rank: int, world: int, env: dict, out: Path, dataset: str) -> None:
    os.environ.update(env)
    torch.manual_seed(0)  # DDP gives every rank rank 0's initial weights; the seeds make the run repeatable
    np.random.seed(rank)
    random.seed(rank)

    dist.init_process_group("gloo", init_method=f"file://{out / 'rendezvous'}", rank=rank, world_size=world)
    encoded = []
    build_bank = module.build_bank

    def counting_build_bank(*args, **kwargs):
        bank, n_new = build_bank(*args, **kwargs)
        encoded.append(n_new)
        return bank, n_new

    module.build_bank = counting_build_bank
    trainer = trainer_on(SemanticTrainer_smoke, Path(env["nnUNet_preprocessed"]) / dataset)
    validation_step, batches = trainer.validation_step, []

    def seeded_validation_step(batch: dict) -> dict:  # the prompts a validation batch is given, reproducible
        seed = VAL_SEED + 100 * rank + len(batches)
        batches.append((seed, {k: batch[k] for k in ("data", "target", "keys")}))
        np.random.seed(seed)
        return validation_step(batch)

    trainer.validation_step = seeded_validation_step
    gather, gathered = trainer._gather, []
    trainer._gather = lambda values: gathered.append(gather(values)) or gathered[-1]
    trainer.run_training()
    network = trainer.network
    torch.save({"weights": network.module.state_dict(), "optimizer": trainer.optimizer.state_dict(),
                "encoded": encoded, "batch_size": trainer.batch_size, "ddp": type(network).__name__,
                "batches": batches, "gathered": gathered,
                "logged": {k: trainer.logger.get_value(k, -1) for k in LOGGED},
                "dice_per_class": trainer.logger.get_value("dice_per_class_or_region", -1)},
               out / f"rank{rank}.pt")
    dist.barrier()
    dist.destroy_process_group()
