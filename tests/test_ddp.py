"""Issue 25: nnU-Net's multi-GPU path (DDP), run on the CPU with the gloo backend in two processes."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from conftest import DATASET
from ddp_worker import run
from helpers import trainer_on
from torch import multiprocessing as mp

from nnunet_semantic.text.bank import BANK_DIR
from nnunet_semantic.trainers import SemanticTrainer_smoke


def _same(a, b) -> bool:
    """Nested state dicts / lists of tensors equal, exactly."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch without torch.distributed")
def test_two_gloo_ranks_train_one_model_build_the_bank_once_and_gather_validation_counts(planned, tmp_path,
                                                                                        monkeypatch):
    root, env = planned
    # a copy of the planned dataset without its text bank, so the test sees who builds it
    preprocessed = tmp_path / "nnUNet_preprocessed"
    shutil.copytree(root / "nnUNet_preprocessed" / DATASET, preprocessed / DATASET,
                    ignore=shutil.ignore_patterns(BANK_DIR))
    env = {**env, "nnUNet_preprocessed": str(preprocessed), "nnUNet_results": str(tmp_path / "results"),
           "nnUNet_n_proc_DA": "0"}
    mp.spawn(run, args=(2, env, tmp_path, DATASET), nprocs=2)  # raises if a rank failed
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    assert [r["ddp"] for r in ranks] == ["DistributedDataParallel"] * 2
    assert [r["batch_size"] for r in ranks] == [2, 2]  # the plan's batch of 4 shared by the ranks
    # rank 0 encoded the prompts; rank 1 waited and found them all in the bank
    assert ranks[0]["encoded"][0] > 0 and ranks[1]["encoded"] == [0]
    # after 10 steps on different batches, both ranks hold one model and one state of both optimisers
    assert _same(ranks[0]["weights"], ranks[1]["weights"])
    optimizer = ranks[0]["optimizer"]
    assert optimizer.keys() == {"image", "text", "text_steps"} and optimizer["text_steps"] == 10
    assert optimizer["text"]["state"] and optimizer["image"]["state"]
    assert _same(optimizer, ranks[1]["optimizer"])
    # the gathered validation counts are a one-process validation of both ranks' batches with the final weights
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    single = trainer_on(SemanticTrainer_smoke, preprocessed / DATASET)
    single.initialize()
    single.network.load_state_dict(ranks[0]["weights"])
    single.network.eval()
    outputs = []
    with torch.no_grad():
        for seed, batch in [b for r in ranks for b in r["batches"]]:
            np.random.seed(seed)
            outputs.append(single.validation_step(batch))
    single.logger.log("train_exclusion_losses", 0.0, 0)  # printed beside the validation's values
    single.on_validation_epoch_end(outputs)
    assert len(outputs) == 4  # 2 validation iterations on each rank
    counts = ("tp_sample", "fp_sample", "fn_sample", "level")  # the order on_validation_epoch_end gathers them
    for rank in ranks:  # every rank holds every rank's per-prompt counts, as one process counts them
        for key, gathered in zip(counts, rank["gathered"][-4:]):
            assert np.array_equal(gathered, np.concatenate([o[key] for o in outputs]).astype(np.float64)), key
    assert np.concatenate([o["fn_sample"] for o in outputs]).sum() > 0
    for key, value in ranks[0]["logged"].items():
        assert single.logger.get_value(key, -1) == pytest.approx(value, abs=1e-12), key
    assert single.logger.get_value("dice_per_class_or_region", -1) == pytest.approx(
        ranks[0]["dice_per_class"], abs=1e-12)
    assert ranks[1]["logged"] == ranks[0]["logged"]  # every rank logs the gathered values
