"""`nnunet-semantic prompts {parse,stats}`: a dataset's prompt vocabulary from the command line."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from nnunet_semantic.paths import raw_dataset_folder


def _parse(args) -> int:
    from nnunet_semantic.errors import PromptError
    from nnunet_semantic.prompts.ontology import Ontology
    from nnunet_semantic.prompts.parser import parse

    ontology = Ontology.of_dataset(raw_dataset_folder(args.d))
    if len(args.text) == 1:  # refused: the command's one-line error
        print(json.dumps(parse(args.text[0], ontology).to_dict(), indent=2, ensure_ascii=False))
        return 0
    results = []
    for text in args.text:  # every text answered: a refused one is an entry with its reason, not the end of the run
        try:
            results.append(parse(text, ontology).to_dict())
        except PromptError as e:
            results.append({"text": text, "refused": str(e)})
    print(json.dumps(results, indent=2))
    refused = sum("refused" in r for r in results)
    if refused:
        print(f"{refused} of {len(results)} prompts refused (their entries say why)", file=sys.stderr)
    return 1 if refused else 0


def prompt_statistics(raw_folder: Path) -> str:
    """The verified prompts of a raw dataset per level and structure, as a table (held-out wordings from
    prompts_heldout/ in their own columns)."""
    from nnunet_semantic.prompts.sidecar import HELDOUT_FOLDER, read_sidecar_folder

    sidecars = read_sidecar_folder(raw_folder / "prompts")
    heldout = read_sidecar_folder(raw_folder / HELDOUT_FOLDER) if (raw_folder / HELDOUT_FOLDER).is_dir() else {}
    per = Counter(
        (p.structure or "?", p.level_key)
        for folder in (sidecars, heldout)
        for prompts in folder.values()
        for p in prompts
    )
    levels = ["L1", "L2", "L3", *(["L2_heldout", "L3_heldout"] if heldout else [])]
    structures = sorted({s for s, _ in per})
    width = max([len("structure"), *map(len, structures)])
    lines = [f"{len(sidecars)} cases", f"{'structure':<{width}}  " + " ".join(f"{lv:>10}" for lv in levels)]
    lines += [f"{s:<{width}}  " + " ".join(f"{per[(s, lv)]:>10}" for lv in levels) for s in structures]
    lines.append(f"{'total':<{width}}  " + " ".join(f"{sum(per[(s, lv)] for s in structures):>10}" for lv in levels))
    return "\n".join(lines)


def _stats(args) -> int:
    print(prompt_statistics(raw_dataset_folder(args.d)))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "prompts",
        help="parse prompts against a dataset's ontology; prompt statistics",
        description="Work with the prompt vocabulary stored in a converted dataset.",
    )
    cmds = p.add_subparsers(dest="prompts_command", required=True, metavar="ACTION")
    q = cmds.add_parser(
        "parse",
        help="print target/avoid/pos_text/neg_text of prompts as JSON",
        description="Parse free-text prompts with the dataset's ontology. Exit 1 with the closest "
        "known structures when a structure is unknown or ambiguous.",
    )
    q.add_argument("-d", required=True, help="dataset id or name")
    q.add_argument("text", nargs="+", help="prompt text(s), e.g. 'kidney excluding tumor'")
    q.set_defaults(func=_parse)
    q = cmds.add_parser(
        "stats",
        help="count verified prompts per level and structure",
        description="Count the prompts in the dataset's sidecars per level and structure (held-out "
        "wordings from prompts_heldout/ in their own columns).",
    )
    q.add_argument("-d", required=True, help="dataset id or name")
    q.set_defaults(func=_stats)
