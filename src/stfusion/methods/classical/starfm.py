"""STARFM: spatial and temporal adaptive reflectance fusion model (Gao, Masek, Schwaller & Hall 2006,
IEEE TGRS 44(8):2207-2218), faithful to the USDA C program v1.2.1.

For each fine pixel, the pixels of a moving window that are spectrally similar to the centre
in a pair's fine image (|L(x) - L(c)| < 2 std(L) / NUM_SLICE_PURE_TEST, or the same class of a
class map) and pass the sample filter predict it: L = sum W (L + M_target - M) (Eq. 5). As in
the program:

- filter (Eqs. 15-16): a candidate is rejected only if it fails both |M - L| <= min S_c + s_lm
  and |M - M_target| <= min T_c + s_mm (minimum over pairs of the centre's S and T,
  s_lm = sqrt(s_l^2 + s_m^2), s_mm = sqrt(2) s_m); ``filter_rule="paper"`` requires both,
  with "<" and the maximum over pairs;
- weight (Eqs. 8-12): 1 / ((S+1)(T+1) D), S and T in DN (1 DN = 1 / scale_factor),
  D = 1 + d / search_distance, T only with two or more pairs, and weight 1 when
  (S+1)(T+1) < sqrt(s_lm^2 + s_mm^2); ``weighting="logistic"`` is Eq. 11 with B = scale_factor
  (candidates of cost 0 share all the weight);
- similarity on the band being predicted (the paper used red and NIR).

``compat="gao"`` reproduces the program: integer DN, the program's truncations (see
`starfm_stats`), its even window W = (int)(2 MAX_SEARCH_DISTANCE / RESOLUTION) with offsets
-W/2 .. W-1-W/2, strict similarity test, output range test and (int)(x + 0.5) rounding.

Deliberate differences from the C program (also in docs/methods/starfm.md):

1. Default mode works in float reflectance with a symmetric (2h+1)-pixel window,
   h = floor(search_distance / pixel size), instead of the program's even window whose centre
   lies off the pixel grid, and without integer truncation of thresholds and output (the
   program's (int)(x + 0.5) also rounds negative values toward zero; compat="gao" keeps it).
2. Default mode applies the paper's zero-difference rule (``copy_on_zero_diff``): where the
   centre's coarse value did not change (T = 0) the fine value is returned, else where fine
   equals coarse (S = 0) the target coarse value. The program has no such rule.
3. Default mode: a pixel identical to the centre is always similar (the program admits none
   when a band is constant: its threshold rounds to 0 and its test is strict).
4. Masks: the program crashes when given a coarse mask file and never reads the target mask.
   Here every mask is honoured: invalid pixels are never candidates, a pair whose fine centre
   is invalid contributes no candidates, the filter references use the pairs whose fine and
   coarse centres are valid, and the prediction is masked where the target is invalid.
5. A candidate whose target coarse value is invalid is skipped (the program then uses its
   fill value as the coarse change).
6. No prediction (no valid candidate, or outside the data range) is masked, not filled.

Class maps (the program's IN_PAIR_CLASSIFICATION_MAP) are passed as arrays, ``classes=``,
to `starfm`, `starfm_series` and `stats`; they are not scalar parameters.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np

from ...core.block import Block
from ...core.errors import InvalidParameterError, NoDataError, ShapeMismatchError
from ...core.params.starfm import StarfmParams
from ...core.registry import get_spec
from ...core.scene import Scene
from ...core.task import FusionTask, Pair
from .starfm_kernel import LOGISTIC, starfm_rows
from .starfm_stats import StarfmStats, stats, to_units

__all__ = ["StarfmStats", "predict", "predict_block", "predict_series", "starfm", "starfm_series", "stats"]

_NAN = np.float32(np.nan)


def _bounds(st: StarfmStats) -> tuple[float, float]:
    """The data range in kernel units, infinite where not given."""
    return -np.inf if st.vmin is None else st.vmin, np.inf if st.vmax is None else st.vmax


def _prepare(images: Sequence[np.ndarray], masks: Sequence[np.ndarray], band: int, st: StarfmStats,
             params: StarfmParams) -> tuple[np.ndarray, np.ndarray]:
    """One band of several images in kernel units: (centre values, candidate values), (n, rows, cols).

    Centre values are NaN where masked; candidate values also outside the data range (inclusive
    bounds, as the program). Without a range (or without the spatial search) both are one array.
    """
    ref = np.empty((len(images), *masks[0].shape), np.float32)
    for n, (img, m) in enumerate(zip(images, masks)):
        ref[n] = np.where(m, to_units(img[band], st.gao, params.scale_factor), _NAN)
    if (st.vmin is None and st.vmax is None) or not params.use_spatial:
        return ref, ref
    lo, hi = _bounds(st)
    with np.errstate(invalid="ignore"):
        return ref, np.where((ref < lo) | (ref > hi), _NAN, ref)


def _keys(lref: np.ndarray, lcand: np.ndarray, classes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Similarity keys: the fine values, or the class codes (NaN where the fine value is NaN)."""
    if classes is None:
        return lref, lcand
    c = classes.astype(np.float32)
    return np.where(np.isnan(lref), _NAN, c), np.where(np.isnan(lcand), _NAN, c)


def _thresholds(st: StarfmStats, band: int, params: StarfmParams, use_classes: bool) -> np.ndarray:
    """Per-pair similarity thresholds of one band, in key units."""
    n = st.slices.shape[0]
    if not params.use_spatial:
        return np.full(n, np.inf, np.float32)
    if use_classes:
        return np.full(n, 0.5, np.float32)
    slc = st.slices[:, band].astype(np.float32)
    return slc if st.gao else np.maximum(slc, np.finfo(np.float32).tiny)


def _band_args(fine: Sequence[np.ndarray], fine_mask: Sequence[np.ndarray], coarse: Sequence[np.ndarray],
               coarse_mask: Sequence[np.ndarray], targets: Sequence[np.ndarray],
               target_masks: Sequence[np.ndarray], classes: np.ndarray | None, st: StarfmStats,
               params: StarfmParams, band: int) -> tuple:
    """The kernel's arguments for one band (all but the row range and the output)."""
    f32 = np.float32
    lref, lcand = _prepare(fine, fine_mask, band, st, params)
    return (lref, lcand, *_prepare(coarse, coarse_mask, band, st, params),
            *_prepare(targets, target_masks, band, st, params), *_keys(lref, lcand, classes),
            _thresholds(st, band, params, classes is not None), st.lo, st.hi, st.dscale, f32(st.ie), f32(st.u_lsr),
            f32(st.u_msr), f32(st.u_comb), st.cap, LOGISTIC if params.weighting == "logistic" else 0,
            params.filter_rule == "paper", st.copy_zero)


def _run(fine: Sequence[np.ndarray], fine_mask: Sequence[np.ndarray], coarse: Sequence[np.ndarray],
         coarse_mask: Sequence[np.ndarray], targets: Sequence[np.ndarray], target_masks: Sequence[np.ndarray],
         classes: np.ndarray | None, st: StarfmStats, params: StarfmParams,
         threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Predict every target from the pairs; images are (bands, rows, cols), one per pair or target.

    With several threads, row strips of each band run on a pool while this thread prepares the
    next band (at most two bands in flight). Returns data (targets, bands, rows, cols) float32,
    NaN where invalid, and mask (targets, rows, cols).
    """
    bands, rows, cols = fine[0].shape
    data = np.empty((len(targets), bands, rows, cols), np.float32)
    mask = np.ones((len(targets), rows, cols), bool)
    lo, hi = _bounds(st)

    def finish(band: int, out: np.ndarray) -> None:
        with np.errstate(invalid="ignore"):
            mask[...] &= (out > lo) & (out < hi)
        data[:, band] = np.trunc(out + 0.5) / params.scale_factor if st.gao else out

    inputs = (fine, fine_mask, coarse, coarse_mask, targets, target_masks, classes, st, params)
    if threads == 1:
        for b in range(bands):
            out = np.empty((len(targets), rows, cols))
            starfm_rows(*_band_args(*inputs, b), 0, rows, out)
            finish(b, out)
    else:
        step = max(1, -(-rows // (8 * threads)))
        with ThreadPoolExecutor(threads) as pool:
            in_flight: list[tuple[int, np.ndarray, list]] = []
            for b in range(bands):
                args, out = _band_args(*inputs, b), np.empty((len(targets), rows, cols))
                jobs = [pool.submit(starfm_rows, *args, r, min(rows, r + step), out) for r in range(0, rows, step)]
                in_flight.append((b, out, jobs))
                while len(in_flight) > 1 or (b == bands - 1 and in_flight):
                    done_band, done_out, done_jobs = in_flight.pop(0)
                    for job in done_jobs:
                        job.result()
                    finish(done_band, done_out)
    for d, m in zip(data, mask):
        d[:, ~m] = np.nan
    return data, mask


def _block_classes(block: Block, st: StarfmStats) -> np.ndarray | None:
    if st.classes is None:
        return None
    r0, c0 = block.origin
    rows, cols = block.target_mask.shape
    return np.ascontiguousarray(st.classes[:, r0 : r0 + rows, c0 : c0 + cols])


def predict_block(block: Block, stats: StarfmStats, params: StarfmParams) -> tuple[np.ndarray, np.ndarray]:
    """(data, mask) of one block, on one thread (runners parallelise over blocks)."""
    data, mask = _run(block.fine, block.fine_mask, block.coarse, block.coarse_mask, [block.target],
                      [block.target_mask], _block_classes(block, stats), stats, params, threads=1)
    return data[0], mask[0]


def _predict_many(tasks: list[FusionTask], params: StarfmParams, classes: Any, threads: int | None) -> list[Scene]:
    """Tasks sharing their pairs: statistics computed once, every target predicted in the same pass."""
    if threads is not None and threads < 1:
        raise InvalidParameterError(f"starfm: threads must be >= 1, got {threads}")
    st = stats(tasks[0], params, classes)
    pairs = tasks[0].pairs
    data, mask = _run([np.asarray(p.fine.data) for p in pairs], [np.asarray(p.fine.mask) for p in pairs],
                      [np.asarray(p.coarse.data) for p in pairs], [np.asarray(p.coarse.mask) for p in pairs],
                      [np.asarray(t.target.data) for t in tasks], [np.asarray(t.target.mask) for t in tasks],
                      st.classes, st, params, threads=threads if threads is not None else os.cpu_count() or 1)
    for t, m in zip(tasks, mask):
        if not m.any():
            raise NoDataError(
                f"starfm predicted no pixel for target {t.target.label}: no valid target pixel has similar valid "
                "pixels in the pairs; check the masks and valid_min/valid_max"
            )
    return [t.fine_grid.replace(data=d, mask=m, date=t.target.date, name="") for t, d, m in zip(tasks, data, mask)]


def predict_series(tasks: list[FusionTask], params: StarfmParams, classes: Any = None) -> list[Scene]:
    """Series entry point (tasks sharing their pairs): statistics once, all targets in one pass."""
    return _predict_many(tasks, params, classes, None)


def predict(task: FusionTask, params: StarfmParams, classes: Any = None, threads: int | None = None) -> Scene:
    """Registry entry point: the whole task in memory, row strips on ``threads`` threads (all cores)."""
    return _predict_many([task], params, classes, threads)[0]


def starfm(
    task: FusionTask,
    *,
    search_distance: float = 750.0,
    num_slice_pure_test: int = 40,
    fine_uncertainty: float = 0.005,
    coarse_uncertainty: float = 0.005,
    use_spatial: bool = True,
    resolution: float | None = None,
    weighting: str = "program",
    filter_rule: str = "program",
    copy_on_zero_diff: bool | None = None,
    valid_min: float | None = None,
    valid_max: float | None = None,
    scale_factor: float = 10000.0,
    compat: str = "none",
    classes: Any = None,
    threads: int | None = None,
) -> Scene:
    """The STARFM prediction of the fine image at ``task.target``'s date.

    Parameters as in `stfusion.core.params.starfm.StarfmParams`; ``classes`` is an optional
    integer class map (rows, cols) or (pairs, rows, cols); ``threads`` defaults to all cores.
    """
    params = get_spec("starfm").make_params(dict(
        search_distance=search_distance, num_slice_pure_test=num_slice_pure_test,
        fine_uncertainty=fine_uncertainty, coarse_uncertainty=coarse_uncertainty, use_spatial=use_spatial,
        resolution=resolution, weighting=weighting, filter_rule=filter_rule, copy_on_zero_diff=copy_on_zero_diff,
        valid_min=valid_min, valid_max=valid_max, scale_factor=scale_factor, compat=compat))
    return predict(task, params, classes, threads)


def starfm_series(pairs: Sequence[Pair], targets: Sequence[Scene], *, ratio: float | None = None,
                  classes: Any = None, threads: int | None = None, **params: Any) -> list[Scene]:
    """STARFM for several target dates from the same pairs, as the program's multi-date runs:
    the pair statistics are computed once and every target is predicted in one window pass.
    Keyword parameters as in `starfm`; returns one `Scene` per target, in order."""
    if not targets:
        raise ShapeMismatchError("starfm_series needs at least one target coarse image; give targets=[...]")
    tasks = [FusionTask(pairs, t, ratio=ratio) for t in targets]
    return _predict_many(tasks, get_spec("starfm").make_params(params), classes, threads)
