"""The speed summary (`results/speed.json`): runs the three side-by-side benchmarks (text encoding, training
iteration vs nnUNetTrainer, 1/4/16 prompts) and measures preprocessing seconds per case on the MSD hippocampus
(nnU-Net's own preprocessing, and what this project adds to it: prompt generation + verification).

    python benchmarks/speed.py [--workspace DIR] [--cases 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import RESULTS, write_results  # noqa: E402
from workspace import DATASET, prepare  # noqa: E402

RUNS = {"text_encoding": [], "train_speed": ["--batch-size", "16", "--iterations", "40"], "predict_prompts": []}
IN_WORKSPACE = ("train_speed", "predict_prompts")


def preprocessing(pre: Path, cases: int) -> dict[str, float]:
    """Median seconds per case: nnU-Net's 2d preprocessing (crop, normalise, resample) and prompt generation."""
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    from nnunet_semantic.prompts.generator import generate
    from nnunet_semantic.prompts.ontology import Ontology

    raw = pre.parents[1] / "nnUNet_raw" / DATASET
    dataset_json = json.loads((pre / "dataset.json").read_text())
    plans = PlansManager(str(pre / "nnUNetPlans.json"))
    configuration = plans.get_configuration("2d")
    ontology = Ontology.from_dataset_json(dataset_json, str(pre / "dataset.json"))
    preprocessor = configuration.preprocessor_class(verbose=False)
    times: dict[str, list[float]] = {"nnunet_preprocessing_s_per_case": [], "prompt_generation_s_per_case": []}
    for label in sorted((raw / "labelsTr").glob("*.nii.gz"))[:cases]:
        case = label.name[: -len(".nii.gz")]
        t0 = time.perf_counter()
        _, seg, _ = preprocessor.run_case([str(raw / "imagesTr" / f"{case}_0000.nii.gz")], str(label), plans,
                                          configuration, dataset_json)
        times["nnunet_preprocessing_s_per_case"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        generate(case, seg[0], ontology)
        times["prompt_generation_s_per_case"].append(time.perf_counter() - t0)
    return {k: round(statistics.median(v), 4) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path(tempfile.gettempdir()) / "nnunet_semantic_bench")
    parser.add_argument("--cases", type=int, default=20, help="cases for the preprocessing timing")
    args = parser.parse_args()
    for name, extra in RUNS.items():
        where = ["--workspace", str(args.workspace)] if name in IN_WORKSPACE else []
        subprocess.run([sys.executable, str(HERE / f"{name}.py"), *where, *extra], check=True)
    runs = {name: json.loads((RESULTS / f"{name}.json").read_text()) for name in RUNS}
    train = {r["trainer"]: r for r in runs["train_speed"]["rows"] if r["dataset"] == "hippocampus"}
    predict = {(r["trainer"], r["prompts"]): r for r in runs["predict_prompts"]["rows"] if r["tta"]}  # as used
    per_case: dict[str, dict[int, float]] = {}
    for (t, n), r in predict.items():
        per_case.setdefault(t, {})[n] = r["seconds_per_case"]
    speed = {
        "train_iter_ratio_vs_nnUNetTrainer": train["SemanticTrainer"]["ratio_vs_nnUNetTrainer"],
        "train_s_per_iter": {n: r["s_per_iter_median"] for n, r in train.items()},
        "predict_16_prompts_over_1": predict["SemanticTrainer", 16]["ratio_vs_1_prompt"],
        "predict_16_prompts_over_1_encoder_fusion": predict.get(("SemanticTrainer_encoderFusion", 16), {}).get(
            "ratio_vs_1_prompt"),
        "predict_s_per_case": per_case,
        "text_encoding_texts_per_s": {r["encoder"]: r["texts_per_s"] for r in runs["text_encoding"]["rows"]},
        **preprocessing(prepare(args.workspace), args.cases),
        "targets": {"train_iter_ratio_vs_nnUNetTrainer": 1.5, "predict_16_prompts_over_1": 1.5},
        "sources": {name: f"benchmarks/results/{name}.json" for name in RUNS},
    }
    rows = [{"measure": k, "value": json.dumps(v) if isinstance(v, dict) else v} for k, v in speed.items()
            if k not in ("sources", "targets")]
    write_results("speed", speed, rows, ["measure", "value"])


if __name__ == "__main__":
    main()
