"""How the parser reads exclusions, parts, unions and emphatic words as people write them: every wording of a set
(`tests/data/exclusion_wordings.json`, `tests/data/paraphrases.json`, or a file of the same schema written by
someone who never read the parser) parsed with its ontology, against its true set. A reading is `exact` (its mask
`target - avoid` is the true one), `refused` (one line saying why) or `wrong`; a wrong reading of an exclusion is
`dropped` when its mask holds the part the prompt excludes. A set's entry with `labels` is a user's own dataset
(`tests/data/user_dataset_wordings.json`), read with the ontology `convert nnunet` builds from its labels (one
structure per label); each set's share is a target of its own. Free text: `split_exclusion`, what the predictor
encodes when the ontology cannot read a prompt, must split every prompt that excludes (`one_text`: it did not).
No model and no data: seconds.

    python benchmarks/exclusion_wordings.py [SET.json ...] [--name NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SETS = [DATA / "exclusion_wordings.json", DATA / "paraphrases.json", DATA / "user_dataset_wordings.json"]


def read(entry: dict, ontology, structures: dict[str, list[int]] | None = None) -> str:
    """'exact', 'refused', 'wrong' or 'dropped' for one resolved entry of a set; `structures`: the labels of each
    name the entry uses, where the set lists them (a user's dataset, named as its labels were read when it was
    written)."""
    from nnunet_semantic.errors import PromptError
    from nnunet_semantic.prompts.parser import parse

    def labels(names):
        ids = structures or {n: s.labels for n, s in ontology.structures.items()}
        return set().union(*(ids[n] for n in names)) if names else set()

    true, avoid = labels(entry["target"]) - labels(entry["avoid"]), labels(entry["avoid"])
    try:
        p = parse(entry["text"], ontology)
    except PromptError:
        return "refused"
    mask = set(p.target) - set(p.avoid)
    return "exact" if mask == true else "dropped" if avoid and avoid & mask else "wrong"


def one_text(entry: dict) -> bool:
    """True when the free-text split would encode a prompt that excludes as one target text."""
    from nnunet_semantic.errors import PromptError
    from nnunet_semantic.prompts.parser import split_exclusion

    try:
        return not split_exclusion(entry["text"])[1]
    except PromptError:
        return False


def measure(path: Path) -> tuple[list[dict], list[dict]]:
    from nnunet_semantic.errors import PromptError
    from nnunet_semantic.prompts.ontologies import generic_ontology, get_ontology
    from nnunet_semantic.prompts.ontology_file import DatasetLabels
    from nnunet_semantic.prompts.parser import parse

    rows, misses = [], []
    data = json.loads(path.read_text())
    for key, entries in data.items():
        if key == "about":
            continue
        # a user's own dataset: the ontology `convert nnunet` builds from its labels (one structure per label)
        ontology = generic_ontology(DatasetLabels.of(entries["labels"])) if "labels" in entries else get_ontology(key)
        for e in entries["resolved"]:
            outcome = read(e, ontology, entries.get("structures"))
            cls = e.get("class", "exclusion" if e["avoid"] else "part")
            rows.append({"set": path.stem, "ontology": key, "class": cls, "excludes": bool(e["avoid"]),
                         "outcome": outcome, "one_text": bool(e["avoid"]) and one_text(e)})
            if outcome != "exact":
                misses.append({"set": path.stem, "text": e["text"], "outcome": outcome})
        for e in entries["refused"]:
            text = e["text"] if isinstance(e, dict) else e
            try:
                parse(text, ontology)
                rows.append({"set": path.stem, "ontology": key, "class": "refusal", "outcome": "answered"})
                misses.append({"set": path.stem, "text": text, "outcome": "answered (should be refused)"})
            except PromptError:
                rows.append({"set": path.stem, "ontology": key, "class": "refusal", "outcome": "refused"})
    return rows, misses


def table(rows: list[dict]) -> list[dict]:
    groups = defaultdict(list)
    for r in rows:
        groups[(r["set"], r["class"])].append(r)
    out = []
    for (name, cls), rs in sorted(groups.items()):
        n = Counter(r["outcome"] for r in rs)
        out.append({"set": name, "class": cls, "n": len(rs), **{k: n.get(k, 0) for k in
                    ("exact", "refused", "wrong", "dropped", "answered")},
                    "one_text": sum(r.get("one_text", False) for r in rs)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", type=Path, default=SETS)
    parser.add_argument("--name", default="exclusion_wordings")
    args = parser.parse_args()
    rows, misses = [], []
    for path in args.sets:
        r, m = measure(path)
        rows, misses = rows + r, misses + m
    for m in misses:
        print(f"{m['outcome']:<30} {m['set']:<22} {m['text']}")
    resolved = [r for r in rows if r["class"] != "refusal"]
    excluding = [r for r in resolved if r["excludes"]]
    refusals = [r for r in rows if r["class"] == "refusal"]
    shares = {
        name: sum(r["outcome"] == "exact" for r in rs) / len(rs)
        for name in dict.fromkeys(r["set"] for r in resolved)
        if (rs := [r for r in resolved if r["set"] == name])
    }
    targets = {
        **{f"resolved_share_{n}": {"value": round(v, 4), "target": 0.9, "met": v >= 0.9} for n, v in shares.items()},
        "exclusions_dropped": {"value": sum(r["outcome"] == "dropped" for r in excluding), "target": 0,
                               "met": not any(r["outcome"] == "dropped" for r in excluding)},
        "exclusions_wrong_or_dropped": {"value": sum(r["outcome"] in ("wrong", "dropped") for r in excluding),
                                        "target": 0, "met": all(r["outcome"] in ("exact", "refused")
                                                                for r in excluding)},
        "exclusions_as_one_text": {"value": sum(r["one_text"] for r in excluding), "target": 0,
                                   "met": not any(r["one_text"] for r in excluding)},
        "refusals_answered": {"value": sum(r["outcome"] == "answered" for r in refusals), "target": 0,
                              "met": all(r["outcome"] == "refused" for r in refusals)},
    }
    for name, t in targets.items():
        print(f"{name:<28} {t['value']!s:<8} target {t['target']}  {'met' if t['met'] else 'MISSED'}")
    write_results(args.name, {"sets": [str(p) for p in args.sets], "targets": targets, "misses": misses},
                  table(rows), ["set", "class", "n", "exact", "refused", "wrong", "dropped", "answered", "one_text"])


if __name__ == "__main__":
    main()
