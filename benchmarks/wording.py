"""Wordings a model never trained on: a model trained by `quality.py` predicts its dataset's held-out cases
(fold 0's validation: 40 of the hippocampus, 3 of CHAOS) for every seen prompt, every held-out wording
(`prompts_heldout/`) and every hand-written paraphrase of a part or an exclusion that the parser reads
(`tests/data/paraphrases.json` and `tests/data/exclusion_wordings.json`, the dataset's ontology's entries: levels
L2_paraphrase, L3_paraphrase; target: L3_paraphrase within 0.03 Dice and 0.01 leakage of the named L3 prompts),
through the path users get (`SemanticPredictor`, each prompt parsed from its text), scored by SemantiBench; and
Dice per held-out wording. Three readings of the same weights: "checked" (what users get: a wording of the ontology
the model reads as other labels is given as its structures' names), "as written" (every wording as written: the
text path alone) and "no projection" (as written, the training vocabulary projection switched off).
No mirroring (its effect is `tta_hippocampus.py`'s), so the numbers sit a little below the quality benchmark's.

    python benchmarks/wording.py [--dataset hippocampus|chaos] [--workspace DIR] [--model SemanticTrainer] [--modes ...]
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402
from workspace import bench_model, model_arguments, prepare, validation_predictor  # noqa: E402

KEYS = ("L1_dice", "L2_dice", "L3_dice", "L1_heldout_dice", "L3_heldout_dice", "L2_paraphrase_dice",
        "L3_paraphrase_dice", "invariance_l2", "invariance_heldout", "invariance_paraphrase", "leakage_l3",
        "leakage_l3_heldout", "leakage_l3_paraphrase")
DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
# hand-written held-out wordings: parts and exclusions (issue 26), exclusions and parts in any wording (issue 39)
SETS = (DATA / "paraphrases.json", DATA / "exclusion_wordings.json")
ONTOLOGY = {"hippocampus": "msd_hippocampus", "chaos": "chaos_t2"}  # the hand-written sets' key per dataset
MODES = {"checked": (True, True), "as written": (True, False), "no projection": (False, False)}  # projection, check


def _set(key: str, part: str) -> list:
    return [e for path in SETS for e in json.loads(path.read_text()).get(key, {}).get(part, [])]


def paraphrases(ontology, key: str, counts: dict[int, int]) -> list:
    """The hand-written paraphrases of ontology `key` with their true sets that the parser reads (what it refuses
    is counted apart), verified on a case's label counts as the dataset's own prompts are (an exclusion must remove
    something, a target must be present)."""

    from nnunet_semantic.errors import PromptError
    from nnunet_semantic.prompts.generator import GenerationSettings, verify
    from nnunet_semantic.prompts.parser import parse
    from nnunet_semantic.prompts.sidecar import Prompt

    def labels(names):
        return tuple(sorted(set().union(*(ontology.structures[n].labels for n in names)))) if names else ()

    def read(text):
        try:
            return parse(text, ontology)
        except PromptError:
            return None

    entries = [e for e in _set(key, "resolved") if read(e["text"])]
    candidates = [(Prompt(f"P-{i}", 3 if e["avoid"] else 2, e["text"], labels(e["target"]), labels(e["avoid"]),
                          structure=e["target"][0], extra={"paraphrase": True, "excluded": e["avoid"]}),
                   tuple(ontology.structures[n] for n in e["avoid"])) for i, e in enumerate(entries)]
    return verify(candidates, counts, GenerationSettings())[0]


def _seen_l1_l3(folder: Path, into: Path, cases: list[str]) -> Path:
    """A copy of `folder`'s sidecars for `cases` holding only their seen L1 and L3 prompts."""
    from nnunet_semantic.prompts.sidecar import read_sidecar_folder, write_sidecar

    into.mkdir(exist_ok=True)
    for case, prompts in read_sidecar_folder(folder).items():
        if case in cases:
            write_sidecar(into / f"{case}.json", case, [p for p in prompts if p.level in (1, 3) and not p.wording])
    return into


def main() -> None:
    import argparse

    from nnunet_semantic.errors import SemanticError

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=tuple(ONTOLOGY), default="hippocampus")
    parser.add_argument("--modes", nargs="+", choices=tuple(MODES), default=list(MODES),
                        help="the readings to measure (default: all three; the first gives the targets)")
    parser.add_argument("--cases", type=int, help="score only the first N held-out cases (a quick look)")
    parser.add_argument("--paraphrases-only", action="store_true", help="the paraphrases beside the seen L1 and L3 "
                        "prompts only (no L2, no held-out wordings): the L3_paraphrase comparison in half the time")
    args = model_arguments(__doc__, parser)
    import numpy as np
    import torch
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO
    from tqdm import tqdm

    from nnunet_semantic.evaluation.evaluate import evaluate_folders
    from nnunet_semantic.evaluation.summary import SemanticSummary
    from nnunet_semantic.prompts.generator import label_counts
    from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER, prediction_name, read_sidecar_folder, write_sidecar

    pre, key = prepare(args.workspace, dataset=args.dataset), ONTOLOGY[args.dataset]
    predictor, cases, dataset = validation_predictor(pre, args.model, args.dataset, use_mirroring=False)
    predictor.min_component_fraction = 0  # masks as the network gives them (components_hippocampus.py: the removal)
    cases = cases[: args.cases]
    folders = [pre / "prompts", pre / HELDOUT_FOLDER]
    sidecars = [read_sidecar_folder(f) for f in folders]
    refusals = [e["text"] if isinstance(e, dict) else e for e in _set(key, "refused")]
    answered = []
    for text in refusals:  # the prompts the model cannot answer, through the predictor users get
        try:
            predictor.resolve(text)
            answered.append(text)
        except SemanticError:
            pass
    print(f"refused {len(refusals) - len(answered)} of {len(refusals)} unanswerable prompts"
          + (f"; answered: {answered}" if answered else "") + f" (threshold {predictor.unknown_threshold:.3f})")
    weights = predictor.list_of_parameters[0]
    trained_temperature = weights["centre.temperature"].clone()
    io, rows, per_wording = SimpleITKIO(), [], {}
    for mode in args.modes:
        projection, predictor.check_readings = MODES[mode]
        predictor._labels_read = {}  # the projection changes what the model reads
        weights["centre.temperature"] = trained_temperature if projection else torch.zeros(())
        out = args.workspace / f"wording_{args.model}_{mode.replace(' ', '_')}"
        out.mkdir(exist_ok=True)
        paraphrase_folder = out / "prompts_paraphrase"
        paraphrase_folder.mkdir(exist_ok=True)
        for case in tqdm(cases, desc=mode):
            data, seg, _, properties = dataset.load_case(case)
            para = paraphrases(predictor.ontology, key, label_counts(seg))
            write_sidecar(paraphrase_folder / f"{case}.json", case, para)
            prompts = [p for s in sidecars for p in s[case]
                       if not args.paraphrases_only or (p.level in (1, 3) and not p.wording)] + para
            for p, mask in zip(prompts, predictor.predict_case(data, [predictor.resolve(p.text) for p in prompts],
                                                               properties)):
                io.write_seg(mask.astype(np.uint8), str(out / prediction_name(case, p.text)), properties)
        scored = [paraphrase_folder, *([_seen_l1_l3(folders[0], out / "prompts_l1_l3", cases)]
                                       if args.paraphrases_only else folders)]
        summary = evaluate_folders(pre / "gt_segmentations", out, scored, out / "summary.json",
                                   pre / "dataset.json", cases=cases)
        semantic = SemanticSummary.of(summary["semantic"])  # its row has the paraphrases' scores too
        row = semantic.row() | {f"{lv}_dice": semantic.dice(lv) for lv in ("L2_paraphrase", "L3_paraphrase")}
        rows.append({"model": args.model, "reading": mode, "projection": projection,
                     "temperature": float(weights["centre.temperature"])}
                    | {k: None if row.get(k) is None else round(row[k], 4) for k in KEYS})
        dice = defaultdict(list)
        for r in semantic.records:
            if r["level"] in ("L2_heldout", "L3_heldout", "L2_paraphrase", "L3_paraphrase"):
                dice[(r["level"], r["structure"], r["text"])].append(r["dice"])
        per_wording[mode] = {k: float(np.nanmean(v)) for k, v in dice.items()}
    keys = sorted(next(iter(per_wording.values())))
    wordings = [{"level": lv, "structure": s, "text": t} | {
        f"dice_{mode.replace(' ', '_')}": round(values[(lv, s, t)], 3)
        for mode, values in per_wording.items()} for lv, s, t in keys]
    for w in wordings:
        dice = " ".join(f"{v:.3f}" for k, v in w.items() if k.startswith("dice_"))
        print(f"{w['level']:<13} {w['structure']:<22} {dice}  {w['text']}")
    name = f"wording_{args.dataset}_{args.model}" + ("_paraphrases" if args.paraphrases_only else "")
    first = rows[0]
    dice_gap = round(first["L3_dice"] - first["L3_paraphrase_dice"], 4)
    leak_gap = round(first["leakage_l3_paraphrase"] - first["leakage_l3"], 4)
    heldout = first["L3_heldout_dice"]
    heldout_gap = None if heldout is None else round(first["L3_dice"] - heldout, 4)
    targets = {"L3_paraphrase_dice_below_L3": {"value": dice_gap, "target": 0.03, "met": dice_gap <= 0.03},
               "leakage_paraphrase_above_L3": {"value": leak_gap, "target": 0.01, "met": leak_gap <= 0.01},
               **({} if heldout_gap is None else {"L3_heldout_dice_below_L3": {
                   "value": heldout_gap, "target": 0.03, "met": heldout_gap <= 0.03}}),
               "unanswerable_answered": {"value": len(answered), "target": 0, "met": not answered}}
    write_results(name, {"targets": targets, "dataset": args.dataset, "cases": len(cases),
                         "model": str(bench_model(args.model, args.dataset)), "mirroring": False,
                         "per_wording": wordings, "unknown_threshold": round(predictor.unknown_threshold, 4),
                         "refused": {"n": len(refusals) - len(answered), "of": len(refusals), "answered": answered}},
                  rows, ["model", "reading", "projection", *KEYS])


if __name__ == "__main__":
    main()
