"""Issue 2: installation, `nnunet-semantic env`, nnU-Net's trainer lookup, doctor and the CLI."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import shlex
import subprocess
import sys

import pytest
from helpers import script
from nnunetv2.utilities.find_objects import recursive_find_trainer_class_by_name

from nnunet_semantic import cli, doctor
from nnunet_semantic.environment import SHIM_DIR, ext_trainer_value


def _exports(argv: list[str]) -> dict[str, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(argv) == 0
    env = {}
    for line in out.getvalue().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0]
    return env


def test_env_points_nnunet_at_the_shim_and_trainer_resolves(tmp_path, monkeypatch):
    monkeypatch.delenv("nnUNet_extTrainer", raising=False)
    env = _exports(["env", "--root", str(tmp_path)])
    assert env["nnUNet_extTrainer"] == str(SHIM_DIR)
    assert all((tmp_path / n).is_dir() for n in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    with contextlib.redirect_stdout(io.StringIO()):
        cls = recursive_find_trainer_class_by_name("SemanticTrainer")
    assert cls.__name__ == "SemanticTrainer"
    assert cls.__module__.startswith("nnunet_semantic.")
    # nnU-Net purged the shim module; the real class must survive that and pickle by reference.
    assert cls.__module__ in sys.modules
    assert pickle.loads(pickle.dumps(cls)) is cls
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    assert issubclass(cls, nnUNetTrainer)


def test_shim_holds_nothing_but_the_reexport():
    assert sorted(p.name for p in SHIM_DIR.iterdir() if p.suffix == ".py") == ["nnunet_semantic_trainers.py"]


def test_ext_trainer_keeps_user_folders_and_does_not_duplicate(tmp_path):
    other = str(tmp_path / "mine")
    value = ext_trainer_value(os.pathsep.join([other, str(SHIM_DIR)]))
    assert value.split(os.pathsep) == [str(SHIM_DIR), other]
    assert ext_trainer_value("") == str(SHIM_DIR)


def test_doctor_ready_with_env(nnunet_env, capsys):
    assert doctor.main(None) == 0
    out = capsys.readouterr().out
    assert "ready to train" in out and "SemanticTrainer -> nnunet_semantic" in out


def test_doctor_fails_with_a_fix_when_folders_missing(nnunet_env, monkeypatch, capsys):
    monkeypatch.delenv("nnUNet_results")
    monkeypatch.setenv("nnUNet_preprocessed", str(nnunet_env / "does_not_exist"))
    assert doctor.main(None) == 1
    out = capsys.readouterr().out
    assert "not ready to train: nnUNet_preprocessed, nnUNet_results" in out
    assert "nnunet-semantic env --root DIR" in out and "mkdir -p" in out


@pytest.mark.parametrize("command", [[], *[[c] for c in cli.build_parser()._subparsers._group_actions[0].choices]])
def test_every_subcommand_has_help(command):
    result = subprocess.run([sys.executable, "-m", "nnunet_semantic.cli", *command, "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "usage: nnunet-semantic" in result.stdout


def test_console_script_is_installed():
    result = subprocess.run([script("nnunet-semantic"), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "nnunet-semantic" in result.stdout
