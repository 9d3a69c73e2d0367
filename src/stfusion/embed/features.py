"""Baseline per-pixel features of a d-pixel series, the inputs embeddings are compared against:
hand-made temporal statistics and the raw series with invalid dates interpolated."""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from stfusion.core.dpixel import SensorSeries

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def hand_features(series: SensorSeries, quantiles: Sequence[float] = QUANTILES) -> np.ndarray:
    """(N, C * (4 + len(quantiles))) float32: per band, the mean, std, min, max and ``quantiles`` of
    the valid observations (band-major); NaN for a pixel without any."""
    x = np.where(series.valid[..., None], series.values, np.nan)
    with warnings.catch_warnings():  # pixels without a valid observation give NaN on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        stats = [np.nanmean(x, 1), np.nanstd(x, 1), np.nanmin(x, 1), np.nanmax(x, 1),
                 *np.nanquantile(x, list(quantiles), axis=1)]
    return np.stack(stats, axis=2).reshape(series.pixels, -1).astype(np.float32)


def interpolated_series(series: SensorSeries) -> np.ndarray:
    """(N, T * C) float32: the raw series (time-major), invalid steps linearly interpolated in days
    between the nearest valid ones and held constant beyond the first and last; 0 for a pixel
    without a valid observation."""
    n, t, c = series.values.shape
    days = np.broadcast_to(series.doy, (n, t)).astype(np.float64)
    steps = np.arange(t)
    prev = np.maximum.accumulate(np.where(series.valid, steps, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(series.valid, steps, t)[:, ::-1], axis=1)[:, ::-1]
    none = prev[:, -1] < 0
    prev = np.where(prev < 0, nxt, prev)
    nxt = np.where(nxt >= t, prev, nxt)
    prev, nxt = np.clip(prev, 0, t - 1), np.clip(nxt, 0, t - 1)
    rows = np.arange(n)[:, None]
    d0, d1 = days[rows, prev], days[rows, nxt]
    w = np.where(d1 > d0, (days - d0) / np.where(d1 > d0, d1 - d0, 1.0), 0.0)[..., None]
    out = (1 - w) * series.values[rows, prev] + w * series.values[rows, nxt]
    out[none] = 0.0
    return out.reshape(n, t * c).astype(np.float32)

