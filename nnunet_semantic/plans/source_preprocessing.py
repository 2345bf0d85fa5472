"""`nnunet-semantic plan-sources`: a merged dataset planned and preprocessed with each source's own plan
(`nnunet_semantic/source_plans.py`), in place of `nnUNetv2_plan_and_preprocess` for a merge; `nnUNetv2_train` then
trains it as usual."""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import shutil
from pathlib import Path

from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
from tqdm import tqdm

from nnunet_semantic.errors import InputError, SemanticError
from nnunet_semantic.paths import dataset_name, preprocessed_dataset_folder, raw_dataset_folder
from nnunet_semantic.source_plans import SOURCES_KEY, merged_plans, source_managers


def _own_plans(source_dataset: str, plans_name: str, configuration: str, num_processes: int, log) -> dict:
    """A source's own nnU-Net plans, made by nnU-Net's planner where it has none yet (as `nnUNetv2_plan_experiment`
    would: its fingerprint and plans in its preprocessed folder, nothing of its raw data touched)."""
    folder = preprocessed_dataset_folder(source_dataset)
    path = folder / f"{plans_name}.json"
    if not path.is_file():
        if plans_name != "nnUNetPlans":
            raise SemanticError(f"{path} not found: plan the source {source_dataset} with {plans_name} first")
        from nnunetv2.experiment_planning.plan_and_preprocess_api import extract_fingerprints, plan_experiments
        from nnunetv2.utilities.dataset_name_id_conversion import convert_dataset_name_to_id

        raw_dataset_folder(source_dataset)  # our error where the source's raw folder is gone
        log(f"planning the source {source_dataset} on its own (nnU-Net's fingerprint and planner)")
        dataset_id = convert_dataset_name_to_id(dataset_name(source_dataset))
        with _planner_threads(), contextlib.redirect_stdout(io.StringIO()):  # its configurations are printed below
            extract_fingerprints([dataset_id], num_processes=num_processes, clean=False, verbose=False)
            plan_experiments([dataset_id])
    plans = json.loads(path.read_text())
    if configuration not in plans["configurations"]:
        hint = (
            f"`nnunet-semantic plan-cpu -d {source_dataset} -c {configuration.removesuffix('_cpu')}`"
            if configuration.endswith("_cpu")
            else f"nnU-Net's planner for {source_dataset}"
        )
        raise InputError(path, f"has no configuration '{configuration}': add it with {hint}, then plan the merge")
    return plans


@contextlib.contextmanager
def _planner_threads():
    """nnU-Net's planner sets torch's threads to nnUNet_n_proc_DA, which fails at 0 (no augmentation workers)."""
    value = os.environ.get("nnUNet_n_proc_DA")
    if value == "0":
        os.environ["nnUNet_n_proc_DA"] = "1"
    try:
        yield
    finally:
        if value is not None:
            os.environ["nnUNet_n_proc_DA"] = value


def _write_fingerprint(path: Path, info: dict, shared: str) -> None:
    """nnU-Net copies the fingerprint beside each trained fold: a merge's (where nnU-Net made none) holds every
    source's cases and, per channel, the shared network's source's intensity statistics."""
    if path.is_file():
        return
    fingerprints = {}
    for key, s in info.items():
        own = preprocessed_dataset_folder(s["dataset"]) / "dataset_fingerprint.json"
        if own.is_file():
            fingerprints[key] = json.loads(own.read_text())
    if not fingerprints:
        return
    merged = dict(fingerprints.get(shared, next(iter(fingerprints.values()))))
    for field in ("spacings", "shapes_after_crop"):
        merged[field] = [v for f in fingerprints.values() for v in f.get(field, [])]
    path.write_text(json.dumps(merged | {"sources": list(fingerprints)}, indent=1))


def _preprocess(job: tuple) -> None:
    out, images, label, plans_manager, configuration_manager, dataset_json = job
    configuration_manager.preprocessor_class(verbose=False).run_case_save(
        out, images, label, plans_manager, configuration_manager, dataset_json
    )


def plan_sources(
    dataset: str,
    configuration: str = "2d",
    plans_name: str = "nnUNetPlans",
    num_processes: int = 2,
    overwrite: bool = False,
    log=print,
) -> dict:
    """Plan and preprocess the merged `dataset` with a plan per source; returns the merged plans."""
    from nnunetv2.utilities.utils import get_filenames_of_train_images_and_targets

    raw = raw_dataset_folder(dataset)
    dataset_json = json.loads((raw / "dataset.json").read_text())
    info = dataset_json.get("semantic", {}).get("sources")
    if not info:
        raise InputError(
            raw / "dataset.json",
            "field 'semantic.sources' is missing: plan-sources plans a dataset made by `nnunet-semantic merge` "
            "(a single dataset is planned by nnUNetv2_plan_and_preprocess)",
        )
    cases = get_filenames_of_train_images_and_targets(str(raw), dataset_json)
    of_case = {case: key for key, s in info.items() for case in s["cases"]}
    missing = sorted(set(cases) - set(of_case))
    if missing:
        raise InputError(raw / "dataset.json", f"cases {missing[:3]} belong to no source in 'semantic.sources'")
    folder = preprocessed_dataset_folder(dataset)
    plans_path = folder / f"{plans_name}.json"
    existing = json.loads(plans_path.read_text()) if plans_path.is_file() else None
    planned = (existing or {}).get("configurations", {}).get(configuration)
    if planned is not None and SOURCES_KEY not in planned and not overwrite:
        raise InputError(
            plans_path,
            f"already plans '{configuration}' as one dataset (nnUNetv2_plan_and_preprocess): give --overwrite to "
            "replace it with a plan per source, or -p another plans name",
        )
    own = {key: _own_plans(s["dataset"], plans_name, configuration, num_processes, log) for key, s in info.items()}
    plans, shared = merged_plans(own, configuration, raw.name, plans_name)
    if existing is not None:  # the plans' other configurations are kept
        existing["configurations"] = {
            name: c
            for name, c in existing["configurations"].items()
            if name != configuration and not name.startswith(f"{configuration}@")
        }
        plans["configurations"] = {**existing["configurations"], **plans["configurations"]}
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(raw / "dataset.json", folder / "dataset.json")
    _write_fingerprint(folder / "dataset_fingerprint.json", info, shared)
    plans_path.write_text(json.dumps(plans, indent=1))

    manager = PlansManager(plans)
    managers = source_managers(manager, manager.get_configuration(configuration))
    out = folder / plans["configurations"][configuration]["data_identifier"]
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    gt = folder / "gt_segmentations"
    gt.mkdir(exist_ok=True)
    for key, (_, cm) in managers.items():
        log(
            f"  {key}: spacing {[round(s, 3) for s in cm.spacing]}, patch {cm.patch_size}, batch {cm.batch_size}, "
            f"{cm.normalization_schemes}" + (" (its network is the one shared)" if key == shared else "")
        )
    jobs = [
        (str(out / case), c["images"], c["label"], *managers[of_case[case]], dataset_json) for case, c in cases.items()
    ]
    for case, c in cases.items():
        shutil.copy(c["label"], gt / f"{case}{dataset_json['file_ending']}")
    if num_processes <= 1:
        for job in tqdm(jobs, desc="preprocessing"):
            _preprocess(job)
    else:
        with multiprocessing.get_context("spawn").Pool(num_processes) as pool:
            for _ in tqdm(pool.imap_unordered(_preprocess, jobs), total=len(jobs), desc="preprocessing"):
                pass
    return plans
