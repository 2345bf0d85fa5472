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

from nnunet_semantic.prompts.ontology import Ontology, Structure
from nnunet_semantic.prompts.parser import CONNECTIVES
from nnunet_semantic.prompts.sidecar import ABSENT, Prompt, slug


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
    name = min(pool, key=len) if rng is None else str(rng.choice([*pool, *s.synonyms]))
    return f"the {name}" if " " in name else name


def candidates(ontology: Ontology, rng: np.random.Generator,
               settings: GenerationSettings) -> list[tuple[Prompt, tuple[Structure, ...]]]:
    """(prompt, excluded structures) pairs; a multi-exclusion is only verified where each part is present."""
    out: list[tuple[Prompt, tuple[Structure, ...]]] = []
    for s in ontology.structures.values():
        target = tuple(sorted(s.labels))
        out.append((Prompt(f"L1-{slug(s.name)}", 1, s.name, target, structure=s.name), ()))
        l2 = [p for p in [*s.names, *s.synonyms, *s.descriptions] if p != s.name]
        idx = list(range(len(l2)))
        if settings.max_l2 is not None and len(idx) > settings.max_l2:
            idx = sorted(rng.choice(len(idx), settings.max_l2, replace=False).tolist())
        out += [(Prompt(f"L2-{slug(s.name)}-{i}", 2, l2[i], target, structure=s.name), ()) for i in idx]

        inner = ontology.contained_in(s.name)
        groups = [(b,) for b in inner] + [
            (b, c) for b, c in itertools.combinations(inner, 2)
            if not b.labels & c.labels and not s.labels <= b.labels | c.labels]
        for group in groups:
            avoid = tuple(sorted(set().union(*(g.labels for g in group))))
            pid = f"L3-{slug(s.name)}" + "".join(f"-x-{slug(_short(g))}" for g in group)
            neg = " and ".join(_short(g) for g in group)
            out.append((Prompt(pid, 3, f"{s.name} excluding {neg}", target, avoid, s.name, neg, s.name), group))
            if settings.paraphrase_l3:
                pos = _short(s, rng).removeprefix("the ")
                neg = " and ".join(_short(g, rng) for g in group)
                conn = str(rng.choice(CONNECTIVES))
                out.append((Prompt(f"{pid}-v1", 3, f"{pos} {conn} {neg}", target, avoid, pos, neg, s.name), group))
    return out


def verify(prompts: list[tuple[Prompt, tuple[Structure, ...]]], counts: dict[int, int],
           settings: GenerationSettings):
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
            reason = ("empty mask after exclusion" if p.level == 3
                      else f"target absent (labels {list(p.target)} not in case)")
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
    kept, kept_records, dropped = verify(candidates(ontology, case_rng(settings.seed, case_id), settings),
                                         counts, settings)
    if settings.absent:
        absent = [Prompt(f"absent-{slug(s.name)}", ABSENT, s.name, tuple(sorted(s.labels)), structure=s.name)
                  for s in ontology.structures.values() if not any(counts.get(i, 0) for i in s.labels)]
        kept += absent
        kept_records += [{"id": p.id, "level": ABSENT, "text": p.text, "voxels": 0, "removed": 0} for p in absent]
    return kept, {"label_counts": {str(k): v for k, v in counts.items()}, "kept": kept_records, "dropped": dropped}
