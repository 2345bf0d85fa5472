"""A merged dataset's sources (`nnunet-semantic merge`) as training sees them: which source a case comes from and
which labels that source annotates (a label it does not annotate is never taught as background on its cases), which
structures may be asked of a case with an empty answer, folds kept per source, how often each source is drawn, and,
with a plan per source (`plan-sources`), one loader per source."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

SAMPLINGS = ("sqrt", "cases", "sources")


class Sources:
    def __init__(self, semantic: dict):
        info = semantic["sources"]
        self.of_case = {case: key for key, s in info.items() for case in s["cases"]}
        self.labels = {key: {int(v) for v in s["labels"].values()} for key, s in info.items()}
        self.structures = {key: list(s["structures"]) for key, s in info.items()}
        self.disjoint = bool(semantic.get("disjoint_sources", False))

    @classmethod
    def of(cls, ontology) -> Sources | None:
        """A merged dataset's (its ontology holds them); None for a dataset of one source."""
        return (
            cls({"sources": ontology.sources, "disjoint_sources": ontology.disjoint_sources})
            if ontology.sources
            else None
        )

    def absent_structures(self, case: str, structures: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        """The structures an empty-answer prompt may name on `case`: those its source annotates whole (all their
        labels are the source's), or every one where the sources are declared disjoint (another source's structure
        is then absent from this image for certain). A structure only partly annotated here (the whole hippocampus on
        a source of its anterior half) is unknown, never empty."""
        if self.disjoint or case not in self.of_case:
            return structures
        own = self.labels[self.of_case[case]]
        return {name: labels for name, labels in structures.items() if set(labels) <= own}

    def label_mask(self, keys, num_labels: int) -> np.ndarray:
        """[B, 1 + num_labels]: 1 for background and the labels each case's source annotates, 0 elsewhere; all 1
        for disjoint sources (another source's label is absent from this image: background, and taught so)."""
        mask = np.zeros((len(keys), 1 + num_labels), np.float32)
        mask[:, 0] = 1
        if self.disjoint:
            mask[:] = 1
            return mask
        for row, key in enumerate(keys):
            mask[row, sorted(self.labels[self.of_case[key]])] = 1
        return mask

    def splits(self, n_splits: int = 5, seed: int = 12345) -> list[dict[str, list[str]]]:
        """nnU-Net's 5-fold split of each source's cases (the split the source has on its own, since a prefix keeps
        their order), fold by fold united: each source's validation cases stay validation."""
        from nnunetv2.utilities.crossval_split import generate_crossval_split

        folds = [{"train": [], "val": []} for _ in range(n_splits)]
        for key in self.labels:
            cases = sorted(c for c, k in self.of_case.items() if k == key)
            for fold, split in zip(folds, generate_crossval_split(cases, seed=seed, n_splits=n_splits)):
                fold["train"] += split["train"]
                fold["val"] += split["val"]
        return folds

    def probabilities(self, keys: list[str], sampling: str = "sqrt") -> dict[str, float]:
        """Each source's share of the draws over `keys`: proportional to sqrt(its cases) ("sqrt", MultiTalent's), to
        its cases ("cases", nnU-Net's own), or equal ("sources")."""
        if sampling not in SAMPLINGS:
            raise ValueError(f"source_sampling must be one of {SAMPLINGS}, got {sampling!r}")
        n = Counter(self.of_case[k] for k in keys)
        power = {"sqrt": 0.5, "cases": 1.0, "sources": 0.0}[sampling]
        total = sum(c**power for c in n.values())
        return {s: c**power / total for s, c in n.items()}

    def weighted(self, keys: list[str], sampling: str = "sqrt", quantum: int = 4) -> list[str]:
        """The training keys, each repeated so that nnU-Net's uniform draw over them picks each source with its
        `probabilities`; repetitions are rounded to 1/`quantum` of the rarest's."""
        n = Counter(self.of_case[k] for k in keys)
        share = self.probabilities(keys, sampling)
        if sampling == "cases" or len(n) < 2:
            return list(keys)
        per_case = {s: share[s] / c for s, c in n.items()}
        low = min(per_case.values())
        repeats = {s: max(1, round(quantum * v / low)) for s, v in per_case.items()}
        divisor = math.gcd(*repeats.values())
        return [k for k in keys for _ in range(repeats[self.of_case[k]] // divisor)]


class SourceMixer:
    """One loader per source (each with its own patch, batch and augmentation): each batch is one source's, drawn
    with that source's probability, as MultiTalent draws a dataset per batch."""

    def __init__(self, loaders: dict, probabilities: dict[str, float]):
        self.loaders = loaders
        self.keys = list(loaders)
        self.p = np.array([probabilities.get(k, 0.0) for k in self.keys])
        self.p = self.p / self.p.sum()
        self.rng = np.random.default_rng()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.loaders[self.keys[self.rng.choice(len(self.keys), p=self.p)]])

    def _finish(self) -> None:
        for loader in self.loaders.values():
            if hasattr(loader, "_finish"):
                loader._finish()


def source_loaders(trainer, build) -> tuple[SourceMixer, SourceMixer]:
    """A trainer's (training, validation) loaders with a plan per source: `build` (nnU-Net's `get_dataloaders`) run
    once per source with the trainer's plans, configuration and batch set to the source's and its datasets cut to
    the source's cases (`_only_source`), mixed per batch by the sources' sampling probabilities."""
    shared = trainer.plans_manager, trainer.configuration_manager, getattr(trainer, "batch_size", None)
    loaders = {}
    try:
        for key, (pm, cm) in trainer.source_plans.items():
            trainer.plans_manager, trainer.configuration_manager, trainer.batch_size = pm, cm, cm.batch_size
            trainer._only_source = key
            loaders[key] = build()
    finally:
        trainer.plans_manager, trainer.configuration_manager, trainer.batch_size = shared
        trainer._only_source = None
    tr_keys, val_keys = trainer.do_split()
    share = trainer.sources.probabilities(tr_keys, trainer.source_sampling)
    trainer.print_to_log_file("sources drawn per batch:", {k: round(v, 3) for k, v in share.items()})
    return (
        SourceMixer({k: pair[0] for k, pair in loaders.items()}, share),
        SourceMixer({k: pair[1] for k, pair in loaders.items()}, trainer.sources.probabilities(val_keys, "cases")),
    )
