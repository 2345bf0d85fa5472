"""SemanticPredictor: nnU-Net's predictor for prompt-conditioned models.

nnU-Net's preprocessing, its sliding window (tiles of the planned patch size, Gaussian importance weighting,
`tile_step_size`), its mirroring test-time augmentation and its export back to the input geometry are reused as
they are: for the tile loop the network is wrapped so that it gives the label logits every prompt is then composed
from (the `labels` head), or so that one call answers every prompt of a chunk (the image part runs once per tile
and mirror, each prompt is one output channel of foreground logits). The network is the
SemanticUNet described by the checkpoint's card (`networks/card.py`); prompt texts are encoded once per run.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import time
import warnings
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from batchgenerators.utilities.file_and_folder_operations import load_json, save_json
from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
from nnunetv2.utilities.label_handling.label_handling import LabelManager, determine_num_input_channels
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
from tqdm import tqdm

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.inference.export import BINARY_LABELS, export_case, export_mask, warn_overlaps
from nnunet_semantic.inference.jobs import PredictionJobs, complete, prediction_jobs
from nnunet_semantic.inference.postprocessing import MIN_COMPONENT_FRACTION, min_component_voxels
from nnunet_semantic.inference.prompt_reader import PromptReader
from nnunet_semantic.inference.prompted_network import LabelNetwork, PromptedNetwork, composed_prompts
from nnunet_semantic.inference.resolved_prompt import ResolvedPrompt
from nnunet_semantic.json_files import read_json
from nnunet_semantic.networks import NetworkConfig, build_network
from nnunet_semantic.networks.card import checkpoint_card, load_checkpoint
from nnunet_semantic.prompts.sidecar import prediction_name
from nnunet_semantic.source_plans import case_prefix, nearest_source, source_managers


class SemanticPredictor(PromptReader, nnUNetPredictor):
    # prompts per sliding-window pass (the image is encoded once per pass; the output buffer holds this many channels
    # per voxel) for a head that answers prompts per tile (the `labels` head: one pass for all); None: as many as fit
    # CHUNK_BUFFER_BYTES of nnU-Net's half-precision buffer, at least 16
    prompt_chunk: int | None = None
    CHUNK_BUFFER_BYTES = 2**30
    # components under this share of the smallest training volume of a parsed prompt's set are removed (0: none)
    min_component_fraction = MIN_COMPONENT_FRACTION
    # a model with a plan per source (`plan-sources`): the source whose plan preprocesses every case; None: a case
    # named with a source's prefix gets that source's, any other the source of the nearest median spacing
    source: str | None = None

    def __init__(self, *args, **kwargs):
        with contextlib.redirect_stdout(io.StringIO()):  # nnU-Net prints a note for every predictor off a GPU
            super().__init__(*args, **kwargs)

    def initialize_from_trained_model_folder(
        self, model_training_output_dir: str, use_folds=None, checkpoint_name: str = "checkpoint_final.pth"
    ):
        folder = Path(model_training_output_dir)
        if not (folder / "plans.json").is_file():
            raise SemanticError(f"{folder} is not a trained model folder (no plans.json): train it first")
        dataset_json, plans = load_json(str(folder / "dataset.json")), load_json(str(folder / "plans.json"))
        plans_manager = PlansManager(plans)
        folds = use_folds if use_folds is not None else self.auto_detect_available_folds(str(folder), checkpoint_name)
        parameters, meta, checkpoint = [], None, None
        for fold in folds:
            path = folder / f"fold_{fold}" / checkpoint_name
            if not path.is_file():
                raise SemanticError(f"{path} not found (folds {list(folds)}, checkpoint {checkpoint_name})")
            checkpoint = load_checkpoint(path)
            trained_on = checkpoint.get("init_args", {}).get("plans", {}).get("dataset_name")
            if trained_on not in (None, plans.get("dataset_name")):
                raise SemanticError(
                    f"{path}: trained on {trained_on}, but it lies in a model folder of "
                    f"{plans.get('dataset_name')} (whose dataset.json would describe it): put it "
                    "in its own dataset's results folder"
                )
            meta = meta or checkpoint_card(checkpoint, path)
            parameters.append(checkpoint["network_weights"])
        configuration_manager = plans_manager.get_configuration(checkpoint["init_args"]["configuration"])
        num_input_channels = determine_num_input_channels(plans_manager, configuration_manager, dataset_json)
        network = build_network(
            configuration_manager, num_input_channels, NetworkConfig.from_dict(meta["config"]), deep_supervision=False
        )
        try:  # fail here, with the file named, if the weights do not fit the network this version builds
            network.load_state_dict(parameters[0])
        except RuntimeError as e:
            raise SemanticError(
                f"{folder / f'fold_{folds[0]}' / checkpoint_name}: its weights do not fit the "
                f"network this version of nnunet_semantic builds ({str(e).splitlines()[1].strip()}); "
                "retrain, or predict with the version that trained it"
            ) from None
        self.manual_initialization(
            network,
            plans_manager,
            configuration_manager,
            parameters,
            dataset_json,
            checkpoint["trainer_name"],
            checkpoint.get("inference_allowed_mirroring_axes"),
        )
        self.use_card(meta, f"{folder}/dataset.json")
        self.model_folder, self.folds, self.checkpoint_name = folder, list(folds), checkpoint_name
        self.configuration_name = checkpoint["init_args"]["configuration"]
        self.encoder  # noqa: B018 - a text encoder other than the model's fails here, before any case is read

    def manual_initialization(
        self,
        network,
        plans_manager,
        configuration_manager,
        parameters,
        dataset_json,
        trainer_name,
        inference_allowed_mirroring_axes,
    ):
        """nnU-Net's (the end-of-training validation calls it with the trainer's network); prompts are then read by
        the network's card (ontology, training label counts, text encoder)."""
        super().manual_initialization(
            network,
            plans_manager,
            configuration_manager,
            parameters,
            dataset_json,
            trainer_name,
            inference_allowed_mirroring_axes,
        )
        self.label_manager = LabelManager(BINARY_LABELS, None)  # the network answers target / not target
        self.source_plans = source_managers(plans_manager, configuration_manager)
        self.use_card(getattr(network, "metadata", {}), "the network's card")
        self.model_folder = self.folds = self.checkpoint_name = self.configuration_name = None

    # --- a plan per source ------------------------------------------------------------------------
    def plan_source(self, spacing, case: str | None = None) -> str | None:
        """The source whose plan preprocesses and predicts an image (None: the model has one plan)."""
        if self.source_plans is None:
            if self.source is not None:
                raise SemanticError(f"--source {self.source!r}: this model has one plan for every case")
            return None
        if self.source is not None:
            if self.source not in self.source_plans:
                raise SemanticError(f"--source {self.source!r}: this model's sources are {list(self.source_plans)}")
            return self.source
        for key in self.source_plans:
            if case is not None and case.startswith(f"{case_prefix(key)}_"):
                return key
        return nearest_source(self.source_plans, spacing)

    @contextlib.contextmanager
    def _plan_of(self, source: str | None):
        """nnU-Net's preprocessing, sliding window and export read the predictor's managers: the source's, here."""
        if source is None:
            yield
            return
        shared = self.plans_manager, self.configuration_manager
        self.plans_manager, self.configuration_manager = self.source_plans[source]
        try:
            yield
        finally:
            self.plans_manager, self.configuration_manager = shared

    # --- prediction -------------------------------------------------------------------------------
    def min_component_voxels(self, prompt: ResolvedPrompt) -> int:
        """The smallest connected component a parsed prompt's mask keeps (0: no limit, e.g. free text, or a
        checkpoint without the training cases' label counts)."""
        if prompt.parse is None:
            return 0
        return min_component_voxels(
            self.semantic.get("label_counts", []),
            prompt.parse["target"],
            prompt.parse["avoid"],
            self.min_component_fraction,
        )

    def predict_case(
        self, data, prompts: list[ResolvedPrompt], properties: dict, return_probabilities: bool = False, labels=None
    ) -> list:
        """A preprocessed case [C, *spatial] (array or tensor, with nnU-Net's properties) and its resolved prompts
        -> one binary mask per prompt in the input's geometry, stray components removed; (mask, probabilities
        [2, ...]) with `return_probabilities`. `labels`: the case's `label_logits`, if kept from an earlier call."""
        with self._plan_of(properties.get("plan_source")):
            logits = self.answer_logits(data, prompts, labels).numpy()
            return [
                export_mask(
                    logit,
                    self.plans_manager,
                    self.configuration_manager,
                    properties,
                    self.min_component_voxels(r),
                    return_probabilities,
                )
                for logit, r in zip(logits, prompts)
            ]

    def predict_prompts(
        self,
        image: np.ndarray,
        properties: dict,
        prompts: list[str],
        strict: bool = False,
        return_probabilities: bool = False,
        allow_unknown: bool = False,
    ):
        """image [C, *spatial] as nnU-Net's readers give it -> (one result per prompt (`predict_case`), resolved
        prompts)."""
        resolved = [self.resolve(t, strict, allow_unknown) for t in prompts]
        data, props = self.preprocess(image, properties)
        return self.predict_case(data, resolved, props, return_probabilities), resolved

    def preprocess(self, image: np.ndarray, properties: dict) -> tuple[np.ndarray, dict]:
        """image [C, *spatial] as nnU-Net's readers give it -> (preprocessed case, its properties) for
        `predict_case`: done once per image when prompts come one after another (the napari plugin)."""
        source = self.plan_source(properties["spacing"])
        with self._plan_of(source):
            preprocessor = self.configuration_manager.preprocessor_class(verbose=False)
            data, _, props = preprocessor.run_case_npy(
                image, None, properties, self.plans_manager, self.configuration_manager, self.dataset_json
            )
        return data, props | {"plan_source": source}

    def predict_from_files(
        self,
        input_folder_or_jobs: Path | PredictionJobs,
        output_folder: Path | None = None,
        prompts: list[str] | None = None,
        prompt_files: list[Path] | None = None,
        *,
        strict: bool = False,
        allow_unknown: bool = False,
        combined: bool = False,
        save_probabilities: bool = False,
        continue_prediction: bool = False,
        skip_refused: bool = False,
        num_processes_preprocessing: int = 3,
        num_processes_segmentation_export: int = 3,
    ) -> dict:
        """nnUNetPredictor.predict_from_files with prompts: each case of the input folder (or of checked
        `PredictionJobs`) with its prompts -> `<case>__<prompt-slug><ending>` per prompt in the output folder, and
        `prompts_used.json` (how each prompt was read and encoded, the model, the settings), which is returned.
        Preprocessing runs in nnU-Net's worker processes, export in a pool, the network here."""
        jobs = (
            input_folder_or_jobs
            if isinstance(input_folder_or_jobs, PredictionJobs)
            else prediction_jobs(input_folder_or_jobs, output_folder, self.dataset_json, prompts, prompt_files)
        )
        out, ending = jobs.output_folder, jobs.file_ending
        if combined and any(t == "combined" for texts in jobs.prompts.values() for t in texts):
            raise SemanticError(f"the prompt 'combined' and --combined would both write <case>__combined{ending}")
        jobs, by_text = self._resolve_jobs(jobs, strict, allow_unknown, skip_refused)
        for r in by_text.values():  # what was not read by the ontology is said where the user looks, not only logged
            if r.parse is None:
                print(r.free_text_line())
        names = {case: [prediction_name(case, t, ending) for t in texts] for case, texts in jobs.prompts.items()}
        min_voxels = {t: self.min_component_voxels(r) for t, r in by_text.items()}
        plan_of = {c: self._file_source(c, jobs.files[c][0]) for c in jobs.prompts}
        used = self._record() | {
            "cases": {
                case: [
                    by_text[t].to_dict()
                    | {"file": n, "label_in_combined": i + 1, "min_component_voxels": min_voxels[t]}
                    | self.sources_of(by_text[t])
                    | ({"plan_source": plan_of[case]} if plan_of[case] else {})
                    for i, (t, n) in enumerate(zip(texts, names[case]))
                ]
                for case, texts in jobs.prompts.items()
            }
        }
        used = self._with_earlier_runs(used, out)
        todo = [c for c in jobs.prompts if not (continue_prediction and all(complete(out / n) for n in names[c]))]
        out.mkdir(parents=True, exist_ok=True)
        save_json(self.dataset_json, str(out / "dataset.json"), sort_keys=False)
        save_json(self.plans_manager.plans, str(out / "plans.json"), sort_keys=False)
        (out / "prompts_used.json").write_text(json.dumps(used, indent=1))
        if not todo:
            return used
        cases = self._preprocessed(jobs, todo, plan_of, num_processes_preprocessing)
        with multiprocessing.get_context("spawn").Pool(num_processes_segmentation_export) as pool:
            pending = []
            for item in tqdm(cases, total=len(todo), desc="predict"):
                case = item["ofile"]
                logits = self.answer_logits(item["data"], [by_text[t] for t in jobs.prompts[case]]).numpy()
                pending.append(
                    (
                        case,
                        pool.apply_async(
                            export_case,
                            (
                                logits,
                                item["data_properties"],
                                [out / n for n in names[case]],
                                [min_voxels[t] for t in jobs.prompts[case]],
                                out / f"{case}__combined{ending}" if combined else None,
                                ending if save_probabilities else None,
                                self.plans_manager,
                                self.configuration_manager,
                            ),
                        ),
                    )
                )
                while sum(not r.ready() for _, r in pending) > 2 * num_processes_segmentation_export:  # as nnU-Net's
                    time.sleep(0.05)
            painted_over = {case: result.get() for case, result in pending}
        warn_overlaps(painted_over, jobs.prompts)
        return used

    def _preprocessed(self, jobs: PredictionJobs, todo: list[str], plan_of: dict, num_processes: int):
        """nnU-Net's preprocessing iterator over the cases, one source's cases after another: each case is yielded
        while its source's plan is the predictor's (the generator is suspended inside `_plan_of`), so the caller's
        sliding window and export use it too."""
        from nnunetv2.inference.data_iterators import preprocessing_iterator_fromfiles

        for source in dict.fromkeys(plan_of[c] for c in todo):
            group = [c for c in todo if plan_of[c] == source]
            with self._plan_of(source):
                yield from preprocessing_iterator_fromfiles(
                    [jobs.files[c] for c in group],
                    None,
                    group,
                    self.plans_manager,
                    self.dataset_json,
                    self.configuration_manager,
                    num_processes,
                    self.device.type == "cuda",
                )

    def _file_source(self, case: str, first_image: str) -> str | None:
        """`plan_source` of an input case, from its name and its first image's header (no voxels read)."""
        if self.source_plans is None:
            return None
        from nnunet_semantic.image_files import read_header

        return self.plan_source(read_header(first_image).GetSpacing()[::-1], case)

    def _resolve_jobs(
        self, jobs: PredictionJobs, strict: bool, allow_unknown: bool, skip_refused: bool
    ) -> tuple[PredictionJobs, dict[str, ResolvedPrompt]]:
        """Every prompt text read once; all refused ones named in one error (or, with `skip_refused`, in one
        warning, the rest predicted), never one rerun per refused prompt."""
        by_text, refused = {}, {}
        for text in dict.fromkeys(t for ts in jobs.prompts.values() for t in ts):
            try:
                by_text[text] = self.resolve(text, strict, allow_unknown)
            except SemanticError as e:
                refused[text] = str(e)
        if not refused:
            return jobs, by_text
        reasons = [f"{t!r}: {why}" for t, why in refused.items()]
        if not skip_refused or not by_text:
            if len(refused) == 1:
                raise SemanticError(
                    next(iter(refused.values())) + ("; --skip-refused predicts the other prompts" if by_text else "")
                )
            raise SemanticError(
                f"{len(refused)} of {len(refused) + len(by_text)} prompts refused, nothing predicted"
                + (" (--skip-refused predicts the others)" if by_text else "")
                + ": "
                + "; ".join(reasons)  # one line: the CLI escapes line breaks
            )
        warnings.warn(f"{len(refused)} prompt(s) refused and not predicted:\n  " + "\n  ".join(reasons), stacklevel=3)
        kept = {case: [t for t in texts if t in by_text] for case, texts in jobs.prompts.items()}
        kept = {case: texts for case, texts in kept.items() if texts}
        return replace(jobs, prompts=kept, files={c: jobs.files[c] for c in kept}), by_text

    SETTINGS = (
        "model",
        "trainer",
        "configuration",
        "folds",
        "checkpoint",
        "tile_step_size",
        "mirroring",
        "min_component_fraction",
        "encoder",
    )

    def _with_earlier_runs(self, used: dict, out: Path) -> dict:
        """An output folder's prompts_used.json records every file in it: an earlier run's entries are kept (a
        prompt asked again replaces its own); an earlier run of another model or other settings is refused, since
        its files would be recorded as this run's."""
        path = out / "prompts_used.json"
        if not path.is_file():
            return used
        earlier = read_json(path)
        now = json.loads(json.dumps({k: used.get(k) for k in self.SETTINGS}))
        differ = [k for k in self.SETTINGS if earlier.get(k) != now[k]]
        if differ:
            changed = "; ".join(f"{k} {earlier.get(k)!r}, now {now[k]!r}" for k in differ)
            raise SemanticError(
                f"{out} holds predictions of another run ({changed}): their files would be recorded "
                "as this run's; predict into another -o"
            )
        cases = {case: list(entries) for case, entries in earlier.get("cases", {}).items()}
        for case, entries in used["cases"].items():
            asked = {e["text"] for e in entries}
            cases[case] = [e for e in cases.get(case, []) if e.get("text") not in asked] + entries
        return used | {"cases": cases}

    def _record(self) -> dict:
        """The model and settings a prediction run used, for prompts_used.json."""
        return {
            "model": str(self.model_folder),
            "trainer": self.trainer_name,
            "configuration": self.configuration_name,
            "folds": self.folds,
            "checkpoint": self.checkpoint_name,
            "tile_step_size": self.tile_step_size,
            "mirroring": self.use_mirroring and bool(self.allowed_mirroring_axes),  # none: kept orientation
            "min_component_fraction": self.min_component_fraction,
            **(
                {"unknown_threshold": round(self.unknown_threshold, 4), "unknown_threshold_basis": self.threshold_basis}
                if self.ontology
                else {}
            ),
            "encoder": {"name": self.semantic["text_encoder"], "fingerprint": self.semantic["encoder_fingerprint"]},
        }

    def label_logits(self, data, properties: dict) -> list[torch.Tensor] | None:
        """A preprocessed case's label logits, one per fold, for a head that composes its prompts from them (else
        None): the napari plugin keeps them, so each later prompt on the image skips the network (`predict_case`)."""
        data = data if isinstance(data, torch.Tensor) else torch.from_numpy(np.asarray(data, np.float32))
        with self._plan_of(properties.get("plan_source")):
            composes = getattr(self.network, "composes_labels", False)
            return [self._sliding_window(data, None) for _ in self._folds()] if composes else None

    def _folds(self):
        # each fold's weights loaded in turn, as nnU-Net loads them (a compiled network holds _orig_mod); one round
        # with the network as it is where there are none (validation)
        for params in self.list_of_parameters or [None]:
            if params is not None:
                getattr(self.network, "_orig_mod", self.network).load_state_dict(params)
            yield params

    def prompt_logits(self, data, texts: list[dict[str, torch.Tensor]], labels=None) -> torch.Tensor:
        """Preprocessed [C, *spatial] (array or tensor) -> foreground logits [K, *spatial] by nnU-Net's sliding
        window (mirroring unless `use_mirroring` is off): over the label logits (or from `labels`, `label_logits`'
        answer), every prompt composed from them, where the head composes labels, else `prompt_chunk` prompts per
        pass; each distinct text input once; several folds average their logits."""
        data = data if isinstance(data, torch.Tensor) else torch.from_numpy(np.asarray(data, np.float32))
        keys = [tuple(t[k].detach().cpu().numpy().tobytes() for k in sorted(t)) for t in texts]
        distinct = list(dict.fromkeys(keys))
        if len(distinct) < len(texts):  # synonyms read as one text: answered once
            first = [texts[keys.index(key)] for key in distinct]
            return self.prompt_logits(data, first, labels)[[distinct.index(key) for key in keys]]
        logits, folds = None, 0
        for folds, _ in enumerate(self._folds(), 1):
            if getattr(self.network, "composes_labels", False):  # the `labels` head: one sliding window for all
                fold_labels = self._sliding_window(data, None) if labels is None else labels[folds - 1]
                fold = composed_prompts(self.network, fold_labels, texts, self.device)
            else:
                chunk = self.prompt_chunk or max(16, self.CHUNK_BUFFER_BYTES // (2 * data[0].numel()))
                fold = torch.cat(
                    [self._sliding_window(data, texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
                )
            logits = fold if logits is None else logits.add_(fold)
        return logits.div_(folds) if folds > 1 else logits  # [K, *spatial]: no copy

    def _sliding_window(self, data: torch.Tensor, texts: list[dict[str, torch.Tensor]] | None) -> torch.Tensor:
        """nnU-Net's sliding window over the prompts' logits, or over the label logits (`texts` None)."""
        with self._answering(texts):
            return self.predict_sliding_window_return_logits(data).float().cpu()

    @contextlib.contextmanager
    def _answering(self, texts: list[dict[str, torch.Tensor]] | None):
        """nnU-Net's tile loop calls self.network(x) and sizes its buffer by the label manager's head count:
        for the loop, the network answers the prompts (one head each) or gives the label logits."""
        network, labels = self.network, self.label_manager
        self.network = LabelNetwork(network) if texts is None else PromptedNetwork(network, texts)
        self.label_manager = SimpleNamespace(num_segmentation_heads=len(texts or range(network.config.num_labels + 1)))
        try:
            yield
        finally:
            self.network, self.label_manager = network, labels

    def predict_numpy(self, image: np.ndarray, prompts: list[str], spacing=(1.0, 1.0, 1.0), strict: bool = False):
        """Python API: a [C, Z, Y, X] array and prompts -> one binary mask per prompt (same shape as the image)."""
        properties = {"spacing": list(spacing)}
        results, _ = self.predict_prompts(np.asarray(image, np.float32), properties, list(prompts), strict)
        return results
