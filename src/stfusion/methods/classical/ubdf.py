"""UBDF: unmixing-based data fusion (Zurita-Milla, Clevers & Schaepman 2008, IEEE GRSL 5(3):453-457;
Zurita-Milla, Kaiser, Clevers, Schneider & Schaepman 2009, RSE 113:1874-1885), the MMT/Zhukov
et al. (1999) linear-mixing downscaling applied to spatiotemporal fusion.

1. Classes: k-means (``num_classes`` clusters, all bands) of the fine base image of the pair
   nearest the target date, or a class map given with ``classes=``.
2. Fractions: for each coarse pixel (a ``scale`` x ``scale`` block of fine pixels), the share of
   each class among its classified fine pixels.
3. Unmixing: for each coarse pixel, the class values ``r(c, t)`` of the window of ``window`` x
   ``window`` coarse pixels around it solve ``min Σ_i (Σ_c f(i, c)·r(c, t) - C(i, t))²`` with
   ``lower ≤ r ≤ upper``, per band, over the window's valid coarse pixels. The window grows by
   one coarse pixel per side while it has fewer valid coarse pixels than classes present, or
   lacks a class of its centre coarse pixel.
4. Prediction of a fine pixel x of class c in coarse pixel i: the paper's UBDF is
   ``F(x, t2) = r_i(c, t2)`` (``add_residual=False``). By default the fine base image's
   within-class residual is added back: ``F(x, t2) = r_i(c, t2) + (F(x, t1) - m_i(c, t1))``, where
   the class's base-date value ``m_i(c, t1)`` is ``r_i(c, t1)``, the unmixing of the base coarse
   image in the same window with the same fractions (``residual_base="unmixed"``; the prediction
   is then ``F1 + r2 - r1``, the STDFA form of Wu et al. 2012), or the mean of the class's fine
   base pixels in the window (``residual_base="fine"``).

The other common variant, unmixing the coarse change ``C2 - C1`` directly (STRUM, Gevaert &
García-Haro 2015; FSDAF's first step), differs from ``residual_base="unmixed"`` only where the
bounds are active; it is not implemented here.

Deliberate differences from the reference programs (HoucaiGuo's ``UBDF`` in Python; STDFA IDL):

- Default ``add_residual=True`` (not the paper's plain class values): it keeps the fine image's
  within-class texture, and an unchanged coarse image then returns the fine image exactly.
- The window is truncated at the image edge (the Python program pads the coarse image by
  reflection, which duplicates equations) and enlarged where underdetermined (the Python
  program has no such rule; STDFA enlarges it the same way).
- Bounds default to each band's data range over the valid pixels of the base pair and the
  target (the Python program: ``[0, max(band)]`` of the target coarse band; STDFA: [0, 1]).
- Masks: only valid fine pixels are classified and counted in the fractions (with a user class
  map, pixels with a negative class); a coarse pixel is an equation only where its coarse value
  is valid (with ``residual_base="unmixed"``, at both dates); its value is the mean of its valid
  coarse pixels on the fine grid. Pixels that cannot be predicted are masked (NaN).
- The bounded least squares is solved by an exact active-set method (Numba); it gives the
  solution of ``scipy.optimize.lsq_linear(method="bvls")`` for full-rank windows. A
  rank-deficient window (e.g. two classes in the same proportion in every coarse pixel), whose
  solution is not unique, gets a Tikhonov term (1e-6 of the mean diagonal of AᵀA) toward the
  window's mean coarse value.
- STDFA's merging of classes with abundance below 0.05 into the spectrally closest class is not
  done.
- Several pairs: only the pair nearest the target date is used (ties: the first given).

Everything windowed runs once on the coarse grid in `stats`; `predict_block` looks up each
pixel's class value, so the method needs no halo and tiled output equals in-memory output.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ...core.block import Block, pair_days
from ...core.errors import DTypeError, InvalidParameterError, NoDataError, ShapeMismatchError
from ...core.params.ubdf import UbdfParams
from ...core.scene import Scene
from ...core.task import FusionTask
from .kmeans import kmeans
from .ubdf_kernel import masked_range, ubdf_rows
from .unmixing import class_counts, coarse_means, coarse_shape, fractions, unmix_windows, window_class_means

__all__ = ["UbdfStats", "predict", "predict_block", "predict_series", "stats", "ubdf"]


@dataclass(frozen=True)
class UbdfStats:
    """Image-wide statistics of UBDF.

    - ``classes`` (rows, cols) int32 class map (-1: no class); ``centres`` (K, bands) k-means
      centres (None for a user class map); ``scale`` coarse pixel size in fine pixels;
      ``pair`` index of the base pair used.
    - ``fractions`` (nrc, ncc, K) class fractions per coarse pixel.
    - ``values`` (nrc, ncc, K, B) class values at the target date of each coarse pixel's window;
      ``base_values`` the same at the base date (``residual_base="unmixed"``) or the fine class
      means (``"fine"``), None without residual; ``table`` what `predict_block` adds to the fine
      base image (``values - base_values``) or returns (``values``).
    - ``half_used`` (nrc, ncc) half-width of each window after enlargement (-1: not solved).
    - ``lower``, ``upper`` (B,) bounds of the class values.
    """

    classes: np.ndarray
    centres: np.ndarray | None
    scale: int
    pair: int
    fractions: np.ndarray
    values: np.ndarray
    base_values: np.ndarray | None
    table: np.ndarray
    half_used: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def scale_factor(task: FusionTask, params: UbdfParams) -> int:
    """The integer coarse pixel size: ``params.scale_factor`` or ``round(task.ratio)``."""
    if params.scale_factor is not None:
        return int(params.scale_factor)
    return max(1, int(round(task.require_ratio("ubdf"))))


def base_pair(task: FusionTask) -> int:
    """Index of the pair nearest the target date (the first one on ties or without dates)."""
    days = pair_days(task)
    if days is None:
        return 0
    return int(np.argmin(np.abs(np.asarray(days))))


def _user_classes(classes: Any, shape: tuple[int, int]) -> np.ndarray:
    """A user class map as int32 labels 0..K-1 (-1 where negative)."""
    arr = np.asarray(classes)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2 or arr.shape != shape:
        raise ShapeMismatchError(
            f"ubdf: the class map has shape {arr.shape} but the fine grid is {shape[0]}x{shape[1]}; "
            "give a (rows, cols) integer class map on the fine grid"
        )
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"ubdf: the class map is {arr.dtype}; give integer class labels (negative = no class)")
    out = np.full(shape, -1, np.int32)
    ok = arr >= 0
    if not ok.any():
        raise NoDataError("ubdf: the class map has no pixel with a class (all labels are negative)")
    _, inverse = np.unique(arr[ok], return_inverse=True)
    out[ok] = inverse.astype(np.int32)
    return out


def _bounds(params: UbdfParams, images: list[tuple[np.ndarray, np.ndarray]], bands: int,
            threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-band bounds of the class values: the parameters, or the data range of ``images``."""
    lo = np.full(bands, np.inf)
    hi = np.full(bands, -np.inf)
    jobs = [(data, mask, b) for data, mask in images for b in range(bands)]
    found = np.empty((len(jobs), 2))

    def one(i: int) -> None:
        data, mask, b = jobs[i]
        found[i] = np.inf, -np.inf
        masked_range(data[b : b + 1], mask, found[i, :1], found[i, 1:])

    if threads <= 1:
        for i in range(len(jobs)):
            one(i)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(len(jobs))))
    for (_, _, b), (mn, mx) in zip(jobs, found):
        lo[b], hi[b] = min(lo[b], mn), max(hi[b], mx)
    if params.lower is not None:
        lo = np.full(bands, float(params.lower))
    if params.upper is not None:
        hi = np.full(bands, float(params.upper))
    if not np.isfinite(lo).all() or not np.isfinite(hi).all():
        raise NoDataError("ubdf: the base pair and target have no valid pixel; check their masks and nodata")
    if (lo > hi).any():
        b = int(np.argmax(lo > hi))
        raise InvalidParameterError(
            f"ubdf: band {b + 1} has lower bound {lo[b]:g} above its upper bound {hi[b]:g}; "
            "change lower/upper to bracket the data (or leave them None for the data range)"
        )
    return lo.astype(np.float64), hi.astype(np.float64)


def stats(task: FusionTask, params: UbdfParams, classes: Any = None, threads: int | None = None) -> UbdfStats:
    """Classes, fractions and every coarse pixel's window solution (image-wide, computed once)."""
    task.require_fine_grid("ubdf")
    if threads is not None and threads < 1:
        raise InvalidParameterError(f"ubdf: threads must be >= 1, got {threads}")
    threads = int(threads or os.cpu_count() or 1)
    scale = scale_factor(task, params)
    k = base_pair(task)
    pair = task.pairs[k]
    fine = np.asarray(pair.fine.data, np.float32)
    fmask = np.asarray(pair.fine.mask, bool)
    coarse1 = np.asarray(pair.coarse.data, np.float32)
    cmask1 = np.asarray(pair.coarse.mask, bool)
    target = np.asarray(task.target.data, np.float32)
    tmask = np.asarray(task.target.mask, bool)
    bands, rows, cols = fine.shape

    if classes is None:
        if not fmask.any():
            raise NoDataError("ubdf: the fine base image has no valid pixel to classify; check its mask")
        km = kmeans(fine, params.num_classes, fmask, seed=params.seed, max_iter=params.max_iter, threads=threads)
        labels, centres = km.labels, km.centres
    else:
        labels, centres = _user_classes(classes, (rows, cols)), None
    nclass = int(labels.max()) + 1
    counts = class_counts(labels, scale, nclass)
    frac = fractions(counts)
    lo, hi = _bounds(params, [(fine, fmask), (coarse1, cmask1), (target, tmask)], bands, threads)

    unmixed = params.add_residual and params.residual_base == "unmixed"
    c2, v2 = coarse_means(target, tmask, scale, threads)
    rows_valid = v2 & (counts.sum(axis=-1) > 0)
    values = [c2]
    if unmixed:
        c1, v1 = coarse_means(coarse1, cmask1, scale, threads)
        rows_valid &= v1
        values.append(c1)
    sol, used = unmix_windows(frac, counts, rows_valid, np.stack(values), lo, hi, window=params.window,
                              max_window=params.max_window, threads=threads)
    base = None
    if unmixed:
        base = sol[1]
    elif params.add_residual:
        base = _fine_class_means(fine, fmask, labels, scale, nclass, used)
    table = sol[0] if base is None else sol[0] - base
    return UbdfStats(labels, centres, scale, k, frac, sol[0], base, np.ascontiguousarray(table), used, lo, hi)


def _fine_class_means(fine: np.ndarray, fmask: np.ndarray, labels: np.ndarray, scale: int, nclass: int,
                      half: np.ndarray) -> np.ndarray:
    """Mean of the valid fine base pixels of each class over each coarse pixel's (enlarged) window."""
    bands, rows, cols = fine.shape
    nrc, ncc = coarse_shape(rows, cols, scale)
    ok = fmask & (labels >= 0)
    ids = ((np.arange(rows)[:, None] // scale) * ncc + np.arange(cols)[None, :] // scale)[ok] * nclass + labels[ok]
    size = nrc * ncc * nclass
    counts = np.bincount(ids, minlength=size).reshape(nrc, ncc, nclass)
    sums = np.stack([np.bincount(ids, weights=fine[b][ok].astype(np.float64), minlength=size)
                     for b in range(bands)], axis=-1).reshape(nrc, ncc, nclass, bands)
    return window_class_means(sums, counts, half)


def _run(block: Block, st: UbdfStats, params: UbdfParams, threads: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = block.target_mask.shape
    r0, c0 = block.origin
    bands = block.target.shape[0]
    classes = st.classes[r0 : r0 + rows, c0 : c0 + cols]
    if classes.shape != (rows, cols):
        raise ShapeMismatchError(
            f"ubdf: block at {block.origin} of {rows}x{cols} pixels lies outside the scene of the statistics"
        )
    fine = block.fine[st.pair]
    fmask = block.fine_mask[st.pair]
    out = np.empty((bands, rows, cols), np.float32)
    ok = np.empty((rows, cols), bool)
    args = (classes, st.table, fine, fmask, block.target_mask, int(r0), int(c0), int(st.scale),
            bool(params.add_residual))
    if threads <= 1 or rows < 2:
        ubdf_rows(*args, 0, rows, out, ok)
    else:
        step = max(1, -(-rows // (4 * threads)))
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda r: ubdf_rows(*args, r, min(rows, r + step), out, ok), range(0, rows, step)))
    return out, ok


def predict_block(block: Block, stats: UbdfStats, params: UbdfParams) -> tuple[np.ndarray, np.ndarray]:
    """(data, mask) of one block: each pixel's class value from its coarse pixel's window solution."""
    return _run(block, stats, params, threads=1)


def predict(task: FusionTask, params: UbdfParams, classes: Any = None, threads: int | None = None) -> Scene:
    """Registry entry point: the whole task in memory on ``threads`` threads (default: all cores)."""
    if threads is not None and threads < 1:
        raise InvalidParameterError(f"ubdf: threads must be >= 1, got {threads}")
    threads = int(threads or os.cpu_count() or 1)
    st = stats(task, params, classes, threads)
    data, mask = _run(Block.from_task(task), st, params, threads)
    if not mask.any():
        raise NoDataError(
            "ubdf: no pixel could be predicted (no classified fine pixel with a valid target coarse value); "
            "check the masks of the base pair and the target"
        )
    return task.fine_grid.replace(data=data, mask=mask, date=task.target.date, name="")


def predict_series(tasks: list[FusionTask], params: UbdfParams, classes: Any = None) -> list[Scene]:
    """Series entry point (tasks sharing their pairs): the k-means classes of each base pair are
    computed once and reused as the class map of every target with that base pair."""
    if classes is not None:
        return [predict(t, params, classes) for t in tasks]
    threads = os.cpu_count() or 1
    labels: dict[int, np.ndarray] = {}
    out = []
    for task in tasks:
        k = base_pair(task)
        if k not in labels:
            pair = task.pairs[k]
            fmask = np.asarray(pair.fine.mask, bool)
            if not fmask.any():
                raise NoDataError("ubdf: the fine base image has no valid pixel to classify; check its mask")
            labels[k] = kmeans(np.asarray(pair.fine.data, np.float32), params.num_classes, fmask, seed=params.seed,
                               max_iter=params.max_iter, threads=threads).labels
        out.append(predict(task, params, labels[k]))
    return out


def ubdf(
    task: FusionTask,
    *,
    num_classes: int = 4,
    window: int = 3,
    max_window: int | None = None,
    scale_factor: int | None = None,
    add_residual: bool = True,
    residual_base: Literal["unmixed", "fine"] = "unmixed",
    lower: float | None = None,
    upper: float | None = None,
    seed: int = 0,
    max_iter: int = 100,
    classes: Any = None,
    threads: int | None = None,
) -> Scene:
    """UBDF prediction of the fine image at the target date (Zurita-Milla et al. 2008, IEEE GRSL
    5(3):453-457; 2009, RSE 113:1874-1885). See the module docstring for the algorithm and every
    deliberate difference from the reference programs, and `UbdfParams` for the parameters.

    ``classes`` is an optional (rows, cols) integer class map on the fine grid (negative = no
    class) used instead of k-means; ``threads`` defaults to all cores and does not change the result.
    """
    params = UbdfParams(num_classes=num_classes, window=window, max_window=max_window, scale_factor=scale_factor,
                        add_residual=add_residual, residual_base=residual_base, lower=lower, upper=upper,
                        seed=seed, max_iter=max_iter)
    return predict(task, params, classes, threads)
