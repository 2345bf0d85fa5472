"""`nnunet-semantic demo`: the pipeline end to end on the embedded synthetic default (or `--data`, one dataset or
several merged into one): convert, plan, train SemanticTrainer and the TextConcatTrainer baseline, predict
held-out prompts, evaluate, report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nnunet_semantic import doctor
from nnunet_semantic.environment import NNUNET_FOLDERS, apply, environment
from nnunet_semantic.errors import SemanticError
from nnunet_semantic.evaluation.metrics import LEAKAGE_FLAG
from nnunet_semantic.evaluation.summary import SemanticSummary
from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER

TRAINERS = ("SemanticTrainer", "TextConcatTrainer")
# The phantom's schedule is tuned at this batch. Measured instead, a busy machine gets batch 4 and the model then
# finds only the bright stripes of the cyst (cyst L1 Dice 0.61 against 0.91-0.93 at batch 8, both 250 iterations).
PHANTOM_BATCH = 8


def _workspace(output: Path | None) -> Path | None:
    """Root for the nnU-Net folders, or None when the user's own variables are all set."""
    if output is not None:
        return output
    if all(os.environ.get(n) for n in NNUNET_FOLDERS):
        return None
    return Path(tempfile.mkdtemp(prefix="nnunet_semantic_demo_"))


_START = time.monotonic()  # imported when the demo starts (cli imports this module lazily)


def _step(title: str) -> None:
    minutes, seconds = divmod(int(time.monotonic() - _START), 60)
    print(f"\n=== {title} === [{minutes:02d}:{seconds:02d}]", flush=True)


def _nnunet(command: str, *args: str) -> None:
    script = Path(sys.executable).parent / command
    code = subprocess.run([str(script), *args]).returncode
    if code:
        raise SemanticError(f"{command} {' '.join(args)} failed (exit {code}); its output is above")


def _validation(trainer: str, configuration: str) -> tuple[SemanticSummary, Path]:
    results = Path(os.environ["nnUNet_results"])
    path = next(
        results.glob(f"Dataset*/{trainer}__nnUNetPlans__{configuration}/fold_0/validation_semantic/summary.json")
    )
    return SemanticSummary.of(json.loads(path.read_text())["semantic"], str(path)), path


def _predict_and_evaluate(d: str, configuration: str, device: str, names: list[str]) -> dict:
    """Held-out cases (imagesTs with labelsTs, as the phantom has): predict their verified prompts, in seen and in
    held-out wordings, and evaluate."""
    from nnunet_semantic.evaluation.evaluate import evaluate_folders
    from nnunet_semantic.inference.api import predict
    from nnunet_semantic.paths import raw_dataset_folder

    raw = raw_dataset_folder(d)
    cases = sorted(p.name[: -len("_0000.nii.gz")] for p in (raw / "imagesTs").glob("*_0000.nii.gz"))
    if not cases or not (raw / "labelsTs").is_dir():
        return {}
    heldout = [raw / HELDOUT_FOLDER] if (raw / HELDOUT_FOLDER).is_dir() else []
    results = {}
    for name in names:
        # the baseline's decoder runs once per prompt: held-out wordings would double the demo's time on a CPU
        prompts = [raw / "prompts", *(heldout if name.startswith(TRAINERS[0] + "_") else [])]
        out = Path(os.environ["nnUNet_results"]).parent / "demo_predictions" / name
        _step(
            f"nnUNetv2_predict_semantic: {len(cases)} held-out cases, their verified L1/L2/L3 prompts"
            f"{' in seen and unseen wordings' if len(prompts) > 1 else ''} ({name})"
        )
        predict(
            raw / "imagesTs",
            out,
            d,
            configuration,
            name,
            ("0",),
            prompt_files=prompts,
            device=device,
            disable_tta=device == "cpu",
        )  # mirroring: 4x the time on 2 cores
        summary = evaluate_folders(
            raw / "labelsTs", out, prompts, out / "summary.json", out / "dataset.json", cases=cases
        )
        results[name] = SemanticSummary.of(summary["semantic"], str(out / "summary.json")), out / "summary.json"
    return results


def _convert(data: str, dataset_id: int, **common) -> Path:
    """An MSD task folder (its dataset.json lists `training`) or an nnU-Net dataset, converted."""
    from nnunet_semantic.dataset_conversion.msd import convert_msd
    from nnunet_semantic.dataset_conversion.nnunet import convert_nnunet, read_dataset_json, source_folder

    folder = source_folder(data)
    if "training" in read_dataset_json(folder):
        return convert_msd(folder, dataset_id, **common)
    return convert_nnunet(folder, dataset_id, **common)


def _convert_data(args, common: dict) -> None:
    """`--data`: one dataset converted to --dataset-id; several converted to the ids after it and merged."""
    from nnunet_semantic.dataset_conversion.merge import merge_datasets

    if len(args.data) == 1:
        _step(f"convert {args.data[0]}")
        print(_convert(args.data[0], args.dataset_id, **common))
        return
    ids = [args.dataset_id + 1 + i for i in range(len(args.data))]
    for data, dataset_id in zip(args.data, ids):
        _step(f"convert {data} -> {dataset_id}")
        print(_convert(data, dataset_id, **common))
    _step(f"merge {' '.join(map(str, ids))} -> {args.dataset_id}{' (disjoint)' if args.disjoint else ''}")
    print(merge_datasets([str(i) for i in ids], args.dataset_id, overwrite=args.overwrite, disjoint=args.disjoint))


def _per_source(semantic: SemanticSummary) -> None:
    """A merged dataset's SemantiBench per source and its cross-source false positives."""
    for source, sub in semantic.per_source.items():
        print(
            f"{'':<28} {source}: "
            + ", ".join(f"{lv} {sub.dice(lv):.3f}" for lv in ("L1", "L2", "L3") if sub.dice(lv) is not None)
        )
    cross = semantic.cross_source
    if cross.get("n"):
        print(
            f"{'':<28} cross-source false positives: {cross['false_positive_rate']:.1%} of {cross['n']} "
            "(prompts of one source on another's images)"
        )


def main(args) -> int:
    from nnunet_semantic.dataset_conversion.phantom import convert_phantom
    from nnunet_semantic.paths import preprocessed_dataset_folder, raw_dataset_folder
    from nnunet_semantic.plans.cpu import add_cpu_configuration
    from nnunet_semantic.prompts.cli import prompt_statistics
    from nnunet_semantic.text.cli import embed_dataset

    if args.data is None and args.cases < 5:
        raise SemanticError(f"--cases {args.cases}: nnU-Net's 5-fold split needs at least 5 training cases")
    apply(environment(_workspace(args.output)))
    _step("environment")
    print("\n".join(f"{n}={os.environ[n]}" for n in NNUNET_FOLDERS))
    if doctor.main(args) != 0:
        return 1

    d = str(args.dataset_id)
    common = {"overwrite": args.overwrite, "num_processes": args.np}
    if args.data is None:
        _step("convert the synthetic phantom")
        print(convert_phantom(args.dataset_id, cases=args.cases, test_cases=args.test_cases, **common))
    else:
        _convert_data(args, common)
    _step("nnU-Net plan and preprocess (2d)")
    _nnunet("nnUNetv2_plan_and_preprocess", "-d", d, "-c", "2d", "--verify_dataset_integrity", "-np", str(args.np))
    _step("verified prompts")
    print(prompt_statistics(raw_dataset_folder(d)))
    _step("text embeddings (once per distinct text)")
    bank, n_new, path = embed_dataset(d)
    print(f"{len(bank)} texts, {n_new} newly encoded: {path}")

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    configuration = "2d" if device == "cuda" else "2d_cpu"
    if device == "cpu":
        _step("CPU configuration")
        batch = args.batch_size or (PHANTOM_BATCH if args.data is None else None)
        entry = add_cpu_configuration(preprocessed_dataset_folder(d), batch_size=batch)
        print(f"2d_cpu: batch size {entry['batch_size']}")
    names = [f"{trainer}_{args.schedule}" for trainer in TRAINERS[: 1 if args.no_baseline else None]]
    for name in names:
        _step(f"nnUNetv2_train {d} {configuration} 0 -tr {name}")
        _nnunet("nnUNetv2_train", d, configuration, "0", "-tr", name, "-device", device)
    results = _predict_and_evaluate(d, configuration, device, names)
    _step("SemantiBench on held-out cases" if results else "SemantiBench on validation (fold 0)")
    for name in names:
        results.setdefault(name, _validation(name, configuration))
    from nnunet_semantic.evaluation.report import write_report

    reports = {name: write_report(path, path.with_name("report.html")) for name, (_, path) in results.items()}
    print(
        f"{'trainer':<28} {'L1':>6} {'L2':>6} {'L3':>6} {'PSS':>7} {'leak':>6} {'inv L2':>6} {'abs FP':>6} "
        f"{'L2 new':>6} {'L3 new':>6} {'inv new':>7} {'leak 2x':>7}"
    )
    for name, (semantic, _) in results.items():
        row = semantic.row()
        cells = [
            row[k]
            for k in (
                "L1_dice",
                "L2_dice",
                "L3_dice",
                "pss",
                "leakage_l3",
                "invariance_l2",
                "absent_false_positive_rate",
                "L1_heldout_dice",
                "L3_heldout_dice",
                "invariance_heldout",
                "leakage_l3_multi",
            )
        ]
        text = [f"{c:>6.3f}" if c is not None else f"{'-':>6}" for c in cells]
        text[3] += "!" if semantic.pss_is_gamed else " "
        print(f"{name:<28} " + " ".join(text))
        print(
            f"{'':<28} L1 per structure: " + ", ".join(f"{s} {v:.3f}" for s, v in semantic.structure_dice("L1").items())
        )
        _per_source(semantic)
    _step("where the files are")
    models = Path(os.environ["nnUNet_results"])
    for name, (_, path) in results.items():
        model = next(models.glob(f"Dataset*/{name}__nnUNetPlans__{configuration}"))
        print(f"{name}:\n  model      {model}\n  summary    {path}\n  report     {reports[name]}")
    print(
        "PSS and L2 invariance count only cases whose L1 Dice exceeds 0.8 ('-': none did); rules in each summary.\n"
        f"PSS! : L3 leakage above {LEAKAGE_FLAG}, so a small PSS says little (the excluded part is painted anyway).\n"
        "abs FP: share of prompts for structures a case lacks that painted anything.\n"
        "new: wordings never trained on (prompts_heldout/); leak 2x: L3 leakage of prompts with two exclusions."
    )
    _step("done")
    return 0
