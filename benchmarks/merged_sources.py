"""One model over the hippocampus and CHAOS with a plan per source, against each source's own model.

The hippocampus (MSD, 1 mm crops) and CHAOS T2 (1.25 x 1.25 x 7.7 mm, 256 x 256) merged with `merge --disjoint`
and planned by `nnunet-semantic plan-sources -c 2d_cpu` (each its own spacing and normalisation inside CHAOS'
seven-stage network; the hippocampus' patch grows to 128 x 128). SemanticTrainer_equalSources trains fold 0 (each
source's own fold 0) for `E x I` iterations, so each source gets about half the batches; validation on each source's
fold-0 cases, no mirroring, as the per-dataset records. Compared, per source, with its own model's record
(`results/quality_chaos.json`: SemanticTrainer on CHAOS alone, 400 iterations of batch 2; `results/
multi_dataset_disjoint.json`: the hippocampus alone, 375 iterations of batch 16): per structure L1 Dice, L1 / L3,
sibling overlap (worst pair), and the cross-source false positives. Targets (issue 36): each structure within 0.01
of its own model, sibling overlap <= 0.01, cross-source false positives <= 1%.

With `--control N`, the hippocampus alone (its own plan and batch) is also trained N times on the crops the merge
drew of it (half the merged iterations at the merged batch): whether a gap to its record is the merge's or the
budget's, and how far runs of the same budget differ (nnU-Net does not seed its training).

    python benchmarks/merged_sources.py [--epochs 32] [--iterations 25] [--tag TAG] [--control N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write_results  # noqa: E402
from quality import sibling_overlap  # noqa: E402
from workspace import prepare, trainer  # noqa: E402

MERGED_ID, MERGED = 702, "Dataset702_HippoChaosSources"
SOURCES = {"Hippocampus": "hippocampus", "CHAOS_T2SPIR": "chaos"}


def _own_records() -> dict[str, dict]:
    """Each source's own model's scores (the per-dataset records), as {structure: L1 Dice, "L1": .., "L3": ..}."""
    chaos = json.loads((RESULTS / "quality_chaos.json").read_text())
    own = chaos["models"]["SemanticTrainer"]
    records = {"CHAOS_T2SPIR": {**own["per_structure_L1"], "L1": own["L1_dice"], "L3": own["L3_dice"],
                                "iterations": own["iterations"], "record": "quality_chaos.json"}}
    hippocampus = json.loads((RESULTS / "multi_dataset_disjoint.json").read_text())["records"]["hippocampus"]
    levels = hippocampus["semantic"]["per_level"]
    records["Hippocampus"] = {"L1": levels["L1"]["dice"], "L3": levels["L3"]["dice"],
                              "iterations": hippocampus["iterations"], "record": "multi_dataset_disjoint.json"}
    return records


def _hippocampus_at_merged_samples(workspace: Path, samples: int, iterations: int, run: int) -> dict:
    """SemanticTrainer on the hippocampus alone for `samples` crops at its own plan's batch: L1, L3, per structure."""
    from nnunet_semantic.evaluation.summary import SemanticSummary
    from nnunet_semantic.trainers import SemanticTrainer

    pre = prepare(workspace, dataset="hippocampus")
    batch = json.loads((pre / "nnUNetPlans.json").read_text())["configurations"]["2d_cpu"]["batch_size"]
    epochs = max(1, round(samples / (batch * iterations)))
    cls = type(f"SemanticTrainer_{epochs}x{iterations}" + (f"_run{run}" if run else ""), (SemanticTrainer,),
               {"validation_mirroring": False, "validation_heldout": False})
    t = trainer(cls, pre)
    t.num_epochs, t.num_iterations_per_epoch, t.num_val_iterations_per_epoch = epochs, iterations, 5
    summary_file = Path(t.output_folder) / "validation_semantic" / "summary.json"
    if not summary_file.is_file():
        t.run_training()
        t.perform_actual_validation()
    summary = SemanticSummary.of(json.loads(summary_file.read_text())["semantic"])
    return {**summary.structure_dice("L1"), "L1": summary.per_level["L1"]["dice"],
            "L3": summary.per_level["L3"]["dice"], "iterations": epochs * iterations, "batch": batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/nnunet_semantic_bench"))
    parser.add_argument("--epochs", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=25)
    parser.add_argument("--tag", help="write results/merged_sources_TAG.* (a trial) instead of the record")
    parser.add_argument("--control", type=int, default=0, help="runs of the hippocampus alone at the merge's samples")
    args = parser.parse_args()
    from nnunet_semantic.cli import main as cli
    from nnunet_semantic.evaluation.summary import SemanticSummary
    from nnunet_semantic.trainers import SemanticTrainer_equalSources

    for dataset in SOURCES.values():
        prepare(args.workspace, dataset=dataset)
    if not (args.workspace / "nnUNet_raw" / MERGED).is_dir():
        assert cli(["merge", "-d", str(MERGED_ID), "--from", "4", "560", "--name", MERGED.split("_", 1)[1],
                    "--disjoint"]) == 0
    pre = args.workspace / "nnUNet_preprocessed" / MERGED
    assert cli(["plan-sources", "-d", str(MERGED_ID), "-c", "2d_cpu", "-np", "2"]) == 0
    name = f"SemanticTrainer_equalSources_{args.epochs}x{args.iterations}"
    cls = type(name, (SemanticTrainer_equalSources,), {"validation_mirroring": False, "validation_heldout": False})
    t = trainer(cls, pre)
    t.num_epochs, t.num_iterations_per_epoch, t.num_val_iterations_per_epoch = args.epochs, args.iterations, 5
    out = Path(t.output_folder)
    start, minutes = time.perf_counter(), None  # None: trained by an earlier run
    if not (out / "validation_semantic" / "summary.json").is_file():
        t.run_training()
        t.perform_actual_validation()  # nnUNetv2_train calls it after run_training
        minutes = round((time.perf_counter() - start) / 60, 1)
    summary = SemanticSummary.of(json.loads((out / "validation_semantic" / "summary.json").read_text())["semantic"])
    per_structure = summary.structure_dice("L1")
    cases = t.do_split()[1]
    own, rows, targets = _own_records(), [], {}
    configurations = json.loads((pre / "nnUNetPlans.json").read_text())["configurations"]
    control = {}
    if args.control:  # the crops the equal draw gave the hippocampus: half the iterations at its merged batch
        merged_batch = configurations[configurations["2d_cpu"]["source_configurations"]["Hippocampus"]]["batch_size"]
        samples = args.epochs * args.iterations * merged_batch // len(SOURCES)
        runs = [_hippocampus_at_merged_samples(args.workspace, samples, args.iterations, run)
                for run in range(args.control)]
        control = {key: sum(r[key] for r in runs) / len(runs) for key in runs[0]} | {"runs": runs}
    structures = {key: s["structures"] for key, s in json.loads((pre / "dataset.json").read_text())["semantic"]
                  ["sources"].items()}
    for source in SOURCES:
        levels = summary.per_source[source].per_level
        merged = {**{s: v for s, v in per_structure.items() if s in structures[source]},
                  "L1": levels["L1"]["dice"], "L3": levels["L3"]["dice"]}
        for key, value in merged.items():
            reference = own[source].get(key)
            at_samples = control.get(key) if source == "Hippocampus" else None
            rows.append({"source": source, "structure / level": key, "merged": round(value, 3),
                         "own": None if reference is None else round(reference, 3),
                         "own, merge's samples": None if at_samples is None else round(at_samples, 3),
                         "difference": None if reference is None else round(value - reference, 3)})
            if reference is not None:
                targets[f"{source}_{key}_below_own"] = {"value": round(reference - value, 4), "target": 0.01,
                                                        "met": reference - value <= 0.01}
        pairs = sibling_overlap(out / "validation_semantic", pre, [c for c in cases if t.sources.of_case[c] == source])
        worst = max((v for v in pairs.values() if v is not None), default=None)
        if worst is not None:
            targets[f"{source}_sibling_overlap"] = {"value": round(worst, 4), "target": 0.01, "met": worst <= 0.01}
    cross = summary.cross_source or {}
    if cross:
        targets["cross_source_false_positive_rate"] = {"value": cross["false_positive_rate"], "target": 0.01,
                                                       "met": cross["false_positive_rate"] <= 0.01}
    payload = {"targets": targets, "own_records": own, "merged": MERGED, "trainer": name,
               "iterations": args.epochs * args.iterations, "minutes": minutes,
               "plans": configurations["2d_cpu"]["source_configurations"],
               **({"hippocampus_alone_at_merged_samples": control} if control else {})}
    write_results("merged_sources" + (f"_{args.tag}" if args.tag else ""), payload,
                  rows, ["source", "structure / level", "merged", "own", "difference"]
                  + (["own, merge's samples"] if control else []))
    for target, entry in targets.items():
        print(f"{target}: {entry['value']} (target {entry['target']}): {'met' if entry['met'] else 'MISSED'}")


if __name__ == "__main__":
    main()
