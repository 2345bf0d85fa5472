"""`nnunet-semantic convert <source>` (every registered converter) and `nnunet-semantic merge`."""

from __future__ import annotations

import argparse
from pathlib import Path

from nnunet_semantic.arguments import at_least
from nnunet_semantic.dataset_conversion.registry import CONVERTERS, load_converters
from nnunet_semantic.prompts.generator import GenerationSettings


def _settings(args) -> GenerationSettings:
    return GenerationSettings(
        seed=args.seed, min_voxels=args.min_voxels, min_removed=args.min_removed, max_l2=args.max_l2
    )


def _run(args) -> int:
    out = CONVERTERS[args.source].run(args, overwrite=args.overwrite, num_processes=args.np, settings=_settings(args))
    print(
        f"wrote {out}\nprompt verification: {out / 'prompts' / 'verification.json'}\n"
        f"next: nnUNetv2_plan_and_preprocess -d {args.d} -c 2d --verify_dataset_integrity"
    )
    return 0


def _merge(args) -> int:
    from nnunet_semantic.dataset_conversion.merge import merge_datasets

    out = merge_datasets(args.sources, args.d, args.name, args.overwrite, args.disjoint, args.ontology)
    print(
        f"wrote {out}\nnext: nnunet-semantic plan-sources -d {args.d} -c 2d   (each source keeps its own spacing and "
        f"patch), or nnUNetv2_plan_and_preprocess -d {args.d} -c 2d (one plan for all)"
    )
    return 0


def add_parser(sub) -> None:
    m = sub.add_parser(
        "merge",
        help="merge converted datasets into one for one model over all of them",
        description="One nnU-Net dataset from several converted ones: one global label space (each "
        "source's labels numbered after the previous one's), one ontology (a structure name two sources "
        "use gets its source appended), every case tagged with its source; images referenced from the "
        "sources, label maps rewritten in global ids. SemanticTrainer then supervises on each case "
        "only the labels its source annotates, keeps each source's folds and draws sources by "
        "sqrt(cases). The sources are never modified.",
    )
    m.add_argument("-d", type=int, required=True, help="nnU-Net dataset id of the merged dataset (1-999)")
    m.add_argument(
        "--from",
        dest="sources",
        nargs="+",
        required=True,
        metavar="DATASET",
        help="converted datasets (ids, names or folders), two or more",
    )
    m.add_argument("--name", default="Merged", help="dataset name (default: Merged)")
    m.add_argument(
        "--disjoint",
        action="store_true",
        help="the sources show different anatomy (e.g. brain MRI "
        "and abdominal CT): a structure of one source is absent from every image of another, so training "
        "may ask for it there with an empty answer",
    )
    m.add_argument(
        "--ontology",
        type=Path,
        help='structures over the merged labels ("<source>: <label>" names '
        "or ids) the sources cannot state: one structure several sources share, or one no source "
        "annotates whole; a merged structure of the same label set takes its name",
    )
    m.add_argument("--overwrite", action="store_true", help="replace an existing raw dataset with this id")
    m.set_defaults(func=_merge)

    conv = sub.add_parser(
        "convert",
        help="convert a multi-label dataset to nnU-Net raw with prompt sidecars",
        description="Convert a dataset into $nnUNet_raw/DatasetXXX_Name with dataset.json (plus "
        "the 'semantic' ontology key), imagesTr, labelsTr and prompts/<case>.json. The source is "
        "never modified; an existing dataset id is refused unless --overwrite.",
    )
    kinds = conv.add_subparsers(dest="source", required=True, metavar="SOURCE")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-d", type=int, required=True, help="nnU-Net dataset id of the output (1-999)")
    common.add_argument("--overwrite", action="store_true", help="replace an existing raw dataset with this id")
    common.add_argument("-np", type=at_least(1), default=2, help="worker processes (default: 2)")
    g = common.add_argument_group("prompt generation")
    g.add_argument("--seed", type=int, default=0, help="seed for prompt paraphrases and L2 sampling")
    g.add_argument("--min-voxels", type=at_least(1), default=1, help="drop prompts whose mask is smaller")
    g.add_argument(
        "--min-removed", type=at_least(0), default=10, help="drop L3 prompts whose exclusion removes fewer voxels"
    )
    g.add_argument("--max-l2", type=at_least(0), default=None, help="L2 prompts per structure (default: all)")

    ontology = argparse.ArgumentParser(add_help=False)
    ontology.add_argument(
        "--ontology",
        type=Path,
        help="ontology file (see `nnunet-semantic ontology init`); "
        "default: the dataset.json's 'semantic' block, else the shipped ontology of a dataset "
        "recognised by its labels and channels, else one structure per label and region label",
    )
    for name, converter in sorted(load_converters().items()):
        p = kinds.add_parser(
            name,
            parents=[common, ontology] if converter.ontology else [common],
            help=converter.help,
            description=converter.description,
        )
        converter.arguments(p)
    conv.set_defaults(func=_run)
