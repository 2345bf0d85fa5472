"""`nnUNetv2_ensemble_semantic`: nnUNetv2_ensemble for prompted predictions. Folders that
`nnUNetv2_predict_semantic --save_probabilities` wrote for the same cases and prompts with different models or
configurations (2d and 3d_fullres, say) -> per case and prompt the mean of their probabilities, its mask (argmax,
as nnU-Net ensembles) with the members' stray-component limit, and `prompts_used.json` naming the members. Every
mask is in the input's geometry, so configurations that resample differently still average voxel by voxel."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nnunet_semantic.errors import SemanticError, report
from nnunet_semantic.inference.postprocessing import remove_small_components
from nnunet_semantic.json_files import read_json

SETTINGS = ("model", "trainer", "configuration", "folds", "checkpoint", "mirroring")


def _members(folders: list[Path]) -> list[dict]:
    used = []
    for folder in folders:
        path = folder / "prompts_used.json"
        if not path.is_file():
            raise SemanticError(f"{path}: not found: ensemble folders written by nnUNetv2_predict_semantic")
        used.append(read_json(path))
    return used


def _common_entries(folders: list[Path], used: list[dict]) -> list[tuple[str, list[dict]]]:
    """(case, the entry of each member) for every prompt of a case that all folders hold, in the first folder's
    order; a prompt another member read as other labels (another ontology) is refused."""
    common = []
    for case, entries in used[0]["cases"].items():
        by_text = [{e["text"]: e for e in u["cases"].get(case, [])} for u in used]
        for entry in entries:
            members = [b.get(entry["text"]) for b in by_text]
            if None in members:
                continue
            for folder, member in zip(folders[1:], members[1:]):
                read = [(e.get("target"), e.get("avoid")) for e in (entry, member)]
                if read[0] != read[1]:
                    raise SemanticError(
                        f"{folder / 'prompts_used.json'}: '{entry['text']}' of case {case} was read as labels "
                        f"{read[1]}, in {folders[0]} as {read[0]}: ensemble models of one dataset"
                    )
            common.append((case, members))
    if not common:
        raise SemanticError(f"no case and prompt is in all of {', '.join(map(str, folders))}")
    return common


def _ensemble_one(job: tuple[list[Path], Path, str, str, int, bool]) -> None:
    """One (case, prompt): the members' mean probabilities -> mask, written in the first member's mask geometry."""
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    folders, output, file, npz, min_voxels, save_probabilities = job
    probabilities = np.mean([np.load(f / npz)["probabilities"] for f in folders], 0, dtype=np.float32)
    mask = remove_small_components((probabilities[1] > probabilities[0]).astype(np.uint8), min_voxels)
    io = SimpleITKIO()
    _, properties = io.read_seg(str(folders[0] / file))
    io.write_seg(mask if mask.ndim == 3 else mask[None], str(output / file), properties)
    if save_probabilities:
        np.savez_compressed(output / npz, probabilities=probabilities)


def ensemble_folders(
    folders: list[Path], output: Path, num_processes: int = 3, save_probabilities: bool = False
) -> dict:
    """The ensemble of `folders` into `output` (a stray component is removed under the smallest of the members'
    limits); returns its prompts_used.json."""
    if len(folders) < 2:
        raise SemanticError("an ensemble needs at least two prediction folders")
    if any(output.resolve() == f.resolve() for f in folders):
        raise SemanticError(f"{output}: the output folder is one of the inputs")
    used = _members(folders)
    ending = read_json(folders[0] / "dataset.json")["file_ending"]
    jobs, cases = [], {}
    for case, members in _common_entries(folders, used):
        file, limit = members[0]["file"], min(m.get("min_component_voxels", 0) for m in members)
        npz = file[: -len(ending)] + ".npz"
        for folder in folders:
            if not (folder / npz).is_file():
                raise SemanticError(f"{folder / npz}: not found: predict with --save_probabilities to ensemble")
        jobs.append((folders, output, file, npz, limit, save_probabilities))
        cases.setdefault(case, []).append(members[0] | {"min_component_voxels": limit})
    output.mkdir(parents=True, exist_ok=True)
    for name in ("dataset.json", "plans.json"):
        shutil.copy(folders[0] / name, output / name)
    with multiprocessing.get_context("spawn").Pool(num_processes) as pool:
        for _ in tqdm(pool.imap_unordered(_ensemble_one, jobs), total=len(jobs), desc="ensemble"):
            pass
    record = {"ensemble_of": [{"folder": str(f), **{k: u.get(k) for k in SETTINGS}} for f, u in zip(folders, used)]}
    record["cases"] = cases
    (output / "prompts_used.json").write_text(json.dumps(record, indent=1))
    return record


def ensemble_entry(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="nnUNetv2_ensemble_semantic",
        description="Average prompted predictions of several models or configurations (nnUNetv2_ensemble for "
        "prompts): folders of nnUNetv2_predict_semantic --save_probabilities -> one mask per case and prompt.",
    )
    p.add_argument("-i", type=Path, nargs="+", required=True, help="prediction folders (at least two)")
    p.add_argument("-o", type=Path, required=True, help="output folder")
    p.add_argument("-np", type=int, default=3, help="processes (default: 3)")
    p.add_argument("--save_npz", action="store_true", help="also write the averaged probabilities")
    args = p.parse_args(argv)
    try:
        ensemble_folders(args.i, args.o, max(1, args.np), args.save_npz)
    except (SemanticError, OSError) as e:
        return report(e)
    return 0


if __name__ == "__main__":
    sys.exit(ensemble_entry())
