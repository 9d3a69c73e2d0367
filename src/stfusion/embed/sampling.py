"""Sparse random temporal sampling of d-pixels (TESSERA, Feng et al. 2025, §1.2 of our notes).

For each pixel, ``n`` observation indices are drawn from its valid observations: without
replacement when it has at least ``n``, otherwise with replacement; the indices are sorted by
time (the attention pooling reads them in order). Two independent draws of the same pixel are
the two views of the self-supervised pair. A pixel with no valid observation gets index 0 and is
flagged invalid.
"""

from __future__ import annotations

import numpy as np

from stfusion.core.errors import InvalidParameterError, ShapeMismatchError


def sample_indices(valid: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(pixels, n) sorted observation indices drawn from ``valid`` (pixels, T) bool, and the
    (pixels,) flag of pixels that had any valid observation."""
    valid = np.asarray(valid, dtype=bool)
    if valid.ndim != 2:
        raise ShapeMismatchError(f"valid has shape {valid.shape}; expected (pixels, times)")
    if n < 1:
        raise InvalidParameterError(f"the number of sampled observations must be >= 1, got {n}")
    pixels, times = valid.shape
    count = valid.sum(axis=1)
    # Random keys: valid observations get uniform keys in (0, 1), invalid ones 2, so the n
    # smallest keys are a uniform draw without replacement among the valid observations.
    keys = np.where(valid, rng.random((pixels, times)), 2.0)
    order = np.argsort(keys, axis=1, kind="stable")
    take = min(n, times)
    out = np.zeros((pixels, n), dtype=np.int64)
    out[:, :take] = order[:, :take]
    short = count < n
    if short.any():
        # with replacement: n uniform picks among each short pixel's valid observations
        rows = np.flatnonzero(short & (count > 0))
        picks = (rng.random((rows.size, n)) * count[rows, None]).astype(np.int64)
        out[rows] = np.take_along_axis(order[rows], picks, axis=1)
        out[count == 0] = 0
    return np.sort(out, axis=1), count > 0


def two_views(valid: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two independent `sample_indices` draws (view A, view B) and the any-valid flag."""
    a, ok = sample_indices(valid, n, rng)
    b, _ = sample_indices(valid, n, rng)
    return a, b, ok
