"""Your own nnU-Net dataset: ontology files (init, check), `convert nnunet` (files referenced, source untouched,
region labels), BraTS 2013-2015's VSD layout. The commands end to end are in test_own_dataset_e2e.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import glioma_seg, nnunet_v2_dataset, png_dataset, read_nii, snapshot, vsd_fixture, write_nii

from nnunet_semantic.cli import main
from nnunet_semantic.dataset_conversion.brats import convert_brats
from nnunet_semantic.dataset_conversion.nnunet import convert_nnunet
from nnunet_semantic.prompts import ontology_file
from nnunet_semantic.prompts.generator import GenerationSettings
from nnunet_semantic.prompts.ontologies import ONTOLOGIES, readable
from nnunet_semantic.prompts.sidecar import read_sidecar_folder


def _raw(env):
    return env / "nnUNet_raw"


def test_readable_names():
    assert readable("NonEnhancingTumor") == readable("non_enhancing_tumor") == "non enhancing tumor"
    assert readable("PZ") == "PZ" and readable("Anterior") == "anterior" and readable("left kidney") == "left kidney"


def test_shipped_ontologies_are_files_of_the_user_schema():
    for key, data in ONTOLOGIES.items():
        assert ontology_file.problems(data, ontology_file.DatasetLabels.of(data["labels"])) == [], key
        assert {"labels", "channels", "structures"} <= set(data), key


def test_init_one_structure_per_label_and_region(nnunet_env, capsys, tmp_path):
    nnunet_v2_dataset(_raw(nnunet_env), 501, regions=False)
    nnunet_v2_dataset(_raw(nnunet_env), 502, regions=True)
    assert main(["ontology", "init", "-d", "501", "-o", str(tmp_path / "a.json")]) == 0
    a = json.loads((tmp_path / "a.json").read_text())
    assert {n: s["labels"] for n, s in a["structures"].items()} == {
        "necrosis": [1], "edema": [2], "non enhancing tumor": [3], "enhancing tumour": [4]}
    assert a["structures"]["non enhancing tumor"]["names"] == ["non enhancing tumor", "NonEnhancingTumor"]
    assert main(["ontology", "init", "-d", "Dataset502_Glioma", "-o", str(tmp_path / "b.json")]) == 0
    b = json.loads((tmp_path / "b.json").read_text())
    assert {n: s["labels"] for n, s in b["structures"].items()} == {
        "whole tumor": [1, 2, 3, 4], "tumor core": [1, 3, 4], "enhancing tumor": [4]}
    assert main(["ontology", "check", str(tmp_path / "b.json"), "-d", "502"]) == 0
    assert "3 exclusions (L3 prompts)" in capsys.readouterr().out
    assert main(["ontology", "init", "-d", "502", "-o", str(tmp_path / "b.json")]) == 1  # never overwritten
    assert "exists" in capsys.readouterr().err


def test_init_recognises_a_shipped_dataset_by_labels_and_channels_never_by_name(nnunet_env, tmp_path):
    from nnunetv2.dataset_conversion.generate_dataset_json import generate_dataset_json

    def dataset(i, name, labels, channels, ending=".nii.gz"):
        folder = _raw(nnunet_env) / f"Dataset{i:03d}_{name}"
        folder.mkdir(parents=True)
        generate_dataset_json(str(folder), channels, labels, 1, ending)

    hippocampus = {"background": 0, "anterior": 1, "posterior": 2}
    dataset(510, "MyHippo", hippocampus, {0: "T1"})
    dataset(511, "MyHippo2", hippocampus, {0: "T1", 1: "T2"})  # other channels: not certain
    dataset(512, "Hippocampus", {"background": 0, "head": 1, "tail": 2}, {0: "MRI"})  # the name alone: no
    dataset(513, "Spine", hippocampus, {0: "CT"})  # issue 34 (#11): a CT labelled Anterior / Posterior is no brain
    dataset(514, "Photos", hippocampus, {0: "MRI"}, ".png")  # nor a PNG dataset
    ids = (510, 511, 512, 513, 514)
    for i in ids:
        assert main(["ontology", "init", "-d", str(i), "-o", str(tmp_path / f"{i}.json")]) == 0
    structures = [set(json.loads((tmp_path / f"{i}.json").read_text())["structures"]) for i in ids]
    assert structures[0] == set(ONTOLOGIES["msd_hippocampus"]["structures"])
    assert structures[1] == {"anterior", "posterior"} and structures[2] == {"head", "tail"}
    assert structures[3] == structures[4] == {"anterior", "posterior"}


def test_check_lists_every_problem_one_line_each(nnunet_env, tmp_path, capsys):
    nnunet_v2_dataset(_raw(nnunet_env), 501)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": 1, "structure": {}, "structures": {
        "tumor core": {"labels": ["necrosis", "NonEnhancingTumor", 4], "names": ["tumor core"]},
        "core": {"labels": [1, 3, 4], "heldout": ["tumor core"]},
        "": {"labels": [2]},
        "cavity": {"labels": [7]},
        "cyst": {"labels": ["cyst"], "synonym": ["x"]},
        "edema": {"labels": [2], "descriptions": [""]},
    }}))
    assert main(["ontology", "check", str(bad), "-d", "501"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    problems = lines[:-1]
    assert all(line.startswith(f"{bad}: ") for line in problems) and lines[-1].startswith(f"{len(problems)} problems")
    text = "\n".join(problems)
    for expected in ("unknown field 'structure'", "structures.core.labels' is [1, 3, 4], the same label set as "
                     "structure 'tumor core'", "empty name", "label 7, which the dataset does not have",
                     "names 'cyst', which is no label", "structures.cyst.synonym' is unknown",
                     "structures.edema.descriptions' must be a list of non-empty strings",
                     "structures.core.heldout' holds 'tumor core', which is also a training wording"):
        assert expected in text, expected
    assert len(problems) == 9  # ...and '' shares edema's label set
    (tmp_path / "broken.json").write_text("{\"structures\": ")
    assert main(["ontology", "check", str(tmp_path / "broken.json")]) == 1
    assert "broken.json: not valid JSON (line 1" in capsys.readouterr().err


def test_convert_nnunet_references_files_and_leaves_the_source_as_it_was(nnunet_env, capsys):
    source = nnunet_v2_dataset(_raw(nnunet_env), 501, regions=True)
    before = snapshot(source)
    assert main(["convert", "nnunet", "-i", "501", "-d", "601", "-np", "1"]) == 0
    assert snapshot(source) == before
    out = _raw(nnunet_env) / "Dataset601_Glioma"
    assert not list(out.rglob("*.nii.gz"))  # no image, no label copied
    data = json.loads((out / "dataset.json").read_text())
    src = json.loads((source / "dataset.json").read_text())
    assert data["labels"] == src["labels"] and data["regions_class_order"] == src["regions_class_order"]
    entry = data["dataset"]["glioma_000"]
    assert entry["label"] == "../Dataset501_Glioma/labelsTr/glioma_000.nii.gz"
    assert entry["images"] == [f"../Dataset501_Glioma/imagesTr/glioma_000_{c:04d}.nii.gz" for c in range(2)]
    prompts = read_sidecar_folder(out / "prompts")["glioma_000"]
    seg = read_nii(source / "labelsTr" / "glioma_000.nii.gz")
    l3 = {(p.target, p.avoid) for p in prompts if p.level == 3}
    assert ((1, 3, 4), (4,)) in l3 and ((1, 2, 3, 4), (1, 3, 4)) in l3  # from the regions' containment
    assert all(((seg > 0) & ~((seg == 4) & (p.avoid == (4,)))).any() for p in prompts if p.level == 3)
    # a second conversion of the same source into the same id is refused, and --overwrite never touches the source
    assert main(["convert", "nnunet", "-i", str(source), "-d", "601", "-np", "1"]) == 1
    assert "taken" in capsys.readouterr().err
    assert main(["convert", "nnunet", "-i", str(source), "-d", "501", "-np", "1", "--overwrite"]) == 1
    assert "source being converted" in capsys.readouterr().err and snapshot(source) == before


def test_convert_nnunet_uses_the_semantic_block_and_label_names(nnunet_env):
    source = nnunet_v2_dataset(_raw(nnunet_env), 501)
    data = json.loads((source / "dataset.json").read_text())
    data["semantic"] = {"structures": {"tumor core": {"labels": ["necrosis", "NonEnhancingTumor", "enhancing tumour"],
                                                      "synonyms": ["TC"]},
                                       "enhancing tumor": {"labels": [4]}}}
    (source / "dataset.json").write_text(json.dumps(data))
    out = convert_nnunet("501", 601)
    semantic = json.loads((out / "dataset.json").read_text())["semantic"]["structures"]
    assert {n: s["labels"] for n, s in semantic.items()} == {"tumor core": [1, 3, 4], "enhancing tumor": [4]}
    prompts = read_sidecar_folder(out / "prompts")
    assert any(p.level == 3 and p.target == (1, 3, 4) and p.avoid == (4,) for ps in prompts.values() for p in ps)


def test_convert_nnunet_msd_label_convention_and_dataset_key(nnunet_env, tmp_path):
    """MSD's id -> name labels, files named by nnU-Net's `dataset` key (outside nnUNet_raw: absolute paths)."""
    files = tmp_path / "elsewhere"
    rng = __import__("numpy").random.default_rng(0)
    entries = {}
    for i in range(3):
        seg = glioma_seg(rng)
        write_nii(files / f"img{i}.nii.gz", seg.astype("float32") + rng.normal(size=seg.shape).astype("float32"))
        write_nii(files / f"seg{i}.nii.gz", seg)
        entries[f"c{i}"] = {"images": [str(files / f"img{i}.nii.gz")], "label": str(files / f"seg{i}.nii.gz")}
    folder = tmp_path / "Dataset050_Listed"
    folder.mkdir()
    (folder / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "MRI"}, "labels": {"0": "background", "1": "necrosis", "2": "edema",
                                                  "3": "non-enhancing", "4": "enhancing"},
        "numTraining": 3, "file_ending": ".nii.gz", "dataset": entries}))
    out = convert_nnunet(folder, 60)
    data = json.loads((out / "dataset.json").read_text())
    assert data["labels"] == {"background": 0, "necrosis": 1, "edema": 2, "non-enhancing": 3, "enhancing": 4}
    assert data["dataset"]["c1"]["label"] == str((files / "seg1.nii.gz").resolve())
    assert sorted(read_sidecar_folder(out / "prompts")) == ["c0", "c1", "c2"]


def test_convert_nnunet_bad_datasets_one_line_each(nnunet_env, capsys):
    source = nnunet_v2_dataset(_raw(nnunet_env), 501, n=3)
    (source / "imagesTr" / "glioma_001_0001.nii.gz").unlink()
    assert main(["convert", "nnunet", "-i", "501", "-d", "601"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "glioma_001_0001.nii.gz: file not found: case glioma_001 needs 2 channel" in err
    (source / "labelsTr" / "glioma_002.nii.gz").unlink()
    assert main(["convert", "nnunet", "-i", "501", "-d", "601"]) == 1
    assert "labelsTr/glioma_002.nii.gz: file not found: case glioma_002 has images" in capsys.readouterr().err
    data = json.loads((source / "dataset.json").read_text())
    (source / "dataset.json").write_text(json.dumps({k: v for k, v in data.items() if k != "channel_names"}))
    assert main(["convert", "nnunet", "-i", "501", "-d", "601"]) == 1
    assert "dataset.json: field 'channel_names' is missing" in capsys.readouterr().err
    assert main(["convert", "nnunet", "-i", "777", "-d", "601"]) == 1
    assert "777" in capsys.readouterr().err
    data["labels"]["edema"] = "two"
    (source / "dataset.json").write_text(json.dumps(data))
    assert main(["ontology", "init", "-d", "501"]) == 1
    assert "field 'labels.edema' must be a label id" in capsys.readouterr().err
    assert not (_raw(nnunet_env) / "Dataset601_Glioma").exists()


def test_convert_nnunet_refuses_an_ontology_the_dataset_cannot_hold(nnunet_env, tmp_path, capsys):
    nnunet_v2_dataset(_raw(nnunet_env), 501, n=2)
    onto = tmp_path / "o.json"
    onto.write_text(json.dumps({"structures": {"cavity": {"labels": [9]}, "x": {"labels": [9]}}}))
    assert main(["convert", "nnunet", "-i", "501", "-d", "601", "--ontology", str(onto)]) == 1
    err = capsys.readouterr().err
    assert f"{onto}: field 'structures.cavity.labels' holds label 9" in err and "(and 2 more problems" in err


def test_msd_converter_points_v2_datasets_at_convert_nnunet(nnunet_env, capsys):
    source = nnunet_v2_dataset(_raw(nnunet_env), 501, n=2)
    assert main(["convert", "msd", "-i", str(source), "-d", "601"]) == 1
    assert "this is an nnU-Net v2 dataset; convert it with `nnunet-semantic convert nnunet" in capsys.readouterr().err


def test_brats_2013_vsd_layout(nnunet_env, tmp_path, capsys):
    src = vsd_fixture(tmp_path / "BRATS2013")
    before = snapshot(src)
    out = convert_brats(src, 603)
    assert snapshot(src) == before
    data = json.loads((out / "dataset.json").read_text())
    assert data["channel_names"] == {"0": "Flair", "1": "T1c"} and data["labels"]["non-enhancing tumor"] == 3
    assert sorted(p.name for p in (out / "labelsTr").iterdir()) == [f"{g}_{i:04d}.nii.gz" for g, i in
                                                                    (("HG", 0), ("HG", 2), ("LG", 1), ("LG", 3))]
    assert sorted(p.name for p in (out / "imagesTs").iterdir()) == ["HG_0004_0000.nii.gz", "HG_0004_0001.nii.gz"]
    assert set(read_nii(out / "labelsTr" / "HG_0000.nii.gz").ravel().tolist()) == {0, 1, 2, 3, 4}
    prompts = read_sidecar_folder(out / "prompts")["HG_0000"]
    assert any(p.target == (1, 3, 4) and p.avoid == (4,) for p in prompts)  # tumor core excluding enhancing
    missing = next((src / "LG" / "0001").glob("*MR_T1c*"))
    __import__("shutil").rmtree(missing)
    assert main(["convert", "brats", "-i", str(src), "-d", "604"]) == 1
    err = capsys.readouterr().err
    assert "LG/0001: holds the modalities Flair, but" in err and "every case needs the same MR_<modality>" in err
    assert main(["convert", "brats", "-i", str(tmp_path), "-d", "604", "--year", "2013"]) == 1
    assert "every case needs" in capsys.readouterr().err  # the same source seen from its parent


@pytest.mark.parametrize("year", [2013])
def test_brats_2013_says_which_files_it_expected(nnunet_env, tmp_path, capsys, year):
    (tmp_path / "empty" / "case1").mkdir(parents=True)
    assert main(["convert", "brats", "-i", str(tmp_path / "empty"), "-d", "604", "--year", str(year)]) == 1
    assert "VSD.Brain.XX.O.MR_Flair.<id>" in capsys.readouterr().err


def test_the_readme_ontology_example_is_a_valid_file(nnunet_env, tmp_path, capsys):
    """The README's example, as a user would copy it, checks clean against a dataset with those labels."""
    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    example = readme.split("**The ontology file**")[1].split("```json\n")[1].split("```")[0]
    (tmp_path / "example.json").write_text(example)
    nnunet_v2_dataset(_raw(nnunet_env), 501, n=1)
    assert main(["ontology", "check", str(tmp_path / "example.json"), "-d", "501"]) == 0
    assert "whole tumor excluding tumor core" in capsys.readouterr().out


def test_a_case_in_another_format_is_never_dropped_in_silence(nnunet_env, tmp_path, capsys):
    source = nnunet_v2_dataset(_raw(nnunet_env), 501, n=2)
    import SimpleITK as sitk

    sitk.WriteImage(sitk.ReadImage(str(source / "imagesTr" / "glioma_000_0000.nii.gz")),
                    str(source / "imagesTr" / "glioma_009_0000.nii"))
    assert main(["convert", "nnunet", "-i", "501", "-d", "601"]) == 1
    assert "glioma_009_0000.nii: not named CASE_XXXX.nii.gz" in capsys.readouterr().err
    task = tmp_path / "Task09_Toy"
    seg = glioma_seg(__import__("numpy").random.default_rng(0))
    write_nii(task / "imagesTr" / "a.nii.gz", seg.astype("float32"))
    write_nii(task / "labelsTr" / "a.nii.gz", seg)
    sitk.WriteImage(sitk.GetImageFromArray(seg.astype("float32")), str(task / "imagesTr" / "b.nii"))
    (task / "dataset.json").write_text(json.dumps({"name": "Toy", "modality": {"0": "MRI"}, "labels": {
        "0": "background", "1": "necrosis", "2": "edema", "3": "core", "4": "rim"}}))
    assert main(["convert", "msd", "-i", str(task), "-d", "602"]) == 1
    assert "imagesTr/b.nii: not a .nii.gz file" in capsys.readouterr().err


def test_a_case_id_that_is_a_path_is_refused_and_writes_nothing_outside(nnunet_env, tmp_path, capsys):
    """Issue 34: a `dataset` key naming a case "../../Dataset011_Victim/dataset" overwrote that dataset's
    dataset.json with a prompt sidecar; now the converter stops at the source's dataset.json, naming the case."""
    raw = _raw(nnunet_env)
    victim = raw / "Dataset011_Victim"
    victim.mkdir(parents=True)
    (victim / "dataset.json").write_text('{"mine": true}')
    source = nnunet_v2_dataset(raw, 542, n=2)
    data = json.loads((source / "dataset.json").read_text())
    cases = sorted(p.name[:-12] for p in (source / "imagesTr").glob("*_0000.nii.gz"))
    data["dataset"] = {("../../Dataset011_Victim/dataset" if i == 0 else c): {
        "images": [f"imagesTr/{c}_{k:04d}.nii.gz" for k in range(len(data["channel_names"]))],
        "label": f"labelsTr/{c}.nii.gz"} for i, c in enumerate(cases)}
    (source / "dataset.json").write_text(json.dumps(data))
    assert main(["convert", "nnunet", "-i", "542", "-d", "693"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "field 'dataset'" in err and "../../Dataset011_Victim/dataset" in err
    assert (victim / "dataset.json").read_text() == '{"mine": true}'
    assert not (raw / "Dataset693_Glioma").exists() and not list(raw.glob("*/x"))


def test_chaos_abdominal_mri_is_recognised_and_its_prompts_keep_left_and_right(nnunet_env, capsys, tmp_path):
    """Issue 36: the real CHAOS T2 dataset (an nnU-Net v2 raw dataset) gets its shipped ontology by labels and
    channels: both kidneys, each kidney, all four organs; exclusions such as "kidneys excluding the left kidney" and
    "abdominal organs excluding the liver" are generated from containment, left and right stay apart, and the
    trainer keeps orientation (a structure named by a side is never mirrored into the other)."""
    from conftest import DATA

    from nnunet_semantic.prompts.ontology import Ontology
    from nnunet_semantic.trainers.orientation import names_a_direction

    source = DATA / "chaos_t2"
    before = snapshot(source)
    assert main(["ontology", "init", "-d", str(source), "-o", str(tmp_path / "chaos.json")]) == 0
    assert json.loads((tmp_path / "chaos.json").read_text())["structures"] == ONTOLOGIES["chaos_t2"]["structures"]
    assert main(["ontology", "check", str(tmp_path / "chaos.json"), "-d", str(source)]) == 0
    assert "exclusions (L3 prompts)" in capsys.readouterr().out
    assert main(["convert", "nnunet", "-i", str(source), "-d", "611", "-np", "1"]) == 0
    assert "chaos_t2" in capsys.readouterr().out and snapshot(source) == before
    out = _raw(nnunet_env) / "Dataset611_CHAOS_T2SPIR"
    ontology = Ontology.of_dataset(out)
    assert ontology.label_sets() == {"abdominal organs": (1, 2, 3, 4), "liver": (1,), "kidneys": (2, 3),
                                     "right kidney": (2,), "left kidney": (3,), "spleen": (4,)}
    assert names_a_direction(ontology)
    prompts = read_sidecar_folder(out / "prompts")
    assert len(prompts) == 15
    for case, ps in prompts.items():
        l3 = {(p.target, p.avoid) for p in ps if p.level == 3}
        assert ((2, 3), (3,)) in l3 and ((2, 3), (2,)) in l3 and ((1, 2, 3, 4), (1,)) in l3, case
        l1 = {p.text: p.target for p in ps if p.level == 1}
        assert l1["right kidney"] == (2,) and l1["left kidney"] == (3,), case


def test_round_three_probes_duplicate_keys_label_gaps_and_names_without_latin_letters(nnunet_env, tmp_path, capsys):
    """Issue 34 (#12, #15, #5): an ontology file with a structure given twice is refused, not read as its last
    entry ("ok, 1 structures"); labels with gaps are refused at convert, before nnU-Net's planner asserts, and
    nothing is written; structures named without Latin letters get prompt ids of their own (each was "L1-", and
    evaluation scored one structure with the other's file)."""
    from nnunetv2.dataset_conversion.generate_dataset_json import generate_dataset_json

    from nnunet_semantic.prompts.generator import candidates
    from nnunet_semantic.prompts.ontology import Ontology

    twice = tmp_path / "twice.json"
    twice.write_text('{"version": 1, "structures": {"front": {"labels": [1]}, "front": {"labels": [2]}}}')
    assert main(["ontology", "check", str(twice)]) == 1
    assert f"{twice}: key 'front' appears twice" in capsys.readouterr().err

    source = nnunet_v2_dataset(_raw(nnunet_env), 501)
    generate_dataset_json(str(source), {0: "T1c", 1: "FLAIR"}, {"background": 0, "necrosis": 1, "edema": 2,
                                                                 "NonEnhancingTumor": 3, "enhancing_tumour": 5}, 6,
                          ".nii.gz")
    assert main(["convert", "nnunet", "-i", "501", "-d", "601", "-np", "1"]) == 1
    err = capsys.readouterr().err
    assert "field 'labels'" in err and "not consecutive from 0 (missing [4])" in err and "Traceback" not in err
    assert not (_raw(nnunet_env) / "Dataset601_Glioma").exists()

    ontology = Ontology.from_dict({"structures": {"前部": {"labels": [1]}, "后部": {"labels": [2]},
                                                  "海马": {"labels": [1, 2]}}})
    ids = [p.id for p, _ in candidates(ontology, np.random.default_rng(0), GenerationSettings())]
    assert len(ids) == len(set(ids)) and not any(i.endswith("-") for i in ids)


def test_check_names_a_label_the_dataset_lacks_and_the_background(nnunet_env, tmp_path, capsys):
    """Issue 34 (#20, #27): `labels: {"front": 7}` on a dataset without 7 passed `ontology check` and convert then
    refused; a structure of `["background"]` was reported as "positive label ids" under a field never written."""
    nnunet_v2_dataset(_raw(nnunet_env), 501)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"labels": {"background": 0, "front": 7}, "structures": {
        "front": {"labels": ["front"]}, "nothing": {"labels": ["background"]}, "edema": {"labels": [2]}}}))
    assert main(["ontology", "check", str(bad), "-d", "501"]) == 1
    err = capsys.readouterr().err
    assert "field 'labels.front' is label 7, which the dataset does not have" in err
    assert "field 'structures.nothing.labels' names 'background', the background (label 0)" in err
    # issue 34 (#18): names no prompt can hold were trained on, then every prompt naming them was refused
    (tmp_path / "zh.json").write_text(json.dumps({"structures": {"前部": {"labels": [1]}, "edema": {
        "labels": [2], "synonyms": ["水肿"]}}}))
    assert main(["ontology", "check", str(tmp_path / "zh.json"), "-d", "501"]) == 1
    err = capsys.readouterr().err
    assert "field 'structures.前部' has words no prompt can hold ('前部')" in err and "'水肿'" in err


def test_a_name_in_another_case_is_no_l2_prompt():
    """Issue 34 (#6): `ontology init` kept a label's own name beside its readable form ("Left-Hippocampus" /
    "left-hippocampus"), and the generator emitted it as an L2 prompt the uncased encoder reads as the L1 name:
    L2 Dice = L1 and invariance 1 by construction."""
    from nnunet_semantic.prompts.generator import candidates
    from nnunet_semantic.prompts.ontologies import generic_structures
    from nnunet_semantic.prompts.ontology import Ontology

    labels = ontology_file.DatasetLabels.of({"background": 0, "Left-Hippocampus": 1, "NonEnhancingTumor": 2})
    structures = generic_structures(labels)
    assert structures["left hippocampus"]["names"] == ["left hippocampus"]  # hyphens read as spaces
    assert structures["non enhancing tumor"]["names"] == ["non enhancing tumor", "NonEnhancingTumor"]
    ontology = Ontology.from_dict({"structures": {"left hippocampus": {
        "labels": [1], "names": ["left hippocampus", "Left-Hippocampus", "left hippocampi"],
        "synonyms": ["LEFT HIPPOCAMPUS", "the left hippocampal formation"]}}})
    l2 = [p.text for p, _ in candidates(ontology, np.random.default_rng(0), GenerationSettings()) if p.level == 2]
    assert l2 == ["the left hippocampal formation"]


def test_a_source_path_that_nnunet_would_expand_is_refused(nnunet_env, tmp_path, capsys):
    """Issue 34 (#22): a source under a folder named with `$HOME` was referenced literally, and nnU-Net's planner
    expanded it and read files elsewhere."""
    source = nnunet_v2_dataset(tmp_path / "scans$HOME", 501, n=2)
    assert main(["convert", "nnunet", "-i", str(source), "-d", "601", "-np", "1"]) == 1
    err = capsys.readouterr().err
    assert "scans$HOME" in err and "nnU-Net expands" in err and not (_raw(nnunet_env) / "Dataset601_Glioma").exists()


def test_each_prompt_text_once_per_case():
    """Issue 34 (#13): a region dataset's L3 and its paraphrase came out as the same text: one file, counted twice
    in L3. Over seeds, every generated (and held-out) text of a case is distinct, for region datasets and every
    shipped ontology."""
    from nnunet_semantic.prompts.generator import candidates, heldout_candidates
    from nnunet_semantic.prompts.ontologies import generic_ontology, get_ontology

    regions = ontology_file.DatasetLabels.of({"background": 0, "whole tumor": [1, 2, 3, 4], "tumor core": [1, 3, 4],
                                             "enhancing tumor": 4})
    for ontology in [generic_ontology(regions), *(get_ontology(k) for k in ONTOLOGIES)]:
        for seed in range(10):
            for texts in ([p.text for p, _ in candidates(ontology, np.random.default_rng(seed), GenerationSettings())],
                          [p.text for p, _ in heldout_candidates(ontology, np.random.default_rng(seed))]):
                assert len(texts) == len(set(texts)), sorted(t for t in texts if texts.count(t) > 1)


def test_an_rgb_png_dataset_in_nnunets_layout_converts_and_its_images_are_taken(nnunet_env, tmp_path):
    """Issue 34 (#21): an RGB PNG dataset as nnU-Net lays it out (one `_0000.png` per case, channel_names R, G, B)
    was refused as "case_0001.png: file not found"; nnU-Net reads such a file as three channels. A scalar PNG for a
    three-channel model is still refused, naming its files."""
    import SimpleITK as sitk

    from nnunet_semantic.errors import InputError
    from nnunet_semantic.inference.jobs import check_input_cases

    folder = png_dataset(_raw(nnunet_env), 520, "Cells", n=3, rgb=True)
    assert main(["convert", "nnunet", "-i", "520", "-d", "621", "-np", "1"]) == 0
    data = json.loads((_raw(nnunet_env) / "Dataset621_Cells" / "dataset.json").read_text())
    assert [len(e["images"]) for e in data["dataset"].values()] == [1, 1, 1]
    check_input_cases({"case_000": [str(folder / "imagesTr" / "case_000_0000.png")]}, 3)
    gray = tmp_path / "gray_0000.png"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((32, 32), np.uint8)), str(gray))
    with pytest.raises(InputError, match="has 1 channel file"):
        check_input_cases({"gray": [str(gray)]}, 3)
