"""One model for many datasets, against one model per dataset, at the same iteration budget.

a) Disjoint sources: the hippocampus (MSD, nnU-Net fold 0: 160 / 40) and the phantom (40 cases, fold 0: 32 / 8),
   merged with `nnunet-semantic merge --disjoint` and planned by nnU-Net as one dataset, or by `nnunet-semantic
   plan-sources` (each source its own spacing and patch inside one network). Each per-dataset SemanticTrainer and
   each specialist (nnUNetTrainer_keepOrientation on the hippocampus, nnUNetTrainer on the phantom) trains `E x I`
   iterations; the merged model trains the sum, `2E x I`, with sources drawn by sqrt(cases) and, beside it, equally.
   All at batch 16 on 2d_cpu (with a plan per source, the hippocampus' batch is scaled to its grown patch), scored
   by the end-of-training validation on each source's own fold-0 cases (no mirroring for the prompted models; the
   specialists' masks are each prompt's set rule on their label maps). Targets: merged hippocampus L1 and L3 >=
   per-dataset - 0.01, phantom >= - 0.02, sibling overlap <= 0.01, cross-source false positives <= 1% of (case,
   prompt) pairs.
b) Partial labels: the hippocampus' 160 fold-0 training cases split at random into two sources of 80: A annotates
   only the anterior half (posterior voxels 0, labels {Anterior}), B only the posterior half. Merged with an
   ontology file declaring "hippocampus" as A's anterior plus B's posterior (no case annotates it whole), and the
   same merge with `--disjoint` (the naive merge: each source's unannotated half taught as background). Each trains
   on all 160 cases for `E x I` iterations, as the full-label per-dataset model of a); all three predict the 40
   held-out cases (full labels) through `nnUNetv2_predict_semantic -P` for four prompts, Dice per prompt.

    python benchmarks/multi_dataset.py [--epochs 15] [--iterations 25] [--parts disjoint partial] [--retrain]

Models already trained and scored in the workspace on the same budget are read back unless `--retrain`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from workspace import DATASET as HIPPOCAMPUS  # noqa: E402
from workspace import prepare, trainer  # noqa: E402

BATCH = 16
PHANTOM_ID, PHANTOM = 990, "Dataset990_SemanticPhantom"
MERGED_ID, MERGED = 700, "Dataset700_HippoPhantom"
SOURCES_ID, SOURCES = 701, "Dataset701_HippoPhantomSources"  # the same merge, planned by `plan-sources`
# part b)'s sources: raw id, name, label name, its value in the hippocampus' labels, its structure
HALVES = {"A": (731, "HippoAnteriorOnly", "Anterior", 1, "anterior hippocampus"),
          "B": (732, "HippoPosteriorOnly", "Posterior", 2, "posterior hippocampus")}
PARTIAL_ID, PARTIAL, NAIVE_ID, NAIVE = 720, "Dataset720_HippoPartial", 721, "Dataset721_HippoNaive"
PROMPTS = {"anterior hippocampus": ((1,), ()), "posterior hippocampus": ((2,), ()), "hippocampus": ((1, 2), ()),
           "hippocampus excluding the posterior hippocampus": ((1, 2), (2,))}
SIBLINGS = ("anterior hippocampus", "posterior hippocampus")
# key: (dataset, trainer, budget in units of E x I, part)
MODELS = {"hippocampus": (HIPPOCAMPUS, "SemanticTrainer", 1, "disjoint"),
          "phantom": (PHANTOM, "SemanticTrainer", 1, "disjoint"),
          "merged": (MERGED, "SemanticTrainer", 2, "disjoint"),
          "merged, equal sources": (MERGED, "SemanticTrainer_equalSources", 2, "disjoint"),
          "merged, plan per source": (SOURCES, "SemanticTrainer", 2, "disjoint"),
          "merged, plan per source, equal sources": (SOURCES, "SemanticTrainer_equalSources", 2, "disjoint"),
          "hippocampus specialist": (HIPPOCAMPUS, "nnUNetTrainer_keepOrientation", 1, "disjoint"),
          "phantom specialist": (PHANTOM, "nnUNetTrainer", 1, "disjoint"),
          "partial labels": (PARTIAL, "SemanticTrainer", 1, "partial"),
          "naive merge": (NAIVE, "SemanticTrainer", 1, "partial")}


def _slug(key: str) -> str:
    return re.sub(r"\W+", "_", key)


def _command(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / args[0]), *args[1:]], check=True)


def _planned(dataset_id: int, name: str, root: Path) -> None:
    from nnunet_semantic.plans.cpu import add_cpu_configuration

    pre = root / "nnUNet_preprocessed" / name
    if not (pre / "nnUNetPlans.json").is_file():
        _command("nnUNetv2_plan_and_preprocess", "-d", str(dataset_id), "-c", "2d", "-np", "2")
    add_cpu_configuration(pre, batch_size=BATCH, log=lambda *_: None)


def _half(root: Path, half: str, cases: list[str]) -> None:
    """Source A or B of part b): a raw nnU-Net dataset whose label maps keep one half (the other set to 0), its
    images referenced from the hippocampus, converted with an ontology of that half's structure."""
    import numpy as np
    import SimpleITK as sitk

    from nnunet_semantic.dataset_conversion.nnunet import convert_nnunet
    from nnunet_semantic.prompts.ontologies import ONTOLOGIES

    dataset_id, name, label, value, structure = HALVES[half]
    raw, hippocampus = root / "nnUNet_raw" / f"Dataset{dataset_id}_{name}", root / "nnUNet_raw" / HIPPOCAMPUS
    if (root / "nnUNet_raw" / f"Dataset{dataset_id + 10:03d}_{name}").is_dir():
        return
    (raw / "labelsTr").mkdir(parents=True, exist_ok=True)
    for case in cases:
        seg = sitk.ReadImage(str(hippocampus / "labelsTr" / f"{case}.nii.gz"))
        kept = sitk.GetImageFromArray((sitk.GetArrayFromImage(seg) == value).astype(np.uint8))
        kept.CopyInformation(seg)
        sitk.WriteImage(kept, str(raw / "labelsTr" / f"{case}.nii.gz"))
    (raw / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "MRI"}, "labels": {"background": 0, label: 1}, "numTraining": len(cases),
        "file_ending": ".nii.gz", "name": name,
        "dataset": {c: {"images": [str(hippocampus / "imagesTr" / f"{c}_0000.nii.gz")],
                        "label": str(raw / "labelsTr" / f"{c}.nii.gz")} for c in cases}}))
    shipped = ONTOLOGIES["msd_hippocampus"]["structures"][structure]
    ontology = raw.parent / f"{name}.ontology.json"
    ontology.write_text(json.dumps({"structures": {structure: {**shipped, "labels": [label]}}}))
    convert_nnunet(str(dataset_id), dataset_id + 10, ontology=ontology, num_processes=2)


def prepare_all(root: Path, parts: list[str]) -> None:
    from nnunet_semantic.cli import main as cli
    from nnunet_semantic.dataset_conversion.phantom import convert_phantom
    from nnunet_semantic.prompts.ontologies import ONTOLOGIES

    pre = prepare(root, batch_size=BATCH)
    if "disjoint" in parts:
        if not (root / "nnUNet_raw" / PHANTOM).is_dir():
            convert_phantom(PHANTOM_ID, cases=40, test_cases=10, num_processes=2)
        _planned(PHANTOM_ID, PHANTOM, root)
        if not (root / "nnUNet_raw" / MERGED).is_dir():
            assert cli(["merge", "-d", str(MERGED_ID), "--from", "4", str(PHANTOM_ID), "--name", "HippoPhantom",
                        "--disjoint"]) == 0
        _planned(MERGED_ID, MERGED, root)
        if not (root / "nnUNet_raw" / SOURCES).is_dir():
            assert cli(["merge", "-d", str(SOURCES_ID), "--from", "4", str(PHANTOM_ID), "--name",
                        "HippoPhantomSources", "--disjoint"]) == 0
        assert cli(["plan-sources", "-d", str(SOURCES_ID), "-c", "2d_cpu", "-np", "2"]) == 0
    if "partial" in parts:
        import numpy as np

        train = sorted(json.loads((pre / "splits_final.json").read_text())[0]["train"])
        order = np.random.default_rng(0).permutation(len(train))
        for half, index in (("A", order[:80]), ("B", order[80:])):
            _half(root, half, sorted(train[i] for i in index))
        union = root / "nnUNet_raw" / "hippocampus_union.ontology.json"
        whole = ONTOLOGIES["msd_hippocampus"]["structures"]["hippocampus"]
        union.write_text(json.dumps({"structures": {"hippocampus": {
            **whole, "labels": ["HippoAnteriorOnly: Anterior", "HippoPosteriorOnly: Posterior"]}}}))
        sources = [str(HALVES[h][0] + 10) for h in "AB"]
        for dataset_id, name, extra in ((PARTIAL_ID, PARTIAL, []), (NAIVE_ID, NAIVE, ["--disjoint"])):
            if not (root / "nnUNet_raw" / name).is_dir():
                assert cli(["merge", "-d", str(dataset_id), "--from", *sources, "--name", name.split("_")[1],
                            "--ontology", str(union), *extra]) == 0
            _planned(dataset_id, name, root)
            splits = root / "nnUNet_preprocessed" / name / "splits_final.json"
            keys = sorted(json.loads((root / "nnUNet_raw" / name / "dataset.json").read_text())["dataset"])
            # all 160 cases train, as the full-label model's; the validation (2 of each source) only feeds
            # nnU-Net's per-epoch pseudo Dice: the 40 held-out cases are scored by prediction
            splits.write_text(json.dumps([{"train": keys, "val": keys[:2] + keys[-2:]}]))


def _trainer_class(name: str):
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    import nnunet_semantic.trainers as trainers

    return nnUNetTrainer if name == "nnUNetTrainer" else getattr(trainers, name)


def _heldout_images(root: Path) -> tuple[Path, list[str]]:
    """The hippocampus' 40 fold-0 validation images in one folder (links), and their case ids."""
    pre = root / "nnUNet_preprocessed" / HIPPOCAMPUS
    cases = sorted(json.loads((pre / "splits_final.json").read_text())[0]["val"])
    folder = root / "multi_dataset" / "heldout_images"
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        link = folder / f"{case}_0000.nii.gz"
        if not link.exists():
            link.symlink_to(root / "nnUNet_raw" / HIPPOCAMPUS / "imagesTr" / f"{case}_0000.nii.gz")
    return folder, cases


def score_heldout(root: Path, key: str, dataset: str, trainer_name: str) -> dict:
    """Part b): the model predicts the 40 held-out cases for PROMPTS; Dice per prompt against the full labels."""
    import numpy as np
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    from nnunet_semantic.evaluation.metrics import dice, reference_mask
    from nnunet_semantic.inference.api import predict
    from nnunet_semantic.prompts.sidecar import prediction_name

    images, cases = _heldout_images(root)
    out = root / "multi_dataset" / "predictions" / _slug(key)
    dataset_id = dataset.split("_")[0].removeprefix("Dataset")
    predict(images, out, dataset_id, "2d_cpu", trainer_name, ("0",), prompts=list(PROMPTS), device="cpu",
            disable_tta=True)
    io, scores = SimpleITKIO(), {text: [] for text in PROMPTS}
    for case in cases:
        seg = io.read_seg(str(root / "nnUNet_raw" / HIPPOCAMPUS / "labelsTr" / f"{case}.nii.gz"))[0][0]
        for text, (target, avoid) in PROMPTS.items():
            pred = io.read_seg(str(out / prediction_name(case, text)))[0][0] > 0
            scores[text].append(dice(pred, reference_mask(seg, target, avoid)))
    return {text: float(np.nanmean(v)) for text, v in scores.items()}


def train_one(key: str, root: Path, epochs: int, iterations: int) -> None:
    """Child process: train MODELS[key] on fold 0 and write its scores to <workspace>/multi_dataset/<key>.json."""
    from quality import _specialist_prompts, sibling_overlap

    from nnunet_semantic.environment import apply, environment
    from nnunet_semantic.evaluation.evaluate import evaluate_folders
    from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER
    from nnunet_semantic.trainers import SemanticTrainer

    apply(environment(root))
    dataset, name, units, part = MODELS[key]
    base = _trainer_class(name)
    # as the demo, the prompted models validate without mirroring (4x the time on 2 cores); the class name names
    # the results folder
    attributes = {"validation_mirroring": False} if issubclass(base, SemanticTrainer) else {}
    pre = root / "nnUNet_preprocessed" / dataset
    t = trainer(type(f"{name}_{epochs * units}x{iterations}", (base,), attributes), pre)
    t.num_epochs, t.num_iterations_per_epoch, t.num_val_iterations_per_epoch = epochs * units, iterations, 5
    out = Path(t.output_folder)
    summary = out / "validation_semantic" / "summary.json"
    trained = (out / "checkpoint_final.pth").is_file() and (part == "partial" or summary.is_file())
    if not trained:  # else an interrupted run's model: scored, not trained again
        t.run_training()
    record = {"iterations": epochs * units * iterations, "trainer": type(t).__name__, "dataset": dataset}
    if part == "disjoint":
        if not trained:
            t.perform_actual_validation()
        cases = t.do_split()[1]
        if not isinstance(t, SemanticTrainer):
            evaluate_folders(pre / "gt_segmentations", _specialist_prompts(out, pre, cases),
                             [pre / "prompts", pre / HELDOUT_FOLDER], summary, pre / "dataset.json", cases=cases)
        semantic = json.loads(summary.read_text())["semantic"]
        record["semantic"] = {k: semantic.get(k) for k in ("per_level", "per_source", "cross_source", "pss",
                                                           "leakage_l3")}
        hippocampus_cases = [c for c in cases if "hippocampus" in c]
        if hippocampus_cases:
            pairs = sibling_overlap(out / "validation_semantic", pre, hippocampus_cases)
            record["sibling_overlap"] = max((v for v in pairs.values() if v is not None), default=None)
    if key in ("hippocampus", "partial labels", "naive merge"):  # part b)'s three models
        record["heldout_dice"] = score_heldout(root, key, dataset, type(t).__name__)
    path = root / "multi_dataset" / f"{_slug(key)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1))


def _dice(record: dict, source: str | None, level: str) -> float | None:
    s = record["semantic"]
    scores = s["per_source"][source]["per_level"] if source else s["per_level"]
    value = scores.get(level)
    return value.get("dice") if isinstance(value, dict) else value


def _cell(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _targets(merged: dict, records: dict) -> str:
    targets = {}
    for source, own, margin in (("Hippocampus", "hippocampus", 0.01), ("SemanticPhantom", "phantom", 0.02)):
        for lv in ("L1", "L3"):
            if own in records:
                targets[f"{own} {lv} >= per-dataset - {margin}"] = \
                    _dice(merged, source, lv) >= _dice(records[own], None, lv) - margin
    targets["sibling overlap <= 0.01"] = merged.get("sibling_overlap", 1) <= 0.01
    targets["cross-source FP <= 1%"] = merged["semantic"]["cross_source"]["false_positive_rate"] <= 0.01
    return "; ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in targets.items())


def disjoint_rows(records: dict) -> list[dict]:
    rows = []
    for key in [k for k, m in MODELS.items() if m[3] == "disjoint" and k in records]:
        r = records[key]
        merged = key.startswith("merged")
        sources = ("Hippocampus", "SemanticPhantom") if merged else (None, None)
        hip, pha = key.startswith("hippocampus") or merged, key.startswith("phantom") or merged
        cross = r["semantic"].get("cross_source") or {}
        rows.append({"model": key, "iterations": r["iterations"],
                     **{f"hippocampus {lv}": _cell(_dice(r, sources[0], lv) if hip else None) for lv in ("L1", "L3")},
                     **{f"phantom {lv}": _cell(_dice(r, sources[1], lv) if pha else None) for lv in ("L1", "L3")},
                     "sibling overlap": _cell(r.get("sibling_overlap")),
                     "cross-source FP": _cell(cross.get("false_positive_rate"))})
    rows += [{"model": f"targets met ({key})", "hippocampus L1": _targets(records[key], records)}
             for key in records if key.startswith("merged")]
    return rows


def partial_rows(records: dict) -> list[dict]:
    names = {"hippocampus": "full labels (160 cases)", "partial labels": "A anterior-only + B posterior-only",
             "naive merge": "naive merge (--disjoint)"}
    rows = [{"model": names[k], **{text: _cell(records[k]["heldout_dice"][text]) for text in PROMPTS}}
            for k in names if k in records and "heldout_dice" in records[k]]
    if "hippocampus" in records and "partial labels" in records:
        full, partial = records["hippocampus"]["heldout_dice"], records["partial labels"]["heldout_dice"]
        rows.append({"model": "partial within 0.02 of full", **{t: "yes" if partial[t] >= full[t] - 0.02 else "NO"
                                                                 for t in PROMPTS}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/nnunet_semantic_bench"))
    parser.add_argument("--epochs", type=int, default=15, help="epochs of one per-dataset budget")
    parser.add_argument("--iterations", type=int, default=25, help="iterations per epoch")
    parser.add_argument("--parts", nargs="+", default=["disjoint", "partial"], choices=("disjoint", "partial"))
    parser.add_argument("--models", nargs="+", choices=list(MODELS), help="only these (default: the parts' models)")
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--train-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_one:
        return train_one(args.train_one, args.workspace, args.epochs, args.iterations)

    prepare_all(args.workspace, args.parts)
    needed = {"hippocampus"} | {k for k, m in MODELS.items() if m[3] in args.parts}
    records = {}
    for key in [k for k in MODELS if k in (args.models or needed)]:
        path = args.workspace / "multi_dataset" / f"{_slug(key)}.json"
        units = MODELS[key][2]
        stale = not path.is_file() or json.loads(path.read_text())["iterations"] != args.epochs * units * \
            args.iterations
        if args.retrain or stale:
            subprocess.run([sys.executable, __file__, "--train-one", key, "--workspace", str(args.workspace),
                            "--epochs", str(args.epochs), "--iterations", str(args.iterations)], check=True)
        records[key] = json.loads(path.read_text())
        print(key, json.dumps(records[key].get("heldout_dice") or records[key]["semantic"]["per_level"]), flush=True)
    budget = {"per_dataset_iterations": args.epochs * args.iterations, "batch_size": BATCH,
              "configuration": "2d_cpu", "device": "cpu (2 cores)"}
    if "disjoint" in args.parts:
        rows = disjoint_rows(records)
        write_results("multi_dataset_disjoint", {"records": records, "budget": budget}, rows, list(rows[0]))
    if "partial" in args.parts:
        rows = partial_rows(records)
        write_results("multi_dataset_partial", {"records": records, "budget": budget}, rows, ["model", *PROMPTS])


if __name__ == "__main__":
    main()
