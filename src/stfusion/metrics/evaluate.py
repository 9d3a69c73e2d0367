"""Scene-level evaluation: every metric of a fused image against the reference, in one report."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import (
    BandMismatchError,
    InvalidValueError,
    NoDataError,
    ShapeMismatchError,
    UnknownParameterError,
)
from ..core.scene import Scene
from ..core.task import check_same_grid
from .apa import apa
from .hypercomplex import q2n
from .inputs import as_image, check_data_range
from .pixelwise import bias, cc, mae, psnr, rmse
from .spectral import check_ratio, ergas, rase, sam
from .structural import ssim, uiqi

PER_BAND = ("rmse", "mae", "bias", "cc", "psnr", "ssim", "uiqi", "edge", "lbp")
"""Metrics with one value per band; the report also holds their band mean."""
GLOBAL = ("sam", "rase", "ergas", "q2n")
"""Metrics with one value for the whole image (SAM in degrees)."""
WINDOWED = ("ssim", "uiqi", "q2n")
"""Metrics over fully valid windows; in a report they are NaN (with a warning) when no window is."""
METRICS: tuple[str, ...] = PER_BAND + GLOBAL
"""Every metric name `evaluate` knows; "edge" and "lbp" are APA's (APA's AD and RMSE are "bias" and "rmse")."""


def _json_number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class EvaluationReport:
    """The metrics of one fused image.

    ``per_band`` maps a per-band metric to its (bands,) array; ``values`` maps every metric to one
    number: the band mean for per-band metrics, the image value for SAM (degrees), RASE, ERGAS and Q2n.
    """

    per_band: dict[str, np.ndarray]
    values: dict[str, float]
    bands: tuple[str, ...]
    ratio: float
    data_range: float
    n_valid: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; NaN and ±inf (PSNR of identical images) become None."""
        return {
            "bands": list(self.bands),
            "ratio": self.ratio,
            "data_range": self.data_range,
            "n_valid": self.n_valid,
            "per_band": {k: [_json_number(v) for v in arr] for k, arr in self.per_band.items()},
            "values": {k: _json_number(v) for k, v in self.values.items()},
        }

    def table(self) -> str:
        """A text table: a header line with the ratio h/l, one row per band, a "mean" row, then the global metrics."""
        lines = [
            f"ratio h/l = {self.ratio:g} (ERGAS) | data range L = {self.data_range:g} (PSNR, SSIM) "
            f"| valid pixels = {self.n_valid}"
        ]
        names = list(self.per_band)
        if names:
            width = max(6, *(len(b) for b in self.bands))
            lines.append(f"{'band':<{width}}" + "".join(f"{n:>12}" for n in names))
            for i, band in enumerate(self.bands):
                lines.append(f"{band:<{width}}" + "".join(f"{self.per_band[n][i]:>12.6f}" for n in names))
            lines.append(f"{'mean':<{width}}" + "".join(f"{self.values[n]:>12.6f}" for n in names))
        labels = {"sam": "SAM (deg)", "rase": "RASE", "ergas": f"ERGAS (h/l={self.ratio:g})", "q2n": "Q2n"}
        globals_ = [f"{labels[n]} = {self.values[n]:.6f}" for n in GLOBAL if n in self.values]
        if globals_:
            lines.append("   ".join(globals_))
        return "\n".join(lines)


def _unpack(image: Scene | np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    if isinstance(image, Scene):
        return np.asarray(image.data), np.asarray(image.mask)
    return as_image(image, name), None


def _check_pair(truth: Scene | np.ndarray, pred: Scene | np.ndarray, t: np.ndarray, p: np.ndarray) -> None:
    if isinstance(truth, Scene) and isinstance(pred, Scene):
        check_same_grid(truth, pred, what="evaluate")
    if t.shape[0] != p.shape[0]:
        raise BandMismatchError(
            f"truth has {t.shape[0]} bands but pred has {p.shape[0]}; give images with the same bands in the same order"
        )
    if t.shape[1:] != p.shape[1:]:
        raise ShapeMismatchError(
            f"truth is {t.shape[1]}x{t.shape[2]} pixels but pred is {p.shape[1]}x{p.shape[2]}; "
            "crop or resample them to the same grid"
        )


def evaluate(
    truth: Scene | np.ndarray,
    pred: Scene | np.ndarray,
    *,
    ratio: float,
    data_range: float = 1.0,
    mask: Any = None,
    metrics: Sequence[str] | None = None,
) -> EvaluationReport:
    """Compute ``metrics`` (default: all of `METRICS`) of ``pred`` against ``truth`` over valid pixels.

    ``ratio`` is ERGAS's h/l = fine / coarse pixel size (<= 1), ``data_range`` the peak L of
    PSNR and SSIM. Valid pixels: ``mask`` (True = valid) and, for Scenes, both scenes' masks.
    Valid pixels must be finite.
    """
    names = list(METRICS if metrics is None else metrics)
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise UnknownParameterError(f"unknown metric(s) {', '.join(map(repr, unknown))}; choose from {', '.join(METRICS)}")
    ratio = check_ratio(ratio)
    data_range = check_data_range(data_range)
    t, mt = _unpack(truth, "truth")
    p, mp = _unpack(pred, "pred")
    _check_pair(truth, pred, t, p)
    valid = np.ones(t.shape[1:], dtype=bool)
    for m in (mt, mp, mask):
        if m is not None:
            m = np.asarray(m)
            if m.shape != valid.shape:
                raise ShapeMismatchError(f"mask has shape {m.shape}; give a (rows, cols) = {valid.shape} boolean array")
            valid &= m.astype(bool)
    if not valid.any():
        raise NoDataError("no valid pixel: the masks of truth, pred and mask exclude every pixel; check the masks")
    bad = valid & ~(np.isfinite(t).all(axis=0) & np.isfinite(p).all(axis=0))
    if bad.any():
        raise InvalidValueError(
            f"{int(bad.sum())} valid pixel(s) hold NaN or inf in truth or pred; mask them (mask=False) or set a nodata value"
        )
    apa_once = functools.cache(lambda: apa(t, p, mask=valid))
    compute: dict[str, Callable[[], Any]] = {
        "rmse": lambda: rmse(t, p, mask=valid),
        "mae": lambda: mae(t, p, mask=valid),
        "bias": lambda: bias(t, p, mask=valid),
        "cc": lambda: cc(t, p, mask=valid),
        "psnr": lambda: psnr(t, p, mask=valid, data_range=data_range),
        "ssim": lambda: ssim(t, p, mask=valid, data_range=data_range),
        "uiqi": lambda: uiqi(t, p, mask=valid),
        "edge": lambda: apa_once().edge,
        "lbp": lambda: apa_once().lbp,
        "sam": lambda: sam(t, p, mask=valid),
        "rase": lambda: rase(t, p, mask=valid),
        "ergas": lambda: ergas(t, p, mask=valid, ratio=ratio),
        "q2n": lambda: q2n(t, p, mask=valid),
    }
    per_band: dict[str, np.ndarray] = {}
    values: dict[str, float] = {}
    for name in (n for n in METRICS if n in names):
        try:
            result = compute[name]()
        except NoDataError as exc:
            if name not in WINDOWED:
                raise
            warnings.warn(f"{name} is NaN: {exc}", RuntimeWarning, stacklevel=2)
            result = np.full(t.shape[0], np.nan) if name in PER_BAND else np.nan
        if name in PER_BAND:
            per_band[name] = result
            values[name] = float(np.mean(result))
        else:
            values[name] = float(result)
    if isinstance(truth, Scene) and truth.bands is not None:
        bands = truth.bands
    elif isinstance(pred, Scene) and pred.bands is not None:
        bands = pred.bands
    else:
        bands = tuple(f"b{i + 1}" for i in range(t.shape[0]))
    return EvaluationReport(per_band, values, tuple(bands), ratio, data_range, int(valid.sum()))
