"""The umbrella command `nnunet-semantic`; each pipeline stage registers its own sub-commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnunet_semantic import __version__
from nnunet_semantic.dataset_conversion.cli import add_parser as _convert_parser
from nnunet_semantic.dataset_conversion.ontology_cli import add_parser as _ontology_parser
from nnunet_semantic.errors import SemanticError, report
from nnunet_semantic.evaluation.cli import add_parser as _report_parser
from nnunet_semantic.plans.cli import add_parser as _plan_cpu_parser
from nnunet_semantic.plans.cli import add_sources_parser as _plan_sources_parser
from nnunet_semantic.prompts.cli import add_parser as _prompts_parser
from nnunet_semantic.text.cli import add_parser as _embed_parser

# Each pipeline stage adds its own sub-commands.
STAGES = [
    _convert_parser,
    _ontology_parser,
    _prompts_parser,
    _embed_parser,
    _plan_cpu_parser,
    _plan_sources_parser,
    _report_parser,
]


def _env(args) -> int:
    from nnunet_semantic.environment import NNUNET_FOLDERS, environment, export_lines

    env = environment(args.root)
    if args.root is not None:
        for name in NNUNET_FOLDERS:
            Path(env[name]).mkdir(parents=True, exist_ok=True)
    print("\n".join(export_lines(env)))
    return 0


def _doctor(args) -> int:
    from nnunet_semantic.doctor import main

    return main(args)


def _demo(args) -> int:
    from nnunet_semantic.demo import main

    return main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnunet-semantic",
        description="Text-prompted segmentation inside nnU-Net v2. Each sub-command has --help.",
    )
    parser.add_argument("--version", action="version", version=f"nnunet-semantic {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "env",
        help='print shell export lines for nnU-Net (eval "$(nnunet-semantic env)")',
        description="Print `export` lines: nnUNet_extTrainer pointing at this package's trainer "
        "shim (so `nnUNetv2_train -tr SemanticTrainer` finds it), nnUNet_compile=f without a GPU, "
        "and the nnU-Net folders (under --root, or as already set).",
    )
    p.add_argument(
        "--root", type=Path, help="put (and create) nnUNet_raw, nnUNet_preprocessed and nnUNet_results under ROOT"
    )
    p.set_defaults(func=_env)

    p = sub.add_parser(
        "doctor",
        help="check the installation and environment, with a fix for each problem",
        description="Check nnU-Net, its folders, the trainer lookup, torch/torchvision/timm/open_clip, "
        "the offline MiniLM model, BiomedCLIP weights and the compute device. Exit 0 when "
        "training can run.",
    )
    p.set_defaults(func=_doctor)

    p = sub.add_parser(
        "demo",
        help="run the pipeline end to end on the embedded synthetic default",
        description="Run every stage that is in place on the embedded default (no download), in "
        "temporary nnU-Net folders unless nnUNet_raw/_preprocessed/_results are set.",
    )
    p.add_argument("-o", "--output", type=Path, help="keep the demo's files here (default: a temporary folder)")
    p.add_argument(
        "--data",
        action="append",
        help="an MSD task folder or an nnU-Net dataset (folder, id or name) "
        "to use instead of the synthetic phantom; several: each converted (ids after --dataset-id), "
        "merged into --dataset-id and trained as one model",
    )
    p.add_argument(
        "--disjoint",
        action="store_true",
        help="several --data: the datasets show different anatomy (`nnunet-semantic merge --disjoint`)",
    )
    p.add_argument("--dataset-id", type=int, default=900, help="nnU-Net dataset id for the demo (default: 900)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dataset with that id")
    p.add_argument("--cases", type=int, default=40, help="phantom training cases (default: 40)")
    p.add_argument("--test-cases", type=int, default=10, help="phantom held-out cases (default: 10)")
    p.add_argument("-np", type=int, default=2, help="worker processes (default: 2)")
    p.add_argument(
        "--batch-size",
        type=int,
        help="2d_cpu batch size (default: 8 on the phantom, which its schedule "
        "was tuned for; with --data, measured on this machine)",
    )
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="train SemanticTrainer only, not the TextConcatTrainer baseline it is compared with",
    )
    p.add_argument(
        "--schedule",
        default="demo",
        choices=("demo", "smoke", "5epochs", "20epochs"),
        help="training schedule of both trainers (default: demo, a few minutes each on 2 CPU cores; "
        "smoke: 1 epoch of 10 iterations, proves the pipeline runs)",
    )
    p.set_defaults(func=_demo)

    for stage in STAGES:
        stage(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SemanticError, OSError) as e:
        return report(e)


if __name__ == "__main__":
    sys.exit(main())
