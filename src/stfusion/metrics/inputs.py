"""Input checks shared by every metric: array shapes, the valid mask, window validity, parameters."""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from ..core.errors import DTypeError, InvalidParameterError, NoDataError, ShapeMismatchError


class Prepared(NamedTuple):
    """Both images as float64 (bands, rows, cols) with invalid pixels set to 0, and the valid mask."""

    truth: np.ndarray
    pred: np.ndarray
    valid: np.ndarray


def as_image(x: Any, name: str) -> np.ndarray:
    """``x`` as a float64 (bands, rows, cols) array; a (rows, cols) array is one band."""
    a = np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise DTypeError(f"{name} has dtype {a.dtype}; give a real-valued (bands, rows, cols) array")
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ShapeMismatchError(f"{name} has {a.ndim} dimensions; give a (bands, rows, cols) or (rows, cols) array")
    return a.astype(np.float64)


def prepare(truth: Any, pred: Any, mask: Any = None) -> Prepared:
    """Check the images and combine ``mask`` (True = valid) with their finite pixels.

    A pixel is valid when the mask allows it and every band of both images is finite.
    """
    t = as_image(truth, "truth")
    p = as_image(pred, "pred")
    if t.shape != p.shape:
        raise ShapeMismatchError(
            f"truth has shape {t.shape} but pred has {p.shape}; give images with the same bands on the same grid"
        )
    valid = np.isfinite(t).all(axis=0) & np.isfinite(p).all(axis=0)
    if mask is not None:
        m = np.asarray(mask)
        if m.shape != t.shape[1:]:
            raise ShapeMismatchError(f"mask has shape {m.shape}; give a (rows, cols) = {t.shape[1:]} boolean array")
        valid &= m.astype(bool)
    if not valid.any():
        raise NoDataError("no valid pixel: the mask and non-finite values exclude every pixel; check the masks")
    t[:, ~valid] = 0.0
    p[:, ~valid] = 0.0
    return Prepared(t, p, valid)


def window_valid(valid: np.ndarray, size: int, metric: str) -> np.ndarray:
    """The 'valid' window positions (rows - size + 1, cols - size + 1) whose size×size window is all valid."""
    rows, cols = valid.shape
    if rows < size or cols < size:
        raise ShapeMismatchError(
            f"the image is {rows}x{cols} pixels; {metric} needs at least {size}x{size} (use a larger image)"
        )
    bad = np.pad((~valid).astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    count = bad[size:, size:] - bad[:-size, size:] - bad[size:, :-size] + bad[:-size, :-size]
    ok = count == 0
    if not ok.any():
        raise NoDataError(
            f"no {size}x{size} window is entirely valid, so {metric} is undefined; use fewer masked pixels"
        )
    return ok


def check_data_range(data_range: float) -> float:
    """The data range L (peak value) of PSNR and SSIM: finite and positive."""
    value = float(data_range)
    if not math.isfinite(value) or value <= 0:
        raise InvalidParameterError(
            f"data_range must be a positive number, got {data_range!r}; use 1.0 for reflectance, 10000 for scaled integers"
        )
    return value


def undefined(message: str) -> float:
    """Warn that a metric is undefined and return NaN."""
    warnings.warn(message, RuntimeWarning, stacklevel=3)
    return math.nan
