"""Console entry point `nnUNetv2_predict_semantic`: nnUNetv2_predict's arguments plus prompts."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nnunet_semantic.arguments import at_least
from nnunet_semantic.errors import InputError, SemanticError, report
from nnunet_semantic.image_files import check_complete, check_intensities, read_header
from nnunet_semantic.inference.postprocessing import MIN_COMPONENT_FRACTION
from nnunet_semantic.paths import check_writable
from nnunet_semantic.prompts.sidecar import load_json, prediction_name, read_sidecar_folder


def check_input_cases(files: dict[str, list[str]], n_channels: int) -> None:
    """Every case against the model (channels, 2D/3D scalar images, whole files) before the model loads, so a bad
    case fails the run before any output is written rather than after some cases were."""
    for case, paths in files.items():
        if len(paths) != n_channels:
            raise InputError(paths[0], f"case '{case}' has {len(paths)} channel file(s) "
                                       f"({', '.join(Path(p).name for p in paths)}); the model takes {n_channels}")
        for path in paths:
            header = read_header(path)
            if header.GetDimension() not in (2, 3):
                raise InputError(path, f"image has {header.GetDimension()} dimensions; the model takes 2D or 3D "
                                       "images, one file per channel (<case>_0000, <case>_0001, ...)")
            if header.GetNumberOfComponents() != 1:
                raise InputError(path, f"a vector image ({header.GetNumberOfComponents()} components per voxel); "
                                       "the model takes one scalar image per channel")
            check_intensities(path)


def _file_prompts(prompt_file: Path, cases: list[str]) -> dict[str, list[str]]:
    """case -> prompt texts of one --prompt-file (a sidecar folder or a jobs JSON)."""
    if Path(prompt_file).is_dir():  # a dataset's prompts/ folder: the cases that are in the input
        sidecars = read_sidecar_folder(prompt_file, texts_only=True)
        from_file = {c: [p.text for p in ps] for c, ps in sidecars.items() if c in cases}
        if not from_file:
            raise InputError(prompt_file, f"none of its sidecars ({len(sidecars)}) is for a case of the input")
        return from_file
    data = load_json(prompt_file)
    if not isinstance(data, dict) or not all(isinstance(v, list) and all(isinstance(t, str) and t.strip()
                                                                         for t in v) for v in data.values()):
        raise InputError(prompt_file, 'a jobs file maps case ids to lists of prompt texts: '
                                      '{"case_id": ["prompt", ...]}')
    unknown = sorted(set(data) - set(cases))
    if unknown:
        raise InputError(prompt_file, f"case id(s) {unknown[:5]} have no image in the input folder")
    return data


IMAGE_ENDINGS = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr", ".png", ".bmp", ".tif", ".tiff")
_CHANNEL = re.compile(r"^(?P<case>.+)_(?P<channel>\d{4})$")


def input_cases(folder: Path, ending: str) -> dict[str, list[str]]:
    """case -> its channel files (<case>_0000<ending>, <case>_0001<ending>, ...), as nnUNetv2_predict reads them;
    an image in another format, a file without a channel suffix or a case without channel 0 is an error naming the
    file, not a case dropped or a channel shifted in silence."""
    cases: dict[str, dict[int, str]] = {}
    for path in sorted(folder.iterdir()):
        name = path.name
        other = next((e for e in IMAGE_ENDINGS if name.endswith(e)), None)
        if other is None or not path.is_file():
            continue
        if not name.endswith(ending):
            raise InputError(path, f"is a {other} image, but the model reads {ending} (its dataset's file_ending): "
                                   f"write every case as {ending}")
        match = _CHANNEL.match(name[: -len(ending)])
        if match is None:
            raise InputError(path, f"has no channel suffix: images are named <case>_0000{ending}, "
                                   f"<case>_0001{ending}, ... (one file per channel)")
        cases.setdefault(match["case"], {})[int(match["channel"])] = str(path)
    if not cases:
        raise InputError(folder, f"no images named <case>_0000{ending}")
    for case, channels in cases.items():
        if sorted(channels) != list(range(len(channels))):
            raise InputError(next(iter(channels.values())), f"case '{case}' has channel(s) "
                             f"{', '.join(f'_{c:04d}' for c in sorted(channels))}: channels are numbered from _0000 "
                             "without gaps")
    return {case: [channels[i] for i in sorted(channels)] for case, channels in cases.items()}


def _complete(path: Path) -> bool:
    """An output that exists and is whole (a prediction cut off by an interrupted run is redone)."""
    if not path.is_file():
        return False
    try:
        check_complete(path)
    except InputError:
        return False
    return True


def prompt_jobs(cli_prompts: list[str] | None, prompt_files: list[Path] | None,
                cases: list[str]) -> dict[str, list[str]]:
    """case -> prompt texts, from -P (every case) and/or --prompt-file (sidecar folders or jobs JSONs)."""
    for text in cli_prompts or []:
        if not text.strip():
            raise SemanticError(f"-P/--prompts: an empty prompt ({text!r}); say what to segment")
    repeated = sorted({t for t in cli_prompts or [] if (cli_prompts or []).count(t) > 1})
    if repeated:
        warnings.warn(f"-P/--prompts: {', '.join(map(repr, repeated))} given more than once; predicted once",
                      stacklevel=2)
        cli_prompts = list(dict.fromkeys(cli_prompts))
    jobs: dict[str, list[str]] = {c: list(cli_prompts or []) for c in cases} if cli_prompts else {}
    for prompt_file in prompt_files or []:
        for c, texts in _file_prompts(prompt_file, cases).items():
            jobs.setdefault(c, [])
            jobs[c] += [t for t in texts if t not in jobs[c]]
    jobs = {c: t for c, t in jobs.items() if t}
    if not jobs:
        raise SemanticError("no prompts: give -P/--prompts \"text\" ... and/or --prompt-file")
    return jobs


def run(args) -> None:
    import torch
    from nnunetv2.utilities.file_path_utilities import get_output_folder

    from nnunet_semantic.inference.predictor import SemanticPredictor
    from nnunet_semantic.paths import dataset_name

    if not 0 < args.step_size <= 1:
        raise SemanticError(f"-step_size must be in (0, 1], got {args.step_size}")
    if not 0 <= args.min_component_fraction < 1:
        raise SemanticError(f"--min-component-fraction must be in [0, 1), got {args.min_component_fraction}")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SemanticError("no CUDA device here: use -device cpu")
    model = Path(get_output_folder(dataset_name(args.d), args.tr, args.p, args.c))
    if not (model / "dataset.json").is_file():
        raise SemanticError(f"no trained model at {model} (check -d, -tr, -p, -c)")
    model_json = load_json(model / "dataset.json")
    ending = model_json["file_ending"]
    if not Path(args.i).is_dir():
        raise InputError(args.i, "input folder not found")
    out = Path(args.o)
    if out.resolve() == Path(args.i).resolve() or Path(args.i).resolve() in out.resolve().parents:
        raise InputError(args.o, f"the output folder is (inside) the input folder {args.i}: predictions would "
                                 "mix with the images; choose another -o")
    if out.exists() and not out.is_dir():
        raise InputError(args.o, "exists and is not a folder; -o names the folder predictions go to")
    if (out / "dataset.json").is_file() and not (out / "prompts_used.json").is_file():
        raise InputError(args.o, "holds a dataset.json that no prediction wrote (a dataset's or a model's folder): "
                                 "predictions would overwrite it; choose another -o")
    files = input_cases(Path(args.i), ending)
    jobs = prompt_jobs(args.prompts, args.prompt_file, sorted(files))  # bad input fails before the model loads
    unprompted = sorted(set(files) - set(jobs))
    if unprompted:
        warnings.warn(f"{len(unprompted)} input case(s) have no prompt and are not predicted: "
                      f"{', '.join(unprompted[:5])}{' ...' if len(unprompted) > 5 else ''}", stacklevel=2)
    if args.combined and any(t == "combined" for texts in jobs.values() for t in texts):
        raise SemanticError(f"the prompt 'combined' and --combined would both write <case>__combined{ending}")
    check_input_cases({case: files[case] for case in jobs},
                      len(model_json.get("channel_names") or model_json["modality"]))
    check_writable(out)  # before the model loads
    predictor = SemanticPredictor(tile_step_size=args.step_size, use_mirroring=not args.disable_tta,
                                  device=torch.device(args.device), verbose=False, allow_tqdm=False)
    predictor.prompt_chunk, predictor.min_component_fraction = args.prompt_chunk, args.min_component_fraction
    predictor.initialize_from_trained_model_folder(str(model), [f if f == "all" else int(f) for f in args.f],
                                                   args.chk)
    texts = dict.fromkeys(t for ts in jobs.values() for t in ts)
    by_text = {t: predictor.resolve(t, args.strict, args.allow_unknown) for t in texts}
    for r in by_text.values():  # what was not read by the ontology is said where the user looks, not only logged
        if r.parse is None:
            print(free_text_line(r))
    resolved = {case: [by_text[t] for t in texts] for case, texts in jobs.items()}
    names = {case: [prediction_name(case, t, ending) for t in texts] for case, texts in jobs.items()}
    min_voxels = {t: predictor.min_component_voxels(r) for t, r in by_text.items()}
    sources = {t: predictor.sources_of(r) for t, r in by_text.items()}
    todo = [c for c in jobs if not (args.continue_prediction and all(_complete(out / n) for n in names[c]))]
    out.mkdir(parents=True, exist_ok=True)
    for name in ("dataset.json", "plans.json"):
        shutil.copy(model / name, out / name)
    used = {"model": str(model), "trainer": args.tr, "configuration": args.c, "folds": args.f,
            "checkpoint": args.chk, "tile_step_size": args.step_size,
            "mirroring": predictor.use_mirroring and bool(predictor.allowed_mirroring_axes),  # none: kept orientation
            "min_component_fraction": args.min_component_fraction,
            **({"unknown_threshold": round(predictor.unknown_threshold, 4)} if predictor.ontology else {}),
            "encoder": {"name": predictor.semantic["text_encoder"],
                        "fingerprint": predictor.semantic["encoder_fingerprint"]},
            "cases": {case: [r.to_dict() | {"file": n, "label_in_combined": i + 1,
                                            "min_component_voxels": min_voxels[t]} | sources[t]
                             for i, (r, n, t) in enumerate(zip(resolved[case], names[case], jobs[case]))]
                      for case in jobs}}
    (out / "prompts_used.json").write_text(json.dumps(used, indent=1))
    if not todo:
        return
    from nnunetv2.inference.data_iterators import preprocessing_iterator_fromfiles

    # as nnUNetv2_predict: preprocessing in -npp worker processes, export in -nps, the network in this one
    cases = preprocessing_iterator_fromfiles([files[c] for c in todo], None, todo, predictor.plans_manager,
                                             predictor.dataset_json, predictor.configuration_manager, args.npp,
                                             predictor.device.type == "cuda")
    with multiprocessing.get_context("spawn").Pool(args.nps) as pool:
        pending = []
        for item in tqdm(cases, total=len(todo), desc="predict"):
            case = item["ofile"]
            probs = predictor.prompt_probabilities(item["data"], predictor._text_tensors(resolved[case]))
            pending.append(pool.apply_async(export_case, (
                probs, item["data_properties"], [out / n for n in names[case]], [min_voxels[t] for t in jobs[case]],
                out / f"{case}__combined{ending}" if args.combined else None,
                ending if args.save_probabilities else None, predictor.plans_manager,
                predictor.configuration_manager)))
            while sum(not r.ready() for r in pending) > 2 * args.nps:  # bounded queue, as nnU-Net's
                time.sleep(0.05)
        for result in pending:
            result.get()


def free_text_line(prompt) -> str:
    """One line naming a prompt answered from its free text: what was encoded, and the structure it is nearest."""
    parts = f"'{prompt.pos_text}'" + (f" excluding '{prompt.neg_text}'" if prompt.neg_text else "")
    near = prompt.nearest
    return (f"free text: '{prompt.text}' read by nearest text as {parts}" + (
        f", nearest structure '{near['structure']}' (similarity {near['similarity']:.2f}, threshold "
        f"{near['threshold']:.2f}{', low confidence' if near['low_confidence'] else ''})" if near else ""))


def export_case(probs: np.ndarray, properties: dict, files: list[Path], min_voxels: list[int], combined: Path | None,
                probabilities_for: str | None, plans_manager, configuration_manager) -> None:
    """One case's prompts back to the input geometry, their stray components removed, and onto disk (runs in an
    export worker); with `probabilities_for` (the file ending) also `<name>.npz` beside each mask."""
    from nnunet_semantic.inference.export import export_binary
    from nnunet_semantic.inference.postprocessing import remove_small_components

    writer = plans_manager.image_reader_writer_class()
    label_map = None
    for i, (p, path, smallest) in enumerate(zip(probs, files, min_voxels)):
        result = export_binary(p, plans_manager, configuration_manager, properties, probabilities_for is not None)
        mask, probabilities = result if probabilities_for else (result, None)
        mask = remove_small_components(mask, smallest)
        writer.write_seg(mask.astype(np.uint8), str(path), properties)
        if probabilities is not None:
            np.savez_compressed(path.with_name(path.name[: -len(probabilities_for)] + ".npz"),
                                probabilities=probabilities)
        if combined is not None:
            label_map = np.zeros_like(mask, np.uint8) if label_map is None else label_map
            label_map[mask > 0] = i + 1
    if label_map is not None:
        writer.write_seg(label_map, str(combined), properties)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnUNetv2_predict_semantic", description="Segment what prompts ask for: "
                                "nnUNetv2_predict's arguments plus -P/--prompts and --prompt-file. Writes "
                                "<case>__<prompt-slug>.nii.gz per case and prompt, and prompts_used.json.")
    p.add_argument("-i", type=Path, required=True, help="input folder (<case>_0000.nii.gz, ...)")
    p.add_argument("-o", type=Path, required=True, help="output folder")
    p.add_argument("-d", required=True, help="dataset id or name")
    p.add_argument("-p", default="nnUNetPlans", help="plans identifier (default: nnUNetPlans)")
    p.add_argument("-tr", default="SemanticTrainer", help="trainer class (default: SemanticTrainer)")
    p.add_argument("-c", required=True, help="configuration, e.g. 2d or 2d_cpu")
    p.add_argument("-f", nargs="+", default=["0", "1", "2", "3", "4"], help="folds (several = ensemble)")
    p.add_argument("-chk", default="checkpoint_final.pth", help="checkpoint name")
    p.add_argument("-device", default="cuda", choices=("cuda", "cpu", "mps"), help="default: cuda")
    p.add_argument("-step_size", type=float, default=0.5, help="sliding-window step as a fraction of the patch "
                   "size (default: 0.5, as nnUNetv2_predict)")
    p.add_argument("--disable_tta", action="store_true", help="no mirroring test-time augmentation (faster)")
    p.add_argument("-npp", type=at_least(1), default=3, help="preprocessing worker processes (default: 3)")
    p.add_argument("-nps", type=at_least(1), default=3, help="export worker processes (default: 3)")
    p.add_argument("--prompt-chunk", type=at_least(1), default=None, help="prompts per sliding-window pass (the "
                   "image is encoded once per pass; the output buffer holds this many channels per voxel); default: "
                   "as many as fit a 1 GiB buffer, at least 16")
    p.add_argument("--min-component-fraction", type=float, default=MIN_COMPONENT_FRACTION,
                   help="remove connected components smaller than this share of the smallest volume the prompt's "
                   "structure has in a training case (parsed prompts; default: %(default)s; 0: keep all)")
    p.add_argument("--save_probabilities", action="store_true", help="also write <case>__<slug>.npz")
    p.add_argument("--continue_prediction", action="store_true", help="skip cases whose outputs all exist")
    p.add_argument("-P", "--prompts", nargs="+", help="prompt texts applied to every input case")
    p.add_argument("--prompt-file", type=Path, nargs="+", help="folder(s) of <case>.json sidecars (e.g. a "
                   "dataset's prompts/ and prompts_heldout/) or jobs file(s) {\"case_id\": [\"prompt\", ...]}")
    p.add_argument("--strict", action="store_true", help="refuse prompts the model's ontology cannot parse")
    p.add_argument("--allow-unknown", action="store_true", help="answer a prompt whose target or exclusion the "
                   "ontology cannot read from its free text (marked with its nearest structure in prompts_used.json) "
                   "instead of refusing it")
    p.add_argument("--combined", action="store_true", help="also write <case>__combined with label i = prompt i")
    return p


def predict(input_folder: Path, output_folder: Path, dataset: str, configuration: str, trainer: str = "SemanticTrainer",
            folds: tuple[str, ...] = ("0", "1", "2", "3", "4"), prompts: list[str] | None = None,
            prompt_files: list[Path] | None = None, **options) -> None:
    """`nnUNetv2_predict_semantic` as a function; `options` by the command's own names (device, disable_tta,
    step_size, strict, combined, ...), with its defaults."""
    args = build_parser().parse_args(["-i", str(input_folder), "-o", str(output_folder), "-d", str(dataset),
                                      "-c", configuration])
    unknown = set(options) - set(vars(args))
    if unknown:
        raise TypeError(f"predict() got unknown options {sorted(unknown)}")
    vars(args).update(tr=trainer, f=list(folds), prompts=prompts, prompt_file=prompt_files, **options)
    run(args)


def predict_entry(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("always", category=UserWarning, module="nnunet_semantic")
            run(args)
    except (SemanticError, OSError) as e:
        return report(e)
    return 0


if __name__ == "__main__":
    sys.exit(predict_entry())
