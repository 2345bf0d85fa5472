"""Seconds to predict 1, 4 and 16 prompts on the same hippocampus cases with SemanticPredictor (image streams
once per case, every prompt decoded from them), measured side by side in one run. Target: 16 prompts at most
3x one prompt. Trains SemanticTrainer_smoke on fold 0 first if the workspace has no model (weights do not
matter for speed).

    python benchmarks/predict_prompts.py [--workspace DIR] [--cases 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from workspace import DATASET, DATASET_ID, prepare  # noqa: E402

TRAINER = "SemanticTrainer_smoke"


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
    args = parser.parse_args()
    import numpy as np
    import torch
    from nnunetv2.utilities.utils import create_lists_from_splitted_dataset_folder

    from nnunet_semantic.inference.predictor import SemanticPredictor

    prepare(args.workspace)
    results = args.workspace / "nnUNet_results" / DATASET / f"{TRAINER}__nnUNetPlans__2d_cpu"
    if not (results / "fold_0" / "checkpoint_final.pth").is_file():
        subprocess.run([str(Path(sys.executable).parent / "nnUNetv2_train"), str(DATASET_ID), "2d_cpu", "0", "-tr",
                        TRAINER, "-device", "cpu"], check=True, env={**os.environ, "nnUNet_n_proc_DA": "2"})
    predictor = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    predictor.initialize_from_trained_model_folder(str(results), [0])
    raw = args.workspace / "nnUNet_raw" / DATASET / "imagesTr"
    reader = predictor.plans_manager.image_reader_writer_class()
    images = [reader.read_images(f) for f in create_lists_from_splitted_dataset_folder(str(raw), ".nii.gz")
              [: args.cases]]
    sets = {n: prompts(n, predictor.ontology) for n in (1, 4, 16)}
    predictor._text_tensors([predictor.resolve(t) for t in sets[16]])  # texts encoded once, as in a real run
    times = {n: [] for n in sets}
    for _ in range(args.repeats):
        for n, texts in sets.items():  # interleaved: noise hits every prompt count alike
            t0 = time.perf_counter()
            for image, props in images:
                masks, _ = predictor.predict_prompts(image, props, texts)
                assert len(masks) == n and all(np.asarray(m).shape == image.shape[1:] for m in masks)
            times[n].append(time.perf_counter() - t0)
    base = statistics.median(times[1])
    rows = [{"prompts": n, "cases": len(images), "seconds": round(statistics.median(times[n]), 3),
             "seconds_per_case": round(statistics.median(times[n]) / len(images), 4),
             "ratio_vs_1_prompt": round(statistics.median(times[n]) / base, 3)} for n in sets]
    write_results("predict_prompts", {"dataset": "MSD Task04 Hippocampus (2d_cpu)", "repeats": args.repeats,
                                      "torch_threads": torch.get_num_threads(), "target_ratio_16": 3.0},
                  rows, ["prompts", "cases", "seconds", "seconds_per_case", "ratio_vs_1_prompt"])


if __name__ == "__main__":
    main()
