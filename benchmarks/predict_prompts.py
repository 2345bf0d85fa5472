"""Seconds to predict 1, 4 and 16 prompts on the same hippocampus cases with SemanticPredictor (image streams
once per case, every prompt decoded from them), for each fusion site, measured side by side in one run. Target:
16 prompts at most 3x one prompt. Each trainer gets a few training iterations first if the workspace has no model
of it (weights do not change the arithmetic, so not the speed).

    python benchmarks/predict_prompts.py [--workspace DIR] [--cases 8] [--repeats 3] [--trainers NAME ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from workspace import DATASET, prepare, trainer  # noqa: E402

TRAINERS = ("SemanticTrainer", "SemanticTrainer_encoderFusion")
PROMPT_COUNTS = (1, 4, 16)


def model(name: str, pre: Path) -> Path:
    """`<name>_speed`'s model folder, trained for 10 iterations when absent."""
    import nnunet_semantic.trainers as t

    folder = Path(os.environ["nnUNet_results"]) / DATASET / f"{name}_speed__nnUNetPlans__2d_cpu"
    if not (folder / "fold_0" / "checkpoint_final.pth").is_file():
        os.environ["nnUNet_n_proc_DA"] = "0"
        trainer(type(f"{name}_speed", (getattr(t, name),), {"schedule": (1, 10, 1)}), pre).run_training()
    return folder


def prompts(n: int, ontology) -> list[str]:
    """n distinct prompts of the dataset's vocabulary: names, synonyms, descriptions, exclusions."""
    from nnunet_semantic.prompts.generator import GenerationSettings, candidates, case_rng

    texts = list(dict.fromkeys(p.text for p, _ in candidates(ontology, case_rng(0, "bench"), GenerationSettings())))
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} distinct prompts available")
    return texts[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path(tempfile.gettempdir()) / "nnunet_semantic_bench")
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trainers", nargs="+", default=list(TRAINERS))
    args = parser.parse_args()
    import numpy as np
    import torch
    from nnunetv2.utilities.utils import create_lists_from_splitted_dataset_folder

    from nnunet_semantic.inference.predictor import SemanticPredictor

    pre = prepare(args.workspace)
    predictors = {}
    for name in args.trainers:
        predictors[name] = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False)
        predictors[name].initialize_from_trained_model_folder(str(model(name, pre)), [0])
    first = next(iter(predictors.values()))
    raw = args.workspace / "nnUNet_raw" / DATASET / "imagesTr"
    reader = first.plans_manager.image_reader_writer_class()
    images = [reader.read_images(f) for f in create_lists_from_splitted_dataset_folder(str(raw), ".nii.gz")
              [: args.cases]]
    sets = {n: prompts(n, first.ontology) for n in PROMPT_COUNTS}
    for predictor in predictors.values():
        predictor._text_tensors([predictor.resolve(t) for t in sets[16]])  # texts encoded once, as in a real run
    times = {(name, n): [] for name in predictors for n in sets}
    for _ in range(args.repeats):
        for name, n in times:  # interleaved: noise hits every trainer and prompt count alike
            t0 = time.perf_counter()
            for image, props in images:
                masks, _ = predictors[name].predict_prompts(image, props, sets[n])
                assert len(masks) == n and all(np.asarray(m).shape == image.shape[1:] for m in masks)
            times[name, n].append(time.perf_counter() - t0)
    median = {k: statistics.median(v) for k, v in times.items()}
    rows = [{"trainer": name, "fusion_site": predictors[name].network.fusion_site, "prompts": n,
             "cases": len(images), "seconds": round(median[name, n], 3),
             "seconds_per_case": round(median[name, n] / len(images), 4),
             "ratio_vs_1_prompt": round(median[name, n] / median[name, 1], 3)} for name, n in times]
    write_results("predict_prompts", {"dataset": "MSD Task04 Hippocampus (2d_cpu)", "repeats": args.repeats,
                                      "torch_threads": torch.get_num_threads(), "target_ratio_16": 3.0},
                  rows, ["trainer", "fusion_site", "prompts", "cases", "seconds", "seconds_per_case",
                         "ratio_vs_1_prompt"])


if __name__ == "__main__":
    main()
