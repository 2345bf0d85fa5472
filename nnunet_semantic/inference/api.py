"""`predict(...)`: nnUNetv2_predict_semantic as a function, which the command calls (as nnU-Net's entry points call
`nnUNetPredictor.predict_from_files`)."""

from __future__ import annotations

from pathlib import Path

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.inference.postprocessing import MIN_COMPONENT_FRACTION


def predict(
    input_folder: Path,
    output_folder: Path,
    dataset: str | int,
    configuration: str,
    trainer: str = "SemanticTrainer",
    folds=(0, 1, 2, 3, 4),
    prompts: list[str] | None = None,
    prompt_files: list[Path] | None = None,
    *,
    plans: str = "nnUNetPlans",
    checkpoint: str = "checkpoint_final.pth",
    device: str = "cuda",
    step_size: float = 0.5,
    disable_tta: bool = False,
    npp: int = 3,
    nps: int = 3,
    prompt_chunk: int | None = None,
    min_component_fraction: float = MIN_COMPONENT_FRACTION,
    source: str | None = None,
    save_probabilities: bool = False,
    continue_prediction: bool = False,
    strict: bool = False,
    allow_unknown: bool = False,
    combined: bool = False,
    skip_refused: bool = False,
) -> dict:
    """Segment what the prompts ask for in every case of `input_folder` with the trained model of `dataset`
    (`nnUNet_results/<dataset>/<trainer>__<plans>__<configuration>`, `folds` averaged). The inputs, prompts and
    output folder are checked before the model loads. Returns what `prompts_used.json` records."""
    import torch
    from batchgenerators.utilities.file_and_folder_operations import load_json
    from nnunetv2.utilities.file_path_utilities import get_output_folder

    from nnunet_semantic.inference.jobs import prediction_jobs
    from nnunet_semantic.inference.predictor import SemanticPredictor
    from nnunet_semantic.paths import dataset_name

    if not 0 < step_size <= 1:
        raise SemanticError(f"-step_size must be in (0, 1], got {step_size}")
    if not 0 <= min_component_fraction < 1:
        raise SemanticError(f"--min-component-fraction must be in [0, 1), got {min_component_fraction}")
    if device == "cuda" and not torch.cuda.is_available():
        raise SemanticError("no CUDA device here: use -device cpu")
    model = Path(get_output_folder(dataset_name(dataset), trainer, plans, configuration))
    if not (model / "dataset.json").is_file():
        raise SemanticError(f"no trained model at {model} (check -d, -tr, -p, -c)")
    jobs = prediction_jobs(
        input_folder, output_folder, load_json(str(model / "dataset.json")), prompts, prompt_files
    )  # bad input fails before the model loads
    predictor = SemanticPredictor(
        tile_step_size=step_size,
        use_mirroring=not disable_tta,
        perform_everything_on_device=device == "cuda",  # nnU-Net's own rule, unprinted
        device=torch.device(device),
        verbose=False,
        allow_tqdm=False,
    )
    predictor.prompt_chunk, predictor.min_component_fraction = prompt_chunk, min_component_fraction
    predictor.source = source
    predictor.initialize_from_trained_model_folder(str(model), [f if f == "all" else int(f) for f in folds], checkpoint)
    return predictor.predict_from_files(
        jobs,
        strict=strict,
        allow_unknown=allow_unknown,
        combined=combined,
        save_probabilities=save_probabilities,
        continue_prediction=continue_prediction,
        skip_refused=skip_refused,
        num_processes_preprocessing=npp,
        num_processes_segmentation_export=nps,
    )
