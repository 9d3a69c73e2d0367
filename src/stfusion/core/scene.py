"""The `Scene`: one image with its valid mask, grid, date and band names.

Reflectance is a float32 in physical units (0-1). Readers record how the file stored it in
`encoding`, so writers can store the result the same way (same dtype, scale and nodata).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .errors import DTypeError, InvalidValueError, NoDataError, ShapeMismatchError

Transform = tuple[float, float, float, float, float, float]
"""Affine transform (a, b, c, d, e, f): x = a*col + b*row + c, y = d*col + e*row + f (rasterio order)."""

IDENTITY: Transform = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@dataclass(frozen=True)
class RasterEncoding:
    """How a file stores the data: ``physical = stored * scale + offset``; ``nodata`` marks invalid pixels."""

    dtype: str = "float32"
    scale: float = 1.0
    offset: float = 0.0
    nodata: float | None = None


def _is_dask(a: Any) -> bool:
    return type(a).__module__.startswith("dask")


def check_finite(data: np.ndarray, mask: np.ndarray, label: str, where: str = "") -> None:
    """`InvalidValueError` if a valid pixel of ``data`` (bands, rows, cols) is NaN or inf.

    ``where`` (e.g. ``" in rows 0-512, cols 0-512"``) says which part of the scene ``data`` is.
    """
    bad = ~np.isfinite(data).all(axis=0) & mask
    if bad.any():
        raise InvalidValueError(
            f"scene {label} has {int(bad.sum())} valid pixel(s) with NaN or inf{where}; set a nodata value "
            "or mask those pixels (mask=False)"
        )


@dataclass(frozen=True, eq=False)
class Scene:
    """An image: ``data`` (bands, rows, cols) float32 and ``mask`` (rows, cols) bool, True = valid.

    ``transform`` is the affine 6-tuple of the pixel grid (identity when the file has none),
    ``crs`` a CRS string or None, ``bands`` common band names or wavelengths,
    ``resolution`` the pixel size in metres (None when unknown).
    Invalid pixels may hold anything (NaN included); valid pixels must be finite.
    """

    data: Any
    mask: Any = None
    transform: Transform = IDENTITY
    crs: str | None = None
    date: _dt.date | None = None
    bands: tuple[str, ...] | None = None
    resolution: float | None = None
    encoding: RasterEncoding = field(default_factory=RasterEncoding)
    name: str = ""

    def __post_init__(self) -> None:
        data = self.data
        if not _is_dask(data):
            data = np.asarray(data)
        if data.dtype.kind not in "fiub" or data.dtype.kind == "b":
            raise DTypeError(
                f"scene {self.label} has dtype {data.dtype}; give float reflectance (bands, rows, cols)"
            )
        if data.dtype.kind in "iu":
            raise DTypeError(
                f"scene {self.label} holds integers ({data.dtype}); convert to float reflectance "
                "(e.g. data / 10000) or read the file with stfusion.io.read_scene"
            )
        if data.ndim == 2:
            data = data[None]
        if data.ndim != 3:
            raise ShapeMismatchError(
                f"scene {self.label} data has {data.ndim} dimensions; expected (bands, rows, cols)"
            )
        if data.dtype != np.float32:
            data = data.astype(np.float32)
        rows, cols = data.shape[1:]
        if self.mask is None:
            mask = np.ones((rows, cols), dtype=bool)
        else:
            mask = self.mask if _is_dask(self.mask) else np.asarray(self.mask)
            if mask.ndim != 2 or mask.shape != (rows, cols):
                raise ShapeMismatchError(
                    f"scene {self.label} mask has shape {mask.shape}; expected (rows, cols) = {(rows, cols)}"
                )
            if mask.dtype != bool:
                mask = mask.astype(bool)
        if not _is_dask(data) and not _is_dask(mask):
            if not mask.any():
                raise NoDataError(
                    f"scene {self.label} has no valid pixel (all nodata or masked); check its nodata value and mask"
                )
            check_finite(data, mask, self.label)
        if len(self.transform) != 6:
            raise ShapeMismatchError(f"scene {self.label} transform must be an affine 6-tuple (a, b, c, d, e, f)")
        transform = tuple(float(v) for v in self.transform)
        resolution = self.resolution
        if resolution is None and transform != IDENTITY:
            resolution = abs(transform[0])
        bands = None if self.bands is None else tuple(str(b) for b in self.bands)
        if bands is not None and len(bands) != data.shape[0]:
            raise ShapeMismatchError(
                f"scene {self.label} has {data.shape[0]} bands but {len(bands)} band names"
            )
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "transform", transform)
        object.__setattr__(self, "resolution", None if resolution is None else float(resolution))
        object.__setattr__(self, "bands", bands)

    @property
    def label(self) -> str:
        """A short name for messages: the file name, or the date."""
        if self.name:
            return f"'{self.name}'"
        if self.date is not None:
            return f"dated {self.date.isoformat()}"
        return "(unnamed)"

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.data.shape)  # type: ignore[return-value]

    @property
    def count(self) -> int:
        return int(self.data.shape[0])

    @property
    def height(self) -> int:
        return int(self.data.shape[1])

    @property
    def width(self) -> int:
        return int(self.data.shape[2])

    @property
    def georeferenced(self) -> bool:
        return self.transform != IDENTITY or self.crs is not None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of a north-up grid."""
        a, _, c, _, e, f = self.transform
        x0, x1 = c, c + a * self.width
        y0, y1 = f, f + e * self.height
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def replace(self, **changes: Any) -> "Scene":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def masked(self, fill: float = np.nan) -> np.ndarray:
        """The data as a NumPy array with invalid pixels set to ``fill``."""
        data = np.array(self.data, dtype=np.float32, copy=True)
        data[:, ~np.asarray(self.mask)] = fill
        return data

    def select_bands(self, index: Sequence[int]) -> "Scene":
        """A scene with the bands ``index`` in that order."""
        idx = list(index)
        bands = None if self.bands is None else tuple(self.bands[i] for i in idx)
        return self.replace(data=self.data[idx], bands=bands)
