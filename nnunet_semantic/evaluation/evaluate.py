"""`nnUNetv2_evaluate_semantic`: prompted predictions against the set-rule reference, in nnU-Net's summary.json
format (so nnU-Net's loaders read it) plus a `semantic` section (per level, PSS, invariance, leakage, ...)."""

from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nnunet_semantic.errors import InputError, SemanticError
from nnunet_semantic.evaluation import metrics as m
from nnunet_semantic.evaluation.semantibench import evaluate_case, summarize
from nnunet_semantic.image_files import check_complete
from nnunet_semantic.json_files import read_json
from nnunet_semantic.paths import check_writable
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.ontology_file import DatasetLabels
from nnunet_semantic.prompts.parser import parse
from nnunet_semantic.prompts.sidecar import Prompt, prediction_name, read_prompts_used, read_sidecar_folder

METRIC_KEYS = ("Dice", "IoU", "TP", "FP", "FN", "TN", "n_pred", "n_ref")


def _resolve(prompts: list[Prompt], ontology: Ontology | None, source: Path) -> list[Prompt]:
    """Sidecar entries with texts only get their target/avoid from the dataset's ontology."""
    out = []
    for i, p in enumerate(prompts):
        if p.target:
            out.append(p)
            continue
        if ontology is None:
            raise InputError(
                source,
                f"prompt {i} ('{p.text}') has no 'target'; pass -djfile with the dataset's "
                "'semantic' ontology so it can be parsed",
            )
        parsed = parse(p.text, ontology)
        level = p.level or (3 if parsed.avoid else 1)
        structure = parsed.target_structures[0] if len(parsed.target_structures) == 1 else ""
        out.append(
            Prompt(
                p.id or f"P{i}", level, p.text, parsed.target, parsed.avoid, parsed.pos_text, parsed.neg_text, structure
            )
        )
    return out


def _binary_metrics(pred: np.ndarray, ref: np.ndarray) -> dict:
    """nnU-Net's per-label metric entry for one prompted mask."""
    tp, fp, fn = m.counts(pred, ref)
    return {
        "Dice": m.dice_from_counts(tp, fp, fn),
        "IoU": m.iou_from_counts(tp, fp, fn),
        "TP": tp,
        "FP": fp,
        "FN": fn,
        "TN": int(pred.size) - tp - fp - fn,
        "n_pred": tp + fp,
        "n_ref": tp + fn,
    }


def _check_labels(prompts: list[Prompt], labels: set[int], source: Path) -> None:
    """A prompt for a label the dataset does not have would score Dice 0 and silently lower the benchmark."""
    for p in prompts:
        unknown = sorted((set(p.target) | set(p.avoid)) - labels)
        if unknown:
            raise InputError(
                source,
                f"prompt '{p.text}' names label id(s) {unknown}, which the dataset's 'labels' "
                f"do not have (known: {sorted(labels)})",
            )


def _read_seg(io, path: Path) -> tuple[np.ndarray, dict]:
    try:
        seg, properties = io.read_seg(str(path))
    except Exception as e:  # noqa: BLE001 - any reader failure is this file's fault; name it, no traceback
        raise InputError(
            path, f"not a readable label map ({str(e).strip().splitlines()[-1] if str(e) else e!r})"
        ) from None
    return seg[0], properties


def _geometry(properties: dict) -> dict[str, np.ndarray]:
    """Spacing, and origin and direction where the reader gives them (SimpleITK's `sitk_stuff`)."""
    world = properties.get("sitk_stuff", {})
    return {
        "spacing": np.asarray(properties["spacing"], float),
        **{k: np.asarray(world[k], float) for k in ("origin", "direction") if k in world},
    }


def _check_reference(seg: np.ndarray, path: Path, labels: set[int] | None) -> None:
    """A reference holds label ids: integers the dataset knows (a float 0.6 or an unknown 7 would be scored as
    some other set in silence)."""
    values = np.unique(seg)
    if not np.all(values == np.round(values)):
        raise InputError(
            path,
            f"holds non-integer values {[float(v) for v in values[values != np.round(values)]][:5]}"
            ": a reference label map holds label ids",
        )
    unknown = sorted(int(v) for v in values if labels is not None and int(v) not in labels | {0})
    if unknown:
        raise InputError(path, f"holds label values {unknown} that dataset.json's labels ({sorted(labels)}) lack")


def _check_geometry(pred: dict, ref: dict, pred_file: Path, ref_file: Path) -> None:
    """Prediction and reference must lie in one world (nnU-Net's tolerance): a flipped direction or another spacing
    would otherwise score voxel against voxel."""
    for key in ref.keys() & pred.keys():
        if ref[key].shape != pred[key].shape or not np.allclose(ref[key], pred[key], rtol=1e-4, atol=1e-4):
            raise InputError(
                pred_file,
                f"{key} {np.round(pred[key], 4).tolist()} differs from the reference "
                f"{ref_file} ({np.round(ref[key], 4).tolist()})",
            )


def _check_output(output_file: Path, inputs: list[Path], folders: list[Path]) -> None:
    if output_file.is_dir():
        raise InputError(output_file, "-o names a folder; give the summary file to write, e.g. summary.json")
    out = output_file.resolve()
    if any(out == p.resolve() for p in inputs) or any(folder.resolve() in out.parents for folder in folders):
        raise InputError(
            output_file,
            "is an input of this evaluation (or lies in the reference or prompt "
            "folder); write the summary elsewhere, e.g. into the prediction folder",
        )


def _sidecars(prompt_folders: list[Path]) -> dict[str, list[tuple[Path, list[Prompt]]]]:
    """case -> (sidecar file, its prompts) over several folders (e.g. `prompts/` and `prompts_heldout/`)."""
    out: dict[str, list[tuple[Path, list[Prompt]]]] = {}
    for folder in prompt_folders:
        cases = read_prompts_used(folder) if Path(folder).is_file() else read_sidecar_folder(folder, texts_only=True)
        for case, prompts in cases.items():
            out.setdefault(case, []).append(
                (Path(folder) if Path(folder).is_file() else Path(folder) / f"{case}.json", prompts)
            )
    return out


def evaluate_folders(
    ref_folder: Path,
    pred_folder: Path,
    prompt_folder: Path | list[Path],
    output_file: Path,
    dataset_json: Path | None = None,
    file_ending: str | None = None,
    cases: list[str] | None = None,
) -> dict:
    """`prompt_folder`: one sidecar folder or several, whose prompts of a case are scored together (held-out
    wordings beside the seen ones); `cases` restricts the evaluation to those cases (e.g. a fold's validation)."""
    from nnunetv2.evaluation.evaluate_predictions import save_summary_json
    from nnunetv2.imageio.reader_writer_registry import determine_reader_writer_from_dataset_json

    ref_folder, pred_folder = Path(ref_folder), Path(pred_folder)
    for folder, what in ((ref_folder, "reference"), (pred_folder, "prediction")):
        if not folder.is_dir():
            raise InputError(folder, f"{what} folder not found")
    dj = read_json(dataset_json) if dataset_json else {}
    if not isinstance(dj, dict) or not isinstance(dj.get("labels", {}), dict):
        raise InputError(dataset_json, "not an nnU-Net dataset.json (an object whose 'labels' maps names to ids)")
    labels = {0, *DatasetLabels.of(dj["labels"], str(dataset_json)).ids} if "labels" in dj else None
    ontology = Ontology.from_dataset_json(dj, str(dataset_json)) if "semantic" in dj else None
    ending = file_ending or dj.get("file_ending", ".nii.gz")
    given = [Path(f) for f in (prompt_folder if isinstance(prompt_folder, (list, tuple)) else [prompt_folder])]
    prompt_folders = list({f.resolve(): f for f in given}.values())
    if len(prompt_folders) < len(given):
        warnings.warn("a prompt folder given twice is read once (each prediction is scored once)", stacklevel=2)
    sidecars = _sidecars(prompt_folders)
    check_writable(Path(output_file).parent)
    if cases is not None:
        sidecars = {c: p for c, p in sidecars.items() if c in set(cases)}
    if not sidecars:
        raise InputError(prompt_folders[0], "no <case>.json prompt sidecars")
    if cases is None:  # the reference folder chooses the cases, as in nnU-Net (a dataset's prompts/ holds Tr and Ts)
        with_reference = {c: e for c, e in sidecars.items() if (ref_folder / f"{c}{ending}").is_file()}
        if not with_reference:
            raise InputError(
                ref_folder,
                f"no reference label map <case>{ending} for any of the {len(sidecars)} "
                f"cases with prompt sidecars in {', '.join(map(str, prompt_folders))}",
            )
        left_out = sorted(set(sidecars) - set(with_reference))
        if left_out:
            warnings.warn(
                f"{len(left_out)} of {len(sidecars)} cases with prompts have no reference <case>{ending} in "
                f"{ref_folder} and are not scored: {', '.join(left_out[:5])}"
                f"{' ...' if len(left_out) > 5 else ''}",
                stacklevel=2,
            )
        sidecars = with_reference
    jobs, missing = [], []
    for case, entries in sidecars.items():
        ref = ref_folder / f"{case}{ending}"
        if not ref.is_file():
            raise InputError(ref, f"reference label map of case '{case}' (from {entries[0][0]}) not found")
        prompts: list[Prompt] = []
        for source, found in entries:
            resolved = _resolve(found, ontology, source)
            if labels is not None:
                _check_labels(resolved, labels, source)
            seen = {p.id for p in prompts}  # ids are per sidecar: one folder's "P0" is not another's
            prompts += [replace(p, id=f"{source.parent.name}/{p.id}") if p.id in seen else p for p in resolved]
        files = {p.id: pred_folder / (p.extra.get("file") or prediction_name(case, p.text, ending)) for p in prompts}
        missing += [str(f) for f in files.values() if not f.is_file()]
        jobs.append((case, ref, prompts, files))
    if missing:
        raise SemanticError(f"{len(missing)} prompted predictions missing, e.g. {', '.join(missing[:3])}")
    if not any(prompts for _, _, prompts, _ in jobs):
        raise SemanticError(
            f"no prompt to score in {', '.join(map(str, prompt_folders))}: every prompt of the "
            f"{len(jobs)} case(s) was answered from free text (no structure says which voxels it "
            "means)"
        )
    _check_output(
        Path(output_file),
        [
            *(j[1] for j in jobs),
            *(f for j in jobs for f in j[3].values()),
            *([Path(dataset_json)] if dataset_json else []),
        ],
        [ref_folder, *prompt_folders],
    )

    for _, ref_file, _, files in jobs:  # cheap (headers only): a cut-off file fails here, named, before any work
        for path in (ref_file, *files.values()):
            check_complete(path)
    # nnU-Net's own choice of reader (dataset.json's overwrite_image_reader_writer, else by file ending), which
    # tries each reader on the first reference and prints their tracebacks when none can read it
    try:
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
            io = determine_reader_writer_from_dataset_json(
                dj | {"file_ending": ending}, str(jobs[0][1]), allow_nonmatching_filename=True, verbose=False
            )()
    except Exception:  # noqa: BLE001 - no reader for this file: name it
        raise InputError(jobs[0][1], "not a readable label map (no nnU-Net reader could open it)") from None
    per_case, records = [], []
    for case, ref_file, prompts, files in tqdm(jobs, desc="evaluate"):
        seg, ref_properties = _read_seg(io, ref_file)
        ref_geometry = _geometry(ref_properties)
        _check_reference(seg, ref_file, labels)
        preds = {}
        for p in prompts:
            pred, properties = _read_seg(io, files[p.id])
            _check_geometry(_geometry(properties), ref_geometry, files[p.id], ref_file)
            if pred.max(initial=0) > 1:
                warnings.warn(
                    f"{files[p.id]}: holds values {np.unique(pred)[:6].tolist()}, not a binary mask; "
                    "scored as value > 0 (is it a label map rather than a prompted prediction?)",
                    stacklevel=2,
                )
            pred = pred > 0
            if pred.shape != seg.shape:
                raise InputError(files[p.id], f"shape {pred.shape} differs from the reference {ref_file} {seg.shape}")
            preds[p.id] = pred
            ref = m.reference_mask(seg, p.target, p.avoid)
            per_case.append(
                {
                    "reference_file": str(ref_file),
                    "prediction_file": str(files[p.id]),
                    "case": case,
                    "prompt": p.to_dict(),
                    "metrics": {1: _binary_metrics(pred, ref)},
                }
            )
        records += evaluate_case(case, seg, prompts, preds)
    mean = {1: {k: float(np.nanmean([c["metrics"][1][k] for c in per_case])) for k in METRIC_KEYS}}
    summary = {
        "metric_per_case": per_case,
        "mean": mean,
        "foreground_mean": dict(mean[1]),
        "semantic": summarize(records) | {"metric_per_prompt": records},
    }
    output_file = Path(output_file)
    output_file.parent.mkdir(parents=True, exist_ok=True)
    partial = output_file.with_name(f".{output_file.name}.partial-{os.getpid()}")
    save_summary_json(summary, str(partial))
    os.replace(partial, output_file)  # atomic: an interrupted run never leaves half a summary
    return summary
