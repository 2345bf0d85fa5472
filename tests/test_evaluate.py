"""Issue 6 (evaluation): nnUNetv2_evaluate_semantic round trip, nnU-Net-compatible summary, bad input."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from helpers import read_nii, script, write_nii
from nnunetv2.evaluation.evaluate_predictions import load_summary_json

from nnunet_semantic.evaluation.cli import evaluate_entry
from nnunet_semantic.evaluation.evaluate import evaluate_folders
from nnunet_semantic.evaluation.summary import SemanticSummary
from nnunet_semantic.prompts.ontologies import ONTOLOGIES
from nnunet_semantic.prompts.sidecar import prediction_name

L1, L3 = "hippocampus", "hippocampus excluding the posterior hippocampus"


def _seg() -> np.ndarray:
    seg = np.zeros((2, 6, 6), np.uint8)
    seg[:, 1:3, 1:5] = 1  # anterior: 16 voxels
    seg[:, 3:5, 1:5] = 2  # posterior: 16 voxels
    return seg


@pytest.fixture
def folders(tmp_path):
    seg = _seg()
    ref, pred, prompts = tmp_path / "ref", tmp_path / "pred", tmp_path / "prompts"
    prompts.mkdir()
    for case in ("c1", "c2"):
        write_nii(ref / f"{case}.nii.gz", seg)
        write_nii(pred / prediction_name(case, L1), (seg > 0).astype(np.uint8))
        leak = (seg == 1) | ((seg == 2) & (np.arange(6)[None, :, None] == 3))  # leaks 8 of 16 posterior voxels
        write_nii(pred / prediction_name(case, L3), leak.astype(np.uint8))
    sidecar = {"case": "c1", "prompts": [
        {"id": "L1-hippocampus", "level": 1, "text": L1, "target": [1, 2], "avoid": [], "structure": "hippocampus"},
        {"id": "L3-x", "level": 3, "text": L3, "target": [1, 2], "avoid": [2], "structure": "hippocampus"}]}
    (prompts / "c1.json").write_text(json.dumps(sidecar))
    (prompts / "c2.json").write_text(json.dumps({"case": "c2", "prompts": [{"text": L1}, {"text": L3}]}))
    dj = tmp_path / "dataset.json"
    dj.write_text(json.dumps({"file_ending": ".nii.gz", "labels": ONTOLOGIES["msd_hippocampus"]["labels"],
                              "semantic": {"version": 1, "structures": ONTOLOGIES["msd_hippocampus"]["structures"]}}))
    return tmp_path, ref, pred, prompts, dj


def test_round_trip_through_the_console_script(folders):
    tmp, ref, pred, prompts, dj = folders
    out = tmp / "summary.json"
    result = subprocess.run([script("nnUNetv2_evaluate_semantic"), "-ref", str(ref), "-pred", str(pred), "-prompts",
                             str(prompts), "-o", str(out), "-djfile", str(dj)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    summary = load_summary_json(str(out))  # nnU-Net's own loader
    assert len(summary["metric_per_case"]) == 4 and set(summary["mean"]) == {1}
    l3_dice = 2 * 16 / (2 * 16 + 8)
    assert summary["mean"][1]["Dice"] == pytest.approx((1 + l3_dice) / 2)
    sem = summary["semantic"]
    assert sem["per_level"]["L1"]["dice"] == 1.0 and sem["per_level"]["L3"]["dice"] == pytest.approx(l3_dice)
    assert sem["pss"]["mean"] == pytest.approx(1 - l3_dice) and sem["pss"]["n_valid"] == 2
    assert sem["leakage_l3"]["mean"] == pytest.approx(0.5)
    assert sem["per_structure"]["hippocampus"]["dice"]["L3"] == pytest.approx(l3_dice)
    assert sem["per_level"]["L3"]["ci95"] == pytest.approx((l3_dice, l3_dice))
    assert "Dice(L1) > 0.8" in sem["rules"]


def _error(argv, capsys) -> str:
    assert evaluate_entry(argv) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("error: ") and "Traceback" not in err
    return err


def test_bad_inputs_are_clear_errors(folders, capsys):
    tmp, ref, pred, prompts, dj = folders
    base = ["-ref", str(ref), "-pred", str(pred), "-prompts", str(prompts), "-o", str(tmp / "s.json")]
    assert "has no 'target'; pass -djfile" in _error(base, capsys)  # c2 gives texts only
    (pred / prediction_name("c2", L3)).unlink()
    assert "predictions missing" in _error([*base, "-djfile", str(dj)], capsys)
    write_nii(pred / prediction_name("c2", L3), np.zeros((2, 6, 5), np.uint8))
    err = _error([*base, "-djfile", str(dj)], capsys)
    assert prediction_name("c2", L3) in err and "differs from the reference" in err
    write_nii(pred / prediction_name("c2", L3), read_nii(pred / prediction_name("c2", L1)))
    (ref / "c1.nii.gz").rename(tmp / "c1.nii.gz")  # the reference folder chooses the cases (prompts/ holds Tr + Ts)
    assert evaluate_entry([*base, "-djfile", str(dj)]) == 0
    assert {m["reference_file"] for m in json.loads((tmp / "s.json").read_text())["metric_per_case"]} == \
        {str(ref / "c2.nii.gz")}
    (ref / "c2.nii.gz").unlink()
    assert f"{ref}: no reference label map <case>.nii.gz for any of the 2 cases" in _error([*base, "-djfile",
                                                                                           str(dj)], capsys)
    (prompts / "c1.json").write_text('{"case": "c1", "prompts": {}}')
    assert f"{prompts / 'c1.json'}: field 'prompts' must be a list" in _error(base, capsys)


def test_absent_structures_are_scored_by_false_positives(folders):
    """A prompt for a structure the case lacks ("absent" in the sidecar) must give an empty mask: the summary
    reports the share of such prompts that painted anything and the mean painted volume."""
    from nnunet_semantic.evaluation.evaluate import evaluate_folders

    tmp, ref, pred, prompts, dj = folders
    anterior_only = (_seg() == 1).astype(np.uint8)
    absent = {"id": "absent-posterior", "level": "absent", "text": "posterior hippocampus", "target": [2],
              "structure": "posterior hippocampus"}
    for case, painted in (("c3", 5), ("c4", 0)):
        write_nii(ref / f"{case}.nii.gz", anterior_only)
        write_nii(pred / prediction_name(case, "anterior hippocampus"), anterior_only)
        wrong = np.zeros_like(anterior_only)
        wrong.flat[:painted] = 1
        write_nii(pred / prediction_name(case, absent["text"]), wrong)
        (prompts / f"{case}.json").write_text(json.dumps({"case": case, "prompts": [
            {"id": "L1-a", "level": 1, "text": "anterior hippocampus", "target": [1]}, absent]}))
    summary = evaluate_folders(ref, pred, prompts, tmp / "s.json", dj, cases=["c3", "c4"])["semantic"]
    assert summary["absent"] == {"n": 2, "false_positive_rate": 0.5, "mean_predicted_voxels": 2.5}
    assert summary["per_level"]["L1"]["dice"] == 1.0


def test_damaged_files_and_unknown_labels_are_named(folders, capsys):
    """Issue 15 items 11-13 and 16: a label the dataset lacks, a corrupt or truncated file, a summary aimed at an
    input, a label map given as a prediction."""
    tmp, ref, pred, prompts, dj = folders
    base = ["-ref", str(ref), "-pred", str(pred), "-prompts", str(prompts), "-djfile", str(dj)]
    reference = (ref / "c1.nii.gz").read_bytes()
    for target in (ref / "c1.nii.gz", dj):
        assert "is an input of this evaluation" in _error([*base, "-o", str(target)], capsys)
    assert (ref / "c1.nii.gz").read_bytes() == reference
    (ref / "c1.nii.gz").write_bytes(reference[: len(reference) // 2])
    assert f"{ref / 'c1.nii.gz'}: truncated" in _error([*base, "-o", str(tmp / "s.json")], capsys)
    (ref / "c1.nii.gz").write_bytes(b"\x1f\x8b garbage")
    assert f"{ref / 'c1.nii.gz'}: not a readable" in _error([*base, "-o", str(tmp / "s.json")], capsys)
    (ref / "c1.nii.gz").write_bytes(reference)
    sidecar = json.loads((prompts / "c1.json").read_text())
    sidecar["prompts"].append({"id": "L1-x", "level": 1, "text": "thing", "target": [7]})
    (prompts / "c1.json").write_text(json.dumps(sidecar))
    err = _error([*base, "-o", str(tmp / "s.json")], capsys)
    assert f"{prompts / 'c1.json'}: prompt 'thing' names label id(s) [7]" in err
    sidecar["prompts"].pop()
    (prompts / "c1.json").write_text(json.dumps(sidecar))
    write_nii(pred / prediction_name("c1", L1), _seg())  # the label map itself, 0/1/2
    with pytest.warns(UserWarning, match="not a binary mask"):
        evaluate_folders(ref, pred, prompts, tmp / "s.json", dj)
    assert not list(tmp.glob(".s.json.partial*"))


def test_heldout_wordings_are_their_own_levels_beside_the_seen_ones(folders):
    """Issue 14: a second sidecar folder of held-out wordings is scored in the same summary, as L2_heldout /
    L3_heldout with their own invariance and leakage, so the seen-wording numbers are what they were."""
    tmp, ref, pred, prompts, dj = folders
    heldout = tmp / "prompts_heldout"
    heldout.mkdir()
    seg = _seg()
    l2_text, l3_text = "segment the hippocampus", "hippocampal complex apart from the hippocampal tail"
    for case in ("c1", "c2"):
        half = seg.copy()
        half[:, :, 3:] = 0  # an unseen wording answered with half of the L1 mask: invariance 2/3
        write_nii(pred / prediction_name(case, l2_text), (half > 0).astype(np.uint8))
        write_nii(pred / prediction_name(case, l3_text), (seg > 0).astype(np.uint8))  # exclusion ignored
        (heldout / f"{case}.json").write_text(json.dumps({"case": case, "prompts": [
            {"id": "H2-0", "level": 2, "text": l2_text, "target": [1, 2], "structure": "hippocampus", "heldout": True},
            {"id": "H3-0", "level": 3, "text": l3_text, "target": [1, 2], "avoid": [2], "structure": "hippocampus",
             "heldout": True, "excluded": ["posterior hippocampus"]}]}))
    both = evaluate_folders(ref, pred, [prompts, heldout], tmp / "s.json", dj)["semantic"]
    seen = evaluate_folders(ref, pred, prompts, tmp / "s2.json", dj)["semantic"]
    assert both["per_level"]["L2_heldout"]["dice"] == pytest.approx(2 / 3)
    assert both["per_level"]["L3_heldout"]["dice"] == pytest.approx(2 * 16 / (32 + 16))
    assert both["invariance_heldout"]["mean"] == pytest.approx(2 / 3)
    assert both["leakage_l3_heldout"]["mean"] == 1.0
    for key in ("pss", "leakage_l3", "invariance_l2"):
        assert both[key]["mean"] == seen[key]["mean"], key
    assert both["per_level"]["L3"] == seen["per_level"]["L3"] and "L2_heldout" not in seen["per_level"]
    assert both["per_structure"]["hippocampus"]["dice"]["L2_heldout"] == pytest.approx(2 / 3)


def test_leakage_of_prompts_with_two_exclusions_is_reported_apart(tmp_path):
    seg = np.zeros((1, 8, 8), np.uint8)
    seg[0, 1:7, 1:7], seg[0, 2:4, 2:4], seg[0, 5:7, 5:7] = 1, 2, 3
    ref, pred, prompts = tmp_path / "ref", tmp_path / "pred", tmp_path / "prompts"
    prompts.mkdir()
    write_nii(ref / "c1.nii.gz", seg)
    text = "kidney excluding tumor and cyst"
    write_nii(pred / prediction_name("c1", text), ((seg == 1) | (seg == 2)).astype(np.uint8))  # keeps the tumor
    (prompts / "c1.json").write_text(json.dumps({"case": "c1", "prompts": [
        {"id": "L3-k", "level": 3, "text": text, "target": [1, 2, 3], "avoid": [2, 3], "structure": "kidney",
         "excluded": ["kidney tumor", "kidney cyst"]}]}))
    s = evaluate_folders(ref, pred, prompts, tmp_path / "s.json")["semantic"]
    assert s["leakage_l3_multi"]["mean"] == pytest.approx(0.5) == s["leakage_l3"]["mean"]


def test_a_reference_or_prediction_that_would_score_wrong_in_silence_is_refused(folders, tmp_path):
    """Issue 25: a reference holding an unknown label (7) or a float (0.6), and a prediction in another spacing or a
    flipped direction (which scored Dice 1.0), were scored without a word."""
    import SimpleITK as sitk

    from nnunet_semantic.errors import InputError

    tmp, ref, pred, prompts, dj = folders
    seg = _seg()

    def evaluate():
        return evaluate_folders(ref, pred, prompts, tmp / "summary.json", dj)

    for bad, match in ((np.where(seg == 2, 7, seg).astype(np.uint8), r"label values \[7\]"),
                       (np.where(seg == 2, 0.6, seg).astype(np.float32), "non-integer values")):
        write_nii(ref / "c1.nii.gz", bad)
        with pytest.raises(InputError, match=match) as e:
            evaluate()
        assert str(ref / "c1.nii.gz") in str(e.value)
    write_nii(ref / "c1.nii.gz", seg)
    evaluate()
    target = pred / prediction_name("c1", L1)
    image = sitk.ReadImage(str(target))
    for change, match in ((lambda i: i.SetSpacing((2.0, 1.0, 1.0)), "spacing"),
                          (lambda i: i.SetDirection((-1, 0, 0, 0, 1, 0, 0, 0, 1)), "direction")):
        moved = sitk.Image(image)
        change(moved)
        sitk.WriteImage(moved, str(target))
        with pytest.raises(InputError, match=f"{match} .* differs from the reference") as e:
            evaluate()
        assert str(target) in str(e.value)


def test_a_malformed_djfile_or_a_folder_as_output_is_one_line(folders, capsys):
    """Issue 25: a malformed -djfile was a traceback; `-o <folder>` an IsADirectoryError leaving a .partial file."""
    tmp, ref, pred, prompts, dj = folders
    assert evaluate_entry(["-ref", str(ref), "-pred", str(pred), "-prompts", str(prompts), "-o", str(pred),
                           "-djfile", str(dj)]) == 1
    assert "names a folder" in capsys.readouterr().err and not list(pred.glob(".*partial*"))
    for text in ("{broken", "[1, 2]"):
        dj.write_text(text)
        assert evaluate_entry(["-ref", str(ref), "-pred", str(pred), "-prompts", str(prompts), "-o",
                               str(tmp / "s.json"), "-djfile", str(dj)]) == 1
        err = capsys.readouterr().err
        assert str(dj) in err and "Traceback" not in err


def test_what_evaluation_leaves_out_is_said_and_the_recorded_files_are_scored(folders):
    """Issue 34 (#7, #9, #30): cases without a reference are named, not dropped in silence; a prompt folder given
    twice is scored once; a prediction run's prompts_used.json is scored by the files it recorded (not by names
    re-derived from the text), its free-text prompts named as not scored; a run with nothing to score is an error,
    not n = 0."""
    from nnunet_semantic.errors import SemanticError

    tmp, ref, pred, prompts, dj = folders
    (prompts / "c3.json").write_text(json.dumps({"case": "c3", "prompts": [{"text": L1}]}))
    with pytest.warns(UserWarning, match=r"1 of 3 cases with prompts have no reference .* not scored: c3"):
        summary = evaluate_folders(ref, pred, [prompts, prompts], tmp / "twice.json", dj)
    assert len(summary["metric_per_case"]) == 4
    row = SemanticSummary.of(summary["semantic"]).row()  # the one row the command, the demo, the benchmarks print
    assert row["L1_dice"] == 1.0 and row["L3_dice"] == pytest.approx(2 * 16 / (2 * 16 + 8))
    assert row["leakage_l3"] == pytest.approx(0.5) and row["L3_heldout_dice"] is None
    write_nii(pred / "c1__recorded.nii.gz", (_seg() > 0).astype(np.uint8))
    used = tmp / "prompts_used.json"
    used.write_text(json.dumps({"cases": {"c1": [
        {"text": " hippocampus", "parsed": True, "target": [1, 2], "avoid": [], "file": "c1__recorded.nii.gz"},
        {"text": "the left kidney", "parsed": False, "file": "c1__the-left-kidney.nii.gz"}]}}))
    with pytest.warns(UserWarning, match=r"1 prompt\(s\) answered from free text are not scored .*: 'the left kidney'"):
        summary = evaluate_folders(ref, pred, used, tmp / "used.json", dj)
    [scored] = summary["metric_per_case"]
    assert scored["prediction_file"].endswith("c1__recorded.nii.gz") and scored["metrics"][1]["Dice"] == 1.0
    used.write_text(json.dumps({"cases": {"c1": [{"text": "the left kidney", "parsed": False}]}}))
    with pytest.warns(UserWarning), pytest.raises(SemanticError, match="no prompt to score"):
        evaluate_folders(ref, pred, used, tmp / "none.json", dj)
