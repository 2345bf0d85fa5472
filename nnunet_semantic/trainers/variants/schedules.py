"""Budgets, derived here for each trainer a user trains as it is (nnU-Net's `nnUNetTrainer_5epochs` idea): one table
of (epochs, training iterations per epoch, validation iterations per epoch) and what else a schedule changes."""

from __future__ import annotations

from nnunet_semantic.trainers.semantic_trainer import SemanticTrainer
from nnunet_semantic.trainers.variants.baselines import TextConcatTrainer

SCHEDULES = {
    # proves the pipeline runs, nothing more
    "smoke": ((1, 10, 2), {"validation_mirroring": False}),
    # a few minutes on 2 CPU cores for the phantom, enough to learn its prompts; no mirroring (4x the prediction
    # time on 2 cores, the demo predicts without it too), held-out wordings scored on the demo's test cases instead
    "demo": ((15, 25, 5), {"validation_mirroring": False, "validation_heldout": False}),
    **{f"{n}epochs": ((n, None, None), {}) for n in (5, 20, 50, 100)},
}


def _with_schedule(base: type, name: str) -> type:
    schedule, attributes = SCHEDULES[name]
    cls_name = f"{base.__name__}_{name}"
    return type(
        cls_name,
        (base,),
        {
            "schedule": schedule,
            **attributes,
            "__module__": __name__,
            "__qualname__": cls_name,
            "__doc__": f"{base.__name__} for {schedule[0]} epoch(s) ({name}).",
        },
    )


TRAINERS = {
    cls.__name__: cls
    for cls in (_with_schedule(base, name) for base in (SemanticTrainer, TextConcatTrainer) for name in SCHEDULES)
}
globals().update(TRAINERS)  # importable by name, as nnU-Net finds trainers (and pickle finds classes)
__all__ = ["SCHEDULES", *TRAINERS]
