"""Seeded, deterministic k-means clustering of an image's valid pixels (Lloyd's algorithm).

Used by UBDF (and reusable by any method that needs an unsupervised class map of a fine image).

- Features: all bands of the pixel, as given (no standardisation), squared Euclidean distance
  accumulated in float64.
- Initialisation: k-means++ (Arthur & Vassilvitskii 2007) drawn from ``numpy.random.default_rng(seed)``
  over every valid pixel. When fewer than ``k`` distinct pixel values exist, fewer clusters are
  made (a constant image gives one cluster).
- Iterations: assign every pixel to its nearest centre (ties → lower index), move each centre
  to its pixels' mean; stop when no pixel changes cluster, when the centres move by less than
  ``tol`` times the mean band variance (squared shift, as scikit-learn's ``tol``), or after
  ``max_iter`` iterations. An emptied cluster is re-seeded at the pixel farthest from its centre.
- Labels are renumbered 0..K-1 by increasing centre brightness (mean over bands); masked pixels
  get -1.

Results do not depend on the number of threads: pixels are cut into fixed chunks of
``CHUNK`` pixels, each chunk's partial sums are computed by a nogil Numba kernel, and the
partial sums are added in chunk order.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit

from ...core.errors import InvalidParameterError, NoDataError, ShapeMismatchError

CHUNK = 16384
"""Pixels per chunk of the partial sums (fixed, so results do not depend on the thread count)."""


@dataclass(frozen=True)
class KMeansResult:
    """``labels`` (rows, cols) int32, -1 where masked; ``centres`` (K, bands) float64 ordered by
    brightness; ``iterations`` run; ``converged`` False when ``max_iter`` was reached."""

    labels: np.ndarray
    centres: np.ndarray
    iterations: int
    converged: bool


@njit(nogil=True, cache=True)
def _assign_chunks(x, centres, labels, dist, first, last, chunk, psum, pcount, pchanged):
    """Assign the pixels of chunks ``first``..``last``-1 and accumulate per-chunk sums."""
    n, f = x.shape
    k = centres.shape[0]
    for ch in range(first, last):
        lo = ch * chunk
        hi = min(n, lo + chunk)
        for j in range(k):
            pcount[ch, j] = 0
            for b in range(f):
                psum[ch, j, b] = 0.0
        changed = 0
        for i in range(lo, hi):
            best = 0
            bestd = np.inf
            for j in range(k):
                d = 0.0
                for b in range(f):
                    t = np.float64(x[i, b]) - centres[j, b]
                    d += t * t
                if d < bestd:
                    bestd = d
                    best = j
            if labels[i] != best:
                changed += 1
                labels[i] = best
            dist[i] = bestd
            pcount[ch, best] += 1
            for b in range(f):
                psum[ch, best, b] += np.float64(x[i, b])
        pchanged[ch] = changed


@njit(nogil=True, cache=True)
def _min_dist(x, centre, d2, first, last):
    """``d2[i] = min(d2[i], |x_i - centre|²)`` for pixels ``first``..``last``-1."""
    f = x.shape[1]
    for i in range(first, last):
        d = 0.0
        for b in range(f):
            t = np.float64(x[i, b]) - centre[b]
            d += t * t
        if d < d2[i]:
            d2[i] = d


@njit(nogil=True, cache=True)
def _mean_variance(x):
    """Mean over features of the (population) variance of each feature (two passes, float64)."""
    n, f = x.shape
    total = 0.0
    for b in range(f):
        m = 0.0
        for i in range(n):
            m += np.float64(x[i, b])
        m /= n
        v = 0.0
        for i in range(n):
            t = np.float64(x[i, b]) - m
            v += t * t
        total += v / n
    return total / f


def _ranges(n: int, parts: int) -> list[tuple[int, int]]:
    step = -(-n // parts)
    return [(a, min(n, a + step)) for a in range(0, n, step)]


def _run(pool: ThreadPoolExecutor | None, fn, ranges: list[tuple[int, int]]) -> None:
    if pool is None or len(ranges) == 1:
        for a, b in ranges:
            fn(a, b)
    else:
        list(pool.map(lambda r: fn(*r), ranges))


def _init_plusplus(x: np.ndarray, k: int, rng: np.random.Generator, pool, parts: int) -> np.ndarray:
    """k-means++ centres (fewer when the pixels have fewer than ``k`` distinct values)."""
    n, f = x.shape
    centres = [x[int(rng.integers(n))].astype(np.float64)]
    d2 = np.full(n, np.inf)
    ranges = _ranges(n, parts)
    for _ in range(1, k):
        c = centres[-1]
        _run(pool, lambda a, b: _min_dist(x, c, d2, a, b), ranges)
        cum = np.cumsum(d2)
        total = cum[-1]
        if not total > 0:
            break
        i = int(np.searchsorted(cum, rng.random() * total, side="right"))
        centres.append(x[min(i, n - 1)].astype(np.float64))
    return np.array(centres)


def kmeans_pixels(x: np.ndarray, k: int, *, seed: int = 0, max_iter: int = 100, tol: float = 1e-4,
                  threads: int | None = None) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """k-means of the rows of ``x`` (n, features): (labels (n,) int32, centres (K, features), iterations, converged).

    Labels are ordered by centre brightness (mean over features); K ≤ k.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ShapeMismatchError(f"kmeans_pixels takes (pixels, features), got shape {x.shape}")
    n, f = x.shape
    if n == 0:
        raise NoDataError("k-means: no valid pixel to cluster; check the image's mask")
    if not np.isfinite(x).all():
        raise NoDataError("k-means: valid pixels hold NaN or infinite values; mask them")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidParameterError(f"k-means: the number of clusters must be a positive integer, got {k!r}")
    threads = max(1, int(threads or os.cpu_count() or 1))
    nchunks = -(-n // CHUNK)
    parts = min(threads, nchunks)
    pool = ThreadPoolExecutor(parts) if parts > 1 else None
    try:
        rng = np.random.default_rng(seed)
        centres = _init_plusplus(x, int(k), rng, pool, parts)
        kk = centres.shape[0]
        labels = np.full(n, -1, np.int32)
        dist = np.empty(n)
        psum = np.empty((nchunks, kk, f))
        pcount = np.empty((nchunks, kk), np.int64)
        pchanged = np.empty(nchunks, np.int64)
        chunk_ranges = _ranges(nchunks, parts)
        var = _mean_variance(x)
        threshold = tol * var
        converged = current = False
        it = 0
        for it in range(1, max_iter + 1):
            c = centres
            _run(pool, lambda a, b: _assign_chunks(x, c, labels, dist, a, b, CHUNK, psum, pcount, pchanged),
                 chunk_ranges)
            if it > 1 and pchanged.sum() == 0:
                converged = current = True
                break
            sums = psum.sum(axis=0)
            counts = pcount.sum(axis=0)
            new = centres.copy()
            filled = counts > 0
            new[filled] = sums[filled] / counts[filled, None]
            for j in np.flatnonzero(~filled):  # re-seed an emptied cluster at the farthest pixel
                far = int(np.argmax(dist))
                if not dist[far] > 0:
                    break
                new[j] = x[far]
                dist[far] = 0.0
            shift = float(((new - centres) ** 2).sum())
            centres = new
            if shift <= threshold:
                converged = True
                break
        if not current:  # the labels of the final centres
            c = centres
            _run(pool, lambda a, b: _assign_chunks(x, c, labels, dist, a, b, CHUNK, psum, pcount, pchanged),
                 chunk_ranges)
    finally:
        if pool is not None:
            pool.shutdown()
    counts = np.bincount(labels, minlength=centres.shape[0])
    keep = np.flatnonzero(counts > 0)
    order = keep[np.argsort(centres[keep].mean(axis=1), kind="stable")]
    relabel = np.full(centres.shape[0], -1, np.int32)
    relabel[order] = np.arange(order.size, dtype=np.int32)
    return relabel[labels], centres[order], it, converged


def kmeans(image: np.ndarray, k: int, mask: np.ndarray | None = None, *, seed: int = 0, max_iter: int = 100,
           tol: float = 1e-4, threads: int | None = None) -> KMeansResult:
    """k-means class map of ``image`` (bands, rows, cols) over its ``mask`` (rows, cols; True = valid).

    See the module docstring for the algorithm; ``threads`` defaults to all cores and does not
    change the result.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[None]
    if image.ndim != 3:
        raise ShapeMismatchError(f"kmeans takes an image (bands, rows, cols), got shape {image.shape}")
    rows, cols = image.shape[1:]
    if mask is None:
        mask = np.ones((rows, cols), bool)
    mask = np.asarray(mask, bool)
    if mask.shape != (rows, cols):
        raise ShapeMismatchError(
            f"kmeans: mask is {mask.shape} but the image is {rows}x{cols}; give a (rows, cols) mask"
        )
    idx = np.flatnonzero(mask.ravel())
    x = image.reshape(image.shape[0], -1)[:, idx].T
    labels, centres, it, converged = kmeans_pixels(x, k, seed=seed, max_iter=max_iter, tol=tol, threads=threads)
    out = np.full(rows * cols, -1, np.int32)
    out[idx] = labels
    return KMeansResult(out.reshape(rows, cols), centres, it, converged)
