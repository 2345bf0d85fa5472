"""Which free-text prompts a trained model answers: the unknown-text threshold (issue 34, #29) on probes written by
someone who never read the code (`benchmarks/data/threshold_probes_blind.json`: requests for anatomy the hippocampus
model does not know, and paraphrases of its three structures). Rules compared side by side on one model: the old
threshold (least similar held-out wording less 0.02) and the calibrated one (also 0.02 above the most similar
anatomy name the ontology cannot read), each on the model's ontology as shipped and with one unusual held-out
wording added ("biventricular region", the probe that let "liver" be answered on a heart model).

    python benchmarks/free_text_threshold.py [--model SemanticTrainer]   (a model trained by quality.py)
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_results  # noqa: E402
from workspace import bench_model, model_arguments, prepare  # noqa: E402

PROBES = Path(__file__).resolve().parent / "data" / "threshold_probes_blind.json"
UNUSUAL = "biventricular region"


def main() -> None:
    args = model_arguments(__doc__)
    import torch

    from nnunet_semantic.errors import SemanticError
    from nnunet_semantic.inference.predictor import SemanticPredictor
    from nnunet_semantic.prompts.ontology import Ontology

    prepare(args.workspace)
    probes = json.loads(PROBES.read_text())
    predictor = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    predictor.initialize_from_trained_model_folder(str(bench_model(args.model)), [0])
    shipped = predictor.ontology
    unusual = shipped.to_dict()
    unusual["structures"]["hippocampus"]["heldout"] = [*unusual["structures"]["hippocampus"].get("heldout", []),
                                                       UNUSUAL]
    labels = {name: sorted(s.labels) for name, s in shipped.structures.items()}
    rows, targets = [], {}
    for ontology_name, ontology in (("shipped", shipped), ("with an unusual held-out wording", Ontology.from_dict(
            unusual))):
        predictor.ontology, predictor._threshold = ontology, None
        calibrated = predictor.unknown_threshold
        old = predictor.threshold_basis["heldout_least_similar"]["similarity"] - predictor.MARGIN
        for rule, threshold in (("held-out only (before)", old), ("calibrated (now)", calibrated)):
            predictor._threshold = threshold
            refused, answered, wrong = 0, 0, []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for text in probes["unknown"]:
                    try:
                        predictor.resolve(text)
                    except SemanticError:
                        refused += 1
                for probe in probes["known"]:
                    try:
                        r = predictor.resolve(probe["text"])
                    except SemanticError:
                        continue
                    got = r.parse["target"] if r.parse else labels[r.nearest["structure"]]
                    if sorted(got) == labels[probe["structure"]] and not (r.parse or {}).get("avoid"):
                        answered += 1
                    else:
                        wrong.append(probe["text"])
            rows.append({"ontology": ontology_name, "rule": rule, "threshold": round(threshold, 3),
                         "unknown_refused": f"{refused}/{len(probes['unknown'])}",
                         "known_answered_right": f"{answered}/{len(probes['known'])}",
                         "known_answered_wrong": len(wrong)})
            if rule.startswith("calibrated"):
                key = "shipped" if ontology_name == "shipped" else "unusual"
                targets[f"unknown_refused_share_{key}"] = {"value": round(refused / len(probes["unknown"]), 3),
                                                           "target": 0.95, "met": refused / len(probes["unknown"])
                                                           >= 0.95}
                targets[f"known_answered_wrong_{key}"] = {"value": len(wrong), "target": 0, "met": not wrong}
    write_results("free_text_threshold", {"probes": str(PROBES.name), "model": str(bench_model(args.model)),
                                          "targets": targets}, rows,
                  ["ontology", "rule", "threshold", "unknown_refused", "known_answered_right",
                   "known_answered_wrong"])


if __name__ == "__main__":
    main()
