"""L1/L2/L3 prompts for one case, and the verification that keeps only prompts that measure something.

Verification works on the case's label counts: the mask of a prompt is
`isin(seg, target) & ~isin(seg, avoid)`, so its size is the sum of the counts of `target - avoid`, and
what an exclusion removes is the sum over `target & avoid`.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from nnunet_semantic.prompts.ontology import Ontology, Structure, normalize
from nnunet_semantic.prompts.parser import split_exclusion
from nnunet_semantic.prompts.sidecar import ABSENT, Prompt, safe_name
from nnunet_semantic.prompts.wording import (
    HELDOUT_CONNECTIVES,
    HELDOUT_TEMPLATES,
    TRAINING_CONNECTIVES,
    heldout_wordings,
    with_article,
)


@dataclass(frozen=True)
class GenerationSettings:
    seed: int = 0
    min_voxels: int = 1  # a kept prompt's mask has at least this many voxels
    min_removed: int = 10  # an L3 exclusion must remove at least this many voxels
    max_l2: int | None = None  # L2 prompts per structure (sampled with the seed); None keeps all
    paraphrase_l3: bool = True  # add one L3 variant per exclusion with other words and connective
    absent: bool = True  # an "absent" prompt (empty mask) for every structure the case does not contain

    def to_dict(self) -> dict:
        return asdict(self)


def _short(s: Structure, rng: np.random.Generator | None = None) -> str:
    """A name for s: the shortest name (or a random name/synonym), with an article if it has several words."""
    pool = [*s.names] or [s.name]
    return with_article(min(pool, key=len) if rng is None else str(rng.choice([*pool, *s.synonyms])))


def exclusion_groups(ontology: Ontology, s: Structure) -> list[tuple[Structure, ...]]:
    """What an L3 prompt on s can exclude: one contained structure, or two disjoint ones that leave some of s."""
    inner = ontology.contained_in(s.name)
    return [(b,) for b in inner] + [
        (b, c)
        for b, c in itertools.combinations(inner, 2)
        if not b.labels & c.labels and not s.labels <= b.labels | c.labels
    ]


def _l3(pid: str, text: str, s: Structure, group: tuple[Structure, ...], **extra) -> tuple[Prompt, tuple]:
    """An L3 prompt whose parts are what the prediction-time split of its text gives."""
    pos, neg = split_exclusion(text)
    avoid = tuple(sorted(set().union(*(g.labels for g in group))))
    return Prompt(
        pid, 3, text, tuple(sorted(s.labels)), avoid, pos, neg, s.name, {"excluded": [g.name for g in group], **extra}
    ), group


def _one_per_text(pairs: list[tuple[Prompt, tuple[Structure, ...]]]) -> list[tuple[Prompt, tuple[Structure, ...]]]:
    """The first prompt of each text: a paraphrase that comes out as its original (a region's L3 in its only
    wording) would be one file scored twice."""
    seen: set[str] = set()
    return [pair for pair in pairs if not (pair[0].text in seen or seen.add(pair[0].text))]


def candidates(
    ontology: Ontology, rng: np.random.Generator, settings: GenerationSettings
) -> list[tuple[Prompt, tuple[Structure, ...]]]:
    """(prompt, excluded structures) pairs; a multi-exclusion is only verified where each part is present."""
    out: list[tuple[Prompt, tuple[Structure, ...]]] = []
    for s in ontology.structures.values():
        target = tuple(sorted(s.labels))
        out.append((Prompt(f"L1-{safe_name(s.name)}", 1, s.name, target, structure=s.name), ()))
        # an L2 wording is another wording: one that reads as the name (case, hyphens, plurals aside) is not one
        l2 = list(
            {
                normalize(p): p for p in [*s.names, *s.synonyms, *s.descriptions] if normalize(p) != normalize(s.name)
            }.values()
        )
        idx = list(range(len(l2)))
        if settings.max_l2 is not None and len(idx) > settings.max_l2:
            idx = sorted(rng.choice(len(idx), settings.max_l2, replace=False).tolist())
        out += [(Prompt(f"L2-{safe_name(s.name)}-{i}", 2, l2[i], target, structure=s.name), ()) for i in idx]
        for group in exclusion_groups(ontology, s):
            pid = f"L3-{safe_name(s.name)}" + "".join(f"-x-{safe_name(_short(g))}" for g in group)
            out.append(_l3(pid, f"{s.name} excluding {' and '.join(_short(g) for g in group)}", s, group))
            if settings.paraphrase_l3:
                pos = _short(s, rng).removeprefix("the ")
                neg = " and ".join(_short(g, rng) for g in group)
                out.append(_l3(f"{pid}-v1", f"{pos} {rng.choice(TRAINING_CONNECTIVES)} {neg}", s, group))
    return _one_per_text(out)


def heldout_candidates(ontology: Ontology, rng: np.random.Generator) -> list[tuple[Prompt, tuple[Structure, ...]]]:
    """Prompts in wordings no training prompt uses (marked `heldout`): every held-out wording of each structure
    (level 2), and per exclusion two L3 prompts, one a held-out request around the names, one in held-out phrases,
    both with a held-out connective."""
    out: list[tuple[Prompt, tuple[Structure, ...]]] = []
    requests = [t for t in HELDOUT_TEMPLATES if not t.endswith("?")]
    for s in ontology.structures.values():
        target = tuple(sorted(s.labels))
        out += [
            (Prompt(f"H2-{safe_name(s.name)}-{i}", 2, text, target, structure=s.name, extra={"heldout": True}), ())
            for i, text in enumerate(heldout_wordings(s))
        ]
        for group in exclusion_groups(ontology, s):
            pid = f"H3-{safe_name(s.name)}" + "".join(f"-x-{safe_name(_short(g))}" for g in group)
            request = str(rng.choice(requests)).format(min(s.names or [s.name], key=len))
            neg = " and ".join(_short(g) for g in group)
            out.append(_l3(pid, f"{request} {rng.choice(HELDOUT_CONNECTIVES)} {neg}", s, group, heldout=True))
            pos = str(rng.choice([*s.heldout] or [request]))
            neg = " and ".join(str(rng.choice([*g.heldout] or [_short(g)])) for g in group)
            out.append(_l3(f"{pid}-v1", f"{pos} {rng.choice(HELDOUT_CONNECTIVES)} {neg}", s, group, heldout=True))
    return _one_per_text(out)


def verify(prompts: list[tuple[Prompt, tuple[Structure, ...]]], counts: dict[int, int], settings: GenerationSettings):
    """(kept prompts, kept records, dropped records); records hold mask size, voxels removed and the reason."""
    kept, dropped = [], []
    for p, excluded in prompts:
        voxels = sum(counts.get(i, 0) for i in set(p.target) - set(p.avoid))
        removed = sum(counts.get(i, 0) for i in set(p.target) & set(p.avoid))
        absent = [g.name for g in excluded if not any(counts.get(i, 0) for i in g.labels)]
        reason = None
        if absent:
            reason = f"avoided structure absent: {', '.join(absent)}"
        elif p.level == 3 and removed < settings.min_removed:
            reason = f"exclusion removes {removed} voxels (< min_removed {settings.min_removed})"
        elif voxels == 0:
            reason = (
                "empty mask after exclusion" if p.level == 3 else f"target absent (labels {list(p.target)} not in case)"
            )
        elif voxels < settings.min_voxels:
            reason = f"mask has {voxels} voxels (< min_voxels {settings.min_voxels})"
        record = {"id": p.id, "level": p.level, "text": p.text, "voxels": voxels, "removed": removed}
        if reason:
            dropped.append(record | {"reason": reason})
        else:
            kept.append((p, record))
    return [p for p, _ in kept], [r for _, r in kept], dropped


def case_rng(seed: int, case_id: str) -> np.random.Generator:
    """Per-case stream: the same prompts whatever order or process the cases are handled in."""
    return np.random.default_rng([seed, zlib.crc32(case_id.encode())])


def label_counts(seg: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(seg, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts) if v != 0}


def generate(case_id: str, seg: np.ndarray, ontology: Ontology, settings: GenerationSettings = GenerationSettings()):
    """(kept prompts, verification record) for one case."""
    counts = label_counts(seg)
    kept, kept_records, dropped = verify(
        candidates(ontology, case_rng(settings.seed, case_id), settings), counts, settings
    )
    if settings.absent:
        absent = [
            Prompt(f"absent-{safe_name(s.name)}", ABSENT, s.name, tuple(sorted(s.labels)), structure=s.name)
            for s in ontology.structures.values()
            if not any(counts.get(i, 0) for i in s.labels)
        ]
        kept += absent
        kept_records += [{"id": p.id, "level": ABSENT, "text": p.text, "voxels": 0, "removed": 0} for p in absent]
    return kept, {"label_counts": {str(k): v for k, v in counts.items()}, "kept": kept_records, "dropped": dropped}


def generate_heldout(
    case_id: str, seg: np.ndarray, ontology: Ontology, settings: GenerationSettings = GenerationSettings()
) -> list[Prompt]:
    """The case's verified held-out-wording prompts (written to `prompts_heldout/`, which training never reads)."""
    rng = np.random.default_rng([settings.seed, zlib.crc32(case_id.encode()), 1])
    return verify(heldout_candidates(ontology, rng), label_counts(seg), settings)[0]
