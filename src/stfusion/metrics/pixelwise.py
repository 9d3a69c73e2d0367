"""Pixel-error metrics per band: RMSE, MAE, bias (AD), Pearson CC and PSNR.

All take ``truth`` and ``pred`` as (bands, rows, cols) arrays and use only valid pixels
(see `stfusion.metrics.inputs.prepare`). The difference is ``pred - truth``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .inputs import check_data_range, prepare, undefined


def _differences(truth: Any, pred: Any, mask: Any) -> np.ndarray:
    t, p, valid = prepare(truth, pred, mask)
    return p[:, valid] - t[:, valid]


def rmse(truth: Any, pred: Any, *, mask: Any = None, pooled: bool = False) -> np.ndarray | float:
    """Root-mean-square error per band, or one value over all bands and pixels when ``pooled``."""
    d = _differences(truth, pred, mask)
    if pooled:
        return float(np.sqrt(np.mean(d**2)))
    return np.sqrt(np.mean(d**2, axis=1))


def mae(truth: Any, pred: Any, *, mask: Any = None) -> np.ndarray:
    """Mean absolute error per band (the "AAD" of STF papers)."""
    return np.mean(np.abs(_differences(truth, pred, mask)), axis=1)


def bias(truth: Any, pred: Any, *, mask: Any = None) -> np.ndarray:
    """Mean signed difference pred - truth per band (APA's AD, Zhu et al. 2022)."""
    return np.mean(_differences(truth, pred, mask), axis=1)


def cc(truth: Any, pred: Any, *, mask: Any = None) -> np.ndarray:
    """Pearson correlation coefficient per band; NaN (with a RuntimeWarning) for a constant band."""
    t, p, valid = prepare(truth, pred, mask)
    out = np.empty(t.shape[0])
    for k in range(t.shape[0]):
        x, y = t[k][valid], p[k][valid]
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            out[k] = undefined(f"band {k + 1} is constant in truth or pred, so its CC is undefined (NaN)")
            continue
        dx, dy = x - x.mean(), y - y.mean()
        out[k] = np.sum(dx * dy) / np.sqrt(np.sum(dx**2) * np.sum(dy**2))
    return out


def psnr(
    truth: Any, pred: Any, *, data_range: float, mask: Any = None, pooled: bool = False
) -> np.ndarray | float:
    """Peak signal-to-noise ratio 10·log10(L²/MSE) in dB per band, or from the MSE of all bands when ``pooled``.

    ``data_range`` is L, the peak value (1.0 for reflectance), never inferred. MSE = 0 gives +inf.
    """
    peak = check_data_range(data_range)
    d = _differences(truth, pred, mask)
    mse = np.mean(d**2) if pooled else np.mean(d**2, axis=1)
    with np.errstate(divide="ignore"):
        value = 10.0 * np.log10(peak**2 / mse)
    return float(value) if pooled else value
