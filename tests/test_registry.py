"""Issue 35: one registry for every extension point; the commands and these tests loop over it, so a new head,
text encoder or converter is registered where it is defined and checked here without editing a list."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from net_helpers import HIPPOCAMPUS, THICK_SLICES_3D, plan_2d

from nnunet_semantic.dataset_conversion.registry import load_converters
from nnunet_semantic.errors import SemanticError
from nnunet_semantic.networks import HEADS, NetworkConfig, build_network
from nnunet_semantic.registry import Registry
from nnunet_semantic.text import ENCODERS

CONVERTERS = load_converters()


def test_registry_registers_by_name_and_names_the_known_ones_for_an_unknown_name():
    things = Registry("widget", also="or a path")

    @things.register("round")
    def round_widget():
        return "round"

    things.register("square", str.upper)
    assert things.names() == ["round", "square"] and things["round"]() == "round"
    with pytest.raises(SemanticError, match=r"unknown widget 'oval'; known: round, square \(or a path\)"):
        things["oval"]


@pytest.mark.parametrize("plan", [HIPPOCAMPUS, THICK_SLICES_3D], ids=["2d", "3d"])
@pytest.mark.parametrize("head,site", [(h, s) for h in HEADS for s in HEADS[h].sites])
def test_every_head_builds_at_its_sites_and_answers_each_prompt(head, site, plan):
    """Each registered head, at each site it declares, on a 2D and on an anisotropic 3D plan (issue 37), gives one
    foreground map per prompt at full resolution, and two different prompts give two different maps (a head that
    ignored the text would not)."""
    torch.manual_seed(0)
    network = build_network(plan_2d(**plan), 1, NetworkConfig(32, num_labels=2, head=head, site=site),
                            deep_supervision=False).eval()
    g = torch.Generator().manual_seed(1)
    text = {"pos": torch.randn(2, 32, generator=g), "neg": torch.randn(2, 32, generator=g),
            "has_neg": torch.tensor([False, False])}
    with torch.no_grad():
        logits = network(torch.randn(2, 1, *plan["patch"], generator=g), text).logits[0]
    assert logits.shape[0] == 2 and logits.shape[2:] == plan["patch"]
    assert not torch.allclose(logits[0], logits[1])


def test_every_encoder_is_offered_by_the_embed_command():
    from nnunet_semantic.text.cli import add_parser

    parser = __import__("argparse").ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    action = next(a for sub in parser._subparsers._group_actions for name, p in sub.choices.items()
                  if name == "embed" for a in p._actions if a.dest == "encoder")
    assert list(action.choices) == ENCODERS.names()


@pytest.mark.parametrize("name", sorted(CONVERTERS))
def test_every_converter_is_a_convert_subcommand_with_a_clear_error_for_a_missing_source(name, tmp_path):
    """`convert <name> --help` exists for each registered converter; one that reads a source folder names the
    missing folder in one line (no traceback), and nothing is written."""
    command = [sys.executable, "-m", "nnunet_semantic.cli", "convert", name]
    shown = subprocess.run([*command, "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "-d D" in shown.stdout
    if not CONVERTERS[name].takes_input:
        return
    missing = tmp_path / "no_such_folder"
    env = {"nnUNet_raw": str(tmp_path / "raw"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([*command, "-i", str(missing), "-d", "901"], capture_output=True, text=True,
                         env=env)
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert "no_such_folder" in run.stderr + run.stdout
    assert not (tmp_path / "raw").exists() or not any((tmp_path / "raw").iterdir())
