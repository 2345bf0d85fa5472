"""Which labels a trained model reads each wording of its ontology as (the `labels` head's membership, no image):
the wordings it trained on and the held-out ones, as written and as the predictor gives them (`check_readings`: a
wording read as other labels than the ontology's is given as its structures' names). A wording read as other labels
is answered as that other structure (the hippocampus' "the entire hippocampus from head to tail", read as its tail,
made "... except its tail" empty); `wording.py` measures what it costs in Dice.

    python benchmarks/model_reading.py --dataset hippocampus chaos [--model SemanticTrainer] [--configuration 2d_cpu]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from workspace import bench_model, prepare  # noqa: E402

COLUMNS = ["dataset", "wordings", "n", "read_right_as_written", "read_right_as_given", "given_names"]


def readings(predictor) -> list[dict]:
    """One row per wording of the ontology: its labels, the model's reading as written and of what it is given."""
    from nnunet_semantic.prompts.wording import heldout_wordings

    rows = []
    for name, structure in predictor.ontology.structures.items():
        for kind, texts in (("trained", structure.phrases()), ("held-out", heldout_wordings(structure))):
            for text in dict.fromkeys(texts):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    given = predictor.resolve(text).pos_text
                read = predictor.labels_read([text, given])
                rows.append({"structure": name, "wordings": kind, "text": text, "labels": sorted(structure.labels),
                             "read_as": list(read[text]), "given": given, "given_read_as": list(read[given])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", nargs="+", default=["hippocampus"])
    parser.add_argument("--model", default="SemanticTrainer", help="a model trained by quality.py")
    parser.add_argument("--configuration", default="2d_cpu")
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/nnunet_semantic_bench"))
    args = parser.parse_args()
    import torch

    from nnunet_semantic.inference.predictor import SemanticPredictor

    table, per_wording, targets = [], {}, {}
    for dataset in args.dataset:
        prepare(args.workspace, dataset=dataset, source=args.configuration.removesuffix("_cpu"))
        predictor = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False)
        predictor.initialize_from_trained_model_folder(str(bench_model(args.model, dataset, args.configuration)))
        rows = per_wording[dataset] = readings(predictor)
        for kind in ("trained", "held-out"):
            of = [r for r in rows if r["wordings"] == kind]
            if not of:
                continue
            right = sum(r["read_as"] == r["labels"] for r in of) / len(of)
            given = sum(r["given_read_as"] == r["labels"] for r in of) / len(of)
            table.append({"dataset": dataset, "wordings": kind, "n": len(of), "read_right_as_written": round(right, 3),
                          "read_right_as_given": round(given, 3),
                          "given_names": sum(r["given"] != r["text"] for r in of)})
            targets[f"{dataset}_{kind}_read_right_as_given"] = {"value": round(given, 3), "target": 0.95,
                                                                "met": given >= 0.95}
        for r in rows:
            if r["read_as"] != r["labels"]:
                print(f"{dataset:<12} {r['wordings']:<9} {r['structure']:<22} labels {r['labels']} read as "
                      f"{r['read_as']}: given '{r['given']}' (read as {r['given_read_as']})  {r['text']}")
    write_results(f"model_reading_{args.model}_{args.configuration}", {"targets": targets, "per_wording": per_wording},
                  table, COLUMNS)


if __name__ == "__main__":
    main()
