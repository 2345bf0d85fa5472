"""`nnunet-semantic ontology {init,check}`: write a dataset's ontology file from its dataset.json, check one."""

from __future__ import annotations

import sys
from pathlib import Path

from nnunet_semantic.errors import SemanticError

TEMPLATE_FIELDS = ("names", "synonyms", "descriptions", "heldout")


def _dataset(dataset: str):
    """(folder, dataset.json, its labels, its channel names) of a raw dataset given by id, name or folder."""
    from nnunet_semantic.dataset_conversion.nnunet import read_dataset_json, source_folder
    from nnunet_semantic.prompts.ontology_file import DatasetLabels

    folder = source_folder(dataset)
    data = read_dataset_json(folder)
    labels = DatasetLabels.of(data["labels"], str(folder / "dataset.json"))
    channels = data.get("channel_names", data.get("modality"))
    return folder, data, labels, [channels[k] for k in sorted(channels, key=int)]


def starter(dataset: str) -> tuple[dict, str]:
    """An ontology file for a dataset, and where its structures came from."""
    from nnunet_semantic.dataset_conversion.vocabulary import choose_ontology

    folder, data, labels, channels = _dataset(dataset)
    ontology, origin = choose_ontology(data, labels, channels, folder / "dataset.json", quiet=True)
    structures = {
        name: {"labels": s["labels"], **{k: s.get(k, []) for k in TEMPLATE_FIELDS}}
        for name, s in ontology.to_dict()["structures"].items()
    }
    return {
        "version": 1,
        "name": folder.name,
        "labels": labels.as_nnunet(),
        "channels": {str(k): v for k, v in data.get("channel_names", data.get("modality")).items()},
        "structures": structures,
    }, origin


def _init(args) -> int:
    from nnunet_semantic.prompts.ontology_file import dumps

    data, origin = starter(args.d)
    out = args.o or Path(f"{data['name']}.ontology.json")
    if out.exists() and not args.force:
        raise SemanticError(f"{out} exists; pass --force to replace it, or -o another file")
    out.write_text(dumps(data))
    print(
        f"wrote {out}: {len(data['structures'])} structures from {origin}\n"
        "edit it: structures are sets of labels (ids or label names); add synonyms, descriptions (L2 prompts) "
        "and held-out wordings, and structures that hold others (e.g. the whole organ) for L3 prompts\n"
        f"then: nnunet-semantic ontology check {out} -d {args.d}\n"
        f"      nnunet-semantic convert nnunet -i {args.d} -d NEW_ID --ontology {out}"
    )
    return 0


def _check(args) -> int:
    from nnunet_semantic.prompts import ontology_file
    from nnunet_semantic.prompts.generator import exclusion_groups

    labels = _dataset(args.d)[2] if args.d else None
    data = ontology_file.load(args.file)
    found = ontology_file.problems(data, labels)
    for problem in found:
        print(f"{args.file}: {problem}", file=sys.stderr)
    if found:
        print(f"{len(found)} problem{'s' if len(found) > 1 else ''} in {args.file}", file=sys.stderr)
        return 1
    ontology = ontology_file.resolve(data, labels, str(args.file))
    l3 = [
        f"{s.name} excluding {' and '.join(g.name for g in group)}"
        for s in ontology.structures.values()
        for group in exclusion_groups(ontology, s)
    ]
    described = sum(bool(s.descriptions) for s in ontology.structures.values())
    print(
        f"{args.file}: ok, {len(ontology.structures)} structures over labels {sorted(ontology.label_ids)}; "
        f"{described} with descriptions (L2 prompts); {len(l3)} exclusions (L3 prompts)"
        + (
            f": {'; '.join(l3[:6])}{' ...' if len(l3) > 6 else ''}"
            if l3
            else ": none (no structure holds another: add e.g. the whole organ)"
        )
    )
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "ontology",
        help="write or check the ontology file of a dataset (its structures and words)",
        description="The ontology says which sets of a dataset's labels are structures and which "
        "words name and describe them; prompts are generated from it. See the README's 'I already "
        "have DatasetXXX'.",
    )
    cmds = p.add_subparsers(dest="ontology_command", required=True, metavar="ACTION")
    q = cmds.add_parser(
        "init",
        help="write a starter ontology file from a dataset.json",
        description="One structure per label and per nnU-Net region label, named readably (or the "
        "dataset.json's own 'semantic' block, or the shipped ontology of a dataset recognised by its "
        "labels and channels).",
    )
    q.add_argument("-d", required=True, help="raw dataset: id, DatasetXXX_Name or its folder")
    q.add_argument("-o", type=Path, help="output file (default: DatasetXXX_Name.ontology.json here)")
    q.add_argument("--force", action="store_true", help="replace the output file if it exists")
    q.set_defaults(func=_init)
    q = cmds.add_parser(
        "check",
        help="list every problem of an ontology file, one line each",
        description="Exit 1 with one line per problem (a label the dataset lacks, two structures "
        "with one label set, an empty name, a held-out wording that is also a training wording, ...); "
        "else a summary of the prompts it yields.",
    )
    q.add_argument("file", type=Path, help="ontology file (JSON)")
    q.add_argument("-d", help="raw dataset (id, name or folder) whose labels the file must use")
    q.set_defaults(func=_check)
