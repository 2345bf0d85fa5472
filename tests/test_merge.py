"""One model for many datasets: `nnunet-semantic merge` (global labels, merged ontology, sources untouched), the
partial-label loss, per-source folds and source sampling, and a merged dataset through nnU-Net's commands."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter

import numpy as np
import pytest
import torch
from conftest import nnunet_folders
from helpers import nnunet_v2_dataset, png_dataset, read_nii, script, snapshot, trainer_on

import nnunet_semantic.trainers as trainers
from nnunet_semantic.cli import main
from nnunet_semantic.dataset_conversion.nnunet import convert_nnunet
from nnunet_semantic.dataset_conversion.phantom import convert_phantom
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.parser import parse
from nnunet_semantic.prompts.sidecar import read_sidecar_folder
from nnunet_semantic.trainers.losses import annotated_only
from nnunet_semantic.trainers.sources import Sources


def _sources(env):
    """The phantom (labels 1-4) and a one-channel glioma dataset (labels 1-4, another label set) as converted."""
    phantom = convert_phantom(10, cases=5, test_cases=0)
    nnunet_v2_dataset(env / "nnUNet_raw", 501, n=5, channels=("MRI",))
    glioma = convert_nnunet("501", 11)
    return phantom, glioma


def test_merge_global_labels_ontology_and_sidecars(nnunet_env):
    phantom, glioma = _sources(nnunet_env)
    before = {p: snapshot(p) for p in (phantom, glioma)}
    assert main(["merge", "-d", "700", "--from", "10", "11"]) == 0
    assert {p: snapshot(p) for p in (phantom, glioma)} == before
    out = nnunet_env / "nnUNet_raw" / "Dataset700_Merged"
    data = json.loads((out / "dataset.json").read_text())
    assert data["labels"]["SemanticPhantom: nodule"] == 4 and data["labels"]["Glioma: enhancing_tumour"] == 8
    sources = data["semantic"]["sources"]
    assert sources["Glioma"]["labels"] == {"1": 5, "2": 6, "3": 7, "4": 8}
    assert data["semantic"]["structures"]["enhancing tumour"]["labels"] == [8]
    case = "Glioma_glioma_000"
    assert case in sources["Glioma"]["cases"] and data["dataset"][case]["images"][0].endswith("glioma_000_0000.nii.gz")
    seg = read_nii(out / "labelsTr" / f"{case}.nii.gz")
    source = read_nii(nnunet_env / "nnUNet_raw" / "Dataset501_Glioma" / "labelsTr" / "glioma_000.nii.gz")
    assert np.array_equal(seg, np.where(source > 0, source + 4, 0))
    prompts = read_sidecar_folder(out / "prompts")[case]
    assert all(min(p.target) >= 5 and p.extra["source"] == "Glioma" for p in prompts if p.target)
    ontology = Ontology.of_dataset(out)
    assert parse("the enhancing tumour", ontology).target == (8,)
    assert parse("organ excluding the lesion", ontology).target == (1, 2, 3)


def test_merge_disambiguates_a_name_two_sources_use(nnunet_env, capsys):
    convert_phantom(10, cases=3, test_cases=0)
    convert_phantom(12, cases=3, test_cases=0, seed=1)
    assert main(["merge", "-d", "700", "--from", "10", "12"]) == 0
    ontology = Ontology.of_dataset(nnunet_env / "nnUNet_raw" / "Dataset700_Merged")
    assert parse("organ (SemanticPhantom012)", ontology).target == (5, 6, 7)
    with pytest.raises(Exception, match="organ \\(SemanticPhantom010\\)"):
        parse("organ", ontology)  # ambiguous: the parser names both sources' structures


def test_merged_case_names_never_meet(nnunet_env):
    """Issue 34: source "Glioma_glioma" with case "glioma_000" and source "Glioma" with case "glioma_glioma_000" were
    both merged as "Glioma_glioma_glioma_000": one source's label map and sidecar overwritten, 3 cases of 6. Every
    case is kept, each under its own name."""
    raw = nnunet_env / "nnUNet_raw"
    nnunet_v2_dataset(raw, 501, n=3, channels=("MRI",), name="Glioma_glioma")
    other = nnunet_v2_dataset(raw, 502, n=3, channels=("MRI",), name="Glioma")
    for path in sorted(other.rglob("glioma_*.nii.gz")):
        path.rename(path.with_name(path.name.replace("glioma_", "glioma_glioma_", 1)))
    convert_nnunet("501", 11)
    convert_nnunet("502", 12)
    assert main(["merge", "-d", "700", "--from", "11", "12"]) == 0
    out = raw / "Dataset700_Merged"
    data = json.loads((out / "dataset.json").read_text())
    assert len(data["dataset"]) == 6 and len(list((out / "labelsTr").glob("*.nii.gz"))) == 6
    assert len(read_sidecar_folder(out / "prompts")) == 6
    assert {len(s["cases"]) for s in data["semantic"]["sources"].values()} == {3}


def test_merge_refuses_a_dataset_converted_twice_and_a_sidecar_label_its_source_lacks(nnunet_env, capsys):
    """Issue 34 (#11, #16, #4): one dataset converted twice and merged doubled every image without a word; a
    merged dataset merged again became one source annotating all its labels; a sidecar naming a label its source
    does not have ended in `KeyError: 7`."""
    raw = nnunet_env / "nnUNet_raw"
    nnunet_v2_dataset(raw, 501, n=2, channels=("MRI",))
    convert_nnunet("501", 11)
    convert_nnunet("501", 12)
    assert main(["merge", "-d", "700", "--from", "11", "12"]) == 1
    assert "share the image" in capsys.readouterr().err and not (raw / "Dataset700_Merged").exists()
    convert_phantom(10, cases=2, test_cases=0)  # issue 34 (#4): a merge merged again
    assert main(["merge", "-d", "702", "--from", "10", "11"]) == 0
    nnunet_v2_dataset(raw, 503, n=2, channels=("MRI",), name="Other")
    convert_nnunet("503", 13)
    assert main(["merge", "-d", "703", "--from", "702", "13"]) == 1
    assert "is itself a merge (of Dataset010_SemanticPhantom, Dataset011_Glioma)" in capsys.readouterr().err
    sidecar = raw / "Dataset011_Glioma" / "prompts" / "glioma_000.json"
    data = json.loads(sidecar.read_text())
    data["prompts"][0]["target"] = [7]
    sidecar.write_text(json.dumps(data))
    assert main(["merge", "-d", "700", "--from", "10", "11"]) == 1
    err = capsys.readouterr().err
    assert f"{sidecar}: prompt" in err and "names label(s) [7]" in err and "Traceback" not in err


def test_a_merged_dataset_takes_its_own_ontology_commands(nnunet_env, tmp_path, capsys):
    """Issue 34 (#23): the tool's own merged dataset failed its own `ontology init` ("unknown field
    'disjoint_sources' and 20 more problems")."""
    _sources(nnunet_env)
    assert main(["merge", "-d", "700", "--from", "10", "11", "--disjoint"]) == 0
    assert main(["ontology", "init", "-d", "700", "-o", str(tmp_path / "merged.json")]) == 0
    assert main(["ontology", "check", str(tmp_path / "merged.json"), "-d", "700"]) == 0
    merged = json.loads((nnunet_env / "nnUNet_raw" / "Dataset700_Merged" / "dataset.json").read_text())
    written = json.loads((tmp_path / "merged.json").read_text())["structures"]
    assert {n: s["labels"] for n, s in written.items()} == {
        n: s["labels"] for n, s in merged["semantic"]["structures"].items()}


def test_merge_refuses_2d_images_beside_3d_volumes(nnunet_env, capsys):
    """Issue 34 (#25): a 2D PNG source merged with a 3D NIfTI one was accepted, and nnU-Net planned the merge as
    volumes of one slice at spacing 999."""
    raw = nnunet_env / "nnUNet_raw"
    nnunet_v2_dataset(raw, 501, n=2, channels=("MRI",))
    png_dataset(raw, 502, "Photos")
    convert_nnunet("501", 11)
    convert_nnunet("502", 12)
    assert main(["merge", "-d", "700", "--from", "11", "12"]) == 1
    assert "different dimensions (Glioma: 3D, Photos: 2D)" in capsys.readouterr().err


def test_merge_ontology_file_names_what_the_sources_share(nnunet_env, tmp_path):
    convert_phantom(10, cases=3, test_cases=0)
    convert_phantom(12, cases=3, test_cases=0, seed=1)
    shared = tmp_path / "shared.json"
    shared.write_text(json.dumps({"structures": {"organ": {"labels": [
        f"SemanticPhantom{i}: {label}" for i in ("010", "012") for label in ("organ", "lesion", "cyst")],
        "synonyms": ["phantom organ"]}}}))
    assert main(["merge", "-d", "700", "--from", "10", "12", "--ontology", str(shared)]) == 0
    out = nnunet_env / "nnUNet_raw" / "Dataset700_Merged"
    ontology = Ontology.of_dataset(out)
    assert parse("organ", ontology).target == (1, 2, 3, 5, 6, 7)
    assert parse("the phantom organ", ontology).target == (1, 2, 3, 5, 6, 7)
    assert parse("organ (SemanticPhantom012) excluding its lesion", ontology).avoid == (6,)


def test_merge_refuses_different_channel_counts(nnunet_env, capsys):
    convert_phantom(10, cases=3, test_cases=0)
    nnunet_v2_dataset(nnunet_env / "nnUNet_raw", 501, n=3)  # two channels
    convert_nnunet("501", 11)
    capsys.readouterr()
    assert main(["merge", "-d", "700", "--from", "10", "11"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Dataset011_Glioma has 2 image channels but Dataset010_SemanticPhantom has 1" in err
    assert not (nnunet_env / "nnUNet_raw" / "Dataset700_Merged").exists()
    assert main(["merge", "-d", "700", "--from", "10"]) == 1
    assert main(["merge", "-d", "700", "--from", "501", "10"]) == 1  # not converted: no prompts
    assert "merge datasets converted by" in capsys.readouterr().err


def test_a_label_the_source_does_not_annotate_gets_no_gradient():
    """nnU-Net's Dice+CE on the `labels` head's map of a case whose source annotates labels 1-2 only: labels 3-4
    (another source's) get no gradient, so they are never taught as background there; without the mask they do."""
    from nnunetv2.training.loss.compound_losses import DC_and_CE_loss
    from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss

    loss = DC_and_CE_loss({"batch_dice": True, "smooth": 1e-5, "do_bg": False, "ddp": False}, {}, 1, 1,
                          dice_class=MemoryEfficientSoftDiceLoss)
    seg = torch.zeros(2, 1, 8, 8)
    seg[:, :, 2:6, 2:6] = 1
    seg[:, :, 3:5, 3:5] = 2
    mask = torch.tensor([[1, 1, 1, 0, 0]] * 2, dtype=torch.float32)
    for masked in (True, False):
        logits = torch.randn(2, 5, 8, 8, requires_grad=True)
        loss(annotated_only(logits, mask) if masked else logits, seg).backward()
        unannotated = logits.grad[:, 3:].abs().max().item()
        assert (unannotated < 1e-6) if masked else (unannotated > 1e-4), (masked, unannotated)
        assert logits.grad[:, :3].abs().max().item() > 1e-4


def _toy_sources(n_a: int, n_b: int) -> Sources:
    return Sources({"sources": {
        "A": {"labels": {"1": 1}, "structures": ["a"], "cases": [f"A_{i:03d}" for i in range(n_a)]},
        "B": {"labels": {"1": 2, "2": 3}, "structures": ["b", "c"], "cases": [f"B_{i:03d}" for i in range(n_b)]}}})


def test_sources_are_drawn_by_sqrt_of_their_cases_and_keep_their_folds():
    from nnunetv2.utilities.crossval_split import generate_crossval_split

    sources = _toy_sources(160, 40)
    keys = sorted(sources.of_case)
    drawn = Counter(sources.of_case[k] for k in sources.weighted(keys))
    assert drawn["A"] / drawn["B"] == pytest.approx(np.sqrt(160 / 40), rel=0.05)  # 2, not 4 (cases) or 1
    assert Counter(sources.of_case[k] for k in sources.weighted(keys, "sources")) == {"A": 160 * 1, "B": 40 * 4}
    assert sources.weighted(keys, "cases") == keys
    own = generate_crossval_split(sorted(f"A_{i:03d}" for i in range(160)), seed=12345, n_splits=5)
    for fold, mine in zip(own, sources.splits()):
        assert set(fold["val"]) <= set(mine["val"]) and not set(mine["val"]) & set(mine["train"])
    assert sources.label_mask(["A_000", "B_001"], 3).tolist() == [[1, 1, 0, 0], [1, 0, 1, 1]]
    sources.disjoint = True  # B's labels are absent from A's images: background there
    assert sources.label_mask(["A_000", "B_001"], 3).tolist() == [[1, 1, 1, 1], [1, 1, 1, 1]]


def test_absent_prompts_only_for_the_own_sources_structures_unless_disjoint():
    structures = {"a": (1,), "b": (2,), "c": (3,), "a and b": (1, 2)}
    sources = _toy_sources(2, 2)
    assert set(sources.absent_structures("A_000", structures)) == {"a"}  # "a and b": partly A's, so unknown
    assert set(sources.absent_structures("B_000", structures)) == {"b", "c"}
    sources.disjoint = True
    assert set(sources.absent_structures("A_000", structures)) == set(structures)


def _drawn(cls, pre) -> Counter:
    """How often nnU-Net's uniform draw over the trainer's fold-0 training keys meets each source."""
    t = trainer_on(cls, pre)
    return Counter(t.sources.of_case[k] for k in t.get_tr_and_val_datasets()[0].identifiers)


def test_demo_merges_several_datasets_through_nnunet(tmp_path):
    """`nnunet-semantic demo --data A --data B --disjoint`: each converted, merged, planned by nnU-Net and trained
    (SemanticTrainer_smoke): the folds are per source, the validation is scored per source and across sources, and
    the model answers either source's prompts with the structures' sources named."""
    with nnunet_folders(tmp_path / "nnunet", nnUNet_n_proc_DA="1") as (root, env):
        convert_phantom(10, cases=5, test_cases=0)  # a converted dataset: its ontology comes along
        nnunet_v2_dataset(root / "nnUNet_raw", 501, n=10, channels=("MRI",))  # a plain nnU-Net dataset
        run = dict(capture_output=True, text=True, env={**os.environ, **env})
        result = subprocess.run([script("nnunet-semantic"), "demo", "-o", str(root), "--data", "10", "--data", "501",
                                 "--disjoint", "--dataset-id", "700", "-np", "1", "--schedule", "smoke"], **run)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "merge 701 702 -> 700 (disjoint)" in result.stdout
        assert "cross-source false positives:" in result.stdout and "Glioma: L1" in result.stdout
        pre = root / "nnUNet_preprocessed" / "Dataset700_Merged"
        splits = json.loads((pre / "splits_final.json").read_text())
        val = Counter(k.split("_")[0] for k in splits[0]["val"])
        assert val == {"SemanticPhantom": 1, "Glioma": 2}  # a fifth of each source's cases
        by_cases = type("SemanticTrainer_caseSources", (trainers.SemanticTrainer,), {"source_sampling": "cases"})
        drawn = {name: _drawn(getattr(trainers, name, by_cases), pre) for name in
                 ("SemanticTrainer", "SemanticTrainer_equalSources", "SemanticTrainer_caseSources")}
        assert drawn == {"SemanticTrainer": {"SemanticPhantom": 12, "Glioma": 16},  # 3 : 4 ~ sqrt(4) : sqrt(8)
                         "SemanticTrainer_equalSources": {"SemanticPhantom": 8, "Glioma": 8},
                         "SemanticTrainer_caseSources": {"SemanticPhantom": 4, "Glioma": 8}}
        fold = root / "nnUNet_results" / "Dataset700_Merged" / "SemanticTrainer_smoke__nnUNetPlans__2d_cpu" / "fold_0"
        semantic = json.loads((fold / "validation_semantic" / "summary.json").read_text())["semantic"]
        assert set(semantic["per_source"]) == {"SemanticPhantom", "Glioma"}
        assert semantic["cross_source"]["n"] == 4 + 2 * 5  # each glioma case asked 5 phantom structures, and back
        images = tmp_path / "images"
        images.mkdir()
        source = root / "nnUNet_raw" / "Dataset501_Glioma" / "imagesTr" / "glioma_000_0000.nii.gz"
        (images / "glioma_000_0000.nii.gz").write_bytes(source.read_bytes())
        result = subprocess.run([script("nnUNetv2_predict_semantic"), "-i", str(images), "-o", str(tmp_path / "p"),
                                 "-d", "700", "-c", "2d_cpu", "-tr", "SemanticTrainer_smoke", "-f", "0", "-device",
                                 "cpu", "--disable_tta", "-P", "the enhancing tumour", "organ"], **run)
        assert result.returncode == 0, result.stderr[-3000:]
        used = json.loads((tmp_path / "p" / "prompts_used.json").read_text())["cases"]["glioma_000"]
        assert [u["sources"] for u in used] == [{"enhancing tumour": "Glioma"}, {"organ": "SemanticPhantom"}]


def test_a_structure_no_case_is_annotated_with_whole_is_learnt_from_its_words():
    """Source A annotates the front (label 1) only, source B the back (2) only: no case's prompts name the whole
    (the union the user declared), so no mask teaches its words. One wording of every structure per batch, read
    without an image (the sampler's vocabulary, SemanticLoss's text-only term), teaches that every wording of the
    whole names both labels; the same training without it leaves them unread."""
    from nnunet_semantic.networks.heads.labels import membership_reader
    from nnunet_semantic.networks.types import PromptOutput
    from nnunet_semantic.prompts.sidecar import Prompt
    from nnunet_semantic.text.bank import EmbeddingBank
    from nnunet_semantic.trainers.losses import SemanticLoss
    from nnunet_semantic.trainers.prompt_batch import PromptSampler
    from nnunet_semantic.trainers.prompt_table import PromptTable

    vocabulary = [(["front", "front part", "the front"], (1,)), (["back", "back part", "the back"], (2,)),
                  (["whole", "whole organ", "the entire organ"], (1, 2))]
    sidecars = {"A_000": [Prompt("a", 1, "front", (1,), structure="front")],
                "B_000": [Prompt("b", 1, "back", (2,), structure="back")]}
    table = PromptTable(sidecars, wordings=[texts for texts, _ in vocabulary])
    vectors = np.random.default_rng(0).standard_normal((len(table.texts), 16)).astype(np.float32)
    table.attach(EmbeddingBank("toy", "0", table.texts, vectors))
    batch = {"keys": ["A_000", "B_000"], "data": torch.zeros(2, 1, 1, 1), "target": torch.zeros(2, 1, 1, 1)}
    whole = torch.from_numpy(table.vectors[table.rows(vocabulary[2][0])])
    for text_only in (True, False):
        torch.manual_seed(0)
        np.random.seed(0)
        sampler = PromptSampler(table, 1, 2, vocabulary=vocabulary if text_only else None)
        mlp = membership_reader(16, 2, hidden=32)
        loss = SemanticLoss(lambda *_: torch.zeros(()), None, False, 0.0, 1.0)
        optimizer = torch.optim.Adam(mlp.parameters(), 1e-2)
        for _ in range(300):
            prompted = sampler(batch)
            data, target = prompted["data"], prompted["target"]
            vocab = None if data.vocabulary is None else mlp(data.vocabulary)
            output = PromptOutput([torch.zeros(2, 2, 1, 1)], membership=mlp(torch.cat([data.pos, data.neg], 1)),
                                  vocabulary_membership=vocab)
            optimizer.zero_grad()
            loss(output, target).backward()
            optimizer.step()
        with torch.no_grad():
            read = torch.sigmoid(mlp(whole))  # [3 wordings, 2 labels]
        if text_only:
            assert (read > 0.9).all(), read
        else:
            assert (read < 0.9).any(dim=1).all(), read  # no wording of the whole reads as both labels
