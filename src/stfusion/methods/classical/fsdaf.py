"""FSDAF: flexible spatiotemporal data fusion.

Zhu, X., Helmer, E.H., Gao, F., Liu, D., Chen, J., Lefsky, M.A. (2016), "A flexible
spatiotemporal method for fusing satellite images with different resolutions", Remote Sensing
of Environment 172, 165-177. Faithful to X. Zhu's IDL program FSDAF.pro (updates up to
02/2019). One pair (F1, C1) and the coarse image C2 at the prediction date; coarse pixels are
``s x s`` blocks of the fine grid anchored at the top-left corner (``s = scale_factor`` or
``round(task.ratio)``; the last block row/column may be partial) whose values are block means.

Image-wide part (`stats`, computed once):

1. classes of F1: ISODATA (4-6 classes, 20 iterations, ≥ 200 pixels per class; see
   `stfusion.methods.classical.isodata`) or a user class map (``classes=``);
2. extremes of F1 clipped per band: values at or below the 0.01 % quantile (or below
   ``data_min``) are raised to the smallest value above it, values at or above the 99.99 %
   quantile (or above ``data_max``) lowered to the largest value below it;
3. class fractions f_c per coarse pixel (Eq. 1) and the temporal change of each class ΔF(c)
   by unmixing the coarse change ΔC = C2 - C1 (Eqs. 2-4): for each class the ``num_pure``
   coarse pixels with the highest fraction of it (fraction > 0.01), of which those whose ΔC
   lies within the [0.1, 0.9] quantiles (IDL ``VALUE_LOCATE`` quantiles) are stacked; bounded
   least squares without intercept, bounds ``min(ΔC) - std(ΔC)`` and ``max(ΔC) + std(ΔC)``
   over all coarse pixels;
4. temporal prediction F2_TP = F1 + ΔF(class) (Eq. 5) and the residual of each coarse pixel
   R = ΔC - mean(F2_TP - F1) (Eq. 9);
5. the thin-plate-spline prediction F2_SP of C2 from the coarse-pixel centres onto the fine
   grid (Eqs. 10-13; `stfusion.methods.classical.tps`);
6. residual distribution (Eqs. 14-20, as the program): homogeneity index HI = share of
   same-class pixels in the (2w+1)² window; per coarse pixel and band, e = F2_SP - F2_TP with
   the entries of the wrong sign (against R) set to 0, weight |e|·HI + |R|·(1 - HI) + 1e-6 DN,
   normalised to mean 1 in the coarse pixel, weights above 10 replaced by the mean and
   renormalised; ΔF = F2_TP + weight·R, clipped to [max(data_min, min(C2, F2_TP)),
   min(data_max, max(C2, F2_TP))], minus F1;
7. similar-pixel thresholds 2·std(F1)/number of classes per band.

Block part (`predict_block`, halo ``half_window``): for each pixel, the window's pixels whose
every band differs from the centre by less than the threshold are ranked by
``(S + 1e-5)·(10 + d/w)`` with S = Σ_b |F1(x) - F1(c)|/F1(c); the best ``num_similar``
(20) get weights ``1/((1 + d/w)(S + 1))`` and F2 = F1 + Σ weight·ΔF (Eqs. 21-24 with the
program's spectral term). A prediction outside [data_min, data_max] is replaced by
F1 + C2 - C1, clipped to the range.

Deliberate differences from FSDAF.pro:

- Image-wide statistics instead of the program's 30 x 30-coarse-pixel blocks (each with its
  own classes recoding, extreme clipping, unmixing, TPS and thresholds, and a one-coarse-pixel
  halo): results do not depend on a block layout and tiled output equals in-memory output.
  The similar-pixel threshold uses the image's number of classes (the program uses the count
  of the last block processed).
- ISODATA is our implementation of ENVI's documented algorithm with the program's parameters
  (ENVI's code is closed), so the classes differ somewhat from ENVI's.
- The bounded least squares is solved exactly (BVLS, `scipy.optimize.lsq_linear`); the program
  uses IDL ``CONSTRAINED_MIN`` (GRG) from the start 1/k. A class absent from the usable coarse
  pixels gets the fraction-weighted mean coarse change of the pixels holding it (the program
  would leave it at the start value 1/k DN). Purest pixels are ranked with a stable sort.
- The TPS is fitted on all coarse pixels of the image (local TPS tiles beyond 4900 coarse
  pixels) and evaluated exactly by FFT convolution, not per block.
- Partial coarse pixels at the right/bottom edge are used as coarse pixels (the program lumps
  them into coarse pixel 0).
- Masks: invalid pixels (fine, coarse or target mask False) are excluded from every statistic
  (class fractions, coarse means, quantiles, thresholds, HI counts); a coarse pixel with an
  invalid fine pixel is not used in the unmixing (the program's "background" rule), one with
  no valid coarse pixel at a date has no residual and its pixels are not similar pixels.
  Pixels invalid in F1, C1 or C2 are not predicted (masked, NaN); the program copies F1.
- A pixel identical to the centre is always similar (with a constant band the program's strict
  test admits none), and the relative difference divides by |F1(centre)| + 1e-12 (the program
  divides by F1 + 1e-8 DN, which goes negative for negative reflectance).
- Float64 arithmetic on reflectance; the output is float32 (the program truncates to the
  input's integer type). DN constants are converted: 1e-6 DN → 1e-10·data_max.

The public Python port (FSDAF.py) differs from the program in ways we do not follow: its
ISODATA ignores the min/max classes and the 200-pixel minimum (it runs with K = 6 and 10
pixels), it replaces the TPS by a multiquadric RBF and the bounded least squares by an
unconstrained OLS, and a misplaced bracket in its revision (``max([DN_min, F1] + C2 - C1)``)
lets negative predictions through.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core.block import Block
from ...core.errors import DTypeError, InvalidParameterError, NoDataError, RatioError, ShapeMismatchError
from ...core.params.fsdaf import FsdafParams
from ...core.scene import Scene
from ...core.task import FusionTask
from .fsdaf_kernel import fsdaf_rows
from .isodata import classify_image
from .tps import grid_surface

__all__ = ["FsdafStats", "fsdaf", "predict", "predict_block", "predict_series", "stats"]

PURE_MIN_FRACTION = 0.01
"""A coarse pixel is a candidate pure pixel of a class only if the class covers more than this."""
CLIP_QUANTILES = (0.0001, 0.9999)
"""Quantiles beyond which F1 values are treated as noise (the program's extreme correction)."""
WEIGHT_EPS = 1e-10
"""Added to the residual weights, times ``data_max``: the program's 1e-6 DN."""
MAX_WEIGHT = 10.0
"""Normalised residual weights above this are replaced by the mean weight."""
ISODATA_CHANGE = 0.05
ISODATA_MERGE = 0.05
ISODATA_SPLIT = 0.05
ISODATA_MERGE_PAIRS = 2
ISODATA_SPLIT_MULT = 1.0
"""The program's other ENVI ISODATA settings (distances and spreads as fractions of data_max)."""


@dataclass(frozen=True)
class FsdafStats:
    """Image-wide results of FSDAF's first steps.

    - ``scale``: coarse pixel size in fine pixels;
    - ``classes`` (rows, cols) int32: class of each fine pixel (0 .. k-1), -1 where F1 is invalid;
    - ``class_change`` (k, bands): unmixed temporal change of each class (ΔF(c, b));
    - ``residual`` (bands, coarse rows, coarse cols): R per coarse pixel (NaN where undefined);
    - ``change`` (bands, rows, cols) float32: distributed change ΔF of each fine pixel (NaN where
      undefined);
    - ``threshold`` (bands,): similar-pixel thresholds.
    """

    scale: int
    classes: np.ndarray
    class_change: np.ndarray
    residual: np.ndarray
    change: np.ndarray
    threshold: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(self.class_change.shape[0])


# ---------------------------------------------------------------------------------------------
# helpers


def _check(task: FusionTask) -> None:
    task.require_fine_grid("fsdaf")
    if len(task.pairs) != 1:
        raise ShapeMismatchError(f"fsdaf takes exactly 1 pair, got {len(task.pairs)}; give one fine/coarse pair")


def _scale(task: FusionTask, params: FsdafParams) -> int:
    if params.scale_factor is not None:
        return int(params.scale_factor)
    ratio = task.require_ratio("fsdaf")
    s = int(round(ratio))
    if s < 2:
        raise RatioError(f"fsdaf needs a coarse/fine ratio of at least 2, got {ratio:g}; check ratio=R or set scale_factor")
    return s


def _user_classes(classes: Any, valid: np.ndarray) -> np.ndarray:
    """A user class map recoded to 0 .. k-1 over the valid pixels (in increasing value order); -1 elsewhere."""
    arr = np.asarray(classes)
    if arr.shape != valid.shape:
        raise ShapeMismatchError(
            f"fsdaf: the class map is {arr.shape} but the fine image is {valid.shape}; give a (rows, cols) map on the fine grid"
        )
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise DTypeError(f"fsdaf: the class map must hold integers, got dtype {arr.dtype}; cast it (e.g. .astype(int))")
    out = np.full(valid.shape, -1, np.int32)
    _, inverse = np.unique(arr[valid], return_inverse=True)
    out[valid] = inverse.astype(np.int32)
    return out


def _locate(n: int, p: float) -> int:
    """IDL ``VALUE_LOCATE(FINDGEN(n + 1) / n, p)`` in float32: the largest i with i/n <= p."""
    fn, fp = np.float32(n), np.float32(p)
    i = min(n, max(0, int(np.floor(p * n))))
    while i < n and np.float32(i + 1) / fn <= fp:
        i += 1
    while i > 0 and np.float32(i) / fn > fp:
        i -= 1
    return i


def _clip_extremes(f1: np.ndarray, valid: np.ndarray, params: FsdafParams) -> np.ndarray:
    """F1 with per-band extremes replaced as the program does (valid pixels only; replacement
    values are values of F1, so the dtype is kept)."""
    out = np.array(f1)
    n = int(valid.sum())
    i_lo, i_hi = (_locate(n, p) for p in CLIP_QUANTILES)
    for b in range(out.shape[0]):
        band = out[b]
        vals = band[valid]
        srt = np.sort(vals)
        lo, hi = srt[min(i_lo, n - 1)], srt[min(i_hi, n - 1)]
        small = (vals <= lo) | (vals < params.data_min)
        keep = vals[~small]
        if keep.size:
            vals = np.where(small, keep.min(), vals)
        large = (vals >= hi) | (vals > params.data_max)
        keep = vals[~large]
        if keep.size:
            vals = np.where(large, keep.max(), vals)
        band[valid] = vals
    return out


class _Grid:
    """Coarse pixels as ``s x s`` blocks of the (padded) fine grid."""

    def __init__(self, shape: tuple[int, int], s: int) -> None:
        self.rows, self.cols = shape
        self.s = s
        self.gr, self.gc = -(-self.rows // s), -(-self.cols // s)
        self.prow, self.pcol = self.gr * s, self.gc * s

    def pad(self, a: np.ndarray, fill: Any = 0) -> np.ndarray:
        pad = [(0, 0)] * (a.ndim - 2) + [(0, self.prow - self.rows), (0, self.pcol - self.cols)]
        return np.pad(a, pad, constant_values=fill)

    def sum(self, a: np.ndarray) -> np.ndarray:
        """Block sums of a padded array (..., prow, pcol) → (..., gr, gc)."""
        shape = a.shape[:-2] + (self.gr, self.s, self.gc, self.s)
        return a.reshape(shape).sum(axis=(-3, -1))

    def expand(self, a: np.ndarray) -> np.ndarray:
        """Coarse values (..., gr, gc) repeated onto the padded fine grid (..., prow, pcol)."""
        return np.repeat(np.repeat(a, self.s, axis=-2), self.s, axis=-1)

    def centres(self, n: int, g: int) -> np.ndarray:
        """Mean fine row (or column) of the pixels of each block along an axis of length n."""
        i = np.arange(g)
        return (i * self.s + np.minimum((i + 1) * self.s, n) - 1) / 2.0


def _block_means(g: "_Grid", data: np.ndarray, valid: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per band, the mean of the valid pixels of each coarse pixel (NaN where none): (bands, gr, gc)."""
    out = np.empty((data.shape[0], g.gr, g.gc))
    pv = g.pad(valid, False)
    with np.errstate(invalid="ignore", divide="ignore"):
        for b in range(data.shape[0]):
            out[b] = g.sum(np.where(pv, g.pad(np.asarray(data[b], np.float64)), 0.0)) / count
    return out


def _homogeneity(labels: np.ndarray, w: int) -> np.ndarray:
    """HI: share of the valid pixels of the (2w+1)² window (truncated at the edges) of the centre's class."""
    rows, cols = labels.shape
    valid = labels >= 0
    r = np.arange(rows)
    c = np.arange(cols)
    r_lo, r_hi = np.maximum(r - w, 0)[:, None], np.minimum(r + w + 1, rows)[:, None]
    c_lo, c_hi = np.maximum(c - w, 0)[None, :], np.minimum(c + w + 1, cols)[None, :]

    def box(ind: np.ndarray) -> np.ndarray:
        s = np.zeros((rows + 1, cols + 1), np.int64)
        s[1:, 1:] = ind.cumsum(axis=0).cumsum(axis=1)
        return s[r_hi, c_hi] - s[r_lo, c_hi] - s[r_hi, c_lo] + s[r_lo, c_lo]

    total = box(valid.astype(np.int64))
    same = np.zeros((rows, cols), np.int64)
    for k in range(int(labels.max()) + 1):
        ind = labels == k
        same[ind] = box(ind.astype(np.int64))[ind]
    return np.where(valid, same / np.maximum(total, 1), 0.0)


def _unmix(frac: np.ndarray, usable: np.ndarray, change: np.ndarray, params: FsdafParams) -> np.ndarray:
    """ΔF per class and band (k, bands) by bounded least squares on the purest coarse pixels.

    ``frac`` (k, gr, gc) class fractions over the valid fine pixels; ``usable`` (gr, gc) coarse
    pixels whose fine pixels are all valid and whose change is defined; ``change`` (bands, gr, gc)
    coarse change ΔC (NaN where undefined).
    """
    from scipy.optimize import lsq_linear

    k = frac.shape[0]
    nb = change.shape[0]
    defined = np.isfinite(change[0])
    dc_all = change[:, defined]
    f_use = frac[:, usable]
    dc_use = change[:, usable]
    out = np.zeros((k, nb))
    # the purest usable coarse pixels of each class (stable: ties in scan order)
    pure = []
    for c in range(k):
        order = np.argsort(-f_use[c], kind="stable")
        n_pure = min(int((f_use[c] > PURE_MIN_FRACTION).sum()), params.num_pure)
        pure.append(order[:n_pure])
    present = frac.reshape(k, -1)[:, defined.ravel()]
    for b in range(nb):
        vals = dc_all[b]
        sd = float(vals.std(ddof=1)) if vals.size > 1 else 0.0
        lo, hi = float(vals.min()) - sd, float(vals.max()) + sd
        rows_x, rows_y = [], []
        for c in range(k):
            sel = pure[c]
            if sel.size == 0:
                continue
            ch = dc_use[b, sel]
            srt = np.sort(ch)
            q_lo = srt[min(_locate(sel.size, params.quantile_low), sel.size - 1)]
            q_hi = srt[min(_locate(sel.size, params.quantile_high), sel.size - 1)]
            keep = (ch >= q_lo) & (ch <= q_hi)
            rows_x.append(f_use[:, sel[keep]].T)
            rows_y.append(ch[keep])
        x = np.concatenate(rows_x) if rows_x else np.zeros((0, k))
        y = np.concatenate(rows_y) if rows_y else np.zeros(0)
        solved = (np.abs(x) > 0).any(axis=0)
        if hi - lo <= 0.0:
            out[:, b] = lo
            continue
        if solved.any():
            res = lsq_linear(x[:, solved], y, bounds=(lo, hi), method="bvls")
            out[solved, b] = np.clip(res.x, lo, hi)
        for c in np.flatnonzero(~solved):
            # a class without usable pure pixels: fraction-weighted mean change where it occurs
            wgt = present[c]
            mean = float((wgt * vals).sum() / wgt.sum()) if wgt.sum() > 0 else float(vals.mean())
            out[c, b] = min(max(mean, lo), hi)
    return out


# ---------------------------------------------------------------------------------------------
# the method


def _classify(f1: np.ndarray, valid: np.ndarray, params: FsdafParams) -> np.ndarray:
    """ISODATA classes of the fine pair image (step 1), with the reference program's settings."""
    return classify_image(
        f1, valid, min_classes=params.min_classes, max_classes=params.max_classes,
        iterations=params.isodata_iterations, min_pixels=params.isodata_min_pixels,
        change_threshold=ISODATA_CHANGE, merge_distance=ISODATA_MERGE * params.data_max,
        merge_pairs=ISODATA_MERGE_PAIRS, split_std=ISODATA_SPLIT * params.data_max,
        split_mult=ISODATA_SPLIT_MULT,
    )


def stats(task: FusionTask, params: FsdafParams, classes: Any = None) -> FsdafStats:
    """Classes, class changes, TPS, residual distribution and thresholds (image-wide, once)."""
    _check(task)
    s = _scale(task, params)
    pair = task.pairs[0]
    f1 = np.asarray(pair.fine.data, np.float32)
    nb, rows, cols = f1.shape
    vf = np.asarray(pair.fine.mask, bool)
    v1 = np.asarray(pair.coarse.mask, bool)
    v2 = np.asarray(task.target.mask, bool)
    if not vf.any():
        raise NoDataError("fsdaf: the fine image of the pair has no valid pixel; check its mask and nodata")
    if not (v1 & v2).any():
        raise NoDataError("fsdaf: no pixel is valid in both coarse images; check their masks and nodata")

    # 1. classes
    labels = _classify(f1, vf, params) if classes is None else _user_classes(classes, vf)
    k = int(labels.max()) + 1

    # 7. similar-pixel thresholds (unclipped F1, sample std as IDL STDDEV)
    threshold = np.zeros(nb)
    if vf.sum() > 1:
        for b in range(nb):
            threshold[b] = np.asarray(f1[b][vf], np.float64).std(ddof=1) * 2.0 / k

    # 2. extremes
    clip = _clip_extremes(f1, vf, params)

    # coarse pixels: block means over the valid pixels of each image
    g = _Grid((rows, cols), s)
    pf, p1, p2 = g.pad(vf, False), g.pad(v1, False), g.pad(v2, False)
    n_f, n_1, n_2 = g.sum(pf.astype(np.int64)), g.sum(p1.astype(np.int64)), g.sum(p2.astype(np.int64))
    n_all = g.sum(g.pad(np.ones((rows, cols), np.int64)))
    c1m = _block_means(g, np.asarray(pair.coarse.data), v1, n_1)
    c2m = _block_means(g, np.asarray(task.target.data), v2, n_2)
    dc = c2m - c1m  # NaN where a date has no valid pixel in the coarse pixel

    # 3. fractions and unmixing
    plab = g.pad(labels, -1)
    counts = np.stack([g.sum((plab == c).astype(np.int64)) for c in range(k)])
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(n_f > 0, counts / np.maximum(n_f, 1), 0.0)
    usable = (n_f == n_all) & np.isfinite(dc[0])
    class_change = _unmix(frac, usable, dc, params)

    # 4. temporal prediction and residual per coarse pixel
    lab0 = np.maximum(labels, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = np.einsum("kij,kb->bij", counts.astype(np.float64), class_change) / n_f
    residual = np.where(n_f > 0, dc - predicted, np.nan)

    # bounds of the prediction at t2
    lo_allow = np.empty(nb)
    hi_allow = np.empty(nb)
    lab_valid = labels[vf]
    for b in range(nb):
        c2b = np.asarray(task.target.data[b])[v2]
        tp = clip[b][vf] + class_change[lab_valid, b]
        lo_allow[b] = max(min(float(c2b.min()), tp.min()), params.data_min)
        hi_allow[b] = min(max(float(c2b.max()), tp.max()), params.data_max)
    del lab_valid, c2b, tp

    # 5. TPS of the coarse image at t2
    nodes = np.where(n_2 > 0, c2m, np.nan)
    tps = grid_surface(nodes, g.centres(rows, g.gr), g.centres(cols, g.gc), (rows, cols), float(s), np.float32)

    # 6. residual distribution
    hi_index = g.pad(_homogeneity(labels, params.half_window))
    eps = WEIGHT_EPS * params.data_max
    change = np.full((nb, rows, cols), np.nan, np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        for b in range(nb):
            tp = clip[b] + class_change[lab0, b]  # float64
            r_px = g.expand(residual[b])
            e = g.pad(tps[b] - tp)
            e = np.abs(np.where(r_px <= 0, np.minimum(e, 0.0), np.maximum(e, 0.0)))
            wgt = np.where(pf, e * hi_index + np.abs(r_px) * (1.0 - hi_index) + eps, 0.0)
            wgt = wgt / g.expand(g.sum(wgt) / n_f)
            wgt = np.where(pf, wgt, 0.0)
            mean = g.expand(g.sum(wgt) / n_f)
            wgt = np.where(wgt > MAX_WEIGHT, mean, wgt)
            wgt = wgt / g.expand(g.sum(wgt) / n_f)
            fine2 = tp + (wgt * r_px)[:rows, :cols]
            fine2 = np.clip(fine2, lo_allow[b], hi_allow[b])
            ok = vf & np.isfinite(fine2)
            change[b][ok] = (fine2 - clip[b])[ok]
    return FsdafStats(scale=s, classes=labels, class_change=class_change, residual=residual,
                      change=change, threshold=threshold)


def _run(f1: np.ndarray, fine_mask: np.ndarray, c1: np.ndarray, coarse_mask: np.ndarray, c2: np.ndarray,
         target_mask: np.ndarray, origin: tuple[int, int], st: FsdafStats, params: FsdafParams,
         threads: int) -> tuple[np.ndarray, np.ndarray]:
    """The final weighting on one block (pair-free arrays: (bands, rows, cols) images, (rows, cols)
    masks), its rows split over ``threads`` threads (the result does not depend on it)."""
    nb, rows, cols = f1.shape
    r0, c0 = origin
    change = np.ascontiguousarray(st.change[:, r0 : r0 + rows, c0 : c0 + cols])
    cand = np.ascontiguousarray(fine_mask & np.isfinite(change).all(axis=0))
    centre_ok = np.ascontiguousarray(cand & coarse_mask & target_mask)
    out = np.full((nb, rows, cols), np.nan, np.float32)
    ok = np.zeros((rows, cols), bool)
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731 (no copy when already so)
    args = (f32(f1), change, f32(c1), f32(c2), cand, centre_ok, np.ascontiguousarray(st.threshold, np.float64),
            int(params.half_window), int(params.num_similar), float(params.data_min), float(params.data_max))

    def strip(r: tuple[int, int]) -> None:
        fsdaf_rows(*args, r[0], r[1], out, ok)

    step = max(1, -(-rows // (8 * threads)))
    strips = [(r, min(rows, r + step)) for r in range(0, rows, step)]
    if threads <= 1 or len(strips) == 1:
        strip((0, rows))
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(strip, strips))
    return out, ok


def predict_block(block: Block, stats: FsdafStats, params: FsdafParams) -> tuple[np.ndarray, np.ndarray]:
    """(data, mask) of one block (one thread); windows are truncated at the block edges."""
    if block.fine.shape[0] != 1:
        raise ShapeMismatchError(f"fsdaf takes exactly 1 pair, got {block.fine.shape[0]}")
    return _run(block.fine[0], block.fine_mask[0], block.coarse[0], block.coarse_mask[0], block.target,
                block.target_mask, block.origin, stats, params, threads=1)


def predict(task: FusionTask, params: FsdafParams, classes: Any = None, threads: int | None = None) -> Scene:
    """Registry entry point: the whole task in memory, row strips on ``threads`` threads (default: all cores)."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise InvalidParameterError(f"fsdaf: threads must be a positive integer, got {threads!r}")
    st = stats(task, params, classes)
    pair = task.pairs[0]
    data, mask = _run(np.asarray(pair.fine.data), np.asarray(pair.fine.mask), np.asarray(pair.coarse.data),
                      np.asarray(pair.coarse.mask), np.asarray(task.target.data), np.asarray(task.target.mask),
                      (0, 0), st, params, threads or os.cpu_count() or 1)
    if not mask.any():
        raise NoDataError(
            "fsdaf: no pixel could be predicted (none is valid in the fine, coarse and target images "
            "with a valid coarse pixel around it); check the masks and nodata"
        )
    return task.fine_grid.replace(data=data, mask=mask, date=task.target.date, name="")


def predict_series(tasks: list[FusionTask], params: FsdafParams, classes: Any = None) -> list[Scene]:
    """Series entry point (tasks sharing their pair): the ISODATA classes are computed once and
    reused as the class map of every target."""
    if classes is None:
        _check(tasks[0])
        pair = tasks[0].pairs[0]
        valid = np.asarray(pair.fine.mask, bool)
        if not valid.any():
            raise NoDataError("fsdaf: the fine image of the pair has no valid pixel; check its mask and nodata")
        classes = _classify(np.asarray(pair.fine.data, np.float32), valid, params)
    return [predict(t, params, classes) for t in tasks]


def fsdaf(
    task: FusionTask,
    *,
    half_window: int = 20,
    num_similar: int = 20,
    min_classes: int = 4,
    max_classes: int = 6,
    isodata_iterations: int = 20,
    isodata_min_pixels: int = 200,
    num_pure: int = 100,
    quantile_low: float = 0.1,
    quantile_high: float = 0.9,
    data_min: float = 0.0,
    data_max: float = 1.0,
    scale_factor: int | None = None,
    classes: Any = None,
    threads: int | None = None,
) -> Scene:
    """FSDAF prediction (Zhu, Helmer, Gao, Liu, Chen & Lefsky 2016, Remote Sensing of Environment
    172:165-177) of the fine image at the target date from one pair, as X. Zhu's FSDAF.pro.

    Parameters as in `stfusion.core.params.fsdaf.FsdafParams` (the program's defaults);
    ``classes`` an optional (rows, cols) integer class map of the fine image (replaces ISODATA,
    as FSDAF_preclassification.pro); ``threads`` defaults to all cores.

    Deliberate differences from FSDAF.pro (details in the module docstring): image-wide
    statistics instead of 30 x 30-coarse-pixel blocks; our ISODATA after ENVI's documented
    algorithm; exact bounded least squares (BVLS) instead of CONSTRAINED_MIN; one TPS for the
    image evaluated exactly by FFT (local tiles beyond 4900 coarse pixels); partial edge coarse
    pixels kept; masks instead of a background value, unpredictable pixels masked; a pixel
    identical to the centre always similar and |F1| in the relative difference; float64 on
    reflectance with float32 output. Unlike the public Python port: ISODATA with the given
    parameters, a true TPS, bounded unmixing, and no negative predictions from its misplaced
    bracket.
    """
    params = FsdafParams(half_window=half_window, num_similar=num_similar, min_classes=min_classes,
                         max_classes=max_classes, isodata_iterations=isodata_iterations,
                         isodata_min_pixels=isodata_min_pixels, num_pure=num_pure, quantile_low=quantile_low,
                         quantile_high=quantile_high, data_min=data_min, data_max=data_max,
                         scale_factor=scale_factor)
    return predict(task, params, classes, threads)
