"""ESTARFM: enhanced spatial and temporal adaptive reflectance fusion model.

Zhu, X., Chen, J., Gao, F., Chen, X., Masek, J.G. (2010), Remote Sensing of Environment 114,
2610-2623. Faithful to X. Zhu's IDL program ESTARFM.pro (debug history up to 7/27/2018) and, with
``num_similar=20``, to ESTARFM_FAST.pro. Two pairs (t1, t2) and the coarse image at tp; for each
pixel and its (2w+1)² window:

1. similar pixels: valid pixels whose every band of both fine images differs from the centre's
   by less than ``2·std/num_classes`` (Eq. 13, intersection over both dates);
2. weights ``1/((1 - R)·d + 1e-7)``, normalised (Eqs. 14-17); R is the correlation of the fine
   and coarse vectors over both dates and all bands, d = 1 + distance/w;
3. conversion coefficient V per band: slope of the regression of fine on coarse over the similar
   pixels of both dates, kept if the mean coarse change of the similar pixels is ≥ 0.02·data_max,
   the F-test gives p ≤ 0.05 and 0 < V ≤ 5; otherwise V = 1;
4. temporal weights from the window-mean coarse change of the valid pixels (Eq. 18), and
   F(tp) = T1·(F1 + Σ W·V·(C0 - C1)) + T2·(F2 + Σ W·V·(C0 - C2)) (Eqs. 12, 19);
5. a prediction ≤ data_min or ≥ data_max is revised to T1·Σ W·F1 + T2·Σ W·F2;
6. with 5 or fewer similar pixels: T1·(F1 + ΔC1) + T2·(F2 + ΔC2), ΔC the window-mean change.

Deliberate differences from ESTARFM.pro:

- Similar-pixel thresholds are image-wide by default (``stats_scope="image"``), so tiled output
  equals in-memory output; the program computes them per 500 x 500 block and truncates windows
  at block edges (``stats_scope="block"`` reproduces that, in memory only).
- The standard deviation (sample, N - 1, as IDL ``stddev``) is taken over each fine image's valid
  pixels; the program includes background pixels.
- Validity comes from the masks of all five images (the program tests a background value on
  band 1). Pixels that cannot be predicted are masked and NaN; the program writes 0.
- Arithmetic is float64 on reflectance (the program: float32 on DN, output truncated to the
  input type). Its ``0.01^5`` DN change offset is 1e-14 in reflectance.
- R is set to 0.5 whenever it is not finite, including the zero-variance and zero-sum cases where
  IDL float32 rounding decides the result.
- The F-test compares F with the 5 % critical value of F(1, 2n - 2) (SciPy), equivalent to the
  program's ``1 - f_pdf(F) ≤ 0.05``.
- With ``num_similar``, ties in similarity are broken by window order (IDL ``sort`` is unstable).
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...core.block import Block
from ...core.errors import InvalidParameterError, NoDataError, ShapeMismatchError
from ...core.params.estarfm import EstarfmParams
from ...core.scene import Scene
from ...core.task import FusionTask
from .estarfm_kernel import correlations, estarfm_rows

P_VALUE = 0.05
"""Significance level of the F-test on the conversion coefficient."""


@dataclass(frozen=True)
class EstarfmStats:
    """Image-wide statistics: ``threshold`` (2, bands) similar-pixel thresholds per pair and band;
    ``f_crit[df]`` the 5 % critical value of F(1, df)."""

    threshold: np.ndarray
    f_crit: np.ndarray


def _thresholds(fine: np.ndarray, fine_mask: np.ndarray, num_classes: float) -> np.ndarray:
    """``2·std/num_classes`` per pair and band over each fine image's valid pixels (sample std)."""
    out = np.zeros(fine.shape[:2])
    for k in range(fine.shape[0]):
        values = fine[k][:, fine_mask[k]].astype(np.float64)
        if values.shape[1] > 1:
            out[k] = values.std(axis=1, ddof=1) * 2.0 / num_classes
    return out


def _f_crit(half_window: int) -> np.ndarray:
    """5 % critical values of F(1, df) for every df the window allows (df = 2n - 2)."""
    from scipy.stats import f

    df = np.arange(2 * (2 * half_window + 1) ** 2 - 1, dtype=np.float64)
    crit = np.full(df.shape, np.inf)
    crit[1:] = f.isf(P_VALUE, 1, df[1:])
    return crit


def _check(task: FusionTask) -> None:
    task.require_fine_grid("estarfm")
    if len(task.pairs) != 2:
        raise ShapeMismatchError(f"estarfm takes exactly 2 pairs, got {len(task.pairs)}; give two fine/coarse pairs")


def stats(task: FusionTask, params: EstarfmParams) -> EstarfmStats:
    """The image-wide similar-pixel thresholds and the F-test table."""
    if params.stats_scope == "block":
        raise InvalidParameterError(
            "estarfm: stats_scope='block' reproduces the reference program's blocks and runs in memory only; "
            "run without chunk=N or use stats_scope=image"
        )
    _check(task)
    fine = np.stack([np.asarray(p.fine.data, np.float32) for p in task.pairs])
    mask = np.stack([np.asarray(p.fine.mask) for p in task.pairs])
    return EstarfmStats(_thresholds(fine, mask, params.num_classes), _f_crit(params.half_window))


def _pixels(block: Block) -> np.ndarray:
    """The block as one contiguous (rows, cols, 5·bands) float32 array: F1, F2, C1, C2, C0."""
    rows, cols = block.fine.shape[2:]
    stack = np.concatenate([block.fine.reshape(-1, rows, cols), block.coarse.reshape(-1, rows, cols), block.target])
    return np.ascontiguousarray(np.moveaxis(stack, 0, -1), dtype=np.float32)


def _run(block: Block, threshold: np.ndarray, f_crit: np.ndarray, params: EstarfmParams,
         threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Run the kernel on one block, its rows split over ``threads`` threads (results do not depend on it)."""
    if block.fine.shape[0] != 2:
        raise ShapeMismatchError(f"estarfm takes exactly 2 pairs, got {block.fine.shape[0]}")
    pix = _pixels(block)
    valid = np.ascontiguousarray(block.fine_mask.all(axis=0) & block.coarse_mask.all(axis=0) & block.target_mask)
    rows, cols = valid.shape
    bands = block.target.shape[0]
    corr = np.empty((rows, cols))
    correlations(pix, valid, bands, corr)
    out = np.full((rows, cols, bands), np.nan, np.float32)
    ok = np.zeros((rows, cols), bool)
    planes = np.ascontiguousarray(block.fine.reshape(-1, rows, cols), dtype=np.float32)
    args = (planes, pix, valid, corr, np.ascontiguousarray(threshold, np.float64).ravel(), f_crit,
            int(params.half_window), float(params.data_min), float(params.data_max), int(params.num_similar or 0))

    def strip(r: tuple[int, int]) -> None:
        estarfm_rows(*args, r[0], r[1], out, ok)

    step = max(1, -(-rows // (4 * threads)))
    strips = [(r, min(rows, r + step)) for r in range(0, rows, step)]
    if threads <= 1 or len(strips) == 1:
        strip((0, rows))
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(strip, strips))
    return np.ascontiguousarray(np.moveaxis(out, -1, 0)), ok


def predict_block(block: Block, stats: EstarfmStats, params: EstarfmParams) -> tuple[np.ndarray, np.ndarray]:
    """(data, mask) of one block; windows are truncated at the block edges."""
    if params.stats_scope == "block":
        raise InvalidParameterError("estarfm: stats_scope='block' runs in memory only; use stats_scope=image to tile")
    return _run(block, stats.threshold, stats.f_crit, params, threads=1)


def _predict_patches(block: Block, params: EstarfmParams, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference program's scheme: independent ``patch_size`` blocks, each with its own thresholds."""
    rows, cols = block.target.shape[1:]
    data = np.full(block.target.shape, np.nan, np.float32)
    mask = np.zeros((rows, cols), bool)
    f_crit = _f_crit(params.half_window)
    size = params.patch_size
    for r in range(0, rows, size):
        for c in range(0, cols, size):
            rs, cs = slice(r, min(rows, r + size)), slice(c, min(cols, c + size))
            sub = block.window(rs, cs)
            threshold = _thresholds(sub.fine, sub.fine_mask, params.num_classes)
            data[:, rs, cs], mask[rs, cs] = _run(sub, threshold, f_crit, params, threads)
    return data, mask


def _result(task: FusionTask, data: np.ndarray, mask: np.ndarray) -> Scene:
    if not mask.any():
        raise NoDataError(
            "estarfm: no pixel is valid in all five images (both pairs and the target); check their masks and nodata"
        )
    return task.fine_grid.replace(data=np.where(mask, data, np.nan).astype(np.float32), mask=mask,
                                  date=task.target.date, name="")


def predict(task: FusionTask, params: EstarfmParams, *, threads: int | None = None) -> Scene:
    """Registry entry point: the whole task in memory, rows spread over ``threads`` threads (default: all cores)."""
    _check(task)
    threads = max(1, int(threads or os.cpu_count() or 1))
    block = Block.from_task(task)
    if params.stats_scope == "block":
        data, mask = _predict_patches(block, params, threads)
    else:
        st = stats(task, params)
        data, mask = _run(block, st.threshold, st.f_crit, params, threads)
    return _result(task, data, mask)


def predict_series(tasks: list[FusionTask], params: EstarfmParams, classes: None = None) -> list[Scene]:
    """Series entry point (tasks sharing their pairs): the thresholds are computed once."""
    if params.stats_scope == "block":
        return [predict(t, params) for t in tasks]
    st = stats(tasks[0], params)
    threads = os.cpu_count() or 1
    out = []
    for task in tasks:
        _check(task)
        out.append(_result(task, *_run(Block.from_task(task), st.threshold, st.f_crit, params, threads)))
    return out


def estarfm(
    task: FusionTask,
    *,
    half_window: int = 25,
    num_classes: float = 4.0,
    data_min: float = 0.0,
    data_max: float = 1.0,
    num_similar: int | None = None,
    stats_scope: Literal["image", "block"] = "image",
    patch_size: int = 500,
    threads: int | None = None,
    workers: int | None = None,
) -> Scene:
    """ESTARFM prediction of the fine image at the target date from two pairs (see module docstring
    and `EstarfmParams`). ``num_similar=20`` is ESTARFM_FAST; ``threads``: threads (default: all
    cores). ``workers`` is the deprecated spelling of ``threads``."""
    if workers is not None:
        warnings.warn("estarfm: workers= is deprecated; use threads= (as the other methods)", FutureWarning,
                      stacklevel=2)
        threads = workers if threads is None else threads
    params = EstarfmParams(half_window=half_window, num_classes=num_classes, data_min=data_min,
                           data_max=data_max, num_similar=num_similar, stats_scope=stats_scope,
                           patch_size=patch_size)
    return predict(task, params, threads=threads)
