"""What removing stray components does, decided on validation as nnU-Net decides its postprocessing: the masks a
model trained by `quality.py` wrote for its 40 validation cases (`validation_semantic/`, every seen and
held-out prompt) are cleaned at several `min_component_fraction`s (a component under that share of the smallest
volume the prompt's set has in a training case is removed; 0 = as predicted) and scored by SemantiBench.

    python benchmarks/components_hippocampus.py [--workspace DIR] [--model SemanticTrainer]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from workspace import bench_model, model_arguments, prepare  # noqa: E402

FRACTIONS = (0.0, 0.05, 0.1, 0.2, 0.4)
KEYS = ("L1_dice", "L2_dice", "L3_dice", "L1_heldout_dice", "L3_heldout_dice", "pss", "leakage_l3")


def main() -> None:
    args = model_arguments(__doc__)
    import numpy as np
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    from nnunet_semantic.evaluation.evaluate import evaluate_folders
    from nnunet_semantic.evaluation.summary import SemanticSummary
    from nnunet_semantic.inference.postprocessing import min_component_voxels, remove_small_components
    from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER, prediction_name, read_sidecar_folder

    pre = prepare(args.workspace)
    predicted = bench_model(args.model) / "fold_0" / "validation_semantic"
    split = json.loads((pre / "splits_final.json").read_text())[0]
    cases = json.loads((pre / "prompts" / "verification.json").read_text())["cases"]
    counts = [cases[k]["label_counts"] for k in split["train"]]
    folders = [pre / "prompts", pre / HELDOUT_FOLDER]
    sidecars = [read_sidecar_folder(f) for f in folders]
    io, rows = SimpleITKIO(), []
    for fraction in FRACTIONS:
        out = args.workspace / f"components_{args.model}_{fraction}"
        out.mkdir(exist_ok=True)
        removed = 0
        for case in split["val"]:
            for p in (p for s in sidecars for p in s[case]):
                mask, properties = io.read_seg(str(predicted / prediction_name(case, p.text)))
                cleaned = remove_small_components(mask[0], min_component_voxels(counts, p.target, p.avoid, fraction))
                removed += int(mask.sum() - cleaned.sum())
                io.write_seg(cleaned.astype(np.uint8), str(out / prediction_name(case, p.text)), properties)
        row = SemanticSummary.of(evaluate_folders(pre / "gt_segmentations", out, folders, out / "summary.json",
                                        pre / "dataset.json", cases=split["val"])["semantic"]).row()
        rows.append({"model": args.model, "min_component_fraction": fraction, "voxels_removed": removed}
                    | {k: None if row.get(k) is None else round(row[k], 4) for k in KEYS})
    write_results(f"components_hippocampus_{args.model}", {"cases": len(split["val"]), "source": str(predicted)},
                  rows, ["model", "min_component_fraction", "voxels_removed", *KEYS])


if __name__ == "__main__":
    main()
