"""Checks that an image file is whole before it is read: SimpleITK fills a cut-off NIfTI with zeros and returns
without error, so a truncated download would convert, train and predict silently."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from nnunet_semantic.errors import InputError

NATURAL_IMAGE_ENDINGS = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg")  # photographs, microscopy: 2D


def _nifti_payload(path: Path, stream) -> int:
    """Bytes a NIfTI file holds when whole: its data offset plus the voxel data its header declares."""
    import nibabel as nib

    try:
        magic = stream.read(348)
        stream.seek(0)
        header = (
            nib.Nifti2Header
            if len(magic) >= 4 and struct.unpack("<i", magic[:4])[0] in (540, 540 << 24)
            else nib.Nifti1Header
        ).from_fileobj(stream)
        return int(header.get_data_offset()) + int(np.prod(header.get_data_shape())) * header.get_data_dtype().itemsize
    except EOFError:
        raise InputError(path, "truncated: the file ends within its NIfTI header") from None
    except nib.wrapstruct.WrapStructError:  # fewer bytes than a header: empty, or cut within it
        raise InputError(path, "truncated: the file ends within its NIfTI header (or is empty)") from None
    except (OSError, zlib.error, ValueError, nib.filebasedimages.ImageFileError) as e:
        raise InputError(path, f"not a readable NIfTI header ({e})") from None


def read_header(path: str | Path):
    """The file's SimpleITK header (size, dimension, components), after checking the file is whole."""
    import SimpleITK as sitk

    check_complete(path)
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as e:
        raise InputError(path, f"not a readable image ({str(e).strip().splitlines()[-1]})") from None
    return reader


def check_complete(path: str | Path) -> None:
    """Raise InputError naming the file if a NIfTI file is shorter than its header says (cheap: the header and,
    for .nii.gz, the gzip trailer's length field; no decompression of the data). Other formats pass."""
    path = Path(path)
    name = path.name.lower()
    if not path.is_file():
        raise InputError(path, "file not found")
    if name.endswith(".nii"):
        with open(path, "rb") as f:
            expected = _nifti_payload(path, f)
        if path.stat().st_size < expected:
            raise InputError(path, f"truncated: {path.stat().st_size} bytes, its header declares {expected}")
    elif name.endswith(".nii.gz"):
        with gzip.open(path, "rb") as f:
            expected = _nifti_payload(path, f)
        with open(path, "rb") as f:
            f.seek(-4, 2)
            stored = struct.unpack("<I", f.read(4))[0]  # uncompressed length mod 2**32 (RFC 1952)
        if stored != expected % 2**32 and _decompressed_length(path) < expected:  # several gzip members: read
            raise InputError(
                path,
                f"truncated or corrupt gzip stream (its header declares {expected} bytes); "
                "re-download or re-export the file",
            )


def _decompressed_length(path: Path) -> int:
    """Streamed, in constant memory; -1 when the stream ends early or is corrupt."""
    n = 0
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                n += len(chunk)
    except (EOFError, OSError, zlib.error):
        return -1
    return n


def check_intensities(path: str | Path) -> None:
    """NaN / Inf voxels are an error naming the file: SimpleITK's NIfTI reader turns them into 0, so neither
    nnU-Net's readers nor its own NaN check would see them, and the model would be given a wrong image in silence.
    An image of zeros alone is a warning. NIfTI is read raw (nibabel); other formats as SimpleITK reads them."""
    import warnings

    path = Path(path)
    check_complete(path)
    if path.name.endswith((".nii", ".nii.gz")):
        import nibabel

        try:
            arr = np.asanyarray(nibabel.load(str(path)).dataobj)
        except Exception as e:  # noqa: BLE001 - any reader failure is this file's fault; name it
            raise InputError(path, f"not a readable NIfTI image ({e})") from None
    else:
        import SimpleITK as sitk

        arr = sitk.GetArrayViewFromImage(sitk.ReadImage(str(path)))
    finite = np.isfinite(arr)
    if not finite.all():
        raise InputError(
            path,
            f"holds {int((~finite).sum())} NaN or infinite voxels (of {arr.size}); fix or mask "
            "them before converting or predicting",
        )
    if not arr.any():
        warnings.warn(f"{path}: every voxel is 0: there is nothing to segment", stacklevel=2)
