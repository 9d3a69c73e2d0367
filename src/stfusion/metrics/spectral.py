"""Whole-image spectral and global metrics: SAM, RASE and ERGAS.

All take ``truth`` and ``pred`` as (bands, rows, cols) arrays and use only valid pixels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.errors import RatioError
from .inputs import prepare, undefined


def sam(truth: Any, pred: Any, *, mask: Any = None, degrees: bool = True) -> float:
    """Spectral angle mapper (Yuhas, Goetz & Boardman 1992): the mean per-pixel spectral angle.

    Angle = arccos(<r, f> / (|r|·|f|)), cosine clipped to [-1, 1]; in degrees unless
    ``degrees=False``. Pixels where either spectrum has zero norm are left out; NaN (with a
    RuntimeWarning) when none remain.
    """
    t, p, valid = prepare(truth, pred, mask)
    r, f = t[:, valid], p[:, valid]
    norms = np.sqrt(np.sum(r * r, axis=0)) * np.sqrt(np.sum(f * f, axis=0))
    keep = norms > 0
    if not keep.any():
        return undefined("every valid pixel has an all-zero spectrum in truth or pred, so SAM is undefined (NaN)")
    cosine = np.clip(np.sum(r * f, axis=0)[keep] / norms[keep], -1.0, 1.0)
    angle = float(np.mean(np.arccos(cosine)))
    return math.degrees(angle) if degrees else angle


def _band_rmse_and_means(truth: Any, pred: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p, valid = prepare(truth, pred, mask)
    r, f = t[:, valid], p[:, valid]
    return np.sqrt(np.mean((f - r) ** 2, axis=1)), np.mean(r, axis=1)


def rase(truth: Any, pred: Any, *, mask: Any = None) -> float:
    """Relative average spectral error (Ranchin & Wald 2000), global form, in percent.

    RASE = (100 / M)·sqrt(mean_k RMSE_k²), M = the mean of all reference bands. NaN (with a
    RuntimeWarning) when M = 0.
    """
    rmse_k, mean_k = _band_rmse_and_means(truth, pred, mask)
    m = float(np.mean(mean_k))
    if m == 0:
        return undefined("the reference mean is 0, so RASE is undefined (NaN); give reflectance, not differences")
    return 100.0 / m * float(np.sqrt(np.mean(rmse_k**2)))


def check_ratio(ratio: float) -> float:
    """The ERGAS ratio h/l (fine / coarse pixel size) in (0, 1]."""
    value = float(ratio)
    if not math.isfinite(value) or value <= 0:
        raise RatioError(
            f"ratio must be h/l = fine/coarse pixel size in (0, 1], got {ratio!r}; e.g. 30/480 = 0.0625 for Landsat/MODIS"
        )
    if value > 1:
        raise RatioError(
            f"ratio {value:g} > 1, but ERGAS takes h/l = fine/coarse pixel size (<= 1); did you mean ratio={1 / value:g}?"
        )
    return value


def ergas_ratio(fine_resolution: float, coarse_resolution: float) -> float:
    """The ERGAS ratio h/l from the two pixel sizes, e.g. ``ergas_ratio(30, 480) == 0.0625``."""
    fine, coarse = float(fine_resolution), float(coarse_resolution)
    if not (math.isfinite(fine) and math.isfinite(coarse) and fine > 0 and coarse > 0):
        raise RatioError(
            f"pixel sizes must be positive numbers, got fine={fine_resolution!r}, coarse={coarse_resolution!r}"
        )
    if fine > coarse:
        raise RatioError(
            f"fine pixel size {fine:g} is larger than coarse pixel size {coarse:g}; swap the two arguments"
        )
    return fine / coarse


def ergas(truth: Any, pred: Any, *, ratio: float, mask: Any = None) -> float:
    """Erreur relative globale adimensionnelle de synthèse (Wald 2002; Ranchin & Wald 2000).

    ERGAS = 100·(h/l)·sqrt(mean_k (RMSE_k / μ_k)²), μ_k = mean of reference band k. ``ratio``
    is h/l = fine / coarse pixel size (<= 1, e.g. 0.0625 for 30 m vs 480 m): libraries disagree
    on it by factors up to 16, so it has no default. NaN (with a RuntimeWarning) when a
    reference band mean is 0.
    """
    scale = check_ratio(ratio)
    rmse_k, mean_k = _band_rmse_and_means(truth, pred, mask)
    if np.any(mean_k == 0):
        return undefined("a reference band mean is 0, so ERGAS is undefined (NaN); give reflectance, not differences")
    return 100.0 * scale * float(np.sqrt(np.mean((rmse_k / mean_k) ** 2)))
