"""Console entry point `nnUNetv2_predict_semantic`: nnUNetv2_predict's arguments plus prompts."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from nnunet_semantic.arguments import at_least
from nnunet_semantic.errors import SemanticError, report
from nnunet_semantic.inference.api import predict
from nnunet_semantic.inference.postprocessing import MIN_COMPONENT_FRACTION


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nnUNetv2_predict_semantic",
        description="Segment what prompts ask for: "
        "nnUNetv2_predict's arguments plus -P/--prompts and --prompt-file. Writes "
        "<case>__<prompt-slug>.nii.gz per case and prompt, and prompts_used.json.",
    )
    p.add_argument("-i", type=Path, required=True, help="input folder (<case>_0000.nii.gz, ...)")
    p.add_argument("-o", type=Path, required=True, help="output folder")
    p.add_argument("-d", required=True, help="dataset id or name")
    p.add_argument("-p", default="nnUNetPlans", help="plans identifier (default: nnUNetPlans)")
    p.add_argument("-tr", default="SemanticTrainer", help="trainer class (default: SemanticTrainer)")
    p.add_argument("-c", required=True, help="configuration, e.g. 2d or 2d_cpu")
    p.add_argument("-f", nargs="+", default=["0", "1", "2", "3", "4"], help="folds (several = ensemble)")
    p.add_argument("-chk", default="checkpoint_final.pth", help="checkpoint name")
    p.add_argument("-device", default="cuda", choices=("cuda", "cpu", "mps"), help="default: cuda")
    p.add_argument(
        "-step_size",
        type=float,
        default=0.5,
        help="sliding-window step as a fraction of the patch size (default: 0.5, as nnUNetv2_predict)",
    )
    p.add_argument("--disable_tta", action="store_true", help="no mirroring test-time augmentation (faster)")
    p.add_argument("-npp", type=at_least(1), default=3, help="preprocessing worker processes (default: 3)")
    p.add_argument("-nps", type=at_least(1), default=3, help="export worker processes (default: 3)")
    p.add_argument(
        "--prompt-chunk",
        type=at_least(1),
        default=None,
        help="prompts per sliding-window pass (the "
        "image is encoded once per pass; the output buffer holds this many channels per voxel) for heads that "
        "answer prompts per tile (the default 'labels' head takes one pass for all); default: as many as fit 1 GiB",
    )
    p.add_argument(
        "--min-component-fraction",
        type=float,
        default=MIN_COMPONENT_FRACTION,
        help="remove connected components smaller than this share of the smallest volume the prompt's "
        "structure has in a training case (parsed prompts; default: %(default)s; 0: keep all)",
    )
    p.add_argument("--save_probabilities", action="store_true", help="also write <case>__<slug>.npz")
    p.add_argument("--continue_prediction", action="store_true", help="skip cases whose outputs all exist")
    p.add_argument("-P", "--prompts", nargs="+", help="prompt texts applied to every input case")
    p.add_argument(
        "--prompt-file",
        type=Path,
        nargs="+",
        help="folder(s) of <case>.json sidecars (e.g. a "
        'dataset\'s prompts/ and prompts_heldout/) or jobs file(s) {"case_id": ["prompt", ...]}',
    )
    p.add_argument("--strict", action="store_true", help="refuse prompts the model's ontology cannot parse")
    p.add_argument(
        "--allow-unknown",
        action="store_true",
        help="answer a prompt whose target or exclusion the "
        "ontology cannot read from its free text (marked with its nearest structure in prompts_used.json) "
        "instead of refusing it",
    )
    p.add_argument(
        "--skip-refused",
        action="store_true",
        help="predict the prompts that can be answered when others "
        "are refused (named in one warning); default: refuse the run, naming every refused prompt",
    )
    p.add_argument("--combined", action="store_true", help="also write <case>__combined with label i = prompt i")
    p.add_argument(
        "--source",
        help="a model trained with a plan per source (`plan-sources`): preprocess every case with this source's "
        "plan (default: a case named with a source's prefix gets that source's, any other the source whose "
        "median spacing is nearest its own; recorded in prompts_used.json)",
    )
    return p


def run(args) -> None:
    predict(
        args.i,
        args.o,
        args.d,
        args.c,
        args.tr,
        args.f,
        args.prompts,
        args.prompt_file,
        plans=args.p,
        checkpoint=args.chk,
        device=args.device,
        step_size=args.step_size,
        disable_tta=args.disable_tta,
        npp=args.npp,
        nps=args.nps,
        prompt_chunk=args.prompt_chunk,
        min_component_fraction=args.min_component_fraction,
        save_probabilities=args.save_probabilities,
        continue_prediction=args.continue_prediction,
        strict=args.strict,
        allow_unknown=args.allow_unknown,
        combined=args.combined,
        skip_refused=args.skip_refused,
        source=args.source,
    )


def predict_entry(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("always", category=UserWarning, module="nnunet_semantic")
            run(args)
    except (SemanticError, OSError) as e:
        return report(e)
    return 0


if __name__ == "__main__":
    sys.exit(predict_entry())
