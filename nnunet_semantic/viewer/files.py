"""napari's reader and writer for this plugin: a NIfTI (or other SimpleITK) file or nnU-Net raw case opens as one
image layer per channel, in nnU-Net's axis order with its spacing as the layer's scale and nnU-Net's reader
properties in the layer's metadata, so a prompt's mask is predicted, and saved, in the image's own geometry."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from nnunet_semantic.errors import SemanticError

ENDINGS = (".nii.gz", ".nii", ".nrrd", ".mha", ".mhd")
PROPERTIES = "nnunet_properties"  # the layer metadata key holding nnU-Net's reader properties
_CHANNEL = re.compile(r"^(?P<case>.+)_(?P<channel>\d{4})$")


def _ending(path: Path) -> str:
    return next((e for e in ENDINGS if path.name.endswith(e)), "")


def case_files(path: Path) -> list[Path]:
    """A file of an nnU-Net raw case (`<case>_0000.nii.gz`) -> every channel file of that case, in order; any other
    image file -> itself."""
    ending = _ending(path)
    match = _CHANNEL.match(path.name[: -len(ending)])
    if not match:
        return [path]
    channels = sorted(path.parent.glob(f"{match['case']}_[0-9][0-9][0-9][0-9]{ending}"))
    return [p for p in channels if _CHANNEL.match(p.name[: -len(ending)])["case"] == match["case"]]


def read_case(path: str | Path) -> list[tuple]:
    """A case -> napari layer data: one image layer per channel, named by its file."""
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    files = case_files(Path(path))
    try:
        image, properties = SimpleITKIO().read_images([str(f) for f in files])
    except Exception as e:  # SimpleITK's own message says what is wrong with the file
        raise SemanticError(f"{path}: not readable as an image ({str(e).strip().splitlines()[-1]})") from None
    return [
        (
            channel,
            {
                "name": f.name[: -len(_ending(f))],
                "scale": list(properties["spacing"]),
                "metadata": {PROPERTIES: properties, "source": str(f)},
            },
            "image",
        )
        for channel, f in zip(image, files)
    ]


def reader_for(path: str | list[str]):
    """npe2 reader: this plugin opens image files SimpleITK reads; a folder or anything else is left to others."""
    if isinstance(path, list):
        path = path[0]
    return read_case if _ending(Path(path)) else None


def geometry(metadata: dict, scale, shape) -> dict:
    """nnU-Net's reader properties of a layer: those it was read with, or, for a layer from elsewhere, its scale as
    spacing at the origin with no rotation."""
    properties = metadata.get(PROPERTIES)
    if properties is not None:
        return properties
    spacing = [float(s) for s in scale][-len(shape) :]
    if len(spacing) == 2:
        spacing = [999.0, *spacing]
    dims = 3 if len(shape) == 3 else 2
    return {
        "spacing": spacing,
        "sitk_stuff": {
            "spacing": tuple(reversed(spacing[-dims:])),
            "origin": (0.0,) * dims,
            "direction": tuple(np.eye(dims).ravel()),
        },
    }


def write_labels(path: str, data, meta: dict) -> list[str]:
    """npe2 writer: a Labels layer -> a NIfTI in the geometry of the image it was predicted on."""
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    mask = np.asarray(data)
    properties = geometry(meta.get("metadata") or {}, meta.get("scale") or [1.0] * mask.ndim, mask.shape)
    mask = mask[None] if mask.ndim == 2 else mask
    if not _ending(Path(path)):
        path = f"{path}.nii.gz"
    SimpleITKIO().write_seg(mask.astype(np.uint8), path, properties)
    return [path]
