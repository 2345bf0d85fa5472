"""A merged dataset with a plan per source (`nnunet-semantic plan-sources`): each source keeps its own spacing and
patch inside one network, in preprocessing, training batches, validation and prediction."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest
from conftest import nnunet_folders
from helpers import nnunet_v2_dataset, read_nii, script, snapshot, trainer_on, write_nii

from nnunet_semantic.cli import main
from nnunet_semantic.dataset_conversion.nnunet import convert_nnunet
from nnunet_semantic.dataset_conversion.phantom import convert_phantom
from nnunet_semantic.source_plans import merged_plans, nearest_source, network_strides, source_managers
from nnunet_semantic.trainers import SemanticTrainer
from nnunet_semantic.trainers.sources import SourceMixer

GLIOMA_SPACING = (3.0, 2.0, 2.0)  # the phantom's is (2, 1, 1): one plan would resample one of them


def _coarse_glioma(raw, dataset_id: int):
    """The test glioma dataset with a coarser voxel (its images rewritten with GLIOMA_SPACING)."""
    folder = nnunet_v2_dataset(raw, dataset_id, n=5, channels=("MRI",))
    for path in sorted(folder.glob("*Tr/*.nii.gz")):
        write_nii(path, read_nii(path), GLIOMA_SPACING[::-1])
    return folder


def _plans(configuration: dict) -> dict:
    return {"configurations": {"2d": configuration}, "dataset_name": "D", "plans_name": "nnUNetPlans"}


def _configuration(patch, strides, batch):
    n = len(strides)
    return {"patch_size": patch, "batch_size": batch, "spacing": [1.0, 1.0], "data_identifier": "nnUNetPlans_2d",
            "architecture": {"arch_kwargs": {"n_stages": n, "strides": strides}}}


def test_the_deepest_network_is_shared_and_every_patch_fits_it():
    small = _plans(_configuration([56, 40], [[1, 1], [2, 2], [2, 2], [2, 2]], 64))
    large = _plans(_configuration([256, 224], [[1, 1], *[[2, 2]] * 6], 2))
    plans, shared = merged_plans({"small": small, "large": large}, "2d", "Dataset700_M", "nnUNetPlans")
    assert shared == "large"
    configurations = plans["configurations"]
    assert configurations["2d"]["source_configurations"] == {"small": "2d@small", "large": "2d@large"}
    assert network_strides(configurations["2d"]) == [64, 64]
    assert configurations["2d@large"]["patch_size"] == [256, 256] and configurations["2d@large"]["batch_size"] == 2
    # the small source's patch grows to the shared strides with a bottleneck of 2 x 2; its batch fills what the
    # shared plan's batch takes (2 x 256 x 224 voxels), at most its own
    assert configurations["2d@small"]["patch_size"] == [128, 128]
    assert configurations["2d@small"]["batch_size"] == round(2 * 256 * 224 / 128**2)
    assert configurations["2d@small"]["own_patch_size"] == [56, 40]
    # a plan-cpu configuration (inheriting from 2d) is resolved: the merge names no configuration it lacks
    for p, batch in ((small, 8), (large, 1)):
        p["configurations"]["2d_cpu"] = {"inherits_from": "2d", "batch_size": batch}
    plans, _ = merged_plans({"small": small, "large": large}, "2d_cpu", "Dataset700_M", "nnUNetPlans")
    assert set(plans["configurations"]) == {"2d_cpu", "2d_cpu@small", "2d_cpu@large"}
    assert all("inherits_from" not in c for c in plans["configurations"].values())
    assert plans["configurations"]["2d_cpu@large"]["batch_size"] == 1
    assert plans["configurations"]["2d_cpu@small"]["batch_size"] == round(1 * 256 * 224 / 128**2)


@pytest.fixture(scope="module")
def per_source(tmp_path_factory):
    """The phantom (2 x 1 x 1 mm) and a coarse glioma dataset (3 x 2 x 2 mm) merged, planned by `plan-sources`."""
    with nnunet_folders(tmp_path_factory.mktemp("nnunet"), nnUNet_n_proc_DA="0") as (root, env):
        convert_phantom(10, cases=5, test_cases=0)
        _coarse_glioma(root / "nnUNet_raw", 501)
        convert_nnunet("501", 11)
        sources = {d: snapshot(root / "nnUNet_raw" / d) for d in ("Dataset010_SemanticPhantom", "Dataset011_Glioma")}
        assert main(["merge", "-d", "700", "--from", "10", "11", "--disjoint"]) == 0
        for configuration in ("2d", "3d_fullres"):
            assert main(["plan-sources", "-d", "700", "-c", configuration, "-np", "1"]) == 0
        assert {d: snapshot(root / "nnUNet_raw" / d) for d in sources} == sources  # the sources' data untouched
        yield root, env


def test_each_source_is_preprocessed_at_its_own_spacing(per_source):
    root, _ = per_source
    pre = root / "nnUNet_preprocessed"
    plans = json.loads((pre / "Dataset700_Merged" / "nnUNetPlans.json").read_text())
    own = {key: json.loads((pre / f"Dataset0{i}_{name}" / "nnUNetPlans.json").read_text())["configurations"]["2d"]
           for key, i, name in (("SemanticPhantom", 10, "SemanticPhantom"), ("Glioma", 11, "Glioma"))}
    for key, c in own.items():  # planned by nnU-Net on its own (it had no plans), kept in the merge
        merged = plans["configurations"][f"2d@{key}"]
        assert merged["spacing"] == c["spacing"] and merged["normalization_schemes"] == c["normalization_schemes"]
        assert all(m >= o and m % s == 0 for m, o, s in
                   zip(merged["patch_size"], c["patch_size"], network_strides(plans["configurations"]["2d"])))
    assert own["Glioma"]["spacing"] == list(GLIOMA_SPACING[1:])
    from nnunetv2.training.dataloading.nnunet_dataset import infer_dataset_class

    folder = pre / "Dataset700_Merged" / plans["configurations"]["2d"]["data_identifier"]
    dataset = infer_dataset_class(str(folder))(str(folder))
    glioma = read_nii(root / "nnUNet_raw" / "Dataset501_Glioma" / "imagesTr" / "glioma_000_0000.nii.gz")
    data, seg, _, properties = dataset.load_case("Glioma_glioma_000")
    assert data.shape[1:] == glioma.shape  # not resampled to the phantom's 1 mm (one plan's spacing)
    assert np.allclose(properties["spacing"], GLIOMA_SPACING)
    assert (pre / "Dataset700_Merged" / "gt_segmentations" / "Glioma_glioma_000.nii.gz").is_file()


def test_plan_sources_refuses_to_replace_a_plan_of_the_merge_as_one_dataset(per_source, capsys):
    root, _ = per_source
    path = root / "nnUNet_preprocessed" / "Dataset700_Merged" / "nnUNetPlans_one.json"
    one = json.loads(path.with_name("nnUNetPlans.json").read_text())
    one["configurations"]["2d"].pop("source_configurations")
    path.write_text(json.dumps(one))
    assert main(["plan-sources", "-d", "700", "-c", "2d", "-p", "nnUNetPlans_one"]) != 0
    err = capsys.readouterr().err
    assert "nnUNetPlans_one.json" in err and "--overwrite" in err


@pytest.mark.parametrize("configuration", ["2d", "3d_fullres"])
def test_each_batch_is_one_source_at_its_own_patch(per_source, configuration):
    root, _ = per_source
    pre = root / "nnUNet_preprocessed" / "Dataset700_Merged"
    plans = json.loads((pre / "nnUNetPlans.json").read_text())
    trainer = trainer_on(type("T", (SemanticTrainer,), {}), pre, configuration)
    train, val = trainer.get_dataloaders()
    assert isinstance(train, SourceMixer) and set(train.keys) == {"SemanticPhantom", "Glioma"}
    seen = set()
    for _ in range(12):
        batch = next(train)
        source = {trainer.sources.of_case[k] for k in batch["keys"]}
        assert len(source) == 1
        (source,) = source
        planned = plans["configurations"][f"{configuration}@{source}"]
        assert list(batch["data"].shape[2:]) == planned["patch_size"]
        assert batch["data"].shape[0] == planned["batch_size"]
        seen.add(source)
    assert seen == {"SemanticPhantom", "Glioma"}
    train._finish()
    val._finish()


def test_the_validation_epoch_takes_batches_of_different_sizes(per_source):
    """Each source's batch has its own size, so one epoch's per-prompt values differ in length."""
    root, _ = per_source
    trainer = trainer_on(type("T", (SemanticTrainer,), {}), root / "nnUNet_preprocessed" / "Dataset700_Merged", "2d")

    def output(n: int, tp: float) -> dict:
        scalar = np.array(0.5)
        return {"loss": scalar, "exclusion_loss": scalar, "tp_hard": np.array([tp * n]), "fp_hard": np.zeros(1),
                "fn_hard": np.zeros(1), "tp_sample": np.full(n, tp), "fp_sample": np.zeros(n),
                "fn_sample": np.full(n, 1.0), "level": np.ones(n)}

    trainer.logger.log("train_exclusion_losses", 0.5, 0)  # as the epoch's training half leaves it
    trainer.on_validation_epoch_end([output(12, 1.0), output(16, 3.0)])
    expected = 2 * (12 + 48) / (2 * (12 + 48) + 28)  # Dice over all 28 L1 prompts' counts
    assert trainer.logger.get_value("dice_L1", 0) == pytest.approx(expected)


def test_a_new_image_is_predicted_with_the_plan_of_the_nearest_spacing(per_source):
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    root, _ = per_source
    plans = PlansManager(json.loads((root / "nnUNet_preprocessed" / "Dataset700_Merged" / "nnUNetPlans.json")
                                    .read_text()))
    managers = source_managers(plans, plans.get_configuration("2d"))
    assert nearest_source(managers, GLIOMA_SPACING) == "Glioma"
    assert nearest_source(managers, (2.0, 1.0, 1.0)) == "SemanticPhantom"
    assert nearest_source(managers, (2.5, 1.8, 1.8)) == "Glioma"


def test_a_model_with_a_plan_per_source_trains_validates_and_predicts(per_source, tmp_path):
    root, env = per_source
    run = dict(capture_output=True, text=True, env={**os.environ, **env})
    result = subprocess.run([script("nnUNetv2_train"), "700", "2d", "0", "-tr", "SemanticTrainer_smoke", "-device",
                             "cpu"], **run)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    fold = root / "nnUNet_results" / "Dataset700_Merged" / "SemanticTrainer_smoke__nnUNetPlans__2d" / "fold_0"
    glioma_val = [p for p in (fold / "validation").glob("Glioma_*.nii.gz")]
    assert glioma_val  # validation at each source's own geometry: the reference's shape, no resampling mismatch
    for path in glioma_val:
        reference = read_nii(root / "nnUNet_preprocessed" / "Dataset700_Merged" / "gt_segmentations" / path.name)
        assert read_nii(path).shape == reference.shape
    images = tmp_path / "images"
    source = root / "nnUNet_raw" / "Dataset501_Glioma" / "imagesTr" / "glioma_000_0000.nii.gz"
    write_nii(images / "scan_0000.nii.gz", read_nii(source), GLIOMA_SPACING[::-1])  # no source prefix in its name
    result = subprocess.run([script("nnUNetv2_predict_semantic"), "-i", str(images), "-o", str(tmp_path / "p"),
                             "-d", "700", "-c", "2d", "-tr", "SemanticTrainer_smoke", "-f", "0", "-device", "cpu",
                             "--disable_tta", "-P", "the enhancing tumour"], **run)
    assert result.returncode == 0, result.stderr[-3000:]
    used = json.loads((tmp_path / "p" / "prompts_used.json").read_text())["cases"]["scan"]
    assert used[0]["plan_source"] == "Glioma"
    assert read_nii(next((tmp_path / "p").glob("scan__*.nii.gz"))).shape == read_nii(source).shape
    result = subprocess.run([script("nnUNetv2_predict_semantic"), "-i", str(images), "-o", str(tmp_path / "q"),
                             "-d", "700", "-c", "2d", "-tr", "SemanticTrainer_smoke", "-f", "0", "-device", "cpu",
                             "--source", "Nowhere", "-P", "the enhancing tumour"], **run)
    assert result.returncode != 0 and "Nowhere" in result.stderr and "SemanticPhantom" in result.stderr
