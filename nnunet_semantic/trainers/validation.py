"""The end-of-training validation of a SemanticTrainer fold (nnU-Net's `perform_actual_validation`): the fold's
validation cases predicted by the predictor's `predict_case` (its sliding window, mirroring and export, as users
predict) and scored by the evaluation's functions.

Two summaries for the fold's validation cases, in the images' own geometry: `validation/summary.json` (nnU-Net's,
from a label map composed of one L1 prompt per label, so nnU-Net's tools keep working) and
`validation_semantic/summary.json` (every verified prompt, and every prompt in a held-out wording where the dataset
has `prompts_heldout/`; SemantiBench); stray components removed as prediction removes them.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from nnunetv2.evaluation.evaluate_predictions import compute_metrics_on_folder
from tqdm import tqdm

from nnunet_semantic.evaluation.evaluate import evaluate_folders
from nnunet_semantic.evaluation.summary import SemanticSummary
from nnunet_semantic.inference.predictor import SemanticPredictor
from nnunet_semantic.inference.resolved_prompt import ResolvedPrompt
from nnunet_semantic.prompts.sidecar import CROSS_FOLDER, HELDOUT_FOLDER, prediction_name, read_sidecar_folder
from nnunet_semantic.text import get_encoder
from nnunet_semantic.text.bank import build_bank
from nnunet_semantic.trainers.prompt_table import prompt_texts, sidecar_folder


def label_texts(structures: dict[str, tuple[int, ...]], foreground_labels) -> dict[int, str]:
    """One L1 prompt per label: the smallest ontology structure holding it (its name is an L1 prompt). Returned
    largest structure first, so that painting in this order leaves the most specific label."""
    choice = {}
    for label in foreground_labels:
        holding = [(len(labels), name) for name, labels in structures.items() if label in labels]
        if holding:
            choice[label] = min(holding)
    return {label: name for label, (_, name) in sorted(choice.items(), key=lambda kv: -kv[1][0])}


def heldout_texts(trainer) -> tuple[Path | None, dict, dict[str, np.ndarray]]:
    """The held-out-wording sidecars (folder, case -> prompts) and their texts' vectors, from a bank of their own
    (encoded at the first validation; never in the training bank)."""
    pre = Path(trainer.preprocessed_dataset_folder_base)
    folder = sidecar_folder(pre, HELDOUT_FOLDER, required=False) if trainer.validation_heldout else None
    sidecars = read_sidecar_folder(folder) if folder else {}
    texts = sorted({t for ps in sidecars.values() for p in ps for t in prompt_texts(p, trainer.merged_prompt) if t})
    if not texts:
        return folder, sidecars, {}
    bank, _ = build_bank(pre, get_encoder(trainer.text_encoder, device=trainer.device.type), texts, part="heldout")
    return folder, sidecars, dict(zip(texts, bank.get(texts)))


def _resolved(prompt, merged: bool) -> ResolvedPrompt:
    """A verified sidecar prompt as the predictor answers it: its texts, and its label sets for stray components."""
    pos, neg = prompt_texts(prompt, merged)
    return ResolvedPrompt(prompt.text, pos, neg, {"target": list(prompt.target), "avoid": list(prompt.avoid)})


def validate_fold(trainer) -> None:
    network, pre = trainer._module(), Path(trainer.preprocessed_dataset_folder_base)
    _, val_keys = trainer.do_split()
    val_keys = [k for k in val_keys if k in trainer.prompts.cases]
    dataset = trainer.dataset_class(trainer.preprocessed_dataset_folder, val_keys)
    # as nnU-Net validates: its sliding window, mirroring, everything on the device where that is a GPU
    predictor = SemanticPredictor(
        tile_step_size=0.5,
        use_gaussian=True,
        use_mirroring=trainer.validation_mirroring,
        perform_everything_on_device=trainer.device.type == "cuda",
        device=trainer.device,
        verbose=False,
        allow_tqdm=False,
    )
    predictor.manual_initialization(
        network,
        trainer.plans_manager,
        trainer.configuration_manager,
        None,
        trainer.dataset_json,
        trainer.__class__.__name__,
        trainer.inference_allowed_mirroring_axes,
    )
    predictor.add_text_vectors(dict(zip(trainer.prompts.texts, trainer.prompts.vectors)))
    out = Path(trainer.output_folder)
    for name in ("validation", "validation_semantic"):
        (out / name).mkdir(exist_ok=True)
    writer = trainer.plans_manager.image_reader_writer_class()
    ending = trainer.dataset_json["file_ending"]
    structures = trainer.ontology.label_sets()
    per_label = label_texts(structures, trainer.label_manager.foreground_labels)
    heldout_folder, heldout, heldout_vectors = heldout_texts(trainer)
    cross_folder = sidecar_folder(pre, CROSS_FOLDER, required=False)  # merged disjoint sources: never trained on
    cross = read_sidecar_folder(cross_folder) if cross_folder else {}
    predictor.add_text_vectors(heldout_vectors)
    extra_prompts = {k: heldout.get(k, []) + cross.get(k, []) for k in val_keys}
    mirroring = "on" if predictor.use_mirroring and trainer.inference_allowed_mirroring_axes else "off"
    trainer.print_to_log_file(
        f"validation: {len(val_keys)} cases, their verified prompts"
        + (" and held-out wordings" if heldout else "")
        + f", mirroring {mirroring}"
        + (
            " (on the CPU 4 to 6 times the time of a pass without: a trainer subclass with "
            "validation_mirroring = False skips it)"
            if mirroring == "on" and trainer.device.type == "cpu"
            else ""
        )
        + "; progress per case in the log file"
    )
    for i, key in enumerate(tqdm(val_keys, desc="validation", disable=not val_keys)):
        start = time.monotonic()
        data, _, _, properties = dataset.load_case(key)
        if trainer.source_plans is not None:  # preprocessed with its source's plan: predicted and exported with it
            properties["plan_source"] = trainer.sources.of_case[key]
        prompts = trainer.prompts.sidecars[key] + extra_prompts[key]
        # the label map's L1 prompt of a label is mostly one of the case's verified L1 prompts: predicted once
        same = {
            label: next(
                (
                    j
                    for j, p in enumerate(prompts)
                    if p.text == name and not p.avoid and set(p.target) == set(structures[name])
                ),
                None,
            )
            for label, name in per_label.items()
        }
        extra = [name for label, name in per_label.items() if same[label] is None]
        resolved = [_resolved(p, trainer.merged_prompt) for p in prompts] + [
            ResolvedPrompt(n, n, "", {"target": list(structures[n]), "avoid": []}) for n in extra
        ]
        masks = predictor.predict_case(data, resolved, properties)
        for prompt, mask in zip(prompts, masks):
            writer.write_seg(
                mask.astype(np.uint8),
                str(out / "validation_semantic" / prediction_name(key, prompt.text, ending)),
                properties,
            )
        composed = np.zeros_like(masks[0], dtype=np.uint8)
        for label, name in per_label.items():
            composed[masks[same[label] if same[label] is not None else len(prompts) + extra.index(name)] > 0] = label
        writer.write_seg(composed, str(out / "validation" / f"{key}{ending}"), properties)
        trainer.print_to_log_file(
            f"validation case {i + 1}/{len(val_keys)} {key}: {len(resolved)} prompts over "
            f"{data.shape[1]} slices of {'x'.join(map(str, data.shape[2:]))} in "
            f"{time.monotonic() - start:.1f} s",
            also_print_to_console=False,
        )
    metrics = compute_metrics_on_folder(
        str(pre / "gt_segmentations"),
        str(out / "validation"),
        str(out / "validation" / "summary.json"),
        writer,
        ending,
        trainer.label_manager.foreground_labels,
        trainer.label_manager.ignore_label,
        chill=True,
        num_processes=1,
    )
    sidecars = [sidecar_folder(pre), *(f for f in (heldout_folder, cross_folder) if f)]
    summary = out / "validation_semantic" / "summary.json"
    semantic = SemanticSummary.of(
        evaluate_folders(
            pre / "gt_segmentations",
            out / "validation_semantic",
            sidecars,
            summary,
            pre / "dataset.json",
            ending,
            val_keys,
        )["semantic"],
        str(summary),
    )
    trainer.print_to_log_file("Mean validation Dice (L1 prompt per label): ", metrics["foreground_mean"]["Dice"])
    trainer.print_to_log_file(
        "SemantiBench on validation:",
        {k: v["dice"] for k, v in semantic.per_level.items()},
        "PSS",
        semantic.mean("pss"),
        "leakage L3",
        semantic.mean("leakage_l3"),
        "invariance (held-out wordings)",
        semantic.mean("invariance_heldout"),
    )
    for source, sub in semantic.per_source.items():
        trainer.print_to_log_file(f"  source {source}:", {k: v["dice"] for k, v in sub.per_level.items()})
    if semantic.cross_source:
        cross_source = semantic.cross_source
        trainer.print_to_log_file(
            "cross-source false-positive rate (other sources' structures asked of an image):",
            cross_source["false_positive_rate"],
            f"(n={cross_source['n']})",
        )
