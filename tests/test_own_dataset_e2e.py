""""I already have DatasetXXX", through the commands as the README's walkthrough runs them: datasets written by
nnU-Net's own `generate_dataset_json` (region labels; integer labels with an ontology file the user edited) and a
BraTS-2013 VSD layout -> convert -> nnUNetv2_plan_and_preprocess -> nnUNetv2_train -> nnUNetv2_predict_semantic -P
-> nnUNetv2_evaluate_semantic. The region dataset trains for the demo's budget (375 iterations): its exclusion
must leave out what it names; the VSD layout is planned and preprocessed; the integer dataset's prompts are parsed
(planning and training it is the region dataset's code path); the sources never change."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import nnunet_folders
from helpers import nnunet_v2_dataset, read_nii, script, snapshot, vsd_fixture

from nnunet_semantic.prompts.sidecar import read_sidecar_folder

L3_PROMPT = "tumour core excluding the enhancing tumour"
PROMPTS = [L3_PROMPT, "whole tumor"]


def _run(env: dict, *command: str) -> str:
    result = subprocess.run([script(command[0]), *command[1:]], capture_output=True, text=True,
                            env={**os.environ, **env})
    assert result.returncode == 0, " ".join(command) + "\n" + result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _user_ontology(path: Path) -> None:
    """What a user adds to `ontology init`'s starter file: structures that hold others, by label name, and words."""
    data = json.loads(path.read_text())
    data["structures"]["whole tumor"] = {
        "labels": ["necrosis", "edema", "NonEnhancingTumor", "enhancing_tumour"], "synonyms": ["WT"],
        "descriptions": ["the abnormal region with its surrounding swelling"], "heldout": ["total tumor extent"]}
    data["structures"]["tumor core"] = {"labels": ["necrosis", "NonEnhancingTumor", "enhancing_tumour"],
                                        "names": ["tumor core"], "synonyms": ["TC"]}
    data["structures"]["enhancing tumour"]["synonyms"] = ["ET"]
    path.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("own")
    with nnunet_folders(tmp / "nnunet", nnUNet_n_proc_DA="2") as (root, env):
        raw = root / "nnUNet_raw"
        sources = {601: nnunet_v2_dataset(raw, 501, n=10, regions=True),
                   602: nnunet_v2_dataset(raw, 502, n=6, name="Glioma2013"), 603: vsd_fixture(tmp / "BRATS2013", n=5)}
        before = {k: snapshot(p) for k, p in sources.items()}
        heldout = nnunet_v2_dataset(tmp / "heldout", 900, n=3, regions=True)  # unseen cases with references
        onto = tmp / "glioma2013.ontology.json"
        _run(env, "nnunet-semantic", "ontology", "init", "-d", "502", "-o", str(onto))
        _user_ontology(onto)
        checked = _run(env, "nnunet-semantic", "ontology", "check", str(onto), "-d", "502")
        assert ": ok, 6 structures" in checked and "whole tumor excluding tumor core" in checked, checked
        _run(env, "nnunet-semantic", "convert", "nnunet", "-i", "501", "-d", "601", "-np", "1")
        _run(env, "nnunet-semantic", "convert", "nnunet", "-i", str(sources[602]), "-d", "602", "--ontology",
             str(onto), "-np", "1")
        _run(env, "nnunet-semantic", "convert", "brats", "-i", str(sources[603]), "-d", "603", "-np", "1")
        _run(env, "nnUNetv2_plan_and_preprocess", "-d", "601", "603", "-c", "2d", "-np", "1", "-npfp", "1",
             "--verify_dataset_integrity")
        parsed = json.loads(_run(env, "nnunet-semantic", "prompts", "parse", "-d", "602", L3_PROMPT))
        out = {}
        # a fixed batch (not one measured on a machine that may be busy) of 4 toy slices: a quarter of the measured
        # one's time per iteration, and the same exclusion learnt in the demo's 375 iterations. The VSD layout is
        # planned, not trained: from here on it is the region dataset's code path.
        _run(env, "nnunet-semantic", "plan-cpu", "-d", "601", "--batch-size", "4")
        _run(env, "nnUNetv2_train", "601", "2d_cpu", "0", "-tr", "SemanticTrainer_demo", "-device", "cpu")
        out[601] = tmp / "pred601"
        _run(env, "nnUNetv2_predict_semantic", "-i", str(heldout / "imagesTr"), "-o", str(out[601]), "-d", "601",
             "-c", "2d_cpu", "-tr", "SemanticTrainer_demo", "-f", "0", "-device", "cpu", "-P", *PROMPTS)
        summary = tmp / "summary601.json"
        printed = _run(env, "nnUNetv2_evaluate_semantic", "-ref", str(heldout / "labelsTr"), "-pred", str(out[601]),
                       "-prompts", str(out[601] / "prompts_used.json"), "-o", str(summary), "-djfile",
                       str(out[601] / "dataset.json"))
        yield {"root": root, "sources": sources, "before": before, "out": out, "summary": summary,
               "printed": printed, "heldout": heldout, "parsed": parsed}


def test_sources_unchanged(own):
    for d, folder in own["sources"].items():
        assert snapshot(folder) == own["before"][d], folder


def test_region_dataset_follows_the_exclusion(own):
    """On unseen cases: the L3 prompt's mask is the tumour core without its enhancing part (an exclusion-blind
    model paints the enhancing part too: leakage near 1), and differs from the whole tumour."""
    sem = json.loads(own["summary"].read_text())["semantic"]
    assert "L3: Dice" in own["printed"]
    assert sem["per_level"]["L3"]["n"] == 3 and sem["per_level"]["L3"]["dice"] > 0.8, sem["per_level"]
    assert sem["per_level"]["L1"]["dice"] > 0.8 and sem["leakage_l3"]["mean"] < 0.1
    case = "glioma_000"
    ref = read_nii(own["heldout"] / "labelsTr" / f"{case}.nii.gz")
    used = json.loads((own["out"][601] / "prompts_used.json").read_text())["cases"][case]
    masks = [read_nii(own["out"][601] / e["file"]) for e in used]
    assert all(m.dtype == np.uint8 and set(np.unique(m)) <= {0, 1} for m in masks)  # binary masks
    l3, whole = (m > 0 for m in masks)
    assert used[0]["target"] == [1, 3, 4] and used[0]["avoid"] == [4]
    assert (l3 & (ref == 4)).sum() < 0.1 * (ref == 4).sum() and (whole & (ref == 4)).sum() > 0.9 * (ref == 4).sum()


def test_integer_dataset_with_the_users_ontology(own):
    """The prompt read with the structures the user added (by label names) to the starter file."""
    assert own["parsed"]["target"] == [1, 3, 4] and own["parsed"]["avoid"] == [4]
    stats = (own["root"] / "nnUNet_raw" / "Dataset602_Glioma2013" / "prompts" / "verification.json").read_text()
    kept = json.loads(stats)["summary"]["kept_per_level"]
    assert kept.get("L2", 0) > 0 and kept.get("L3", 0) > 0, kept


def test_brats_2013_layout_is_planned_by_nnunet(own):
    """The converted VSD layout passed nnU-Net's integrity check and was preprocessed with both modalities; its
    prompts read tumour core excluding the enhancing part in BraTS 2013's label ids."""
    pre = own["root"] / "nnUNet_preprocessed" / "Dataset603_BraTS2013"
    plans = json.loads((pre / "nnUNetPlans.json").read_text())
    assert "2d" in plans["configurations"] and len(list((pre / "nnUNetPlans_2d").glob("*.pkl"))) == 5
    assert json.loads((pre / "dataset.json").read_text())["channel_names"] == {"0": "Flair", "1": "T1c"}
    prompts = read_sidecar_folder(own["root"] / "nnUNet_raw" / "Dataset603_BraTS2013" / "prompts")["HG_0000"]
    assert any(p.target == (1, 3, 4) and p.avoid == (4,) for p in prompts)
