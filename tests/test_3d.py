"""Issue 37: prompts in nnU-Net's 3D configurations, through the commands a user runs: a 3D phantom dataset ->
nnUNetv2_plan_and_preprocess -c 3d_fullres -> plan-cpu -c 3d_fullres -> nnUNetv2_train (smoke) ->
nnUNetv2_predict_semantic -P -> nnUNetv2_evaluate_semantic; the cascade's second stage is one clear line. That a 3D
model follows sibling prompts (what a prompt-blind model cannot) is tests/test_sibling_prompts.py's 3D test."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest
import torch
from conftest import nnunet_folders
from helpers import read_nii, script

PROMPTS = ["organ", "organ excluding the lesion", "cyst"]


def _run(env: dict, *command: str, ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([script(command[0]), *command[1:]], capture_output=True, text=True,
                            env={**os.environ, **env})
    if ok:
        assert result.returncode == 0, " ".join(command) + "\n" + result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def volumes(tmp_path_factory):
    """The phantom (8 training, 2 held-out volumes of 16 x 64 x 64), planned by nnU-Net in 3d_fullres, sized for
    the CPU by plan-cpu and trained for the smoke schedule on `3d_fullres_cpu`."""
    with nnunet_folders(tmp_path_factory.mktemp("nnunet3d"), nnUNet_n_proc_DA="1") as (root, env):
        _run(env, "nnunet-semantic", "convert", "phantom", "-d", "930", "--cases", "8", "--test-cases", "2", "-np", "1")
        _run(env, "nnUNetv2_plan_and_preprocess", "-d", "930", "-c", "3d_fullres", "-np", "1", "-npfp", "1")
        planned = _run(env, "nnunet-semantic", "plan-cpu", "-d", "930", "-c", "3d_fullres", "--batch-size", "2").stdout
        train = _run(env, "nnUNetv2_train", "930", "3d_fullres_cpu", "0", "-tr", "SemanticTrainer_smoke", "-device",
                     "cpu").stdout
        yield root, env, planned, train


def test_a_3d_configuration_trains_predicts_and_evaluates_with_prompts(volumes):
    root, env, planned, train = volumes
    assert "added '3d_fullres_cpu' (inherits from 3d_fullres, batch size 2)" in planned
    assert "SemanticTrainer_smoke" in planned and "next: nnUNetv2_train 930 3d_fullres_cpu 0" in planned
    fold = root / "nnUNet_results" / "Dataset930_SemanticPhantom" / "SemanticTrainer_smoke__nnUNetPlans__3d_fullres_cpu"
    checkpoint = torch.load(fold / "fold_0" / "checkpoint_final.pth", map_location="cpu", weights_only=False)
    assert any(w.ndim == 5 for w in checkpoint["network_weights"].values())  # a 3D network, not slices
    assert "SemantiBench on validation" in train
    summary = json.loads((fold / "fold_0" / "validation_semantic" / "summary.json").read_text())["semantic"]
    assert summary["per_level"]["L1"]["n"] > 0 and summary["per_level"]["L3"]["n"] > 0

    raw = root / "nnUNet_raw" / "Dataset930_SemanticPhantom"
    out = root / "predictions"
    _run(env, "nnUNetv2_predict_semantic", "-i", str(raw / "imagesTs"), "-o", str(out), "-d", "930", "-c",
         "3d_fullres_cpu", "-f", "0", "-tr", "SemanticTrainer_smoke", "-device", "cpu", "--disable_tta", "-P",
         *PROMPTS)
    used = json.loads((out / "prompts_used.json").read_text())["cases"]
    assert sorted(used) == ["phantom_008", "phantom_009"]
    for case, prompts in used.items():
        image = read_nii(raw / "imagesTs" / f"{case}_0000.nii.gz")
        for p in prompts:
            mask = read_nii(out / p["file"])
            assert mask.shape == image.shape == (16, 64, 64) and set(np.unique(mask)) <= {0, 1}
    result = _run(env, "nnUNetv2_evaluate_semantic", "-ref", str(raw / "labelsTs"), "-pred", str(out), "-prompts",
                  str(out / "prompts_used.json"), "-o", str(out / "summary.json"), "-djfile",
                  str(out / "dataset.json"))
    assert "L1: Dice" in result.stdout and "L3: Dice" in result.stdout
    assert json.loads((out / "summary.json").read_text())["semantic"]["per_level"]["L3"]["n"] == 2


def test_the_cascade_second_stage_is_one_clear_line(volumes):
    """3d_cascade_fullres feeds the previous stage's label maps as input; SemanticTrainer says it does not support
    it, in one line, before nnU-Net looks for them."""
    root, env, _, _ = volumes
    plans_file = root / "nnUNet_preprocessed" / "Dataset930_SemanticPhantom" / "nnUNetPlans.json"
    plans = json.loads(plans_file.read_text())
    plans["configurations"] |= {"3d_lowres": {"inherits_from": "3d_fullres", "next_stage": "3d_cascade_fullres"},
                                "3d_cascade_fullres": {"inherits_from": "3d_fullres", "previous_stage": "3d_lowres"}}
    plans_file.write_text(json.dumps(plans))
    result = _run(env, "nnUNetv2_train", "930", "3d_cascade_fullres", "0", "-tr", "SemanticTrainer_smoke",
                  "-device", "cpu", ok=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cascade's second stage" in result.stderr and "train 3d_fullres, 3d_lowres or 2d" in result.stderr
