"""What prompts cost at prediction against nnU-Net's own: seconds to predict every prompt of a case (its sidecar's
verified prompts: names, synonyms, descriptions, exclusions) with SemanticPredictor, and its L1 names alone, against
nnUNetPredictor predicting one label map with the specialist trained beside it by `quality.py` (same plan, same
sliding window: step 0.5, Gaussian weighting, no mirroring since both keep orientation), interleaved on the same
raw images of fold 0's held-out cases so noise hits both alike. Target: all of a case's prompts at most 1.5x the
label map. Beside it, the same prompts answered per tile (each tile's prompts composed and blended by the sliding
window, as before label composition, and as heads other than `labels` answer): its time, and the Dice of its masks
against the label-composed ones (how much blending label logits instead of prompt logits changes).

    python benchmarks/predict_cost.py --dataset chaos [--repeats 2] [--configuration 3d_fullres]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from quality import SPECIALIST  # noqa: E402
from workspace import bench_dataset, bench_model, prepare  # noqa: E402

TARGET_RATIO = 1.5
PER_TILE = "every prompt, per tile"


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Two masks' Dice, 1 where both are empty."""
    both = int(a.astype(bool).sum() + b.astype(bool).sum())
    return 1.0 if both == 0 else 2 * int(np.logical_and(a, b).sum()) / both


def specialist(dataset: str, configuration: str):
    """nnUNetPredictor with the quality benchmark's specialist (its `_bench` class is not importable by name, so
    the network is built by the class it derives from and given to `manual_initialization`)."""
    import torch
    from batchgenerators.utilities.file_and_folder_operations import load_json
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    from nnunet_semantic.trainers import nnUNetTrainer_keepOrientation

    folder = bench_model(SPECIALIST, dataset, configuration)
    plans, dataset_json = PlansManager(load_json(str(folder / "plans.json"))), load_json(str(folder / "dataset.json"))
    cm = plans.get_configuration(configuration)
    checkpoint = torch.load(folder / "fold_0" / "checkpoint_final.pth", map_location="cpu", weights_only=False)
    network = nnUNetTrainer_keepOrientation.build_network_architecture(
        plans, cm, len(dataset_json["channel_names"]), plans.get_label_manager(dataset_json).num_segmentation_heads,
        False)
    predictor = nnUNetPredictor(use_mirroring=False, device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    predictor.manual_initialization(network, plans, cm, [checkpoint["network_weights"]], dataset_json,
                                    "nnUNetTrainer_keepOrientation", None)
    return predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/nnunet_semantic_bench"))
    parser.add_argument("--dataset", default="chaos")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--configuration", default="2d", help="2d or 3d_fullres: the quality benchmark's models of it")
    args = parser.parse_args()
    import torch
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO
    from nnunetv2.utilities.utils import get_filenames_of_train_images_and_targets

    from nnunet_semantic.inference.predictor import SemanticPredictor
    from nnunet_semantic.plans.cpu import cpu_configuration
    from nnunet_semantic.prompts.sidecar import read_sidecar_folder

    pre = prepare(args.workspace, dataset=args.dataset, source=args.configuration)
    configuration = cpu_configuration(args.configuration)
    semantic = SemanticPredictor(use_mirroring=False, device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    semantic.initialize_from_trained_model_folder(str(bench_model("SemanticTrainer", args.dataset, configuration)), [0])
    plain = specialist(args.dataset, configuration)
    cases = json.loads((pre / "splits_final.json").read_text())[0]["val"]
    raw = args.workspace / "nnUNet_raw" / bench_dataset(args.dataset).name
    files = get_filenames_of_train_images_and_targets(str(raw), json.loads((raw / "dataset.json").read_text()))
    images = {case: SimpleITKIO().read_images(files[case]["images"]) for case in cases}
    sidecars = read_sidecar_folder(pre / "prompts")
    prompt_sets = {"every prompt": {c: list(dict.fromkeys(p.text for p in sidecars[c])) for c in cases},
                   "L1 names": {c: [p.text for p in sidecars[c] if p.level == 1] for c in cases}}
    semantic.encode_prompts([semantic.resolve(t) for ts in prompt_sets["every prompt"].values() for t in ts])
    times: dict[str, list[float]] = {"label map (nnUNetPredictor)": [], **{k: [] for k in prompt_sets},
                                      PER_TILE: []}
    agreement: list[float] = []
    for _ in range(args.repeats):
        for case, (image, properties) in images.items():
            t0 = time.perf_counter()
            plain.predict_single_npy_array(image, properties)
            times["label map (nnUNetPredictor)"].append(time.perf_counter() - t0)
            masks = {}
            for name, texts in prompt_sets.items():
                t0 = time.perf_counter()
                masks[name], _ = semantic.predict_prompts(image, properties, texts[case])
                times[name].append(time.perf_counter() - t0)
                assert len(masks[name]) == len(texts[case])
            semantic.network.head.composes_labels = False
            t0 = time.perf_counter()
            per_tile, _ = semantic.predict_prompts(image, properties, prompt_sets["every prompt"][case])
            times[PER_TILE].append(time.perf_counter() - t0)
            semantic.network.head.composes_labels = type(semantic.network.head).composes_labels
            agreement += [dice(a, b) for a, b in zip(masks["every prompt"], per_tile)]
    base = statistics.median(times["label map (nnUNetPredictor)"])
    rows = [{"prediction": name, "prompts_per_case": round(statistics.mean(len(prompt_sets[name][c]) for c in cases), 1)
             if name in prompt_sets else "-", "seconds_per_case": round(statistics.median(v), 3),
             "ratio_vs_label_map": round(statistics.median(v) / base, 3)} for name, v in times.items()]
    rows[-1]["prompts_per_case"] = rows[1]["prompts_per_case"]
    ratio = rows[1]["ratio_vs_label_map"]
    suffix = "" if args.configuration == "2d" else f"_{args.configuration}"
    write_results(f"predict_cost_{args.dataset}{suffix}", {
        "dataset": bench_dataset(args.dataset).name, "configuration": configuration, "cases": cases,
        "repeats": args.repeats,
        "image_shape": list(next(iter(images.values()))[0].shape[1:]),
        "patch": list(semantic.configuration_manager.patch_size), "torch_threads": torch.get_num_threads(),
        "masks_dice_composed_vs_per_tile": {"mean": round(statistics.mean(agreement), 4),
                                            "min": round(min(agreement), 4), "masks": len(agreement)},
        "targets": {"every_prompt_over_label_map": {"value": ratio, "target": TARGET_RATIO,
                                                    "met": ratio <= TARGET_RATIO}}},
        rows, ["prediction", "prompts_per_case", "seconds_per_case", "ratio_vs_label_map"])


if __name__ == "__main__":
    main()
