from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest
import torch

# each pytest-xdist worker, and the nnU-Net commands it starts, gets its share of the cores: two workers of as many
# threads as cores ran a training test 2-3x slower than of one thread each (a value the user set is kept)
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    os.environ.setdefault(
        "OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    )
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

from nnunet_semantic.environment import NNUNET_FOLDERS, apply, environment

REPO = Path(__file__).resolve().parents[1]
# the real data: $NNUNET_SEMANTIC_TEST_DATA, or shared/data beside the checkout (where CI puts it)
DATA = Path(os.environ.get("NNUNET_SEMANTIC_TEST_DATA", REPO.parent / "shared" / "data"))
HIPPOCAMPUS = DATA / "msd_hippocampus"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("nnUNet_compile", "f")


@pytest.fixture
def nnunet_env(tmp_path, monkeypatch) -> Path:
    """Fresh nnUNet_raw/_preprocessed/_results under a temp dir, and the trainer shim on the lookup path."""
    for name in (*NNUNET_FOLDERS, "nnUNet_extTrainer"):
        monkeypatch.delenv(name, raising=False)
    env = environment(tmp_path / "nnunet", cuda=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    apply(env)
    return tmp_path / "nnunet"


@pytest.fixture(scope="session")
def tiny_biomedclip(tmp_path_factory) -> Path:
    from helpers import TINY_BERT, TINY_CFG, VOCAB

    from nnunet_semantic.text.biomedclip import write_random_folder

    return write_random_folder(tmp_path_factory.mktemp("biomedclip"), VOCAB, TINY_CFG, TINY_BERT)


@pytest.fixture
def hippocampus() -> Path:
    if not (HIPPOCAMPUS / "dataset.json").is_file():
        pytest.skip(f"real data not found at {HIPPOCAMPUS}")
    return HIPPOCAMPUS


DATASET = "Dataset104_Hippocampus"


@contextlib.contextmanager
def nnunet_folders(root: Path, **extra: str):
    """Fresh nnU-Net folders under `root` for a fixture wider than one test (the `monkeypatch` fixture is per test):
    yields (root, environment); the variables are restored afterwards."""
    env = environment(root, cuda=False) | extra
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        apply(env)
        yield root, env


@pytest.fixture(scope="session")
def planned(tmp_path_factory):
    """12 real hippocampus cases: converted by `nnunet-semantic convert msd`, planned and preprocessed by nnU-Net
    (its integrity check included), with a 2d_cpu configuration (batch 4). Yields (root, environment)."""
    from helpers import msd_subset, script

    from nnunet_semantic.plans.cpu import add_cpu_configuration

    if not (HIPPOCAMPUS / "dataset.json").is_file():
        pytest.skip(f"real data not found at {HIPPOCAMPUS}")
    with nnunet_folders(tmp_path_factory.mktemp("nnunet"), nnUNet_n_proc_DA="2") as (root, env):
        task = msd_subset(HIPPOCAMPUS, tmp_path_factory.mktemp("msd"), 12)
        for command in (["nnunet-semantic", "convert", "msd", "-i", str(task), "-d", "104", "-np", "1"],
                        ["nnUNetv2_plan_and_preprocess", "-d", "104", "-c", "2d", "-np", "1", "-npfp", "1",
                         "--verify_dataset_integrity"]):
            result = subprocess.run([script(command[0]), *command[1:]], capture_output=True, text=True,
                                    env={**os.environ, **env})
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        add_cpu_configuration(root / "nnUNet_preprocessed" / DATASET, batch_size=4)
    return root, env


def train(env: dict, *args: str) -> str:
    """`nnUNetv2_train 104 2d_cpu ARGS -device cpu` through nnU-Net's own CLI; returns its stdout."""
    from helpers import script

    result = subprocess.run([script("nnUNetv2_train"), "104", "2d_cpu", *args, "-device", "cpu"],
                            capture_output=True, text=True, env={**os.environ, **env})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


@pytest.fixture(scope="session")
def smoke_model(planned):
    """SemanticTrainer_smoke trained on fold 0 of `planned`: (fold folder, nnUNetv2_train's stdout)."""
    root, env = planned
    stdout = train(env, "0", "-tr", "SemanticTrainer_smoke")
    return root / "nnUNet_results" / DATASET / "SemanticTrainer_smoke__nnUNetPlans__2d_cpu" / "fold_0", stdout


@pytest.fixture(scope="session")
def phantom_demo(tmp_path_factory):
    """The README's main command, `nnunet-semantic demo`, on 10 phantom training and 4 held-out cases with the
    demo's own training recipe (SemanticTrainer_demo; the baseline left out): (root, environment, its stdout).
    One training shared by the demo's test and the exclusion tests."""
    from helpers import script

    root = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "nnUNet_n_proc_DA": "1"}
    for name in (*NNUNET_FOLDERS, "nnUNet_extTrainer"):
        env.pop(name, None)
    result = subprocess.run([script("nnunet-semantic"), "demo", "-o", str(root), "--cases", "10", "--test-cases",
                             "4", "-np", "1", "--no-baseline"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root, environment(root, cuda=False) | {"nnUNet_n_proc_DA": "1"}, result.stdout


# Fixtures too costly to build twice: under pytest-xdist (scripts/test.sh runs two workers) every test that uses one
# runs on the same worker, and so do the tests of a module with a module-scoped fixture. These groups run first (the
# longest first), so that no long training is left to the end while the other worker idles.
SHARED_FIXTURES = ("phantom_demo", "planned")


def _group(item: pytest.Item) -> tuple[int, str | None]:
    for rank, name in enumerate(SHARED_FIXTURES):
        if name in item.fixturenames:
            return rank, name
    if any(defs[-1].scope == "module" for defs in item._fixtureinfo.name2fixturedefs.values()):
        return len(SHARED_FIXTURES), item.module.__name__
    return len(SHARED_FIXTURES) + 1, None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    groups = {id(item): _group(item) for item in items}
    items.sort(key=lambda item: groups[id(item)][0])
    for item in items:
        if groups[id(item)][1] is not None:
            item.add_marker(pytest.mark.xdist_group(groups[id(item)][1]))
