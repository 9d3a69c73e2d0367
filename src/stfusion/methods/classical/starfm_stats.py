"""STARFM statistics and constants, computed once per run (Gao et al. 2006; USDA C program v1.2.1).

The similar-pixel threshold of each pair and band is 2 std / NUM_SLICE_PURE_TEST, std over the
valid fine pixels of the whole image (strictly inside the data range when one is given), read in
fixed strips of rows so that streamed and in-memory runs agree bit for bit.
With ``compat="gao"`` every constant follows the program's integer rules: DN inputs, std
truncated to an integer, threshold ``(int)(std * 2.0 / N + 0.5)``, uncertainties truncated
(50 DN -> 70, 70, 98), D = 1 + d RESOLUTION / (int)MAX_SEARCH_DISTANCE, and the minimum of the
filter starting at the data range's maximum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core.errors import InvalidParameterError, ShapeMismatchError
from ...core.moments import Moments, strips
from ...core.params.starfm import StarfmParams, starfm_resolution, starfm_window
from ...core.task import FusionTask, Pair


@dataclass(frozen=True)
class StarfmStats:
    """Constants of one run in kernel units (reflectance, or DN with compat="gao").

    ``slices`` (pairs, bands): similar-pixel thresholds; ``lo``/``hi``: window offsets;
    ``dscale``: D = 1 + dscale * d (pixels); ``ie``: 1 / one DN; ``u_lsr``, ``u_msr``: filter
    uncertainties (Eqs. 15-16); ``u_comb``: the program's weight-1 shortcut; ``cap``: start of
    the filter's minimum; ``vmin``/``vmax``: data range or None; ``classes``: (pairs, rows,
    cols) int32 class maps or None.
    """

    slices: np.ndarray
    lo: int
    hi: int
    dscale: float
    ie: float
    u_lsr: float
    u_msr: float
    u_comb: float
    cap: float
    vmin: float | None
    vmax: float | None
    gao: bool
    copy_zero: bool
    classes: np.ndarray | None = None


def check_params(params: StarfmParams) -> None:
    """Raise `InvalidParameterError` for values the algorithm cannot use."""
    p = params
    if p.num_slice_pure_test < 1:
        raise InvalidParameterError(f"starfm: num_slice_pure_test must be >= 1, got {p.num_slice_pure_test}; e.g. 40")
    for name in ("fine_uncertainty", "coarse_uncertainty"):
        v = getattr(p, name)
        if not (math.isfinite(v) and v >= 0):
            raise InvalidParameterError(f"starfm: {name} must be a reflectance >= 0, got {v:g}; e.g. {name}=0.005")
    if not (math.isfinite(p.scale_factor) and p.scale_factor > 0):
        raise InvalidParameterError(
            f"starfm: scale_factor must be > 0 (DN per unit reflectance), got {p.scale_factor:g}; e.g. 10000"
        )
    if p.valid_min is not None and p.valid_max is not None and not p.valid_min < p.valid_max:
        raise InvalidParameterError(
            f"starfm: valid_min ({p.valid_min:g}) must be below valid_max ({p.valid_max:g}); e.g. -0.2 and 1.0"
        )
    if p.compat == "gao":
        conflicts = [f"{k}={v}" for k, v, ok in (
            ("weighting", p.weighting, p.weighting == "program"),
            ("filter_rule", p.filter_rule, p.filter_rule == "program"),
            ("copy_on_zero_diff", p.copy_on_zero_diff, not p.copy_on_zero_diff),
        ) if not ok]
        if conflicts:
            raise InvalidParameterError(
                f"starfm: compat=gao reproduces the C program, which has no {', '.join(conflicts)}; "
                "drop them or use compat=none"
            )


def to_units(x: np.ndarray, gao: bool, scale: float) -> np.ndarray:
    """Reflectance to kernel units: float32 reflectance, or integer DN as float32 with compat="gao"."""
    if gao:
        return np.round(x * np.float64(scale)).astype(np.float32)
    return np.asarray(x, dtype=np.float32)


def _band_stds(pair: Pair, gao: bool, scale: float, vmin: float | None, vmax: float | None) -> list[float]:
    """Population std of each band's valid fine values strictly inside (vmin, vmax), read in one
    pass of strips (`stfusion.core.moments`), so a Dask-backed scene is never loaded whole.

    With compat="gao" the program's one-pass formula on exact sums of DN; otherwise the strips'
    two-pass moments merged exactly.
    """
    lo, hi = -np.inf if vmin is None else vmin, np.inf if vmax is None else vmax
    bands = pair.fine.count
    sums = np.zeros((bands, 3))
    total = [Moments()] * bands
    for rows in strips(pair.fine.height):
        strip = to_units(np.asarray(pair.fine.data[:, rows]), gao, scale)
        mask = np.asarray(pair.fine.mask[rows])
        for b, x in enumerate(strip):
            v = x[mask & (x > lo) & (x < hi)].astype(np.float64)
            if gao:
                sums[b] += (v.size, np.sum(v), np.sum(v * v))
            else:
                total[b] = total[b].merge(Moments.of(v))
    if not gao:
        return [m.std for m in total]
    return [math.sqrt(max(s2 / n - (s / n) ** 2, 0.0)) if n else 0.0 for n, s, s2 in sums]


def _as_classes(classes: Any, npairs: int, shape: tuple[int, int]) -> np.ndarray:
    """A class map (rows, cols) or (pairs, rows, cols) as compact int32 codes (pairs, rows, cols)."""
    arr = np.asarray(classes)
    if arr.dtype.kind not in "iub":
        raise InvalidParameterError(f"starfm: classes must be an integer class map, got dtype {arr.dtype}")
    if arr.shape == shape:
        arr = np.broadcast_to(arr, (npairs, *shape))
    if arr.shape != (npairs, *shape):
        raise ShapeMismatchError(
            f"starfm: classes has shape {arr.shape}; give (rows, cols) = {shape} or (pairs, rows, cols)"
        )
    _, codes = np.unique(arr, return_inverse=True)
    return codes.reshape(arr.shape).astype(np.int32)


def stats(task: FusionTask, params: StarfmParams, classes: Any = None) -> StarfmStats:
    """The per-pair, per-band similar-pixel thresholds and the run's constants.

    ``classes``: optional integer class map (rows, cols) or (pairs, rows, cols); pixels of the
    centre's class are then the similar pixels (the program's IN_PAIR_CLASSIFICATION_MAP).
    """
    check_params(params)
    task.require_fine_grid("starfm")
    p = params
    gao = p.compat == "gao"
    res = starfm_resolution(p, task.fine_grid.resolution)
    lo, hi = starfm_window(p, res)
    vmin, vmax = (None if v is None else (float(round(v * p.scale_factor)) if gao else float(v))
                  for v in (p.valid_min, p.valid_max))
    slices = np.zeros((len(task.pairs), task.fine_grid.count), np.float32)
    n = p.num_slice_pure_test
    for ip, pair in enumerate(task.pairs):
        for b, std in enumerate(_band_stds(pair, gao, p.scale_factor, vmin, vmax)):
            slices[ip, b] = int(int(std) * 2.0 / n + 0.5) if gao else 2.0 * std / n
    if gao:
        sl, sm = round(p.fine_uncertainty * p.scale_factor), round(p.coarse_uncertainty * p.scale_factor)
        u_msr = float(int(math.sqrt(2 * sm * sm)))
        u_lsr = float(int(math.sqrt(sm * sm + sl * sl)))
        u_comb = float(int(math.sqrt(u_msr * u_msr + u_lsr * u_lsr)))
        ie, dscale = 1.0, res / int(p.search_distance)
        cap = np.inf if vmax is None else vmax
    else:
        u_msr = math.sqrt(2.0) * p.coarse_uncertainty
        u_lsr = math.hypot(p.coarse_uncertainty, p.fine_uncertainty)
        u_comb = math.hypot(u_msr, u_lsr) * p.scale_factor
        ie, dscale, cap = p.scale_factor, res / p.search_distance, np.inf
    cls = None if classes is None else _as_classes(classes, len(task.pairs), task.fine_grid.shape[1:])
    copy_zero = not gao if p.copy_on_zero_diff is None else p.copy_on_zero_diff
    return StarfmStats(slices, lo, hi, dscale, ie, u_lsr, u_msr, u_comb, float(cap), vmin, vmax, gao, copy_zero, cls)
