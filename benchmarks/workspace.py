"""A benchmark workspace: real datasets converted, planned and preprocessed by nnU-Net once, with 2d_cpu (or
3d_fullres_cpu).

Each dataset is a folder of `$nnUNet_raw` under the workspace, made by the converter a user would run:
the MSD hippocampus (`convert msd`), CHAOS T2 abdominal MRI (`convert nnunet`, its shipped ontology recognised by
labels and channel), the synthetic phantom (`convert phantom`), or any dataset id already converted there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nnunet_semantic.environment import apply, environment

REPO = Path(__file__).resolve().parents[1]
# the real data: $NNUNET_SEMANTIC_TEST_DATA, or shared/data beside the checkout (where CI puts it)
DATA = Path(os.environ.get("NNUNET_SEMANTIC_TEST_DATA", REPO.parent / "shared" / "data"))
HIPPOCAMPUS = DATA / "msd_hippocampus"
DATASET_ID, DATASET = 4, "Dataset004_Hippocampus"


def _hippocampus(overwrite: bool) -> None:
    from nnunet_semantic.dataset_conversion.msd import convert_msd

    convert_msd(HIPPOCAMPUS, DATASET_ID, overwrite=overwrite, num_processes=2)


def _chaos(overwrite: bool) -> None:
    from nnunet_semantic.dataset_conversion.nnunet import convert_nnunet

    convert_nnunet(DATA / "chaos_t2", 560, overwrite=overwrite, num_processes=2)


def _phantom(overwrite: bool) -> None:
    from nnunet_semantic.dataset_conversion.phantom import convert_phantom

    convert_phantom(990, cases=40, test_cases=10, overwrite=overwrite, num_processes=2)


@dataclass(frozen=True)
class BenchDataset:
    """A dataset a benchmark trains on: its nnU-Net name and how its raw folder is made (None: already there)."""

    name: str
    convert: Callable[[bool], None] | None = None

    @property
    def id(self) -> int:
        return int(self.name[7:10])


DATASETS = {"hippocampus": BenchDataset(DATASET, _hippocampus),
            "chaos": BenchDataset("Dataset560_CHAOS_T2SPIR", _chaos),
            "phantom": BenchDataset("Dataset990_SemanticPhantom", _phantom)}


def bench_dataset(key: str) -> BenchDataset:
    """A key of DATASETS, or the id / name of a dataset converted into the workspace's nnUNet_raw."""
    if key in DATASETS:
        return DATASETS[key]
    from nnunetv2.utilities.dataset_name_id_conversion import maybe_convert_to_dataset_name

    try:
        return BenchDataset(maybe_convert_to_dataset_name(key))
    except RuntimeError as e:
        raise SystemExit(f"--dataset {key}: not one of {', '.join(DATASETS)} and not in $nnUNet_raw ({e})") from None


def prepare(root: Path, batch_size: int | None = None, dataset: str = "hippocampus", source: str = "2d") -> Path:
    """nnU-Net folders under `root` (reused when already prepared), the `source` configuration preprocessed and its
    CPU-sized one (`2d_cpu`, `3d_fullres_cpu`) in the plans; returns the preprocessed dataset folder."""
    from nnunet_semantic.plans.cpu import add_cpu_configuration, cpu_configuration
    from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER

    apply(environment(root))
    bench = bench_dataset(dataset)
    pre, raw = root / "nnUNet_preprocessed" / bench.name, root / "nnUNet_raw" / bench.name
    if not (raw / HELDOUT_FOLDER).is_dir() and bench.convert:  # absent, or converted before held-out wordings
        bench.convert(raw.is_dir())
        if (pre / "dataset.json").is_file():  # the images are the same; the ontology nnU-Net copied is not
            shutil.copyfile(raw / "dataset.json", pre / "dataset.json")
    plans_file = pre / "nnUNetPlans.json"
    if not (pre / f"nnUNetPlans_{source}").is_dir():
        kept = json.loads(plans_file.read_text())["configurations"] if plans_file.is_file() else {}
        bin_dir = Path(sys.executable).parent
        subprocess.run([str(bin_dir / "nnUNetv2_plan_and_preprocess"), "-d", str(bench.id), "-c", source,
                        "-np", "2"], check=True)
        plans = json.loads(plans_file.read_text())  # planning rewrote it: the CPU configurations sized before stay
        plans["configurations"] |= {k: v for k, v in kept.items() if k.endswith("_cpu")}
        plans_file.write_text(json.dumps(plans, indent=4))
    if cpu_configuration(source) not in json.loads(plans_file.read_text())["configurations"] or batch_size:
        add_cpu_configuration(pre, batch_size=batch_size, source=source)
    return pre


def trainer(cls, pre: Path, configuration: str = "2d_cpu", fold: int = 0):
    import torch

    plans = json.loads((pre / "nnUNetPlans.json").read_text()) | {"continue_training": False}
    return cls(plans, configuration, fold, json.loads((pre / "dataset.json").read_text()), torch.device("cpu"))


def bench_model(name: str, dataset: str = "hippocampus", configuration: str = "2d_cpu") -> Path:
    """The results folder of a model trained by quality.py."""
    folder = f"{name}_bench__nnUNetPlans__{configuration}"
    return Path(os.environ["nnUNet_results"]) / bench_dataset(dataset).name / folder


def model_arguments(description: str, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """`--workspace` and `--model` (added to `parser`, if given, with its own options): what a benchmark of a
    trained quality.py model reads."""
    parser = parser or argparse.ArgumentParser(description=description,
                                               formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/nnunet_semantic_bench"))
    parser.add_argument("--model", default="SemanticTrainer", help="a model trained by quality.py")
    return parser.parse_args()


def validation_predictor(pre: Path, name: str, dataset: str = "hippocampus", **predictor_args):
    """(SemanticPredictor of the model's fold 0 on the CPU, fold 0's validation case ids, their preprocessed
    dataset): the held-out cases the quality benchmark scores (40 of the hippocampus)."""
    import torch
    from nnunetv2.training.dataloading.nnunet_dataset import infer_dataset_class

    from nnunet_semantic.inference.predictor import SemanticPredictor

    predictor = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False, **predictor_args)
    predictor.initialize_from_trained_model_folder(str(bench_model(name, dataset)), [0])
    cases = json.loads((pre / "splits_final.json").read_text())[0]["val"]
    folder = pre / predictor.configuration_manager.data_identifier
    return predictor, cases, infer_dataset_class(str(folder))(str(folder), cases)
