"""Fit-FC: regression model fitting, spatial filtering and residual compensation.

Wang, Q., Atkinson, P.M. (2018), "Spatio-temporal fusion for daily Sentinel-2 images", Remote
Sensing of Environment 204, 31-42. One fine/coarse pair (t1) and the coarse image at t2:

1. RM (Eqs. 1-2): per band and coarse pixel X, ``C2 = a(X)·C1 + b(X)`` fitted by least squares
   over the valid coarse pixels of the (2W+1)² window around X (W = ``rm_radius``); the fine
   prediction is ``F_RM(x) = a(X)·F1(x) + b(X)`` for the fine pixels x of X, and the coarse
   residual is ``R(X) = C2(X) - a(X)·C1(X) - b(X)``.
2. RC (Eqs. 7-8): R is interpolated to the fine grid by bicubic convolution (Keys, a = -0.5,
   MATLAB ``imresize(R, s, 'bicubic')``): ``r(x)``.
3. SF (Eqs. 3-6): in the (2w+1)² window (w = ``half_window``) the ``num_similar`` valid pixels
   with the smallest ``Σ_b (F1(x_i, b) - F1(x0, b))²`` (the centre included) are averaged with
   weights ``1/d_i`` normalised, ``d_i = 1 + |x_i - x0|/A``, ``A = (2w+1)/2``. Because SF and RC
   share neighbours and weights, F_SF + F_RC is one filter of ``F_RM + r`` (as the program does).

Coarse pixels are ``s`` x ``s`` blocks of fine pixels anchored at the top-left corner,
``s = round(task.ratio)`` unless ``scale_factor`` is given; the coarse value of a block is the
mean of its valid pixels (so coarse images on shifted sub-grids, like CIA's, are accepted).

Deliberate differences from the paper and from Q. Wang's MATLAB program Fit-FC_M:

- ``filtering="change"`` (default) filters the predicted change and adds it to the fine image:
  ``F2 = F1 + SF(F_RM + r - F1)``. The paper and the program filter the prediction itself,
  ``F2 = SF(F_RM + r)`` (``filtering="prediction"``), which smooths F1 over its similar pixels
  even when nothing changed; the default gives the fine image back when the coarse image is
  unchanged.
- Similar pixels are chosen on all bands (paper); the program uses red and NIR only
  (``similarity_bands=(red, nir)`` reproduces it). Ties go to the closer pixel, then row-major
  window order (the program: MATLAB ``min`` order).
- Windows are clipped at the scene border (the program pads by replication, so replicated edge
  pixels can be chosen several times); the regression window is clipped like the program's
  normalised box filter.
- A singular regression window (fewer than 2 valid coarse pixels, or var(C1) <= 1e-12) gets
  a = 1, b = 0 (as imagefusion); the program divides by var + eps (eps = 2.2e-16), which gives
  a ≈ 0, b = mean(C2) and erases the fine detail.
- Masks: a pixel is valid when the fine image, the pair's coarse image and the target coarse
  image are all valid there. Coarse-pixel values are means over valid pixels; regressions use
  coarse pixels defined at both dates; the bicubic residual is renormalised over the taps whose
  coarse residual is defined (if they carry less than half the weight, r = R(X)); similar pixels
  are valid pixels; invalid pixels are not predicted (masked, NaN). The program has no masks.
- The residual grid is mirrored at its edges like MATLAB imresize; a partial last coarse block is
  treated as a full block for the interpolation coordinates.
- Exactly one pair: Fit-FC is a single-pair method. With several pairs, run it once per pair (or
  choose the pair nearest the target date).
- Float64 arithmetic on reflectance; output float32.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...core.block import Block
from ...core.errors import InvalidParameterError, NoDataError, ShapeMismatchError
from ...core.params.fitfc import FitfcParams
from ...core.scene import Scene
from ...core.task import FusionTask
from .fitfc_kernel import coarse_regression, rm_values, spatial_filter


@dataclass(frozen=True)
class FitfcStats:
    """Image-wide Fit-FC statistics on the coarse grid of ``scale`` x ``scale`` blocks:
    ``a``, ``b`` (bands, nr, nc) regression coefficients, ``resid`` (bands, nr, nc) the coarse
    residual and ``resid_valid`` (nr, nc) where it is defined; ``feature_bands`` the band indices
    of the similarity measure."""

    scale: int
    a: np.ndarray
    b: np.ndarray
    resid: np.ndarray
    resid_valid: np.ndarray
    feature_bands: np.ndarray


def _check(task: FusionTask) -> None:
    task.require_fine_grid("fitfc")
    if len(task.pairs) != 1:
        raise ShapeMismatchError(
            f"fitfc takes exactly 1 pair, got {len(task.pairs)}; give one fine/coarse pair "
            "(e.g. the pair nearest the target date)"
        )


def scale_of(task: FusionTask, params: FitfcParams) -> int:
    """The integer size of a coarse-pixel block: ``scale_factor`` or round(task.ratio)."""
    if params.scale_factor is not None:
        return int(params.scale_factor)
    return max(1, int(round(task.require_ratio("fitfc"))))


def block_means(data: np.ndarray, mask: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the valid pixels of each ``scale`` x ``scale`` block (anchored at the top-left corner,
    partial last blocks allowed): (bands, nr, nc) float64 and (nr, nc) "has a valid pixel".
    ``data`` (bands, rows, cols) is read one band at a time (NumPy or Dask)."""
    bands, rows, cols = data.shape
    r_idx, c_idx = np.arange(0, rows, scale), np.arange(0, cols, scale)

    def block_sums(x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.add.reduceat(x, r_idx, axis=0, dtype=np.float64), c_idx, axis=1)

    mask = np.asarray(mask, bool)
    counts = block_sums(mask.astype(np.float64))
    means = np.empty((bands, len(r_idx), len(c_idx)))
    for k in range(bands):  # one band at a time: no full-scene float64 copy
        means[k] = block_sums(np.where(mask, np.asarray(data[k], np.float32), np.float32(0))) / np.maximum(counts, 1)
    return means, counts > 0


def stats(task: FusionTask, params: FitfcParams, classes: np.ndarray | None = None) -> FitfcStats:
    """The coarse-pixel regressions and residuals (image-wide, computed once)."""
    if classes is not None:
        raise InvalidParameterError("fitfc does not use a class map; run it without classes")
    _check(task)
    scale = scale_of(task, params)
    pair = task.pairs[0]
    nb = pair.fine.count
    if params.similarity_bands is not None and max(params.similarity_bands) >= nb:
        raise InvalidParameterError(
            f"fitfc: similarity_bands {params.similarity_bands} refers to a band beyond the {nb} bands of the "
            "images; band indices start at 0"
        )
    c1, v1 = block_means(pair.coarse.data, pair.coarse.mask, scale)
    c2, v2 = block_means(task.target.data, task.target.mask, scale)
    valid = v1 & v2
    if not valid.any():
        raise NoDataError(
            "fitfc: no coarse pixel is valid at both the pair date and the target date; check the coarse masks"
        )
    a, b, resid = np.empty_like(c1), np.empty_like(c1), np.empty_like(c1)
    resid_valid = np.empty(valid.shape, bool)
    coarse_regression(c1, c2, valid, int(params.rm_radius), a, b, resid, resid_valid)
    bands = np.arange(nb) if params.similarity_bands is None else np.asarray(params.similarity_bands)
    return FitfcStats(scale, a, b, resid, resid_valid, bands.astype(np.int64))


def offsets(half_window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window offsets (dy, dx) ordered by distance, then row, then column (the centre first), and
    their spatial weights ``1/(1 + dist/A)``, ``A = (2w+1)/2``."""
    w = half_window
    dy, dx = (g.ravel() for g in np.mgrid[-w : w + 1, -w : w + 1])
    order = np.lexsort((dx, dy, dy * dy + dx * dx))
    dy, dx = dy[order].astype(np.int64), dx[order].astype(np.int64)
    dist = np.sqrt((dy * dy + dx * dx).astype(np.float64))
    return dy, dx, 1.0 / (1.0 + dist / ((2 * w + 1) / 2.0))


def _strips(rows: int, workers: int) -> list[tuple[int, int]]:
    step = max(1, -(-rows // (4 * workers)))
    return [(r, min(rows, r + step)) for r in range(0, rows, step)]


def _map(fn, strips: list[tuple[int, int]], workers: int) -> None:
    if workers <= 1 or len(strips) == 1:
        for s in strips:
            fn(s)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fn, strips))


def _run(block: Block, st: FitfcStats, params: FitfcParams, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit-FC on one block (rows spread over ``workers`` threads; the result does not depend on it)."""
    if block.fine.shape[0] != 1:
        raise ShapeMismatchError(f"fitfc takes exactly 1 pair, got {block.fine.shape[0]}")
    nb, rows, cols = block.target.shape
    if nb != st.a.shape[0]:
        raise ShapeMismatchError(f"fitfc: the block has {nb} bands but the statistics {st.a.shape[0]}")
    f1 = np.ascontiguousarray(np.moveaxis(block.fine[0], 0, -1), dtype=np.float32)
    valid = np.ascontiguousarray(block.fine_mask[0] & block.coarse_mask[0] & block.target_mask)
    feat = np.ascontiguousarray(block.fine[0][st.feature_bands], dtype=np.float32)
    change = params.filtering == "change"
    value = np.empty((rows, cols, nb))
    r0, c0 = int(block.origin[0]), int(block.origin[1])
    strips = _strips(rows, workers)
    _map(lambda s: rm_values(f1, valid, st.a, st.b, st.resid, st.resid_valid, st.scale, r0, c0, change,
                             s[0], s[1], value), strips, workers)
    dy, dx, dw = offsets(params.half_window)
    out = np.full((rows, cols, nb), np.nan, np.float32)
    ok = np.zeros((rows, cols), bool)
    _map(lambda s: spatial_filter(feat, valid, value, f1, change, dy, dx, dw, int(params.num_similar),
                                  s[0], s[1], out, ok), strips, workers)
    return np.ascontiguousarray(np.moveaxis(out, -1, 0)), ok


def predict_block(block: Block, stats: FitfcStats, params: FitfcParams) -> tuple[np.ndarray, np.ndarray]:
    """(data, mask) of one block (halo included); windows are clipped at the block edges."""
    return _run(block, stats, params, workers=1)


def predict(task: FusionTask, params: FitfcParams, classes: np.ndarray | None = None,
            threads: int | None = None) -> Scene:
    """Registry entry point: the whole task in memory, rows spread over ``threads`` threads
    (default: all cores)."""
    _check(task)
    st = stats(task, params, classes)
    workers = max(1, int(threads or os.cpu_count() or 1))
    data, mask = _run(Block.from_task(task), st, params, workers)
    if not mask.any():
        raise NoDataError(
            "fitfc: no pixel is valid in the fine image, the pair's coarse image and the target coarse image; "
            "check their masks and nodata"
        )
    return task.fine_grid.replace(data=np.where(mask, data, np.nan).astype(np.float32), mask=mask,
                                  date=task.target.date, name="")


def fitfc(
    task: FusionTask,
    *,
    rm_radius: int = 1,
    half_window: int = 20,
    num_similar: int = 20,
    similarity_bands: tuple[int, ...] | None = None,
    filtering: Literal["change", "prediction"] = "change",
    scale_factor: int | None = None,
    classes: np.ndarray | None = None,
    threads: int | None = None,
) -> Scene:
    """Fit-FC prediction of the fine image at the target date from one pair (Wang & Atkinson 2018,
    RSE 204:31-42; see the module docstring for the method and every difference from the paper
    and the MATLAB program, and `FitfcParams` for the parameters). ``filtering="prediction"`` is the
    paper's form; ``similarity_bands=(red, nir)`` the program's similarity. ``classes`` is not used
    (must be None); ``threads`` threads (default: all cores)."""
    params = FitfcParams(rm_radius=rm_radius, half_window=half_window, num_similar=num_similar,
                         similarity_bands=similarity_bands, filtering=filtering, scale_factor=scale_factor)
    return predict(task, params, classes=classes, threads=threads)
