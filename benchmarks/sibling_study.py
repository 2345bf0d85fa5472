"""Which part of the training recipe makes a model read its prompt: the toy reproduction of sibling-prompt collapse
(`sibling_toy.py`) for each one-attribute variant of SemanticTrainer and the first design,
over several seeds, on the CPU. A prompt-blind model has sibling overlap ~1; the reference 0.

    python benchmarks/sibling_study.py [--seeds 0 1 2] [--iterations 300]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402

TRAINERS = ("SemanticTrainer", "SemanticTrainer_noLabelLoss", "SemanticTrainer_onePrompt", "SemanticTrainer_queryHead",
            "SemanticTrainer_sgdText", "SemanticTrainer_rawText", "SemanticTrainer_additiveFusion")
EXCLUSIONS = ("hippocampus excluding the anterior hippocampus", "hippocampus excluding the posterior hippocampus")


def main() -> None:
    from sibling_toy import SIBLINGS, encode_texts, run

    import nnunet_semantic.trainers as trainers
    from nnunet_semantic.text import get_encoder

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--trainers", nargs="+", default=list(TRAINERS), choices=TRAINERS)
    args = parser.parse_args()
    bank = encode_texts(get_encoder("minilm"))
    results, rows = [], []
    for name in args.trainers:
        runs = [run(getattr(trainers, name), bank, seed, args.iterations) for seed in args.seeds]
        results += [asdict(r) for r in runs]

        def span(values) -> str:
            return f"{np.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})"

        rows.append({"trainer": name, "sibling_overlap": span([r.sibling_overlap for r in runs]),
                     "sibling_dice": span([r.dice[s] for r in runs for s in SIBLINGS]),
                     "exclusion_dice": span([r.dice[t] for r in runs for t in EXCLUSIONS]),
                     "whole_dice": span([r.dice["hippocampus"] for r in runs]),
                     "absent_fp": span([r.absent_false_positive_rate for r in runs]),
                     "seconds": f"{np.mean([r.seconds for r in runs]):.0f}"})
        print(rows[-1], flush=True)
    write_results("sibling_study", {"seeds": args.seeds, "iterations": args.iterations, "runs": results}, rows,
                  ["trainer", "sibling_overlap", "sibling_dice", "exclusion_dice", "whole_dice", "absent_fp",
                   "seconds"])


if __name__ == "__main__":
    main()
