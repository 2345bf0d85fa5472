"""Console entry point `nnUNetv2_evaluate_semantic`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnunet_semantic.errors import SemanticError, report


def evaluate_entry(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nnUNetv2_evaluate_semantic",
        description="Evaluate prompted predictions (<case>__<prompt-slug>.nii.gz) against reference label maps "
        "with the set rule isin(seg, target) & ~isin(seg, avoid). Writes nnU-Net's summary.json format (one "
        "metric_per_case entry per case and prompt, label 1 = the prompted mask) plus a 'semantic' section: "
        "Dice/IoU per level, PSS and L2 invariance (only where Dice(L1) > 0.8), L3 leakage, per structure, "
        "disparity, case-bootstrap 95% intervals.",
    )
    parser.add_argument("-ref", type=Path, required=True, help="folder of reference label maps <case>.nii.gz")
    parser.add_argument("-pred", type=Path, required=True, help="folder of prompted predictions")
    parser.add_argument(
        "-prompts",
        type=Path,
        nargs="+",
        required=True,
        help="folder(s) of prompt sidecars "
        "<case>.json, e.g. a dataset's prompts/ and prompts_heldout/ (scored together), or a "
        "prediction's prompts_used.json (its -P prompts the ontology read: L3 where they exclude, "
        "else L1)",
    )
    parser.add_argument("-o", type=Path, required=True, help="summary.json to write")
    parser.add_argument(
        "-djfile",
        type=Path,
        help="dataset.json (file ending; its 'semantic' ontology parses sidecar prompts given as text only)",
    )
    parser.add_argument("--file-ending", help="default: from -djfile, else .nii.gz")
    args = parser.parse_args(argv)
    from nnunet_semantic.evaluation.evaluate import evaluate_folders

    try:
        summary = evaluate_folders(args.ref, args.pred, args.prompts, args.o, args.djfile, args.file_ending)
    except (SemanticError, OSError) as e:
        return report(e)
    from nnunet_semantic.evaluation.scores import SCORES
    from nnunet_semantic.evaluation.summary import SemanticSummary

    sem = SemanticSummary.of(summary["semantic"], str(args.o))
    for level, v in sem.per_level.items():
        print(f"{level}: Dice {v['dice'] if v['dice'] is None else round(v['dice'], 4)} (n={v['n']})")
    for name, score in SCORES.items():  # every registered score this evaluation had cases for
        if sem.n_valid(name):
            print(f"{score.label}: {round(sem.mean(name), 4)} (valid cases {sem.n_valid(name)})")
    print(f"wrote {args.o}")
    return 0


def _report(args) -> int:
    from nnunet_semantic.evaluation.report import write_report

    print(f"wrote {write_report(args.summary, args.o, args.images, args.examples)}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="one self-contained HTML page of plots from a SemantiBench summary.json",
        description="Write one self-contained HTML page (plots inlined) from a summary.json of "
        "nnUNetv2_evaluate_semantic or a trainer's validation_semantic/: per-level and per-structure "
        "tables, L1 vs L3 Dice radar per structure, PSS histogram, L2 invariance vs L1 Dice, L3 "
        "leakage per structure, and image / reference / prediction overlays per level.",
    )
    p.add_argument("summary", type=Path, help="summary.json with a 'semantic' section")
    p.add_argument("-o", type=Path, default=Path("report.html"), help="HTML file to write (default: report.html)")
    p.add_argument(
        "--images",
        type=Path,
        help="folder of the cases' images <case>_0000<ending> (default: imagesXx "
        "beside the labelsXx reference folder, or the raw dataset's imagesTr for gt_segmentations)",
    )
    p.add_argument("--examples", type=int, default=3, help="overlays per prompt level (default: 3)")
    p.set_defaults(func=_report)


if __name__ == "__main__":
    sys.exit(evaluate_entry())
