"""A merged dataset's plan with each source's own: one network (the architecture of the source that plans the deepest
one) and, per source, its own spacing, normalisation, transposition, intensity statistics, patch and batch.

nnU-Net plans a merge as one dataset: the median case decides one spacing and one patch for all, which for the
hippocampus + CHAOS merge resampled CHAOS 1.25 -> 1 mm in-plane (1.56x pixels) and 7.7 -> 1 mm through-plane
(12x voxels) and left a patch 2% of a slice (`benchmarks/merged_plan.py`). MultiTalent keeps each dataset in its own
preprocessed folder and draws batches per dataset; here each source also keeps its own plan. A fully convolutional
network takes any patch its strides divide, so each source's patch is its own rounded up to the shared network's
strides (with at least MIN_BOTTLENECK voxels per pooled axis at the bottleneck), and its batch is as many of its
patches as fill the shared plan's batch (nnU-Net sizes a batch by the memory the network takes at its patch), at
most its own plan's. A small source's patch then grows (the hippocampus' 56 x 40 to
128 x 128 under CHAOS's seven stages): padding around images smaller than it, as MultiTalent's one patch pads.

In the plans: configuration `C` is the shared network's (a complete nnU-Net configuration, so nnU-Net's tools read
it), with `source_configurations`: source -> `C@source`, each a complete configuration of that source with
`plans_overrides` (the plan-level entries a source has on its own: transposition, intensity statistics). All write
into one data identifier, so nnU-Net's dataset sees every case.
"""

from __future__ import annotations

import copy
import math

import numpy as np
from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager, PlansManager

SOURCES_KEY = "source_configurations"
# voxels per pooled axis at the shared network's bottleneck, at least (instance normalisation needs more than one)
MIN_BOTTLENECK = 2
PLAN_LEVEL = (
    "transpose_forward",
    "transpose_backward",
    "foreground_intensity_properties_per_channel",
    "original_median_spacing_after_transp",
    "original_median_shape_after_transp",
)


def case_prefix(source: str) -> str:
    """The prefix `merge` gives a source's cases, `<prefix>_<case>`: the key without underscores, so that the first
    underscore of a merged case name ends the prefix and two sources' case names never meet ("A" + "B_000" /
    "A_B" + "000")."""
    return source.replace("_", "-")


def source_name(configuration: str, source: str) -> str:
    return f"{configuration}@{source}"


def _stages(configuration: dict) -> int:
    return int(configuration["architecture"]["arch_kwargs"]["n_stages"])


def network_strides(configuration: dict) -> list[int]:
    """Per axis, the product of the network's pooling strides: what a patch must be a multiple of."""
    strides = configuration["architecture"]["arch_kwargs"]["strides"]
    return [
        int(np.prod([s[axis] if isinstance(s, (list, tuple)) else s for s in strides]))
        for axis in range(len(configuration["patch_size"]))
    ]


def merged_plans(
    source_plans: dict[str, dict], configuration: str, dataset_name: str, plans_name: str
) -> tuple[dict, str]:
    """source -> its own nnU-Net plans (each holding `configuration`) -> (the merged plans, the source whose network
    is shared: the deepest, then the largest patch)."""
    own = {key: PlansManager(p).get_configuration(configuration).configuration for key, p in source_plans.items()}
    own = {key: {k: v for k, v in c.items() if k != "inherits_from"} for key, c in own.items()}  # resolved
    shared_key = max(own, key=lambda k: (_stages(own[k]), int(np.prod(own[k]["patch_size"]))))
    shared = copy.deepcopy(own[shared_key])
    data_identifier = shared["data_identifier"]  # as the sources name it: 2d_cpu shares 2d's data
    strides = network_strides(shared)
    plans = copy.deepcopy(source_plans[shared_key])
    plans.update(dataset_name=dataset_name, plans_name=plans_name)
    plans["configurations"] = {
        configuration: {**shared, "data_identifier": data_identifier, SOURCES_KEY: {}},
    }
    for key, c in own.items():
        patch = [
            int(max(math.ceil(p / s), MIN_BOTTLENECK if s > 1 else 1) * s) for p, s in zip(c["patch_size"], strides)
        ]
        fits = shared["batch_size"] * np.prod(shared["patch_size"]) / np.prod(patch)  # the shared plan's memory
        plans["configurations"][source_name(configuration, key)] = {
            **c,
            "data_identifier": data_identifier,
            "architecture": copy.deepcopy(shared["architecture"]),
            "patch_size": patch,
            "batch_size": max(min(c["batch_size"], 2), min(c["batch_size"], int(round(fits)))),
            "plans_overrides": {k: copy.deepcopy(source_plans[key][k]) for k in PLAN_LEVEL if k in source_plans[key]},
            "own_patch_size": list(c["patch_size"]),
        }
        plans["configurations"][configuration][SOURCES_KEY][key] = source_name(configuration, key)
    return plans, shared_key


def source_managers(
    plans_manager: PlansManager, configuration_manager: ConfigurationManager
) -> dict[str, tuple[PlansManager, ConfigurationManager]] | None:
    """Each source's (plans, configuration) managers of a per-source plan; None for one plan for all."""
    names = configuration_manager.configuration.get(SOURCES_KEY)
    if not names:
        return None
    managers = {}
    for key, name in names.items():
        cm = plans_manager.get_configuration(name)
        plans = {**plans_manager.plans, **cm.configuration.get("plans_overrides", {})}
        managers[key] = (PlansManager(plans), cm)
    return managers


def nearest_source(managers: dict[str, tuple[PlansManager, ConfigurationManager]], spacing) -> str:
    """The source whose median spacing (in the image's axis order) is nearest the image's, on a log scale: a new
    image is preprocessed with the plan of the data most like it."""

    def distance(key: str) -> float:
        pm, _ = managers[key]
        median = np.asarray(pm.original_median_spacing_after_transp)[np.argsort(pm.transpose_forward)]
        own = np.asarray(spacing, float)[-len(median) :]
        return float(np.abs(np.log(own / median)).sum())

    return min(managers, key=distance)
