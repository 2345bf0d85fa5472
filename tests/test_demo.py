"""The README's main command runs every stage on the phantom, through nnU-Net's own CLI."""

from __future__ import annotations

import json
import subprocess

from helpers import script


def test_demo_runs_every_stage(tmp_path, monkeypatch):
    monkeypatch.setenv("nnUNet_n_proc_DA", "1")
    for name in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results", "nnUNet_extTrainer"):
        monkeypatch.delenv(name, raising=False)
    result = subprocess.run([script("nnunet-semantic"), "demo", "-o", str(tmp_path), "--cases", "6", "--test-cases",
                             "1", "-np", "1", "--schedule", "smoke"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ready to train" in result.stdout and "=== verified prompts ===" in result.stdout
    pre = tmp_path / "nnUNet_preprocessed" / "Dataset900_SemanticPhantom"
    assert (pre / "nnUNetPlans.json").is_file() and (pre / "nnUNetPlans_2d").is_dir()
    assert (pre / "text_embeddings" / "minilm.npz").is_file()
    results = tmp_path / "nnUNet_results" / "Dataset900_SemanticPhantom"
    for trainer in ("SemanticTrainer_smoke", "TextConcatTrainer_smoke"):
        assert (results / f"{trainer}__nnUNetPlans__2d_cpu" / "fold_0" / "checkpoint_final.pth").is_file()
        assert trainer in result.stdout.split("SemantiBench on held-out cases")[1]
        summary = json.loads((tmp_path / "demo_predictions" / trainer / "summary.json").read_text())
        assert summary["semantic"]["per_level"]["L1"]["n"] > 0
        report = tmp_path / "demo_predictions" / trainer / "report.html"
        assert report.stat().st_size > 10_000 and f"report     {report}" in result.stdout


def test_demo_refuses_too_few_cases(tmp_path, capsys):
    from nnunet_semantic import cli

    assert cli.main(["demo", "-o", str(tmp_path), "--cases", "3"]) == 1
    assert "needs at least 5 training cases" in capsys.readouterr().err
