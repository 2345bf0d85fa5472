"""A target of several structures that no one structure is, as a user's own dataset asks it ("the kidneys" of
labels `kidney_left` / `kidney_right`): a model trained by `quality.py` with the structure of the union taken out of
its ontology (the hippocampus: its anterior and posterior parts only) answers "anterior hippocampus and posterior
hippocampus" on fold 0's validation cases, as the union of each part's answer (`ResolvedPrompt.parts`) and as one
text; Dice against both labels.

    python benchmarks/union_prompts.py [--workspace DIR] [--model SemanticTrainer]
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from workspace import bench_model, model_arguments, prepare, validation_predictor  # noqa: E402

PROMPTS = [
    "anterior hippocampus and posterior hippocampus",
    "posterior and anterior hippocampus",
    "the anterior and the posterior hippocampus",
]


def main() -> None:
    args = model_arguments(__doc__)
    import numpy as np
    from tqdm import tqdm

    from nnunet_semantic.prompts.ontology import Ontology

    pre = prepare(args.workspace)
    predictor, cases, dataset = validation_predictor(pre, args.model)
    whole = predictor.ontology.structures.pop("hippocampus")
    predictor.ontology = Ontology(predictor.ontology.structures)  # as one structure per label would have it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = {t: predictor.resolve(t) for t in PROMPTS}
    dice = {(t, how): [] for t in PROMPTS for how in ("parts", "one text")}
    for case in tqdm(cases, desc="union prompts"):
        data, seg, _, properties = dataset.load_case(case)
        truth = np.isin(seg[0], list(whole.labels))
        for how in ("parts", "one text"):
            prompts = [read[t] if how == "parts" else replace(read[t], parts=()) for t in PROMPTS]
            logits = predictor.answer_logits(data, prompts).numpy() > 0
            for t, mask in zip(PROMPTS, logits):
                dice[(t, how)].append(2 * (mask & truth).sum() / max(mask.sum() + truth.sum(), 1))
    rows = [{"prompt": t, "answered as": how, "dice": round(float(np.mean(v)), 4),
             "given": " or ".join(read[t].parts) if how == "parts" and read[t].parts else read[t].pos_text}
            for (t, how), v in dice.items()]
    gain = min(np.mean(dice[(t, "parts")]) - np.mean(dice[(t, "one text")]) for t in PROMPTS)
    targets = {"union_by_parts_not_worse": {"value": round(float(gain), 4), "target": 0.0, "met": bool(gain >= 0)}}
    write_results(f"union_prompts_{args.model}", {"cases": len(cases), "model": str(bench_model(args.model)),
                                                  "targets": targets}, rows, ["prompt", "answered as", "given", "dice"])


if __name__ == "__main__":
    main()
