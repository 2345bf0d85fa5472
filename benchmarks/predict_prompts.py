"""Seconds to predict 1, 4 and 16 prompts on the same hippocampus cases with SemanticPredictor (nnU-Net's sliding
window; per tile and mirror the image part runs once and every prompt is decoded from it), with and without
mirroring test-time augmentation, for each fusion site, measured side by side in one run. Target: 16 prompts at
most 1.5x one prompt with TTA on. Each trainer gets a few training iterations first if the workspace has no model
of it (weights do not change the arithmetic, so not the speed). `peak_rss_mb` is the process's peak memory.

    python benchmarks/predict_prompts.py [--workspace DIR] [--cases 8] [--repeats 3] [--trainers NAME ...]
                                         [--large-slices]

`--large-slices` times phantom volumes whose slices are 2.5x the patch in each axis instead (the phantom's images
upsampled in-plane), where nnU-Net's sliding window needs many tiles per slice. `--per-tile` also times a `labels`
head's prompts composed per tile (the path of the other heads) beside its default, one sliding window over the
label logits with each prompt composed once per case.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def large_slices(patch, cases: int) -> list:
    """Phantom volumes (8 slices) upsampled in-plane to 2.5x the patch per axis, with the hippocampus' spacing."""
    from scipy.ndimage import zoom

    from nnunet_semantic.dataset_conversion.phantom import phantom_case

    out = []
    for i in range(cases):
        image = phantom_case(0, i)[0][4:12]
        factors = (1, *(2.5 * p / s for p, s in zip(patch, image.shape[1:])))
        out.append((zoom(image, factors, order=1)[None], {"spacing": [1.0, 1.0, 1.0]}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path(tempfile.gettempdir()) / "nnunet_semantic_bench")
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trainers", nargs="+", default=list(TRAINERS))
    parser.add_argument("--large-slices", action="store_true", help="phantom slices 2.5x the patch per axis")
    parser.add_argument("--per-tile", action="store_true", help="also the labels head's prompts composed per tile")
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
    if args.large_slices:
        images = large_slices(first.configuration_manager.patch_size, args.cases)
    else:
        images = [reader.read_images(f) for f in create_lists_from_splitted_dataset_folder(str(raw), ".nii.gz")
                  [: args.cases]]
    sets = {n: prompts(n, first.ontology) for n in PROMPT_COUNTS}
    for predictor in predictors.values():
        predictor.encode_prompts([predictor.resolve(t) for t in sets[16]])  # texts encoded once, as in a real run
    paths = {name: ["composed" if p.network.composes_labels else "per tile"] for name, p in predictors.items()}
    for name, predictor in predictors.items():
        if args.per_tile and predictor.network.composes_labels:
            paths[name].append("per tile")
    times = {(name, path, tta, n): [] for name in predictors for path in paths[name] for tta in (True, False)
             for n in sets}
    for _ in range(args.repeats):
        for name, path, tta, n in times:  # interleaved: noise hits every trainer, mode and prompt count alike
            head = predictors[name].network.head
            head.composes_labels = path == "composed"
            predictors[name].use_mirroring = tta
            t0 = time.perf_counter()
            for image, props in images:
                masks, _ = predictors[name].predict_prompts(image, props, sets[n])
                assert len(masks) == n and all(np.asarray(m).shape == image.shape[1:] for m in masks)
            times[name, path, tta, n].append(time.perf_counter() - t0)
            head.composes_labels = type(head).composes_labels
    median = {k: statistics.median(v) for k, v in times.items()}
    rows = [{"trainer": name, "fusion_site": predictors[name].network.config.site, "path": path, "tta": tta,
             "prompts": n, "cases": len(images), "seconds": round(median[name, path, tta, n], 3),
             "seconds_per_case": round(median[name, path, tta, n] / len(images), 4),
             "ratio_vs_1_prompt": round(median[name, path, tta, n] / median[name, path, tta, 1], 3),
             "tta_cost": round(median[name, path, tta, n] / median[name, path, False, n], 3)}
            for name, path, tta, n in times]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    shape = list(images[0][0].shape[1:])
    write_results("predict_prompts" + ("_large_slices" if args.large_slices else ""), {
        "dataset": f"phantom upsampled to {shape}" if args.large_slices else "MSD Task04 Hippocampus (2d_cpu)",
        "model": "hippocampus 2d_cpu (patch " + "x".join(map(str, first.configuration_manager.patch_size)) + ")",
        "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(), "target_ratio_16": 1.5, "peak_rss_mb": round(peak_mb)},
                  rows, ["trainer", "fusion_site", "path", "tta", "prompts", "cases", "seconds", "seconds_per_case",
                         "ratio_vs_1_prompt", "tta_cost"])


if __name__ == "__main__":
    main()
