"""What mirroring test-time augmentation gives and costs: a model trained by `quality.py` predicts
the same 40 held-out hippocampus cases (fold 0's validation) with and without mirroring, through the path users
get (`SemanticPredictor`: nnU-Net's sliding window, every prompt parsed from its text), scored by SemantiBench.

    python benchmarks/tta_hippocampus.py [--workspace DIR] [--model SemanticTrainer]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from quality import sibling_overlap  # noqa: E402
from workspace import bench_model, model_arguments, prepare, validation_predictor  # noqa: E402


def main() -> None:
    args = model_arguments(__doc__)
    import numpy as np
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO
    from tqdm import tqdm

    from nnunet_semantic.evaluation.evaluate import evaluate_folders
    from nnunet_semantic.evaluation.summary import SemanticSummary
    from nnunet_semantic.prompts.sidecar import prediction_name, read_sidecar_folder

    pre = prepare(args.workspace)
    predictor, cases, dataset = validation_predictor(pre, args.model)
    predictor.min_component_fraction = 0  # masks as the network gives them (components_hippocampus.py: the removal)
    if not predictor.allowed_mirroring_axes:
        sys.exit(f"{args.model} keeps orientation (trained without mirroring): it has no mirroring to compare")
    sidecars = read_sidecar_folder(pre / "prompts")
    io, rows = SimpleITKIO(), []
    for tta in (False, True):
        predictor.use_mirroring = tta
        out = args.workspace / f"tta_{args.model}_{'on' if tta else 'off'}"
        out.mkdir(exist_ok=True)
        seconds = 0.0
        for case in tqdm(cases, desc=f"mirroring {'on' if tta else 'off'}"):
            data, _, _, properties = dataset.load_case(case)
            prompts = [predictor.resolve(p.text) for p in sidecars[case]]
            start = time.perf_counter()
            masks = predictor.predict_case(data, prompts, properties)
            seconds += time.perf_counter() - start
            for p, mask in zip(sidecars[case], masks):
                io.write_seg(mask.astype(np.uint8), str(out / prediction_name(case, p.text)), properties)
        summary = evaluate_folders(pre / "gt_segmentations", out, pre / "prompts", out / "summary.json",
                                   pre / "dataset.json", cases=cases)
        rows.append({"model": args.model, "mirroring": tta}
                    | {k: round(v, 4) if isinstance(v, float) else v
                       for k, v in SemanticSummary.of(summary["semantic"]).row().items()}
                    | {"sibling_overlap": round(max(sibling_overlap(out, pre, cases).values()), 4),
                       "seconds_per_case": round(seconds / len(cases), 3)})
    write_results(f"tta_hippocampus_{args.model}", {"cases": len(cases), "model": str(bench_model(args.model))}, rows,
                  ["model", "mirroring", "L1_dice", "L2_dice", "L3_dice", "pss", "leakage_l3", "invariance_l2",
                   "sibling_overlap", "seconds_per_case"])


if __name__ == "__main__":
    main()
