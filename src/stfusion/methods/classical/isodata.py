"""ISODATA unsupervised classification (Tou & Gonzalez 1974), with the parameters of ENVI's
``class_doit`` (method 4) as FSDAF.pro calls it.

ENVI's implementation is closed; this one follows its documented behaviour and parameters:

1. ``max_classes`` initial means evenly spaced along the diagonal of the data space, from
   mean - std to mean + std of every band (ENVI: "class means evenly distributed in the data
   space");
2. every iteration assigns each pixel to the nearest mean (Euclidean distance), then deletes
   classes with fewer than ``min_pixels`` pixels (their pixels go to the nearest remaining
   mean), and recomputes the means;
3. on even iterations (0, 2, ...) classes whose largest band standard deviation exceeds
   ``split_std`` and that hold at least ``2·min_pixels`` pixels are split, largest spread first,
   up to ``max_classes``: the two new means are the old one ± ``split_mult``·std in that band;
   on odd iterations up to ``merge_pairs`` pairs of classes whose means are closer than
   ``merge_distance`` are merged (closest first, each class once, never below ``min_classes``),
   the new mean being the size-weighted mean. Below ``min_classes`` the widest classes are
   split whatever their spread;
4. it stops after ``iterations`` iterations, or earlier when fewer than ``change_threshold``
   of the pixels changed class and the last split step and merge step both changed nothing;
5. a final assignment, after which classes smaller than ``min_pixels`` are deleted again.

Labels are 0 .. k-1, ordered by increasing mean brightness (sum of the band means), so they
do not depend on the band order. Everything is deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ...core.errors import InvalidParameterError, NoDataError

__all__ = ["isodata", "classify_image"]


@njit(nogil=True, cache=True)
def _assign(x, means, labels):
    """Nearest mean of every row of ``x`` (ties: lowest class index); returns the number of rows
    whose label changed, and per-class counts, sums and sums of squares."""
    n, d = x.shape
    k = means.shape[0]
    counts = np.zeros(k, np.int64)
    sums = np.zeros((k, d))
    squares = np.zeros((k, d))
    changed = 0
    for i in range(n):
        best = 0
        best_dist = np.inf
        for c in range(k):
            dist = 0.0
            for j in range(d):
                t = x[i, j] - means[c, j]
                dist += t * t
            if dist < best_dist:
                best_dist = dist
                best = c
        if labels[i] != best:
            changed += 1
            labels[i] = best
        counts[best] += 1
        for j in range(d):
            v = x[i, j]
            sums[best, j] += v
            squares[best, j] += v * v
    return changed, counts, sums, squares


def _stats(counts: np.ndarray, sums: np.ndarray, squares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.maximum(counts, 1)[:, None].astype(np.float64)
    means = sums / n
    var = np.maximum(squares / n - means * means, 0.0)
    return means, np.sqrt(var)


def isodata(
    x: np.ndarray,
    *,
    min_classes: int = 4,
    max_classes: int = 6,
    iterations: int = 20,
    min_pixels: int = 200,
    change_threshold: float = 0.05,
    merge_distance: float = 0.05,
    merge_pairs: int = 2,
    split_std: float = 0.05,
    split_mult: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the rows of ``x`` (pixels, bands); returns ``(labels (pixels,) int32, means (k, bands))``.

    Defaults are FSDAF.pro's ENVI parameters for reflectance (``0.05·DN_max`` → 0.05).
    """
    x = np.ascontiguousarray(x, dtype=np.float64)  # no copy when it already is
    if x.ndim != 2 or x.shape[0] == 0:
        raise NoDataError("isodata: no pixel to classify; give a (pixels, bands) array with at least one row")
    if not np.isfinite(x).all():
        raise NoDataError("isodata: the pixels contain NaN or infinite values; drop invalid pixels first")
    if not (1 <= min_classes <= max_classes) or iterations < 1 or min_pixels < 1:
        raise InvalidParameterError(
            f"isodata: need 1 <= min_classes <= max_classes and positive iterations/min_pixels, got "
            f"min_classes={min_classes}, max_classes={max_classes}, iterations={iterations}, min_pixels={min_pixels}"
        )
    n = x.shape[0]
    mu = x.mean(axis=0)
    sd = np.array([x[:, j].std() for j in range(x.shape[1])])  # column by column: no (n, d) temporary
    means = mu + sd * np.linspace(-1.0, 1.0, max_classes)[:, None] if max_classes > 1 else mu[None].copy()
    labels = np.full(n, -1, np.int32)
    quiet = 0  # consecutive iterations without a split or merge
    for it in range(iterations):
        changed, counts, sums, squares = _assign(x, means, labels)
        means, stds, counts = _delete_small(x, means, labels, counts, sums, squares, min_pixels)
        if len(means) < min_classes or it % 2 == 0:
            new = _split(means, stds, counts, min_classes, max_classes, min_pixels, split_std, split_mult)
        else:
            new = _merge(means, counts, min_classes, merge_distance, merge_pairs)
        if new is not None:
            means = new
            quiet = 0
        else:
            quiet += 1
        # converged: few pixels moved, and neither a split nor a merge step changed anything
        if it > 0 and changed < change_threshold * n and quiet >= 2:
            break
    _, counts, sums, squares = _assign(x, means, labels)
    means, _, counts = _delete_small(x, means, labels, counts, sums, squares, min_pixels)
    order = np.argsort(means.sum(axis=1), kind="stable")
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank[labels], means[order]


def _delete_small(x, means, labels, counts, sums, squares, min_pixels):
    """Delete the smallest class while any class (of several) is below ``min_pixels`` (an empty
    class always goes), reassigning its pixels; returns means, standard deviations and counts."""
    while len(counts) > 1:
        small = np.flatnonzero((counts < min_pixels) | (counts == 0))
        if small.size == 0:
            break
        drop = small[np.argsort(counts[small], kind="stable")[0]]
        keep = np.arange(len(counts)) != drop
        if counts[keep].sum() == 0:
            break
        means = _stats(counts, sums, squares)[0][keep]
        labels[:] = -1
        _, counts, sums, squares = _assign(x, means, labels)
    means, stds = _stats(counts, sums, squares)
    return means, stds, counts


def _split(means, stds, counts, min_classes, max_classes, min_pixels, split_std, split_mult):
    """Split classes (widest first); None when nothing was split."""
    k = len(means)
    widest = stds.max(axis=1)
    order = np.argsort(-widest, kind="stable")
    out = list(means)
    done = 0
    for c in order:
        if k + done >= max_classes:
            break
        forced = k + done < min_classes
        if counts[c] < 2 * min_pixels or widest[c] <= 0.0:
            continue
        if not forced and widest[c] <= split_std:
            continue
        band = int(np.argmax(stds[c]))
        delta = np.zeros_like(means[c])
        delta[band] = split_mult * stds[c, band]
        out[c] = means[c] + delta
        out.append(means[c] - delta)
        done += 1
    return np.array(out) if done else None


def _merge(means, counts, min_classes, merge_distance, merge_pairs):
    """Merge up to ``merge_pairs`` pairs of close classes (closest first); None when nothing was merged."""
    k = len(means)
    if k <= min_classes:
        return None
    diff = means[:, None, :] - means[None, :, :]
    dist = np.sqrt((diff * diff).sum(axis=2))
    pairs = [(dist[i, j], i, j) for i in range(k) for j in range(i + 1, k) if dist[i, j] < merge_distance]
    pairs.sort()
    used: set[int] = set()
    merged: list[tuple[int, int]] = []
    for _, i, j in pairs:
        if len(merged) >= merge_pairs or k - len(merged) <= min_classes:
            break
        if i in used or j in used:
            continue
        used.update((i, j))
        merged.append((i, j))
    if not merged:
        return None
    out = [means[c] for c in range(k) if c not in used]
    for i, j in merged:
        total = counts[i] + counts[j]
        out.append((means[i] * counts[i] + means[j] * counts[j]) / max(total, 1))
    return np.array(out)


def classify_image(image: np.ndarray, mask: np.ndarray, **options) -> np.ndarray:
    """ISODATA labels (rows, cols) int32 of the valid pixels of ``image`` (bands, rows, cols); -1 elsewhere.

    ``options`` are those of `isodata`.
    """
    mask = np.asarray(mask, bool)
    if not mask.any():
        raise NoDataError("isodata: the image has no valid pixel to classify; check its mask")
    image = np.asarray(image)
    pixels = np.empty((int(mask.sum()), image.shape[0]))
    for b in range(image.shape[0]):
        pixels[:, b] = image[b][mask]
    labels, _ = isodata(pixels, **options)
    out = np.full(mask.shape, -1, np.int32)
    out[mask] = labels
    return out
