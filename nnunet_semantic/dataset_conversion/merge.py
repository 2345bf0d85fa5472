"""Several converted datasets -> one nnU-Net dataset that one model trains on (MultiTalent's way, in nnU-Net's
terms): one global label space (each source's labels numbered after the previous source's), one ontology (each
source's structures on global labels), each case tagged with its source. Images stay where the sources have them
(nnU-Net's `dataset` key); only label maps are rewritten, in global ids, and the prompt sidecars with them.

nnU-Net plans the merged dataset as one: one fingerprint, one spacing, one patch and one normalisation per channel
for all sources, so one network sees one kind of input (MultiTalent copies one plan to every source for the same
reason); channel names that would ask nnU-Net for different normalisations (CT vs MRI) are reported.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
from tqdm import tqdm

from nnunet_semantic.dataset_conversion.nnunet import read_dataset_json, source_folder, training_cases
from nnunet_semantic.dataset_conversion.output import dataset_output
from nnunet_semantic.errors import InputError, SemanticError
from nnunet_semantic.image_files import read_header
from nnunet_semantic.json_files import read_json
from nnunet_semantic.paths import check_referable
from nnunet_semantic.prompts import ontology_file
from nnunet_semantic.prompts.ontology import Ontology, normalize
from nnunet_semantic.prompts.ontology_file import DatasetLabels
from nnunet_semantic.prompts.sidecar import (
    ABSENT,
    CROSS_FOLDER,
    HELDOUT_FOLDER,
    Prompt,
    read_sidecar_folder,
    write_sidecar,
)
from nnunet_semantic.source_plans import case_prefix


@dataclass
class Source:
    key: str  # the dataset's name without DatasetXXX_: prefix of its cases, suffix of its ambiguous structures
    folder: Path
    dataset_json: dict
    ontology: Ontology
    label_map: dict[int, int]  # source label id -> global id

    @property
    def prefix(self) -> str:
        return case_prefix(self.key)


def _load(dataset: str, offset: int) -> Source:
    folder = source_folder(dataset)
    data = read_dataset_json(folder)
    path = folder / "dataset.json"
    if "semantic" not in data or not (folder / "prompts").is_dir():
        raise InputError(
            folder,
            "has no prompts (no 'semantic' key or no prompts/ folder): merge datasets "
            "converted by `nnunet-semantic convert` (e.g. `convert nnunet -i "
            f"{folder.name} -d NEW_ID`)",
        )
    ontology = Ontology.from_dataset_json(data, str(path))
    if ontology.sources:  # merged again, its sources would be one source annotating all their labels
        inner = ", ".join(s.get("dataset", key) for key, s in ontology.sources.items())
        raise InputError(
            folder,
            f"is itself a merge (of {inner}): give those datasets to one `merge` instead, so "
            "each keeps the labels only it annotates",
        )
    ids = sorted(DatasetLabels.of(data["labels"], str(path)).ids)
    key = re.sub(r"^Dataset\d{3}_", "", folder.name)
    return Source(key, folder, data, ontology, {i: offset + n + 1 for n, i in enumerate(ids)})


def _channels(source: Source) -> dict[str, str]:
    return {str(k): v for k, v in source.dataset_json.get("channel_names", source.dataset_json.get("modality")).items()}


def _check_channels(sources: list[Source]) -> None:
    first = sources[0]
    for s in sources[1:]:
        if len(_channels(s)) != len(_channels(first)):
            raise SemanticError(
                f"{s.folder.name} has {len(_channels(s))} image channels but {first.folder.name} has "
                f"{len(_channels(first))}: one network takes one number of channels"
            )
    for c in _channels(first):
        kinds = {s.key: "CT" if _channels(s)[c].strip().upper() == "CT" else "not CT" for s in sources}
        if len(set(kinds.values())) > 1:
            warnings.warn(
                f"channel {c} is CT in some sources and not in others ({kinds}): nnU-Net normalises a "
                "channel one way for the whole merged dataset (CT: clipped to the foreground's intensity "
                "range; otherwise per-image z-score)",
                stacklevel=3,
            )


def merged_ontology(sources: list[Source]) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    """(the merged `semantic` structures, (source, structure) -> merged name). A name that two sources use is
    suffixed with its source, "lesion (Phantom)", and its wordings stay: a prompt with them is ambiguous and the
    parser lists the sources' structures. Held-out wordings that are another source's training wordings are dropped
    (they would not be held out)."""
    count = Counter(normalize(n) for s in sources for n in s.ontology.structures)
    names = {
        (s.key, n): n if count[normalize(n)] == 1 else f"{n} ({s.key})" for s in sources for n in s.ontology.structures
    }
    trained = {normalize(p) for s in sources for st in s.ontology.structures.values() for p in st.phrases()}
    structures = {}
    for s in sources:
        for n, st in s.ontology.structures.items():
            entry = st.to_dict()
            entry["labels"] = sorted(s.label_map[i] for i in st.labels)
            entry["names"] = list(
                dict.fromkeys([*entry["names"], *([names[s.key, n]] if names[s.key, n] != n else [])])
            )
            if "heldout" in entry:
                entry["heldout"] = [w for w in entry["heldout"] if normalize(w) not in trained]
            structures[names[s.key, n]] = entry
    return structures, names


def _remap(prompt: Prompt, source: Source, names: dict, sidecar: Path) -> Prompt:
    lut = source.label_map
    unknown = sorted(set(prompt.target + prompt.avoid) - set(lut))
    if unknown:
        raise InputError(
            sidecar,
            f"prompt '{prompt.text}' names label(s) {unknown}, which the dataset's 'labels' "
            f"do not have ({sorted(lut)})",
        )
    return Prompt(
        prompt.id,
        prompt.level,
        prompt.text,
        tuple(lut[i] for i in prompt.target),
        tuple(lut[i] for i in prompt.avoid),
        prompt.pos_text,
        prompt.neg_text,
        names.get((source.key, prompt.structure), prompt.structure),
        prompt.extra | {"source": source.key},
    )


def _cross_source(source: Source, sources: list[Source], structures: dict, names: dict) -> list[Prompt]:
    """Every other source's structure, asked of a case of `source` with an empty answer (disjoint sources)."""
    return [
        Prompt(
            f"cross-{names[o.key, n]}",
            ABSENT,
            names[o.key, n],
            tuple(structures[names[o.key, n]]["labels"]),
            structure=names[o.key, n],
            extra={"source": o.key, "cross_source": True},
        )
        for o in sources
        if o is not source
        for n in o.ontology.structures
    ]


def _check_distinct_images(sources: list[Source], cases_of: dict[str, list]) -> None:
    """Two sources that share image files (one dataset converted twice) would be trained on twice, each copy
    annotated as its source says."""
    owner: dict[Path, str] = {}
    for s in sources:
        for case in cases_of[s.key]:
            for image in case.images:
                other = owner.setdefault(Path(image).resolve(), s.key)
                if other != s.key:
                    raise SemanticError(
                        f"sources '{other}' and '{s.key}' share the image {image} (one dataset "
                        "converted twice?): merge each dataset once"
                    )


def _check_dimensions(sources: list[Source], cases_of: dict[str, list]) -> None:
    """One network takes 2D slices of one kind: a 2D source (PNG) merged with 3D volumes would be planned as
    volumes of one slice at spacing 999."""
    dims = {s.key: read_header(cases_of[s.key][0].images[0]).GetDimension() for s in sources if cases_of[s.key]}
    if len(set(dims.values())) > 1:
        found = ", ".join(f"{key}: {d}D" for key, d in dims.items())
        raise SemanticError(
            f"the sources' images have different dimensions ({found}): merge 2D datasets with 2D ones and 3D with 3D"
        )


def global_labels(sources: list[Source]) -> dict[str, int]:
    """The merged dataset's labels: "<source>: <label name>" -> global id."""
    labels = {"background": 0}
    for s in sources:
        label_names = {i: n for n, i in DatasetLabels.of(s.dataset_json["labels"]).names.items()}
        labels |= {f"{s.key}: {label_names.get(i, f'label {i}')}": g for i, g in s.label_map.items()}
    return labels


def _with_file(structures: dict, names: dict, extra: Ontology) -> tuple[dict, dict]:
    """The user's structures over global labels (e.g. one structure two sources share, or one no source annotates
    whole: the anterior half from one, the posterior from another) added; a merged structure with the same label set
    is replaced by the user's, and the sources' prompts of it named by the user's name."""
    mine = extra.to_dict()["structures"]
    by_set = {frozenset(e["labels"]): n for n, e in mine.items()}
    renamed = {n: by_set[frozenset(e["labels"])] for n, e in structures.items() if frozenset(e["labels"]) in by_set}
    words = {
        normalize(w)
        for n, e in mine.items()
        for w in [n, *e.get("names", []), *e.get("synonyms", []), *e.get("descriptions", [])]
    }
    kept = {}
    for n, e in structures.items():  # the user's wordings are the user's structures' alone
        if n not in renamed:
            kept[n] = e | {
                k: [w for w in e.get(k, []) if normalize(w) not in words] for k in ("names", "synonyms", "descriptions")
            }
            kept[n]["names"] = kept[n]["names"] or [n]
    return kept | mine, {k: renamed.get(v, v) for k, v in names.items()}


def merge_datasets(
    datasets: list[str],
    dataset_id: int,
    name: str = "Merged",
    overwrite: bool = False,
    disjoint: bool = False,
    ontology: Path | None = None,
) -> Path:
    """Merge converted raw datasets into `DatasetXXX_<name>`; returns its folder. `disjoint`: the sources show
    different anatomy (e.g. brain MRI and abdominal CT), so a structure of one source is absent from every image of
    another, and training may ask for it there with an empty answer. `ontology`: a file of structures over the
    merged labels (`"<source>: <label>"` names or global ids) that the sources' ontologies cannot say."""
    if len(datasets) < 2:
        raise SemanticError("merge needs at least two datasets (--from A B ...)")
    sources: list[Source] = []
    for d in datasets:
        offset = max([0, *(v for s in sources for v in s.label_map.values())])
        sources.append(_load(d, offset))
    if len({s.folder.resolve() for s in sources}) < len(sources):
        raise SemanticError("a dataset is given twice in --from")
    prefixes = Counter(s.prefix for s in sources)
    for s in sources:
        if prefixes[s.prefix] > 1:
            s.key = f"{s.key}{s.folder.name[7:10]}"  # two sources of one name: tell them apart by their ids
    _check_channels(sources)
    structures, names = merged_ontology(sources)
    labels = global_labels(sources)
    if ontology is not None:
        structures, names = _with_file(structures, names, ontology_file.read(ontology, DatasetLabels.of(labels)))
    with dataset_output(dataset_id, name, overwrite, [str(s.folder) for s in sources]) as (final, tmp):
        for sub in ("labelsTr", "prompts", HELDOUT_FOLDER, *([CROSS_FOLDER] if disjoint else [])):
            (tmp / sub).mkdir(parents=True)
        files, records = {}, {}
        cases_of = {s.key: training_cases(s.folder, s.dataset_json, len(_channels(s))) for s in sources}
        _check_distinct_images(sources, cases_of)
        _check_dimensions(sources, cases_of)
        for image in (i for cases in cases_of.values() for c in cases for i in c.images):
            check_referable(Path(image).resolve())
        for s in sources:
            verification = (
                read_json(s.folder / "prompts" / "verification.json")
                if (s.folder / "prompts" / "verification.json").is_file()
                else {"cases": {}}
            )
            sidecars = {
                sub: read_sidecar_folder(s.folder / sub) if (s.folder / sub).is_dir() else {}
                for sub in ("prompts", HELDOUT_FOLDER)
            }
            cases = cases_of[s.key]
            lut = np.zeros(max(s.label_map) + 1, dtype=np.uint16)
            for src, dst in s.label_map.items():
                lut[src] = dst
            for case in tqdm(cases, desc=f"merge {s.key}"):
                if case.case_id not in sidecars["prompts"]:
                    raise InputError(
                        s.folder / "prompts" / f"{case.case_id}.json",
                        "file not found: every training case of a merged source needs its prompts",
                    )
                new = f"{s.prefix}_{case.case_id}"
                img = sitk.ReadImage(str(case.label))
                seg = sitk.GetArrayFromImage(img)
                if seg.max() > lut.size - 1:
                    raise InputError(case.label, f"label value {int(seg.max())} is not in the dataset's 'labels'")
                out = sitk.GetImageFromArray(
                    lut[seg.astype(np.int64)].astype(np.uint8 if lut.max() < 256 else np.uint16)
                )
                out.CopyInformation(img)
                sitk.WriteImage(out, str(tmp / "labelsTr" / f"{new}.nii.gz"), useCompression=True)
                files[new] = {"images": [str(p.resolve()) for p in case.images], "label": f"labelsTr/{new}.nii.gz"}
                for sub in ("prompts", HELDOUT_FOLDER):
                    if case.case_id in sidecars[sub]:
                        write_sidecar(
                            tmp / sub / f"{new}.json",
                            new,
                            [
                                _remap(p, s, names, s.folder / sub / f"{case.case_id}.json")
                                for p in sidecars[sub][case.case_id]
                            ],
                        )
                if disjoint:
                    write_sidecar(tmp / CROSS_FOLDER / f"{new}.json", new, _cross_source(s, sources, structures, names))
                record = verification["cases"].get(case.case_id, {})
                records[new] = record | {
                    "source": s.key,
                    "label_counts": {str(s.label_map[int(k)]): v for k, v in record.get("label_counts", {}).items()},
                }
        semantic = {
            "version": 1,
            "structures": structures,
            "disjoint_sources": disjoint,
            "sources": {
                s.key: {
                    "dataset": s.folder.name,
                    "labels": {str(k): v for k, v in s.label_map.items()},
                    "structures": sorted({names[s.key, n] for n in s.ontology.structures}),
                    "cases": sorted(k for k, r in records.items() if r["source"] == s.key),
                }
                for s in sources
            },
        }
        Ontology.from_dict(semantic, f"{tmp / 'dataset.json'} (field 'semantic')")
        data = {
            "channel_names": _channels(sources[0]),
            "labels": labels,
            "numTraining": len(files),
            "file_ending": ".nii.gz",
            "name": name,
            "dataset": files,
            "semantic": semantic,
            "converted_by": "nnunet-semantic merge",
            "description": "merged from " + ", ".join(s.folder.name for s in sources),
        }
        (tmp / "dataset.json").write_text(json.dumps(data, indent=1))
        (tmp / "prompts" / "verification.json").write_text(
            json.dumps({"source": [str(s.folder) for s in sources], "cases": records}, indent=1)
        )
    return final
