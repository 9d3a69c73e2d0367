"""d-pixels: the per-pixel observation time series of the temporal-embedding model (TESSERA).

A `SensorSeries` holds one sensor's observations of N pixels at T times: ``values`` (N, T, C)
in physical units, ``valid`` (N, T) (clear, not no-data) and ``doy`` (T,) or (N, T), the day of
year (or, for series longer than a year, days since 1 January of the first year). `DPixels` is a
set of sensors over the same pixels, with the grid they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from .errors import ShapeMismatchError
from .scene import IDENTITY, Transform


@dataclass(frozen=True, eq=False)
class SensorSeries:
    """One sensor's d-pixel series; see the module docstring."""

    values: np.ndarray
    valid: np.ndarray
    doy: np.ndarray
    bands: tuple[str, ...]

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=np.float32)
        if v.ndim != 3 or v.shape[2] != len(self.bands):
            raise ShapeMismatchError(f"values have shape {v.shape}; expected (pixels, times, {len(self.bands)} bands)")
        valid = np.asarray(self.valid, dtype=bool) & np.isfinite(v).all(axis=2)
        if valid.shape != v.shape[:2]:
            raise ShapeMismatchError(f"valid has shape {np.shape(self.valid)}; expected {v.shape[:2]}")
        doy = np.asarray(self.doy, dtype=np.int64)
        if doy.shape not in (v.shape[1:2], v.shape[:2]):
            raise ShapeMismatchError(f"doy has shape {doy.shape}; expected ({v.shape[1]},) or {v.shape[:2]}")
        object.__setattr__(self, "values", np.where(valid[..., None], v, 0.0).astype(np.float32))
        object.__setattr__(self, "valid", valid)
        object.__setattr__(self, "doy", doy)

    @property
    def pixels(self) -> int:
        return self.values.shape[0]

    def doy_of(self, idx: np.ndarray) -> np.ndarray:
        """(pixels, T) days of year."""
        return np.broadcast_to(self.doy, self.values.shape[:2])[idx]

    def subset(self, idx: np.ndarray) -> "SensorSeries":
        doy = self.doy if self.doy.ndim == 1 else self.doy[idx]
        return SensorSeries(self.values[idx], self.valid[idx], doy, self.bands)


@dataclass(frozen=True, eq=False)
class DPixels:
    """d-pixels of several sensors over the same N pixels; ``shape`` (rows, cols) when they form a grid."""

    sensors: Mapping[str, SensorSeries]
    shape: tuple[int, int] | None = None
    transform: Transform = IDENTITY
    crs: str | None = None
    name: str = ""
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        counts = {s: x.pixels for s, x in self.sensors.items()}
        if not counts or len(set(counts.values())) != 1:
            raise ShapeMismatchError(f"d-pixels need at least one sensor, all with the same pixels; got {counts}")
        if self.shape is not None and self.shape[0] * self.shape[1] != next(iter(counts.values())):
            raise ShapeMismatchError(f"grid {self.shape} does not hold {next(iter(counts.values()))} pixels")

    @property
    def pixels(self) -> int:
        return next(iter(self.sensors.values())).pixels

    @property
    def any_valid(self) -> np.ndarray:
        """(N,) pixels with at least one valid observation of every sensor."""
        return np.logical_and.reduce([s.valid.any(axis=1) for s in self.sensors.values()])

    def subset(self, idx: np.ndarray) -> "DPixels":
        """The pixels ``idx`` (no grid); ``extra`` arrays with one row per pixel are subset too, others kept."""
        n = self.pixels
        extra = {k: (v[idx] if np.ndim(v) and np.shape(v)[0] == n else v) for k, v in self.extra.items()}
        return DPixels({k: s.subset(idx) for k, s in self.sensors.items()}, None, self.transform, self.crs, self.name,
                       extra)
