"""What a prediction run is asked to do, read and checked before any model loads: the input folder's cases and
their channel files, the prompts of each case (-P, sidecar folders, jobs files) and the output folder. A bad case,
prompt or output folder fails the run here, before any output is written rather than after some cases were."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from nnunet_semantic.errors import InputError, SemanticError
from nnunet_semantic.image_files import NATURAL_IMAGE_ENDINGS, check_complete, check_intensities, read_header
from nnunet_semantic.json_files import read_json
from nnunet_semantic.paths import check_writable
from nnunet_semantic.prompts.sidecar import read_sidecar_folder


def check_input_cases(files: dict[str, list[str]], n_channels: int) -> None:
    """Every case against the model (channels, 2D/3D scalar images, whole files) before the model loads, so a bad
    case fails the run before any output is written rather than after some cases were."""
    for case, paths in files.items():
        headers = [read_header(path) for path in paths]
        for path, header in zip(paths, headers):
            if header.GetDimension() not in (2, 3):
                raise InputError(
                    path,
                    f"image has {header.GetDimension()} dimensions; the model takes 2D or 3D "
                    "images, one file per channel (<case>_0000, <case>_0001, ...)",
                )
            natural = str(path).lower().endswith(NATURAL_IMAGE_ENDINGS)  # nnU-Net reads RGB as three channels
            if header.GetNumberOfComponents() != 1 and not natural:
                raise InputError(
                    path,
                    f"a vector image ({header.GetNumberOfComponents()} components per voxel); "
                    "the model takes one scalar image per channel",
                )
        if sum(h.GetNumberOfComponents() for h in headers) != n_channels:
            raise InputError(
                paths[0],
                f"case '{case}' has {len(paths)} channel file(s) "
                f"({', '.join(Path(p).name for p in paths)}); the model takes {n_channels}",
            )
        for path in paths:
            check_intensities(path)


def _file_prompts(prompt_file: Path, cases: list[str]) -> dict[str, list[str]]:
    """case -> prompt texts of one --prompt-file (a sidecar folder or a jobs JSON)."""
    if Path(prompt_file).is_dir():  # a dataset's prompts/ folder: the cases that are in the input
        sidecars = read_sidecar_folder(prompt_file, texts_only=True)
        from_file = {c: [p.text for p in ps] for c, ps in sidecars.items() if c in cases}
        if not from_file:
            raise InputError(prompt_file, f"none of its sidecars ({len(sidecars)}) is for a case of the input")
        return from_file
    data = read_json(prompt_file)
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(t, str) and t.strip() for t in v) for v in data.values()
    ):
        raise InputError(
            prompt_file, 'a jobs file maps case ids to lists of prompt texts: {"case_id": ["prompt", ...]}'
        )
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
            raise InputError(
                path,
                f"is a {other} image, but the model reads {ending} (its dataset's file_ending): "
                f"write every case as {ending}",
            )
        match = _CHANNEL.match(name[: -len(ending)])
        if match is None:
            raise InputError(
                path,
                f"has no channel suffix: images are named <case>_0000{ending}, "
                f"<case>_0001{ending}, ... (one file per channel)",
            )
        cases.setdefault(match["case"], {})[int(match["channel"])] = str(path)
    if not cases:
        raise InputError(folder, f"no images named <case>_0000{ending}")
    for case, channels in cases.items():
        if sorted(channels) != list(range(len(channels))):
            raise InputError(
                next(iter(channels.values())),
                f"case '{case}' has channel(s) "
                f"{', '.join(f'_{c:04d}' for c in sorted(channels))}: channels are numbered from _0000 "
                "without gaps",
            )
    return {case: [channels[i] for i in sorted(channels)] for case, channels in cases.items()}


def complete(path: Path) -> bool:
    """An output that exists and is whole (a prediction cut off by an interrupted run is redone)."""
    if not path.is_file():
        return False
    try:
        check_complete(path)
    except InputError:
        return False
    return True


def prompt_jobs(
    cli_prompts: list[str] | None, prompt_files: list[Path] | None, cases: list[str]
) -> dict[str, list[str]]:
    """case -> prompt texts, from -P (every case) and/or --prompt-file (sidecar folders or jobs JSONs)."""
    for text in cli_prompts or []:
        if not text.strip():
            raise SemanticError(f"-P/--prompts: an empty prompt ({text!r}); say what to segment")
    repeated = sorted({t for t in cli_prompts or [] if (cli_prompts or []).count(t) > 1})
    if repeated:
        warnings.warn(
            f"-P/--prompts: {', '.join(map(repr, repeated))} given more than once; predicted once", stacklevel=2
        )
        cli_prompts = list(dict.fromkeys(cli_prompts))
    jobs: dict[str, list[str]] = {c: list(cli_prompts or []) for c in cases} if cli_prompts else {}
    for prompt_file in prompt_files or []:
        for c, texts in _file_prompts(prompt_file, cases).items():
            jobs.setdefault(c, [])
            jobs[c] += [t for t in texts if t not in jobs[c]]
    jobs = {c: t for c, t in jobs.items() if t}
    if not jobs:
        raise SemanticError('no prompts: give -P/--prompts "text" ... and/or --prompt-file')
    return jobs


@dataclass
class PredictionJobs:
    """A checked prediction run: case -> its channel files, case -> its prompt texts, where the outputs go."""

    files: dict[str, list[str]]
    prompts: dict[str, list[str]]
    output_folder: Path
    file_ending: str


def prediction_jobs(
    input_folder: Path,
    output_folder: Path,
    dataset_json: dict,
    prompts: list[str] | None = None,
    prompt_files: list[Path] | None = None,
) -> PredictionJobs:
    """The cases of `input_folder` (named as nnUNetv2_predict reads them, in the model's file ending and channel
    count) with their prompts: -P texts for every case and/or --prompt-file sidecar folders or jobs files. The
    output folder must be writable and neither the input folder (nor inside it) nor a dataset's or model's folder."""
    input_folder, out = Path(input_folder), Path(output_folder)
    if not input_folder.is_dir():
        raise InputError(input_folder, "input folder not found")
    if out.resolve() == input_folder.resolve() or input_folder.resolve() in out.resolve().parents:
        raise InputError(
            out,
            f"the output folder is (inside) the input folder {input_folder}: predictions would "
            "mix with the images; choose another -o",
        )
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder; -o names the folder predictions go to")
    if (out / "dataset.json").is_file() and not (out / "prompts_used.json").is_file():
        raise InputError(
            out,
            "holds a dataset.json that no prediction wrote (a dataset's or a model's folder): "
            "predictions would overwrite it; choose another -o",
        )
    ending = dataset_json["file_ending"]
    files = input_cases(input_folder, ending)
    jobs = prompt_jobs(prompts, prompt_files, sorted(files))
    unprompted = sorted(set(files) - set(jobs))
    if unprompted:
        warnings.warn(
            f"{len(unprompted)} input case(s) have no prompt and are not predicted: "
            f"{', '.join(unprompted[:5])}{' ...' if len(unprompted) > 5 else ''}",
            stacklevel=2,
        )
    check_input_cases(
        {case: files[case] for case in jobs}, len(dataset_json.get("channel_names") or dataset_json["modality"])
    )
    check_writable(out)
    return PredictionJobs({case: files[case] for case in jobs}, jobs, out, ending)
