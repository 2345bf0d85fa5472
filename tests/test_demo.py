"""The README's main command runs every stage on the phantom, through nnU-Net's own CLI."""

from __future__ import annotations

import json


def test_demo_runs_every_stage(phantom_demo):
    root, _, stdout = phantom_demo
    assert "ready to train" in stdout and "=== verified prompts ===" in stdout
    pre = root / "nnUNet_preprocessed" / "Dataset900_SemanticPhantom"
    assert (pre / "nnUNetPlans.json").is_file() and (pre / "nnUNetPlans_2d").is_dir()
    assert (pre / "text_embeddings" / "minilm.npz").is_file()
    model = root / "nnUNet_results" / "Dataset900_SemanticPhantom" / "SemanticTrainer_demo__nnUNetPlans__2d_cpu"
    assert (model / "fold_0" / "checkpoint_final.pth").is_file()
    assert "SemanticTrainer_demo" in stdout.split("SemantiBench on held-out cases")[1]
    assert "TextConcatTrainer" not in stdout.split("SemantiBench on held-out cases")[1]  # --no-baseline
    summary = json.loads((root / "demo_predictions" / "SemanticTrainer_demo" / "summary.json").read_text())
    assert summary["semantic"]["per_level"]["L1"]["n"] > 0 and summary["semantic"]["per_level"]["L3_heldout"]["n"] > 0
    report = root / "demo_predictions" / "SemanticTrainer_demo" / "report.html"
    assert report.stat().st_size > 10_000 and f"report     {report}" in stdout


def test_demo_refuses_too_few_cases(tmp_path, capsys):
    from nnunet_semantic import cli

    assert cli.main(["demo", "-o", str(tmp_path), "--cases", "3"]) == 1
    assert "needs at least 5 training cases" in capsys.readouterr().err
