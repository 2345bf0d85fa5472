"""A synthetic dataset generated in seconds: the embedded default for the demo and the tests.

An ellipsoid organ holds a lesion and a cyst that have the organ's mean intensity and differ from it
only by texture (a fine checkerboard, coarse stripes), so telling them apart needs high-frequency
information and excluding them needs the prompt. A bright nodule outside the organ is a second
structure. Cases are deterministic in (seed, index).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from nnunet_semantic.arguments import at_least
from nnunet_semantic.dataset_conversion.common import FILE_ENDING, Target, write_dataset
from nnunet_semantic.dataset_conversion.registry import CONVERTERS, Converter
from nnunet_semantic.prompts.generator import GenerationSettings
from nnunet_semantic.prompts.ontologies import ONTOLOGIES, get_ontology

SHAPE = (16, 64, 64)  # z, y, x
SPACING = (1.0, 1.0, 2.0)  # x, y, z in SimpleITK order


def _ball(shape, center, radii) -> np.ndarray:
    grid = np.ogrid[tuple(slice(0, s) for s in shape)]
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, center, radii)) <= 1.0


def phantom_case(seed: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """(image float32, segmentation uint8), both of shape SHAPE."""
    rng = np.random.default_rng([seed, index])
    z, y, x = SHAPE
    zz, yy, xx = np.indices(SHAPE)
    seg = np.zeros(SHAPE, np.uint8)
    center = np.array([z / 2, y / 2, x / 2]) + rng.uniform(-2, 2, 3) * (0.5, 2, 2)
    radii = np.array([rng.uniform(5.5, 7.5), rng.uniform(16, 22), rng.uniform(14, 20)])
    organ = _ball(SHAPE, center, radii)
    seg[organ] = 1
    image = np.where(organ, 1.0, 0.0)
    # smooth, low-frequency shading inside the organ: texture the sub-regions do not have
    image += organ * 0.15 * np.sin(yy / rng.uniform(5, 8) + rng.uniform(0, 6)) * np.cos(xx / rng.uniform(5, 8))

    placed = []
    for label, p_present, pattern in ((2, 0.85, (yy + xx) % 2 * 2 - 1.0), (3, 0.8, ((xx // 2) % 2) * 2 - 1.0)):
        if rng.random() > p_present:
            continue
        for _ in range(20):  # inside the organ, apart from the other sub-region
            r = rng.uniform(4.5, 7)
            offset = rng.uniform(-1, 1, 3) * (radii - [2.5, r + 2, r + 2]) * 0.7
            c = center + offset
            if all(np.linalg.norm((c - o)[1:]) > r + ro + 2 for o, ro in placed):
                break
        else:
            continue
        ball = _ball(SHAPE, c, (min(r / 2, radii[0] - 1), r, r)) & organ
        placed.append((c, r))
        seg[ball] = label
        image[ball] = 1.0 + 0.45 * pattern[ball]  # same mean as the organ, different texture

    if rng.random() < 0.9:
        r = rng.uniform(3, 5)
        side = rng.choice([-1, 1])
        cx = min(max(center[2] + side * (radii[2] + r + 3), r + 1), x - r - 2)
        c = (center[0], rng.uniform(r + 2, y - r - 2), cx)
        nodule = _ball(SHAPE, c, (2.5, r, r)) & ~organ
        seg[nodule] = 4
        image[nodule] = 2.0
    image += rng.normal(0, 0.08, SHAPE)
    return image.astype(np.float32), seg


@dataclass(frozen=True)
class PhantomCase:
    case_id: str
    split: str
    seed: int
    index: int
    labelled = True

    def materialize(self, t: Target) -> tuple[np.ndarray, None]:
        image, seg = phantom_case(self.seed, self.index)
        for arr, path in (
            (image, t.folder / f"images{self.split}" / f"{self.case_id}_0000{FILE_ENDING}"),
            (seg, t.folder / f"labels{self.split}" / f"{self.case_id}{FILE_ENDING}"),
        ):
            img = sitk.GetImageFromArray(arr)
            img.SetSpacing(SPACING)
            sitk.WriteImage(img, str(path), useCompression=True)
        return seg, None


def convert_phantom(
    dataset_id: int,
    cases: int = 40,
    test_cases: int = 10,
    seed: int = 0,
    overwrite: bool = False,
    num_processes: int = 1,
    settings: GenerationSettings = GenerationSettings(),
) -> Path:
    jobs = [PhantomCase(f"phantom_{i:03d}", "Tr", seed, i) for i in range(cases)]
    jobs += [PhantomCase(f"phantom_{i:03d}", "Ts", seed, i) for i in range(cases, cases + test_cases)]
    return write_dataset(
        jobs,
        dataset_id=dataset_id,
        name="SemanticPhantom",
        channel_names={0: "MRI"},
        labels=ONTOLOGIES["phantom"]["labels"],
        ontology=get_ontology("phantom"),
        overwrite=overwrite,
        num_processes=num_processes,
        settings=settings,
        extra={"description": f"synthetic texture phantom, seed {seed}"},
        source=f"phantom(seed={seed})",
    )


def _arguments(parser) -> None:
    parser.add_argument("--cases", type=at_least(1), default=40, help="training cases (default: 40)")
    parser.add_argument(
        "--test-cases", type=at_least(0), default=10, help="held-out cases with labels in imagesTs (default: 10)"
    )
    parser.add_argument("--phantom-seed", type=int, default=0, help="seed of the generated images")


CONVERTERS.register(
    "phantom",
    Converter(
        convert_phantom,
        "the synthetic texture phantom (no download)",
        _arguments,
        takes_input=False,
        options={"cases": "cases", "test_cases": "test_cases", "phantom_seed": "seed"},
    ),
)
