"""Hyperspectral cubes stored as MATLAB ``.mat`` (v5, or v7.3/HDF5 with ``pip install 'stfusion[mat73]'``)
or NumPy ``.npy`` arrays."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from stfusion.core.errors import FileFormatError, ShapeMismatchError, require
from stfusion.core.scene import RasterEncoding, Scene

_ROW_NAMES = {"nrow", "nrows", "rows", "nlines", "lines", "height"}
_COL_NAMES = {"ncol", "ncols", "cols", "nsamples", "samples", "width"}
_BAND_NAMES = {"nband", "nbands", "bands"}
_MAX_NAMES = {"maxvalue", "max_value", "maxval"}
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _is_hdf5(path: Path) -> bool:
    """Whether ``path`` is an HDF5 file (a MATLAB v7.3 .mat file): the HDF5 signature at byte 0, 512,
    1024, 2048, ... (MATLAB puts it after a 512-byte header). Needs no h5py; False if unreadable
    (the reader then reports it)."""
    try:
        with path.open("rb") as f:
            offset = 0
            while True:
                f.seek(offset)
                head = f.read(len(_HDF5_SIGNATURE))
                if len(head) < len(_HDF5_SIGNATURE):
                    return False
                if head == _HDF5_SIGNATURE:
                    return True
                offset = 512 if offset == 0 else 2 * offset
    except OSError:
        return False


def _load_mat(path: Path, h5py: Any) -> dict[str, np.ndarray]:
    """Numeric variables of a .mat file, with MATLAB's shapes and index order; ``h5py`` reads v7.3
    (HDF5) files and is None for v5 files."""
    if h5py is not None:
        with h5py.File(path, "r") as f:
            # HDF5 stores MATLAB's column-major arrays with the axes reversed.
            return {
                k: np.asarray(v[()]).T
                for k, v in f.items()
                if isinstance(v, h5py.Dataset) and v.dtype.kind in "iuf"
            }
    import scipy.io

    content = scipy.io.loadmat(path)
    return {k: v for k, v in content.items() if isinstance(v, np.ndarray) and v.dtype.kind in "iuf"}


def _load(path: Path) -> tuple[dict[str, np.ndarray], str]:
    """The numeric variables and the pixel order ("F" for MATLAB, "C" for NumPy)."""
    suffix = path.suffix.lower()
    if suffix not in (".mat", ".npy"):
        raise FileFormatError(
            f"unsupported cube format '{path.suffix}' for {path}; give a .mat or .npy file, or use read_scene for rasters"
        )
    h5py = require("h5py", "mat73") if suffix == ".mat" and _is_hdf5(path) else None
    try:
        if suffix == ".npy":
            return {"array": np.load(path, allow_pickle=False)}, "C"
        return _load_mat(path, h5py), "F"
    except Exception as exc:  # parsers of damaged files fail with many exception types
        reason = " ".join(str(exc).split())
        raise FileFormatError(
            f"cannot read cube {path}: it is truncated or unreadable ({reason}); check or re-create the file"
        ) from exc


def _scalar(variables: dict[str, np.ndarray], names: set[str]) -> float | None:
    for key, value in variables.items():
        if key.lower() in names and value.size == 1:
            return float(value.ravel()[0])
    return None


def _count(variables: dict[str, np.ndarray], names: set[str]) -> int | None:
    value = _scalar(variables, names)
    return None if value is None else int(value)


def _pick_key(variables: dict[str, np.ndarray], key: str | None, path: Path) -> str:
    if key is not None:
        if key not in variables:
            raise FileFormatError(
                f"{path} has no numeric variable '{key}'; use one of: {', '.join(variables) or '(none)'}"
            )
        return key
    cubes = [k for k, v in variables.items() if v.ndim in (2, 3) and v.size > 1]
    if not cubes:
        raise FileFormatError(
            f"{path} holds no 2-D or 3-D numeric array; variables: {', '.join(variables) or '(none)'}"
        )
    return max(cubes, key=lambda k: variables[k].size)


def _side(n: int) -> int | None:
    s = math.isqrt(n)
    return s if s * s == n else None


def _from_matrix(
    arr: np.ndarray, shape: tuple[int, int] | None, rows: int | None, cols: int | None, order: str
) -> np.ndarray:
    """(bands, pixels) or (pixels, bands) -> (bands, rows, cols)."""
    if shape is None and rows and cols:
        shape = (rows, cols)
    if shape is not None:
        n = shape[0] * shape[1]
        if n not in arr.shape:
            raise ShapeMismatchError(
                f"cube matrix {arr.shape} has no axis of {shape[0]}x{shape[1]} = {n} pixels; check shape=(rows, cols)"
            )
    else:
        sides = [s for s in map(_side, arr.shape) if s]
        if not sides:
            raise ShapeMismatchError(
                f"cannot tell the image size of the cube matrix {arr.shape}; pass shape=(rows, cols)"
            )
        shape = (max(sides), max(sides))
    pixel_axis = 1 if arr.shape[1] == shape[0] * shape[1] else 0
    matrix = arr if pixel_axis == 1 else arr.T
    return matrix.reshape((matrix.shape[0], *shape), order=order)


def _from_cube(arr: np.ndarray, band_axis: int | None, nbands: int | None) -> np.ndarray:
    """(…3 axes…) -> (bands, rows, cols): ``band_axis``, else the axis of ``nbands`` bands, else the odd one out, else the last."""
    if band_axis is not None and not -3 <= band_axis <= 2:
        raise ShapeMismatchError(f"band_axis {band_axis} does not exist in a 3-D cube; give 0, 1 or 2")
    if band_axis is None:
        if nbands is not None and arr.shape.count(nbands) == 1:
            band_axis = arr.shape.index(nbands)
        elif arr.shape[0] == arr.shape[1] != arr.shape[2]:
            band_axis = 2
        elif arr.shape[1] == arr.shape[2] != arr.shape[0]:
            band_axis = 0
        else:
            band_axis = 2
    return np.moveaxis(arr, band_axis, 0)


def read_cube(
    path: str | os.PathLike[str],
    *,
    key: str | None = None,
    shape: tuple[int, int] | None = None,
    scale: float | None = None,
    wavelengths: Sequence[float] | None = None,
    name: str | None = None,
    band_axis: int | None = None,
) -> Scene:
    """Read a hyperspectral cube into a `Scene` (bands, rows, cols) float32.

    ``key`` is the variable to read (default: the largest 2-D/3-D numeric array). A 2-D
    (bands, pixels) matrix is reshaped to ``shape`` = (rows, cols), else to the size given by
    ``nRow``/``nCol``-style variables in the file, else to a square; MATLAB files are reshaped in
    column-major order. A 3-D array keeps the band axis ``band_axis``, else the axis matching an
    ``nBand`` variable, else the one differing from two equal image sides, else the last.
    ``scale`` defaults to 1/``maxValue`` when the file has one, 1e-4 for integers, 1 for floats.
    Band names are ``wavelengths`` when given. Pixels with a NaN are invalid.
    """
    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"cube file not found: {p}; check the path")
    variables, order = _load(p)
    k = _pick_key(variables, key, p)
    arr = variables[k]
    if arr.ndim == 2:
        cube = _from_matrix(
            arr, shape, _count(variables, _ROW_NAMES), _count(variables, _COL_NAMES), order
        )
    elif arr.ndim == 3:
        cube = _from_cube(arr, band_axis, _count(variables, _BAND_NAMES))
    else:
        raise ShapeMismatchError(f"variable '{k}' of {p} has shape {arr.shape}; expected a 2-D or 3-D array")
    if scale is None:
        max_value = _scalar(variables, _MAX_NAMES)
        if max_value:
            scale = 1.0 / max_value
        else:
            scale = 1e-4 if cube.dtype.kind in "iu" else 1.0
    data = (cube.astype(np.float64) * scale).astype(np.float32)
    stored = str(cube.dtype) if cube.dtype.kind in "iu" else "float32"
    return Scene(
        data=data,
        mask=~np.isnan(data).any(axis=0),
        encoding=RasterEncoding(stored, float(scale), 0.0, None),
        bands=None if wavelengths is None else tuple(f"{w:g}" for w in wavelengths),
        name=name if name is not None else p.name,
    )


CUBE_SUFFIXES = (".mat", ".npy")


def read_image(path: str | os.PathLike[str], *, wavelengths: Sequence[float] | None = None, **kw: Any) -> Scene:
    """An HS or MS image from a ``.mat``/``.npy`` cube (`read_cube`) or a raster (`read_scene`, e.g. GeoTIFF).

    ``wavelengths`` (nm) name the bands; raster band descriptions that are numbers are kept as
    wavelengths. Other keywords go to the reader.
    """
    from .read import read_scene

    p = Path(path)
    if p.suffix.lower() in CUBE_SUFFIXES:
        return read_cube(p, wavelengths=wavelengths, **kw)
    return name_wavelengths(read_scene(p, **kw), wavelengths, p)


def name_wavelengths(scene: Scene, wavelengths: Sequence[float] | None, path: str | os.PathLike[str]) -> Scene:
    """``scene`` with its bands named by ``wavelengths`` (nm; one per band), or as it is without them."""
    if wavelengths is None:
        return scene
    if len(wavelengths) != scene.count:
        raise ShapeMismatchError(f"{len(wavelengths)} wavelengths given for the {scene.count} bands of {path}; "
                                 "give one per band")
    return scene.replace(bands=tuple(f"{w:g}" for w in wavelengths))
