"""Issue 6 (prediction): nnUNetv2_predict_semantic on a smoke-trained model of real hippocampus data, then
nnUNetv2_evaluate_semantic on what it wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from conftest import DATASET
from helpers import read_nii, script, write_nii

from nnunet_semantic.inference.cli import predict_entry
from nnunet_semantic.inference.postprocessing import remove_small_components
from nnunet_semantic.prompts.sidecar import prediction_name

L1, L3 = "hippocampus", "hippocampus excluding the posterior hippocampus"
PART = "hippocampus except its back portion"


def _run(env, *args):
    return subprocess.run([script("nnUNetv2_predict_semantic"), "-d", "104", "-c", "2d_cpu", "-f", "0", "-tr",
                           "SemanticTrainer_smoke", "-device", "cpu", *args], capture_output=True, text=True,
                          env={**os.environ, **env})


@pytest.fixture(scope="module")
def inputs(planned, smoke_model, tmp_path_factory):
    root, env = planned
    raw = root / "nnUNet_raw" / DATASET
    cases = sorted(p.name[:-12] for p in (raw / "imagesTr").glob("*_0000.nii.gz"))[:4]
    folder = tmp_path_factory.mktemp("inputs")
    for c in cases:
        shutil.copy(raw / "imagesTr" / f"{c}_0000.nii.gz", folder)
    return root, env, raw, folder, cases


def test_cli_prompts_for_every_case_with_combined_map(inputs, tmp_path):
    root, env, raw, folder, cases = inputs
    result = _run(env, "-i", str(folder), "-o", str(tmp_path), "-P", L1, L3, "the left kidney", PART, "--combined",
                  "--save_probabilities", "--allow-unknown")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "the left kidney" in result.stderr and "segmenting from the free text" in result.stderr
    # issue 34 (#32): the tool's warnings are not buried under known library noise
    assert "FutureWarning" not in result.stderr and "perform_everything_on_device" not in result.stdout
    # issue 39: what was answered from free text is said in the command's output, with its nearest structure
    assert "free text: 'the left kidney' read by nearest text as 'the left kidney', nearest structure" in result.stdout
    used = json.loads((tmp_path / "prompts_used.json").read_text())
    assert used["encoder"]["name"] == "minilm" and set(used["cases"]) == set(cases)
    parse = {p["text"]: p for p in used["cases"][cases[0]]}
    assert (parse[L3]["target"], parse[L3]["avoid"], parse[L3]["neg_text"]) == ([1, 2], [2], "posterior hippocampus")
    assert parse["the left kidney"]["parsed"] is False
    nearest = parse["the left kidney"]["nearest"]  # issue 14: how far a free-text prompt is from what was trained
    assert nearest["low_confidence"] and nearest["similarity"] < 0.5 and "low confidence" in result.stderr
    assert "nearest" not in parse[L1]
    # issue 26: a part named relative to its structure is read by the direction lexicon, and the model is given
    # the part's name; how each part was read is recorded
    assert (parse[PART]["avoid"], parse[PART]["encoded"]["exclusion"]) == ([2], "posterior hippocampus")
    assert [r["by"] for r in parse[PART]["resolution"]] == ["ontology", "direction lexicon"]
    assert 0 < used["unknown_threshold"] < 1 and nearest["threshold"] == used["unknown_threshold"]
    assert parse["the left kidney"]["resolution"][0]["by"] == "nearest text"
    # issue 12: stray components under a tenth of the smallest training volume of a parsed prompt's set go
    assert used["min_component_fraction"] == 0.1 and parse[L3]["min_component_voxels"] > 10
    assert parse["the left kidney"]["min_component_voxels"] == 0
    image = read_nii(folder / f"{cases[0]}_0000.nii.gz")
    for text in (L1, L3):
        mask = read_nii(tmp_path / prediction_name(cases[0], text))
        assert mask.shape == image.shape and set(np.unique(mask)) <= {0, 1}
        probs = np.load(tmp_path / prediction_name(cases[0], text).replace(".nii.gz", ".npz"))["probabilities"]
        assert probs.shape == (2, *image.shape) and np.allclose(probs.sum(0), 1, atol=1e-4)
    combined = read_nii(tmp_path / f"{cases[0]}__combined.nii.gz")
    assert combined.shape == image.shape and set(np.unique(combined)) <= {0, 1, 2, 3, 4}
    # issue 34 (#10): where prompts' masks meet, the label map keeps the later prompt's label: said, per pair
    texts = [L1, L3, "the left kidney", PART]
    masks = {(c, t): read_nii(tmp_path / prediction_name(c, t)) > 0 for c in cases for t in texts}
    met = {(a, b) for c in cases for i, a in enumerate(texts) for b in texts[i + 1:]
           if (masks[c, a] & masks[c, b]).any()}
    assert ("--combined: prompts' masks overlap" in result.stderr) == bool(met)
    assert all(f"'{b}' painted over '{a}'" in result.stderr for a, b in met)


def test_sidecar_prompts_then_evaluation(inputs, tmp_path):
    root, env, raw, folder, cases = inputs
    out = tmp_path / "pred"
    result = _run(env, "-i", str(folder), "-o", str(out), "--prompt-file", str(raw / "prompts"), "--strict")
    assert result.returncode == 0, result.stderr[-3000:]
    used = json.loads((out / "prompts_used.json").read_text())
    assert set(used["cases"]) == set(cases)
    n_prompts = sum(len(v) for v in used["cases"].values())
    # only the cases given as input are evaluated: a sidecar folder restricted to them
    sidecars = tmp_path / "prompts"
    sidecars.mkdir()
    for c in cases:
        shutil.copy(raw / "prompts" / f"{c}.json", sidecars)
    summary_file = tmp_path / "summary.json"
    evaluation = subprocess.run([script("nnUNetv2_evaluate_semantic"), "-ref", str(raw / "labelsTr"), "-pred",
                                 str(out), "-prompts", str(sidecars), "-o", str(summary_file), "-djfile",
                                 str(out / "dataset.json")], capture_output=True, text=True)
    assert evaluation.returncode == 0, evaluation.stderr[-3000:]
    summary = json.loads(summary_file.read_text())
    assert len(summary["metric_per_case"]) == n_prompts
    sem = summary["semantic"]
    assert {lv: v["n"] for lv, v in sem["per_level"].items()} == {
        lv: sum(p["level"] == int(lv[1]) for c in cases for p in json.loads((sidecars / f"{c}.json").read_text())
                ["prompts"]) for lv in ("L1", "L2", "L3")}
    assert all(0 <= v["dice"] <= 1 for v in sem["per_level"].values())


def test_bad_inputs(inputs, tmp_path, monkeypatch, capsys):
    root, env, raw, folder, cases = inputs
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    common = ["-d", "104", "-c", "2d_cpu", "-f", "0", "-tr", "SemanticTrainer_smoke", "-device", "cpu"]

    def error(*args) -> str:
        assert predict_entry([*common, "-o", str(tmp_path / "o"), *args]) == 1
        err = capsys.readouterr().err
        assert err.strip().splitlines()[-1].startswith("error: ") and "Traceback" not in err
        return err

    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps({"nope_001": [L1]}))
    assert f"error: {jobs}: case id(s) ['nope_001']" in error("-i", str(folder), "--prompt-file", str(jobs))
    jobs.write_text(json.dumps({cases[0]: "hippocampus"}))
    assert "maps case ids to lists of prompt texts" in error("-i", str(folder), "--prompt-file", str(jobs))
    jobs.write_text("{broken")
    assert f"{jobs}: not valid JSON" in error("-i", str(folder), "--prompt-file", str(jobs))
    assert "input folder not found" in error("-i", str(tmp_path / "missing"), "-P", L1)
    assert "no prompts" in error("-i", str(folder))
    assert "no trained model" in error("-i", str(folder), "-P", L1, "-p", "otherPlans")
    assert "Known structures: anterior hippocampus, hippocampus" in error("-i", str(folder), "-P", "the left kidney",
                                                                          "--strict")
    # issue 25: a .nii case among .nii.gz ones was dropped, a case with only _0001 used as channel 0, a file without
    # _0000 an IndexError, -o naming a file a FileExistsError after the model had loaded
    for bad_name, match in ((f"{cases[0]}_0000.nii", "is a .nii image, but the model reads .nii.gz"),
                            (f"{cases[0]}_0001.nii.gz", "has channel(s) _0001: channels are numbered from _0000"),
                            (f"{cases[0]}.nii.gz", "has no channel suffix")):
        odd = tmp_path / f"odd_{len(bad_name)}"
        odd.mkdir()
        shutil.copy(folder / f"{cases[1]}_0000.nii.gz", odd)
        shutil.copy(folder / f"{cases[0]}_0000.nii.gz", odd / bad_name)
        assert match in error("-i", str(odd), "-P", L1)
    escaped = error("-i", str(folder), "-P", "the left\x1b[2J kidney")  # issue 34: never echoed raw to the terminal
    assert "\x1b" not in escaped and "the left\\x1b[2J kidney" in escaped
    # issue 34: -o a raw dataset (or the model's own folder) overwrote its dataset.json with the model's
    for other in (raw, root / "nnUNet_results" / DATASET / "SemanticTrainer_smoke__nnUNetPlans__2d_cpu"):
        before = (other / "dataset.json").read_bytes()
        assert "holds a dataset.json that no prediction wrote" in error("-i", str(folder), "-P", L1, "-o", str(other))
        assert (other / "dataset.json").read_bytes() == before
    (tmp_path / "a_file").write_text("x")
    assert "exists and is not a folder" in error("-i", str(folder), "-P", L1, "-o", str(tmp_path / "a_file"))
    nan = tmp_path / "nan"  # issue 25: SimpleITK reads NaN as 0, so the model was given a wrong image in silence
    nan.mkdir()
    image = read_nii(folder / f"{cases[0]}_0000.nii.gz").astype(np.float32)
    image[0, 0, 0] = np.nan
    write_nii(nan / f"{cases[0]}_0000.nii.gz", image)
    assert "holds 1 NaN or infinite voxels" in error("-i", str(nan), "-P", L1)
    refused = error("-i", str(folder), "-P", "the left kidney")  # issue 26: refused, not answered with a guess
    assert "far from every structure the model knows" in refused and "--allow-unknown" in refused
    # issue 34 (#28): every refused prompt is named in one error, not one per rerun; --skip-refused predicts the rest
    several = error("-i", str(folder), "-P", L1, "the liver", "the left kidney")
    assert "2 of 3 prompts refused, nothing predicted (--skip-refused predicts the others)" in several
    assert "'the liver': " in several and "'the left kidney': " in several
    with pytest.warns(UserWarning, match=r"1 prompt\(s\) refused and not predicted:\n  'the liver': "):
        assert predict_entry([*common, "-o", str(tmp_path / "skip"), "-i", str(folder), "-P", L1, "the liver",
                              "--skip-refused", "-npp", "1", "-nps", "1", "--disable_tta"]) == 0
    assert sorted(p.name for p in (tmp_path / "skip").glob("*.nii.gz")) == sorted(
        prediction_name(c, L1) for c in cases)


def test_python_api_numpy_image_and_prompts(inputs, monkeypatch):
    root, env, raw, folder, cases = inputs
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    import torch

    from nnunet_semantic.inference.predictor import SemanticPredictor

    predictor = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    predictor.initialize_from_trained_model_folder(
        str(root / "nnUNet_results" / DATASET / "SemanticTrainer_smoke__nnUNetPlans__2d_cpu"), [0])
    image = read_nii(folder / f"{cases[0]}_0000.nii.gz")[None].astype(np.float32)
    masks = predictor.predict_numpy(image, [L1, L3])
    assert len(masks) == 2 and all(m.shape == image.shape[1:] and set(np.unique(m)) <= {0, 1} for m in masks)
    assert predictor.resolve(L3).neg_text == "posterior hippocampus"
    # issue 26: a target far from everything the model knows is refused, with the structures it knows, unless
    # allowed; a held-out wording and a paraphrase of a part are answered
    from nnunet_semantic.errors import SemanticError

    for text in ("kidney", "the hippocampus excluding its amygdala part", "not the anterior hippocampus"):
        with pytest.raises(SemanticError, match="Known structures: anterior hippocampus, hippocampus"):
            predictor.resolve(text)
    assert predictor.resolve("kidney", allow_unknown=True).nearest["low_confidence"]
    assert predictor.resolve("the slender back portion of the hippocampus").parse["target"] == [2]
    assert predictor.resolve("the back portion of the hippocampus").pos_text == "posterior hippocampus"
    # issue 39: an exclusion in a wording no connective reads is read with it; free text that excludes is encoded as
    # a target and an exclusion, never as one text; an exclusion whose scope cannot be told is refused, even with
    # --allow-unknown
    cut = predictor.resolve("the hippocampus with its head cut away")
    assert (cut.parse["avoid"], cut.neg_text) == ([1], "anterior hippocampus")
    free = predictor.resolve("the left kidney with its cyst cut away", allow_unknown=True)
    assert (free.parse, free.pos_text, free.neg_text) == (None, "left kidney", "its cyst")
    with pytest.raises(SemanticError, match="Known structures"):
        predictor.resolve("the left kidney with its cyst cut away")
    with pytest.raises(SemanticError, match="cannot be told"):
        predictor.resolve("the left kidney nobody removed", allow_unknown=True)
    # issue 34 (#29): one unusual held-out wording in the user's ontology ("biventricular region", far from every
    # training wording) no longer drops the threshold below organs the model does not know: "liver" stays refused
    from nnunet_semantic.prompts.ontology import Ontology

    before = predictor.unknown_threshold
    unusual = predictor.ontology.to_dict()
    unusual["structures"]["hippocampus"]["heldout"] = [*unusual["structures"]["hippocampus"].get("heldout", []),
                                                       "biventricular region"]
    predictor.ontology, predictor._threshold = Ontology.from_dict(unusual), None
    basis = (predictor.unknown_threshold, predictor.threshold_basis)[1]
    assert basis["heldout_least_similar"]["text"] == "biventricular region"
    assert predictor.unknown_threshold >= basis["unknown_most_similar"]["similarity"] + predictor.MARGIN - 1e-4
    assert predictor.unknown_threshold > basis["heldout_least_similar"]["similarity"] and before > 0
    for organ in ("liver", "heart", "lung", "kidney", "spleen"):
        with pytest.raises(SemanticError, match="far from every structure"):
            predictor.resolve(organ)


def test_a_compiled_network_loads_its_weights_as_nnunet_loads_them(inputs, monkeypatch, tmp_path):
    """Issue 35: with nnUNet_compile=t (nnU-Net's default on a GPU) nnU-Net's predictor wraps the network in
    torch.compile; the fold weights load into its _orig_mod, and the masks are those of the plain network, through
    the Python API (`predict_numpy`) and through `predict_from_files` (the command's loop)."""
    root, env, raw, folder, cases = inputs
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    import torch
    from torch._dynamo import OptimizedModule

    from nnunet_semantic.inference.predictor import SemanticPredictor

    image = read_nii(folder / f"{cases[0]}_0000.nii.gz")[None].astype(np.float32)
    masks = []
    for compile_flag in ("f", "t"):
        monkeypatch.setenv("nnUNet_compile", compile_flag)
        predictor = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False)
        predictor.initialize_from_trained_model_folder(
            str(root / "nnUNet_results" / DATASET / "SemanticTrainer_smoke__nnUNetPlans__2d_cpu"), [0])
        assert isinstance(predictor.network, OptimizedModule) == (compile_flag == "t")
        masks.append(predictor.predict_numpy(image, [L1, L3]))
    assert all(np.array_equal(a, b) for a, b in zip(*masks))
    used = predictor.predict_from_files(folder, tmp_path / "out", [L1, L3], num_processes_preprocessing=1,
                                        num_processes_segmentation_export=1)
    assert used["trainer"] == "SemanticTrainer_smoke" and used["configuration"] == "2d_cpu" and used["folds"] == [0]
    assert used["unknown_threshold_basis"]["unknown_most_similar"]["text"]
    assert json.loads((tmp_path / "out" / "prompts_used.json").read_text()) == used
    for prompt, mask in zip(used["cases"][cases[0]], masks[0]):
        assert np.array_equal(read_nii(tmp_path / "out" / prompt["file"]), mask), prompt["text"]


def test_checkpoints_of_version_2_load_and_those_without_a_fusion_site_are_encoder_fusion(inputs, tmp_path,
                                                                                           monkeypatch):
    """Checkpoints written before the network config travelled with the weights (a `semantic` entry, the heads'
    parameters named as attributes of the network) still load and predict; those trained before the site was
    recorded gated the encoder additively, without text centring; a site that does not match the weights is one
    clear error."""
    root, env, raw, folder, cases = inputs
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    import torch

    from nnunet_semantic.errors import SemanticError
    from nnunet_semantic.inference.predictor import SemanticPredictor
    from nnunet_semantic.networks import NetworkConfig, build_network
    from nnunet_semantic.networks.card import RENAMED, checkpoint_card

    model = tmp_path / "model"
    shutil.copytree(root / "nnUNet_results" / DATASET / "SemanticTrainer_smoke__nnUNetPlans__2d_cpu", model)
    path = model / "fold_0" / "checkpoint_final.pth"
    checkpoint = torch.load(path, weights_only=False)
    card = checkpoint_card(checkpoint, path)
    assert card["config"]["site"] == "decoder" and card["config"]["head"] == "labels" and card["version"] == 3
    predictor = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    predictor.initialize_from_trained_model_folder(str(model), [0])  # as saved: for its configuration
    meta = {"version": 2, "text_dim": card["config"]["text_dim"], "fusion": "cmsg", "frequency_input": "dwt",
            "frequency_backbone": "auto", **{k: card[k] for k in ("text_encoder", "encoder_fingerprint", "ontology",
                                                                   "label_counts", "merged_prompt")}}
    old = build_network(predictor.configuration_manager, 1, NetworkConfig(meta["text_dim"], head="cmsg",
                                                                          site="encoder"))

    def version_2_name(key: str) -> str:
        for before, now in RENAMED:
            if key.startswith(now):
                return before + key[len(now):]
        return key

    checkpoint["network_weights"] = {version_2_name(k): v for k, v in old.state_dict().items() if k != "centre.mean"}
    checkpoint["semantic"] = meta
    torch.save(checkpoint, path)
    predictor.initialize_from_trained_model_folder(str(model), [0])
    assert predictor.network.config.site == "encoder"
    image = read_nii(folder / f"{cases[0]}_0000.nii.gz")[None].astype(np.float32)
    assert predictor.predict_numpy(image, [L3])[0].shape == image.shape[1:]
    meta["fusion_site"] = "decoder"
    torch.save(checkpoint, path)
    with pytest.raises(SemanticError, match="weights do not fit"):
        predictor.initialize_from_trained_model_folder(str(model), [0])


def test_continue_prediction_redoes_a_cut_off_output_and_duplicates_are_predicted_once(inputs, tmp_path,
                                                                                          monkeypatch):
    """Issue 25: `--continue_prediction` kept a 60-byte truncated output; `--combined -P X X` kept the duplicate,
    whose label could never appear."""
    root, env, raw, folder, cases = inputs
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(folder / f"{cases[0]}_0000.nii.gz", one)
    out = tmp_path / "out"
    common = ["-i", str(one), "-o", str(out), "-d", "104", "-c", "2d_cpu", "-f", "0", "-tr", "SemanticTrainer_smoke",
              "-device", "cpu", "--disable_tta", "-npp", "1", "-nps", "1"]
    with pytest.warns(UserWarning, match="given more than once; predicted once"):
        assert predict_entry([*common, "-P", L1, L1, "--combined"]) == 0
    used = json.loads((out / "prompts_used.json").read_text())["cases"][cases[0]]
    assert [p["text"] for p in used] == [L1]
    target = out / prediction_name(cases[0], L1)
    whole = target.read_bytes()
    target.write_bytes(whole[:60])
    assert predict_entry([*common, "-P", L1, "--continue_prediction"]) == 0
    assert target.read_bytes() == whole
    # issue 34 (#8): a second run into the folder keeps the first run's record (its files stay scorable); a run of
    # other settings is refused instead of recording its settings for files the first run made
    assert predict_entry([*common, "-P", L3]) == 0
    used = json.loads((out / "prompts_used.json").read_text())["cases"][cases[0]]
    assert [p["text"] for p in used] == [L1, L3] and all((out / p["file"]).is_file() for p in used)
    assert predict_entry([*common, "-P", L1, "-step_size", "0.7", "--continue_prediction"]) == 1
    assert [p["text"] for p in json.loads((out / "prompts_used.json").read_text())["cases"][cases[0]]] == [L1, L3]


def test_a_checkpoint_in_another_datasets_model_folder_is_refused(inputs, tmp_path, monkeypatch):
    """Issue 34 (#24): a checkpoint placed under another dataset's results folder was accepted, and that folder's
    dataset.json copied to the output as if it described the model."""
    root, env, raw, folder, cases = inputs
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    import torch

    from nnunet_semantic.errors import SemanticError
    from nnunet_semantic.inference.predictor import SemanticPredictor

    model = tmp_path / "model"
    shutil.copytree(root / "nnUNet_results" / DATASET / "SemanticTrainer_smoke__nnUNetPlans__2d_cpu", model)
    plans = json.loads((model / "plans.json").read_text())
    (model / "plans.json").write_text(json.dumps(plans | {"dataset_name": "Dataset999_Other"}))
    predictor = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    with pytest.raises(SemanticError, match=f"trained on {DATASET}, but it lies in a model folder of Dataset999"):
        predictor.initialize_from_trained_model_folder(str(model), [0])


def test_an_ensemble_averages_each_prompts_probabilities_of_its_members(inputs, tmp_path):
    """Issue 37 (ensembles across configurations): nnUNetv2_ensemble_semantic averages the members' probabilities
    per case and prompt (nnU-Net's argmax of the mean), keeps only what every member answered, and refuses a member
    without probabilities, naming its file. The second member is the first with other probabilities (a 2d and a
    3d_fullres folder differ the same way: same files, other numbers)."""
    root, env, raw, folder, cases = inputs
    one = tmp_path / "in"
    one.mkdir()
    shutil.copy(folder / f"{cases[0]}_0000.nii.gz", one)
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "ensemble"
    assert _run(env, "-i", str(one), "-o", str(a), "-P", L1, L3, "--save_probabilities").returncode == 0
    shutil.copytree(a, b)
    used = json.loads((b / "prompts_used.json").read_text())
    used["cases"][cases[0]] = [e for e in used["cases"][cases[0]] if e["text"] == L1]  # b: only L1 of L3's pair
    used["mirroring"] = "other"
    (b / "prompts_used.json").write_text(json.dumps(used))
    npz = {t: prediction_name(cases[0], t).replace(".nii.gz", ".npz") for t in (L1, L3)}
    p_a = np.load(a / npz[L1])["probabilities"]
    p_b = np.stack([p_a[0] ** 2, 1 - p_a[0] ** 2])  # less sure of the background than a
    np.savez_compressed(b / npz[L1], probabilities=p_b)
    result = subprocess.run([script("nnUNetv2_ensemble_semantic"), "-i", str(a), str(b), "-o", str(out), "-np", "1",
                             "--save_npz"], capture_output=True, text=True, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr[-3000:]
    mean = (p_a + p_b) / 2
    mask = read_nii(out / prediction_name(cases[0], L1))
    limit = next(e["min_component_voxels"] for e in used["cases"][cases[0]] if e["text"] == L1)
    expected = remove_small_components((mean[1] > mean[0]).astype(np.uint8), limit)
    assert np.array_equal(mask, expected) and mask.sum() >= read_nii(a / prediction_name(cases[0], L1)).sum()
    assert np.allclose(np.load(out / npz[L1])["probabilities"], mean, atol=1e-6)
    assert not (out / prediction_name(cases[0], L3)).exists()  # b did not answer it
    record = json.loads((out / "prompts_used.json").read_text())
    mirroring = json.loads((a / "prompts_used.json").read_text())["mirroring"]
    assert [m["mirroring"] for m in record["ensemble_of"]] == [mirroring, "other"]
    assert [e["text"] for e in record["cases"][cases[0]]] == [L1]
    (b / npz[L1]).unlink()
    result = subprocess.run([script("nnUNetv2_ensemble_semantic"), "-i", str(a), str(b), "-o", str(tmp_path / "x")],
                            capture_output=True, text=True, env={**os.environ, **env})
    assert result.returncode == 1 and result.stderr.strip() == (
        f"error: {b / npz[L1]}: not found: predict with --save_probabilities to ensemble")
