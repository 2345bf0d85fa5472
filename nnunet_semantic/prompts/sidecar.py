"""Prompt sidecars `prompts/<case>.json` and prediction jobs files: reading validates, errors name file and field."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnunet_semantic.errors import InputError
from nnunet_semantic.json_files import read_json

LEVELS = (1, 2, 3)
ABSENT = 0  # level of a prompt for a structure the case does not contain ("absent" in the files): an empty mask
HELDOUT_FOLDER = "prompts_heldout"  # sidecars in wordings kept out of training, beside `prompts/`
# a merged dataset of disjoint sources: per case, the other sources' structures, which the image cannot contain (never
# trained on from here: scored as the cross-source false-positive rate)
CROSS_FOLDER = "prompts_cross_source"


def level_name(level: int) -> str:
    return "absent" if level == ABSENT else f"L{level}"


def _level(value: Any) -> int | None:
    return ABSENT if value == "absent" else value if value in LEVELS else None


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


_PLAIN = re.compile(r"[a-z0-9]+( [a-z0-9]+)*")


def safe_name(text: str) -> str:
    """Any text (a prompt, a structure name) as a part of a file name or an id, never shared by two texts: its slug
    where the slug spells it back exactly (lower-case words, single spaces, up to 120 characters), else the slug and
    a short hash of the text ("Organ" / "organ", two non-Latin names, two long texts alike in their first 120
    characters)."""
    name = slug(text)[:120]
    if not (_PLAIN.fullmatch(text) and len(text) <= 120):
        name = f"{name[:100]}-{hashlib.sha1(text.encode()).hexdigest()[:8]}".lstrip("-")
    return name


def prediction_name(case: str, text: str, file_ending: str = ".nii.gz") -> str:
    """`<case>__<safe name of the prompt><ending>`: where a prompted prediction is written, and where evaluation
    looks."""
    return f"{case}__{safe_name(text)}{file_ending}"


@dataclass(frozen=True)
class Prompt:
    id: str
    level: int
    text: str
    target: tuple[int, ...]
    avoid: tuple[int, ...] = ()
    pos_text: str = ""
    neg_text: str = ""
    structure: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "level": "absent" if self.level == ABSENT else self.level,
            "text": self.text,
            "target": list(self.target),
            "avoid": list(self.avoid),
        }
        if self.pos_text or self.neg_text:
            d.update(pos_text=self.pos_text, neg_text=self.neg_text)
        if self.structure:
            d["structure"] = self.structure
        return d | self.extra

    @property
    def wording(self) -> str:
        """ "" for a wording a model may train on; "heldout" (the ontology's held-out wordings and templates) or
        "paraphrase" (parts named as people write them, a hand-written evaluation set) for wordings it never saw."""
        return next((k for k in WORDING_SETS if self.extra.get(k)), "")

    @property
    def level_key(self) -> str:
        """ "L1".."L3", "absent"; "L2_heldout" / "L3_paraphrase" ... for a prompt in a wording kept out of training."""
        return level_name(self.level) + (f"_{self.wording}" if self.wording else "")


WORDING_SETS = ("heldout", "paraphrase")


def _ids(value: Any, path: Path, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in value):
        raise InputError(path, f"field '{where}' must be a list of positive label ids, got {value!r}")
    return tuple(value)


def prompt_from_dict(entry: Any, path: Path, where: str, texts_only: bool = False) -> Prompt:
    """One sidecar entry. `texts_only` (prediction files) accepts entries with a text and nothing else."""
    if not isinstance(entry, dict):
        raise InputError(path, f"field '{where}' must be an object, got {type(entry).__name__}")
    text = entry.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(path, f"field '{where}.text' must be a non-empty string")
    if texts_only and "target" not in entry:
        return Prompt(id=str(entry.get("id", "")), level=_level(entry.get("level")) or 0, text=text, target=())
    level = _level(entry.get("level"))
    if level is None:
        raise InputError(
            path, f"field '{where}.level' must be one of {LEVELS} or \"absent\", got {entry.get('level')!r}"
        )
    if not isinstance(entry.get("id"), str) or not entry["id"]:
        raise InputError(path, f"field '{where}.id' must be a non-empty string")
    known = {"id", "level", "text", "target", "avoid", "pos_text", "neg_text", "structure"}
    return Prompt(
        entry["id"],
        level,
        text,
        _ids(entry.get("target"), path, f"{where}.target"),
        _ids(entry.get("avoid", []), path, f"{where}.avoid"),
        str(entry.get("pos_text", "")),
        str(entry.get("neg_text", "")),
        str(entry.get("structure", "")),
        {k: v for k, v in entry.items() if k not in known},
    )


def read_sidecar(path: Path, texts_only: bool = False) -> tuple[str, list[Prompt]]:
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(path, "a sidecar must be an object with fields 'case' and 'prompts'")
    case = data.get("case")
    if not isinstance(case, str) or not case:
        raise InputError(path, "field 'case' must be a non-empty string")
    prompts = data.get("prompts")
    if not isinstance(prompts, list):
        raise InputError(path, "field 'prompts' must be a list")
    read = [prompt_from_dict(p, path, f"prompts[{i}]", texts_only) for i, p in enumerate(prompts)]
    ids = [p.id for p in read if p.id]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:  # evaluation pairs a case's prompts by id
        raise InputError(
            path, f"prompt id {twice[0]!r} is given to {ids.count(twice[0])} prompts; ids are unique within a sidecar"
        )
    return case, read


def check_case_id(case, source) -> None:
    """A case id becomes a file name (`<case>.json`, `<case>__<prompt>.nii.gz`): one that holds a path
    ("../../Dataset011_X/dataset") would write outside its folder."""
    if not isinstance(case, str) or case in ("", ".", "..") or any(c in case for c in "/\\\x00"):
        raise InputError(
            source,
            f"case id {case!r}: a case id becomes a file name, so it may not be empty, '.' or "
            "'..', or hold '/', '\\' or a NUL character",
        )


def write_sidecar(path: Path, case: str, prompts: list[Prompt]) -> None:
    check_case_id(case, path)
    Path(path).write_text(json.dumps({"case": case, "prompts": [p.to_dict() for p in prompts]}, indent=1))


def read_sidecar_folder(folder: Path, texts_only: bool = False) -> dict[str, list[Prompt]]:
    """All `<case>.json` sidecars of a folder (verification.json is not a sidecar)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "prompt folder not found")
    out = {}
    for path in sorted(folder.glob("*.json")):
        if path.name == "verification.json":
            continue
        case, prompts = read_sidecar(path, texts_only)
        if case != path.stem:
            raise InputError(path, f"field 'case' is '{case}' but the file is named for case '{path.stem}'")
        out[case] = prompts
    return out


def read_prompts_used(path: Path) -> dict[str, list[Prompt]]:
    """The prompts of a prediction run (its prompts_used.json), as sidecar prompts, so that what was asked with -P
    can be scored: each prompt the ontology read (target and exclusion known), at L3 when it excludes, else L1, with
    the file the run wrote for it (`extra["file"]`). Prompts answered from their free text are left out, with a
    warning naming them (nothing says which voxels they mean)."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("cases"), dict):
        raise InputError(path, "field 'cases' is missing: not a prompts_used.json of nnUNetv2_predict_semantic")
    out, free = {}, set()
    for case, entries in data["cases"].items():
        prompts = []
        for i, e in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(e, dict) or not isinstance(e.get("text"), str):
                raise InputError(path, f"field 'cases.{case}[{i}]' is no prompt entry (an object with its 'text')")
            if not (e.get("parsed") and e.get("target")):
                free.add(e["text"])
                continue
            where = f"cases.{case}[{i}]"
            avoid = _ids(e.get("avoid", []), path, f"{where}.avoid")
            prompts.append(
                Prompt(
                    f"P{i}",
                    3 if avoid else 1,
                    e["text"],
                    _ids(e["target"], path, f"{where}.target"),
                    avoid,
                    e.get("pos_text", ""),
                    e.get("neg_text", ""),
                    ", ".join(e.get("target_structures", [])),
                    {"file": e["file"]} if isinstance(e.get("file"), str) else {},
                )
            )
        out[case] = prompts
    if free:
        warnings.warn(
            f"{path}: {len(free)} prompt(s) answered from free text are not scored (no structure says "
            f"which voxels they mean): {', '.join(map(repr, sorted(free)[:5]))}"
            f"{' ...' if len(free) > 5 else ''}",
            stacklevel=2,
        )
    return out
