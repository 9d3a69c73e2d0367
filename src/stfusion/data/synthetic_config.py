"""`SyntheticConfig`: the validated options of the synthetic scene generator."""

from __future__ import annotations

import datetime as _dt
import math
import operator
from dataclasses import dataclass
from typing import Any

from stfusion.core.errors import DateError, InvalidParameterError, RatioError, ShapeMismatchError

from .synthetic_spectra import LIBRARY

DEFAULT_DATES: tuple[_dt.date, ...] = (
    _dt.date(2024, 4, 20),
    _dt.date(2024, 6, 1),
    _dt.date(2024, 7, 5),
    _dt.date(2024, 8, 10),
    _dt.date(2024, 9, 25),
)
MIN_CLASSES = 3  # water, forest and one crop (the harvest needs a crop class)


def _as_int(value: Any, what: str, error: type[Exception]) -> int:
    """``value`` as an int (integral floats accepted), else ``error``."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            if isinstance(value, float) and value.is_integer():
                return int(value)
    raise error(f"{what} must be an integer, got {value!r}; give a whole number")


def _finite(value: Any, what: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{what} must be a number, got {value!r}; give a real number") from None
    if not math.isfinite(out):
        raise InvalidParameterError(f"{what} must be finite, got {value!r}; give a real number")
    return out


def _pair(value: Any, what: str) -> tuple[float, float]:
    try:
        a, b = value
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{what} must be a pair of numbers, got {value!r}; give two numbers, e.g. (0.0, 1.0)"
        ) from None
    return (_finite(a, what), _finite(b, what))


def _date(value: Any, what: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if not isinstance(value, _dt.date):
        raise DateError(f"{what} must be a datetime.date, got {value!r}; give e.g. datetime.date(2024, 6, 1)")
    return value


@dataclass(frozen=True)
class SyntheticConfig:
    """Options of `make_series`.

    ``size`` (rows, cols) of the fine grid (30 m pixels), divisible by the integer coarse/fine
    ``ratio``; ``n_classes`` land-cover classes (3-8, see `CLASS_NAMES`); ``dates`` increasing
    acquisition dates; ``flood_date``/``harvest_date`` when the flood patch turns to water and
    the harvested field to bare soil (None: no such change); ``psf_sigma`` the Gaussian PSF in
    fine pixels (None: 0.5 * ratio; 0: none); ``noise`` the standard deviation of the coarse
    noise (reflectance); ``misregistration`` the (rows, cols) shift of the coarse image's content
    in fine pixels (positive: down, right); ``cloud_fraction`` of each fine image masked as
    cloud, in [0, 1); ``gain_range``/``bias_range`` bound the per-band coarse sensor gain and
    bias (set (1, 1) and (0, 0) to switch them off); ``texture`` the relative within-class
    texture; ``seed`` (>= 0).
    """

    size: tuple[int, int] = (240, 240)
    ratio: int = 16
    n_classes: int = 5
    dates: tuple[_dt.date, ...] = DEFAULT_DATES
    flood_date: _dt.date | None = _dt.date(2024, 7, 20)
    harvest_date: _dt.date | None = _dt.date(2024, 8, 1)
    psf_sigma: float | None = None
    noise: float = 0.005
    misregistration: tuple[float, float] = (0.0, 0.0)
    cloud_fraction: float = 0.0
    gain_range: tuple[float, float] = (0.95, 1.05)
    bias_range: tuple[float, float] = (-0.01, 0.01)
    texture: float = 0.03
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = self._set
        set_("size", self._check_size())
        set_("ratio", self._check_ratio())
        n = _as_int(self.n_classes, "n_classes", InvalidParameterError)
        if not MIN_CLASSES <= n <= len(LIBRARY):
            raise InvalidParameterError(
                f"n_classes must be between {MIN_CLASSES} and {len(LIBRARY)}, got {n}; pick a value in that range"
            )
        set_("n_classes", n)
        set_("dates", self._check_dates())
        for name in ("flood_date", "harvest_date"):
            value = getattr(self, name)
            set_(name, None if value is None else _date(value, name))
        if self.psf_sigma is not None:
            sigma = _finite(self.psf_sigma, "psf_sigma")
            if sigma < 0:
                raise InvalidParameterError(f"psf_sigma must be >= 0 fine pixels, got {sigma:g}; use 0 for no blur")
            set_("psf_sigma", sigma)
        for name in ("noise", "texture"):
            value = _finite(getattr(self, name), name)
            if value < 0:
                raise InvalidParameterError(f"{name} must be >= 0, got {value:g}; use 0 to switch it off")
            set_(name, value)
        set_("misregistration", _pair(self.misregistration, "misregistration"))
        cloud = _finite(self.cloud_fraction, "cloud_fraction")
        if not 0 <= cloud < 1:
            raise InvalidParameterError(f"cloud_fraction must be in [0, 1), got {cloud:g}; e.g. 0.2 for 20 % cloud")
        set_("cloud_fraction", cloud)
        gain = _pair(self.gain_range, "gain_range")
        if not 0 < gain[0] <= gain[1]:
            raise InvalidParameterError(
                f"gain_range must be (low, high) with 0 < low <= high, got {gain}; "
                "e.g. (0.95, 1.05), or (1, 1) for none"
            )
        bias = _pair(self.bias_range, "bias_range")
        if not bias[0] <= bias[1]:
            raise InvalidParameterError(
                f"bias_range must be (low, high) with low <= high, got {bias}; e.g. (-0.01, 0.01), or (0, 0) for none"
            )
        set_("gain_range", gain)
        set_("bias_range", bias)
        seed = _as_int(self.seed, "seed", InvalidParameterError)
        if seed < 0:
            raise InvalidParameterError(f"seed must be >= 0, got {seed}; give a non-negative integer")
        set_("seed", seed)

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def _check_size(self) -> tuple[int, int]:
        try:
            rows, cols = self.size
        except (TypeError, ValueError):
            raise ShapeMismatchError(f"size must be (rows, cols), got {self.size!r}; e.g. size=(240, 240)") from None
        rows = _as_int(rows, "size", ShapeMismatchError)
        cols = _as_int(cols, "size", ShapeMismatchError)
        if rows < 1 or cols < 1:
            raise ShapeMismatchError(f"size must be positive, got {(rows, cols)}; e.g. size=(240, 240)")
        return (rows, cols)

    def _check_ratio(self) -> int:
        ratio = _as_int(self.ratio, "ratio", RatioError)
        if ratio < 1:
            raise RatioError(f"ratio must be an integer >= 1, got {ratio}; e.g. ratio=16 for 480 m on 30 m")
        rows, cols = self.size
        if rows % ratio or cols % ratio:
            raise ShapeMismatchError(
                f"size {(rows, cols)} is not divisible by ratio {ratio}; "
                f"use e.g. size={(rows // ratio * ratio or ratio, cols // ratio * ratio or ratio)}"
            )
        return ratio

    def _check_dates(self) -> tuple[_dt.date, ...]:
        try:
            dates = tuple(_date(d, "each date") for d in self.dates)
        except TypeError:
            raise DateError(f"dates must be a sequence of datetime.date, got {self.dates!r}") from None
        if not dates:
            raise DateError("dates is empty; give at least one datetime.date")
        if any(b <= a for a, b in zip(dates, dates[1:])):
            raise DateError("dates must be strictly increasing; sort them and drop duplicates")
        return dates

    @property
    def blur_sigma(self) -> float:
        """The PSF standard deviation in fine pixels actually used."""
        return 0.5 * self.ratio if self.psf_sigma is None else float(self.psf_sigma)

    @property
    def coarse_shape(self) -> tuple[int, int]:
        return (self.size[0] // self.ratio, self.size[1] // self.ratio)
