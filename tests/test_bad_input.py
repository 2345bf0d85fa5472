"""Issue 15: bad input never passes silently. Each test names the item of the issue it covers."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from helpers import msd_subset, script, snapshot, write_nii

from nnunet_semantic.cli import main
from nnunet_semantic.dataset_conversion.msd import convert_msd
from nnunet_semantic.dataset_conversion.phantom import convert_phantom
from nnunet_semantic.errors import InputError, PromptError, SemanticError
from nnunet_semantic.image_files import check_complete
from nnunet_semantic.inference.cli import predict_entry
from nnunet_semantic.prompts.ontologies import get_ontology
from nnunet_semantic.prompts.parser import parse
from nnunet_semantic.prompts.sidecar import prediction_name
from nnunet_semantic.text.bank import EmbeddingBank, bank_path, build_bank
from nnunet_semantic.trainers.prompt_table import sidecar_folder


def _truncate(path, keep: float = 0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# --- 1. truncated files ---------------------------------------------------------------------------------------
def test_a_truncated_nifti_is_refused_cheaply(tmp_path):
    path = write_nii(tmp_path / "x.nii.gz", np.arange(4000, dtype=np.int16).reshape(10, 20, 20))
    check_complete(path)
    raw = tmp_path / "x.nii"
    raw.write_bytes(gzip.decompress(path.read_bytes()))
    check_complete(raw)
    members = tmp_path / "two_members.nii.gz"  # a valid gzip of two members: read, not refused
    members.write_bytes(gzip.compress(raw.read_bytes()[:500]) + gzip.compress(raw.read_bytes()[500:]))
    check_complete(members)
    for p in (path, raw):
        _truncate(p)
        with pytest.raises(InputError, match="truncated") as e:
            check_complete(p)
        assert str(p) in str(e.value)


def test_convert_refuses_a_truncated_label_or_image(hippocampus, nnunet_env, tmp_path):
    task = msd_subset(hippocampus, tmp_path, 3)
    label = sorted((task / "labelsTr").iterdir())[1]
    _truncate(label)
    before = snapshot(task)
    with pytest.raises(InputError, match="truncated") as e:
        convert_msd(task, 11)
    assert str(label) in str(e.value) and snapshot(task) == before
    assert not list((nnunet_env / "nnUNet_raw").glob("Dataset011_*"))


def test_convert_refuses_nonfinite_voxels_fractional_labels_and_a_label_elsewhere_in_space(hippocampus,
                                                                                            nnunet_env, tmp_path):
    """Issue 25: NaN voxels (which SimpleITK reads as 0), a label value 1.5 and a label whose origin or direction
    differs from its image were accepted by convert."""
    for n, (what, match) in enumerate((("nan", "NaN or infinite voxels"), ("fraction", "are not integers"),
                                       ("origin", "image/label origin mismatch"),
                                       ("direction", "image/label direction mismatch"))):
        task = msd_subset(hippocampus, tmp_path / what, 2)
        image, label = sorted((task / "imagesTr").iterdir())[0], sorted((task / "labelsTr").iterdir())[0]
        victim = image if what == "nan" else label
        img = sitk.ReadImage(str(victim))
        arr = sitk.GetArrayFromImage(img).astype(np.float32)
        if what == "nan":
            arr[0, 0, 0] = np.nan
        if what == "fraction":
            arr[arr == 1] = 1.5
        out = sitk.GetImageFromArray(arr)
        out.CopyInformation(img)
        if what == "origin":
            out.SetOrigin(tuple(o + 5 for o in img.GetOrigin()))
        if what == "direction":
            out.SetDirection(tuple(-d if i == 0 else d for i, d in enumerate(img.GetDirection())))
        if what == "nan":  # written raw: SimpleITK would write the NaN but read it back as 0
            import nibabel

            source = nibabel.load(str(victim))
            raw = np.asanyarray(source.dataobj).astype(np.float32)
            raw[0, 0, 0] = np.nan
            nibabel.save(nibabel.Nifti1Image(raw, source.affine), str(victim))
        else:
            sitk.WriteImage(out, str(victim))
        before = snapshot(task)
        with pytest.raises(InputError, match=match) as e:
            convert_msd(task, 40 + n)
        assert str(victim) in str(e.value) or str(image) in str(e.value)
        assert snapshot(task) == before and not list((nnunet_env / "nnUNet_raw").glob(f"Dataset{40 + n:03d}_*"))


# --- 2. --overwrite and an id held under another name ----------------------------------------------------------
def test_overwrite_never_deletes_the_folder_being_converted(hippocampus, nnunet_env, tmp_path):
    """Issue 25: `convert msd -i $nnUNet_raw/Dataset030_Hippocampus -d 30 --overwrite` deleted its own source."""
    task = msd_subset(hippocampus, tmp_path, 2)
    inside = nnunet_env / "nnUNet_raw" / "Dataset030_Hippocampus"
    task.rename(inside)
    before = snapshot(inside)
    with pytest.raises(SemanticError, match="which is the source being converted"):
        convert_msd(inside, 30, overwrite=True)
    assert snapshot(inside) == before


def test_overwrite_refuses_an_id_that_preprocessed_holds_under_another_name(nnunet_env):
    convert_phantom(12, cases=2, test_cases=0)
    other = nnunet_env / "nnUNet_preprocessed" / "Dataset012_Other"
    other.mkdir(parents=True)
    with pytest.raises(SemanticError, match="Dataset012_Other") as e:
        convert_phantom(12, cases=2, test_cases=0, overwrite=True)
    assert "remove it" in str(e.value)
    other.rmdir()
    convert_phantom(12, cases=2, test_cases=0, overwrite=True)  # the same name: replaced


# --- 3. stale prompt sidecars ------------------------------------------------------------------------------------
def test_preprocessed_sidecars_follow_a_reconversion(nnunet_env):
    raw = convert_phantom(13, cases=2, test_cases=0)
    pre = nnunet_env / "nnUNet_preprocessed" / raw.name
    pre.mkdir(parents=True)
    copy = sidecar_folder(pre)
    sidecar = raw / "prompts" / "phantom_000.json"
    assert (copy / "phantom_000.json").read_text() == sidecar.read_text()
    data = json.loads(sidecar.read_text())
    data["prompts"] = data["prompts"][:1]
    sidecar.write_text(json.dumps(data))
    with pytest.warns(UserWarning, match="changed since they were copied"):
        sidecar_folder(pre)
    assert (copy / "phantom_000.json").read_text() == sidecar.read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sidecar_folder(pre)  # unchanged: no warning


# --- 5. a dataset name that is not one ---------------------------------------------------------------------------
def test_prompts_parse_with_a_bad_dataset_is_one_error_line(nnunet_env, capsys):
    assert main(["prompts", "parse", "-d", "abc", "hippocampus"]) == 1
    assert "dataset 'abc' not found" in capsys.readouterr().err


# --- 6. an embedding bank of the wrong width ---------------------------------------------------------------------
class _Encoder:
    name, fingerprint, dim = "fake", "f1", 4

    def encode(self, texts):
        return np.ones((len(texts), self.dim), np.float32) / 2


def test_a_bank_of_the_wrong_width_is_rebuilt(tmp_path):
    EmbeddingBank("fake", "f1", ["a", "b"], np.zeros((2, 10), np.float32)).save(bank_path(tmp_path, "fake"))
    with pytest.warns(UserWarning, match="10-wide"):
        bank, n_new = build_bank(tmp_path, _Encoder(), ["a", "c"])
    assert bank.vectors.shape == (2, 4) and n_new == 2
    np.savez(bank_path(tmp_path, "fake"), texts=np.array(["a"]), vectors=np.array([["x", "y", "z", "w"]]),
             encoder=np.array("fake"), fingerprint=np.array("f1"))
    with pytest.warns(UserWarning, match="dtype"):
        assert build_bank(tmp_path, _Encoder(), ["a"])[0].vectors.dtype == np.float32
    # issue 25: an all-zero bank was kept (every prompt then reads as no text at all)
    EmbeddingBank("fake", "f1", ["a"], np.zeros((1, 4), np.float32)).save(bank_path(tmp_path, "fake"))
    with pytest.warns(UserWarning, match="all-zero"):
        bank, n_new = build_bank(tmp_path, _Encoder(), ["a"])
    assert n_new == 1 and np.abs(bank.vectors).sum() > 0


# --- 7-10. prediction input, refused before the model loads -------------------------------------------------------
@pytest.fixture
def model(nnunet_env):
    """A model folder as far as the checks before loading read it (dataset.json): one input channel."""
    folder = nnunet_env / "nnUNet_results" / "Dataset321_Fake" / "SemanticTrainer__nnUNetPlans__2d"
    folder.mkdir(parents=True)
    (folder / "dataset.json").write_text(json.dumps({"channel_names": {"0": "MRI"}, "file_ending": ".nii.gz",
                                                     "labels": {"background": 0, "organ": 1}}))
    images = nnunet_env / "images"
    for case in ("a", "b"):
        write_nii(images / f"{case}_0000.nii.gz", np.zeros((3, 8, 8), np.float32))
    return images


def _predict(images, out, *extra):
    return predict_entry(["-i", str(images), "-o", str(out), "-d", "321", "-c", "2d", "-device", "cpu", *extra])


@pytest.mark.parametrize("damage", ["extra_channel", "4d", "vector", "corrupt", "truncated"])
def test_prediction_input_is_checked_before_anything_is_written(model, tmp_path, capsys, damage):
    bad = model / "b_0000.nii.gz"
    if damage == "extra_channel":
        bad = write_nii(model / "b_0001.nii.gz", np.zeros((3, 8, 8), np.float32))
    elif damage == "4d":
        write_nii(bad, np.zeros((2, 3, 8, 8), np.float32))
    elif damage == "vector":
        sitk.WriteImage(sitk.GetImageFromArray(np.zeros((3, 8, 8, 3), np.float32), isVector=True), str(bad))
    elif damage == "corrupt":
        bad.write_bytes(b"not an image at all")
    else:
        _truncate(bad)
    out = tmp_path / "out"
    assert _predict(model, out, "-P", "organ") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and bad.name in err and "Traceback" not in err, err
    assert not out.exists()


@pytest.mark.parametrize("prompt", ["", "   "])
def test_an_empty_prompt_is_an_error(model, tmp_path, capsys, prompt):
    assert _predict(model, tmp_path / "out", "-P", "organ", prompt) == 1
    assert "empty prompt" in capsys.readouterr().err


def test_output_folder_must_not_be_the_input(model, capsys):
    before = snapshot(model)
    for out in (model, model / "sub"):
        assert _predict(model, out, "-P", "organ") == 1
        assert "input folder" in capsys.readouterr().err
    assert snapshot(model) == before


def test_prediction_names_never_collide():
    texts = ["organ", "Organ", "organ.", "器官", "肾脏", "kidney excluding tumor", "kidney-excluding-tumor",
             "x" * 130 + " a", "x" * 130 + " b", ""]
    names = [prediction_name("c", t) for t in texts]
    assert len(set(names)) == len(texts), names
    assert names[0] == "c__organ.nii.gz" and names[5] == "c__kidney-excluding-tumor.nii.gz"  # plain stays plain
    assert all(len(n) < 140 for n in names)


def test_negative_counts_are_refused(capsys):
    for argv in (["convert", "phantom", "-d", "5", "--test-cases", "-1"], ["convert", "phantom", "-d", "5",
                                                                          "-np", "0"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2 and "must be >=" in capsys.readouterr().err


# --- 14. BiomedCLIP never goes online unless asked --------------------------------------------------------------
def test_biomedclip_without_a_folder_looks_in_the_cache_offline(tmp_path, monkeypatch):
    from nnunet_semantic.text.biomedclip import LOCAL_DIR_ENV, load_biomedclip

    monkeypatch.delenv(LOCAL_DIR_ENV, raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    connects = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connects.append(address))
    with pytest.raises(SemanticError, match="hub cache .*--source hf-hub"):
        load_biomedclip(device="cpu")
    assert not connects


# --- 15. words the vocabulary cannot read, Latin plurals -----------------------------------------------------------
def test_non_latin_words_are_named_and_latin_plurals_are_read():
    ontology = get_ontology("msd_hippocampus")
    assert parse("hippocampi", ontology).target == (1, 2)
    assert parse("the Hippocampi excluding the posterior hippocampi", ontology).avoid == (2,)
    for text in ("海马", "hippocampus 海马体"):
        with pytest.raises(PromptError, match="cannot read '海马"):
            parse(text, ontology)


# --- 16. small ones ----------------------------------------------------------------------------------------------
def test_help_texts_print_percent_signs_once():
    for name in ("nnUNetv2_evaluate_semantic", "nnUNetv2_predict_semantic"):
        out = subprocess.run([script(name), "--help"], capture_output=True, text=True).stdout
        assert "%%" not in out


def test_convert_refuses_an_image_label_spacing_mismatch(nnunet_env, tmp_path):
    task = tmp_path / "Task04_Hippocampus"
    seg = np.zeros((4, 8, 8), np.uint8)
    seg[1:3, 2:6, 2:6] = 1
    write_nii(task / "labelsTr" / "hippocampus_001.nii.gz", seg, spacing=(1.0, 1.0, 1.0))
    write_nii(task / "imagesTr" / "hippocampus_001.nii.gz", np.zeros((4, 8, 8), np.float32), spacing=(1.0, 1.0, 3.0))
    (task / "dataset.json").write_text(json.dumps({"name": "Hippocampus", "modality": {"0": "MRI"}, "labels": {
        "0": "background", "1": "Anterior", "2": "Posterior"}}))
    with pytest.raises(InputError, match="spacing mismatch") as e:
        convert_msd(task, 14)
    assert "hippocampus_001.nii.gz" in str(e.value)


def test_plan_cpu_refuses_a_batch_size_below_one(tmp_path, capsys):
    """Issue 25: `plan-cpu --batch-size 0` / `-3` were written into the plans (training then crashed)."""
    from nnunet_semantic.plans.cpu import add_cpu_configuration

    for value in ("0", "-3"):
        with pytest.raises(SystemExit):
            main(["plan-cpu", "-d", "4", "--batch-size", value])
        assert "must be >= 1" in capsys.readouterr().err
    with pytest.raises(SemanticError, match="batch size must be at least 1"):
        add_cpu_configuration(tmp_path, batch_size=0)


def test_an_empty_or_header_cut_nifti_is_one_error_naming_it(tmp_path):
    """Issue 25: a 0-byte or header-cut NIfTI was nibabel's WrapStructError in predict, convert and evaluate (all
    three check files through check_complete / read_header)."""
    from nnunet_semantic.image_files import check_intensities, read_header

    whole = write_nii(tmp_path / "x.nii.gz", np.ones((4, 5, 6), np.float32))
    raw = gzip.decompress(whole.read_bytes())
    empty, cut, cut_raw = tmp_path / "empty.nii.gz", tmp_path / "cut.nii.gz", tmp_path / "cut.nii"
    empty.write_bytes(b"")
    cut.write_bytes(gzip.compress(raw[:200]))
    cut_raw.write_bytes(raw[:200])
    for path in (empty, cut, cut_raw):
        for check in (check_complete, read_header, check_intensities):
            with pytest.raises(InputError, match="ends within its NIfTI header") as e:
                check(path)
            assert str(path) in str(e.value)


def test_two_conversions_to_one_id_at_once_is_one_clear_error(nnunet_env, monkeypatch):
    """Issue 25: a second conversion finishing first made the first one's final rename an OSError traceback."""
    from nnunet_semantic.dataset_conversion import common

    write_metadata = common._write_metadata

    def meanwhile(folder, *args):  # the other conversion lands while this one writes its metadata
        write_metadata(folder, *args)
        (nnunet_env / "nnUNet_raw" / "Dataset013_SemanticPhantom" / "imagesTr").mkdir(parents=True)

    monkeypatch.setattr(common, "_write_metadata", meanwhile)
    with pytest.raises(SemanticError, match="appeared while this conversion ran"):
        convert_phantom(13, cases=2, test_cases=0)
    assert [p.name for p in (nnunet_env / "nnUNet_raw").iterdir()] == ["Dataset013_SemanticPhantom"]


def _unwritable() -> Path:
    """A folder no one may write, root included (the tests run as root, for whom chmod does not protect a
    folder): /sys where the system mounts it read-only."""
    folder = Path("/sys/nnunet_semantic_output")
    try:
        folder.mkdir()
    except OSError:
        return folder
    folder.rmdir()
    pytest.skip("/sys is writable here")


def test_an_unwritable_output_is_one_error_naming_it(model, nnunet_env, capsys, monkeypatch):
    """predict, evaluate, report and convert with an output the file system refuses: one line naming it."""
    from nnunet_semantic.evaluation.cli import evaluate_entry
    from nnunet_semantic.evaluation.metrics import reference_mask
    from nnunet_semantic.prompts.sidecar import read_sidecar_folder

    out = _unwritable()
    raw = convert_phantom(10, cases=2, test_cases=1)
    perfect = nnunet_env / "perfect"  # each test prompt's reference mask, as a prediction
    for case, prompts in read_sidecar_folder(raw / "prompts").items():
        if (raw / "labelsTs" / f"{case}.nii.gz").is_file():
            seg = sitk.ReadImage(str(raw / "labelsTs" / f"{case}.nii.gz"))
            for p in prompts:
                mask = sitk.GetImageFromArray(reference_mask(sitk.GetArrayFromImage(seg), p.target, p.avoid)
                                              .astype(np.uint8))
                mask.CopyInformation(seg)
                perfect.mkdir(exist_ok=True)
                sitk.WriteImage(mask, str(perfect / prediction_name(case, p.text)))
    evaluate = ["-ref", str(raw / "labelsTs"), "-pred", str(perfect), "-prompts", str(raw / "prompts"), "-o"]
    summary = nnunet_env / "summary.json"
    assert evaluate_entry([*evaluate, str(summary)]) == 0
    commands = {
        "predict": lambda: _predict(model, out / "predictions", "-P", "organ"),
        "evaluate": lambda: evaluate_entry([*evaluate, str(out / "summary.json")]),
        "report": lambda: main(["report", str(summary), "-o", str(out / "report.html")]),
        "convert": lambda: (monkeypatch.setenv("nnUNet_raw", str(out)),
                            main(["convert", "phantom", "-d", "11", "--cases", "2", "--test-cases", "0"]))[1]}
    capsys.readouterr()
    for name, command in commands.items():
        assert command() == 1, name
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith("error: ") and str(out) in err, (name, err)


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_a_damaged_checkpoint_is_one_error_naming_it(smoke_model, tmp_path, monkeypatch, capsys, damage):
    import shutil

    fold, _ = smoke_model
    model = tmp_path / "results" / fold.parent.parent.name / fold.parent.name
    shutil.copytree(fold.parent, model, ignore=shutil.ignore_patterns("validation*", "*.png", "*.txt"))
    checkpoint = model / "fold_0" / "checkpoint_final.pth"
    checkpoint.write_bytes(b"" if damage == "empty" else checkpoint.read_bytes()[: checkpoint.stat().st_size // 2])
    monkeypatch.setenv("nnUNet_results", str(tmp_path / "results"))
    images = tmp_path / "images"
    raw = fold.parents[3] / "nnUNet_raw" / fold.parent.parent.name / "imagesTr"
    images.mkdir()
    shutil.copy(next(raw.glob("*_0000.nii.gz")), images)
    code = predict_entry(["-i", str(images), "-o", str(tmp_path / "out"), "-d", "104", "-c", "2d_cpu", "-tr",
                          "SemanticTrainer_smoke", "-f", "0", "-device", "cpu", "-P", "hippocampus"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1].startswith("error: ") and str(checkpoint) in err[-1], err[-3:]
