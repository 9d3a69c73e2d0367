"""Thin-plate spline (TPS) interpolation of coarse-pixel values onto the fine grid (FSDAF step 5).

The surface through n nodes p_i with values v_i is

    f(x) = a0 + a1·x_r + a2·x_c + Σ_i b_i φ(|x - p_i|),   φ(r) = r² log r,

with f(p_i) = v_i, Σ b_i = 0 and Σ b_i p_i = 0 (Eqs. 10-13 of Zhu et al. 2016; the exact
interpolating TPS that IDL ``MIN_CURVE_SURF(/TPS)`` computes). The (n + 3)-square symmetric
system is solved once for all bands (LAPACK, one thread so that the result does not depend on
the machine's thread count). Coordinates are centred and expressed in coarse pixels for the
conditioning; the interpolant does not depend on that scaling (a scaled φ differs by a term
Σ b_i r_i² that the side conditions turn into a constant).

Evaluation on the fine grid is exact and fast because the nodes (coarse-pixel centres) sit on
the fine grid or half-way between fine pixels: for the nodes of one parity class (row and
column offsets 0 or ½), the surface on the whole grid is the 2-D convolution of an image holding
b_i at the nodes' pixels with φ sampled at the (offset) pixel distances, done by FFT. A scene of
n fine pixels costs O(n log n) per band instead of n·nodes kernel evaluations.

Up to ``MAX_GLOBAL_NODES`` nodes one TPS is fitted to all of them (the 1000 x 1000 scene at
ratio 16 has 3969). Larger scenes use local TPS: the coarse grid is cut into tiles of
``TILE`` x ``TILE`` nodes, each tile's TPS is fitted on the tile plus ``MARGIN`` nodes on each
side and evaluated on the tile plus ``BLEND`` nodes on each side, and overlapping evaluations
are blended with linear ramps (weights summing to one), so there are no seams.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft
import scipy.linalg as sla
from numba import njit

__all__ = ["TpsFit", "fit", "evaluate", "grid_surface", "MAX_GLOBAL_NODES"]

MAX_GLOBAL_NODES = 4900
"""At most this many nodes are fitted by one global TPS (70 x 70 coarse pixels)."""
TILE = 32
"""Local TPS: tile size in nodes."""
MARGIN = 8
"""Local TPS: nodes fitted beyond each side of a tile."""
BLEND = 4
"""Local TPS: nodes over which neighbouring tiles' surfaces are blended, on each side."""


def _phi(r: np.ndarray) -> np.ndarray:
    """r² log r, with 0 at r = 0."""
    return _phi_sq(np.asarray(r, np.float64) ** 2)


@njit(nogil=True, cache=True)
def _phi_sq(d2):
    """r² log r from r² (½ r² log r²), with 0 at r = 0."""
    out = np.zeros_like(d2)
    flat = d2.ravel()
    res = out.ravel()
    for i in range(flat.size):
        if flat[i] > 0.0:
            res[i] = 0.5 * flat[i] * np.log(flat[i])
    return out


@njit(nogil=True, cache=True)
def _kernel_matrix(q, out):
    """``out[i, j]`` = φ(|q_i - q_j|) for the (n, 2) points ``q`` (symmetric; zero diagonal)."""
    n = q.shape[0]
    for i in range(n):
        out[i, i] = 0.0
        for j in range(i + 1, n):
            a = q[i, 0] - q[j, 0]
            b = q[i, 1] - q[j, 1]
            d2 = a * a + b * b
            v = 0.5 * d2 * np.log(d2) if d2 > 0.0 else 0.0
            out[i, j] = v
            out[j, i] = v


class TpsFit:
    """A fitted TPS: ``nodes`` (n, 2) fine-pixel (row, col), ``b`` (n, m) kernel weights and
    ``a`` (3, m) affine coefficients on coordinates ``(x - centre) / unit``."""

    def __init__(self, nodes: np.ndarray, b: np.ndarray, a: np.ndarray, centre: np.ndarray, unit: float) -> None:
        self.nodes, self.b, self.a, self.centre, self.unit = nodes, b, a, centre, unit


def fit(nodes: np.ndarray, values: np.ndarray, unit: float = 1.0) -> TpsFit:
    """The interpolating TPS through ``nodes`` (n, 2) with ``values`` (n, m) (m surfaces at once).

    With fewer than 3 nodes, or all nodes on one line, the minimum-norm least-squares solution
    of the system is used (a plane or a constant through the nodes)."""
    nodes = np.asarray(nodes, np.float64)
    values = np.asarray(values, np.float64)
    if values.ndim == 1:
        values = values[:, None]
    n, m = values.shape
    centre = nodes.mean(axis=0)
    q = np.ascontiguousarray((nodes - centre) / unit)

    def system() -> tuple[np.ndarray, np.ndarray]:
        a = np.zeros((n + 3, n + 3))
        _kernel_matrix(q, a[:n, :n])
        a[:n, n] = 1.0
        a[:n, n + 1 :] = q
        a[n, :n] = 1.0
        a[n + 1 :, :n] = q.T
        rhs = np.zeros((n + 3, m))
        rhs[:n] = values
        return a, rhs

    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        sol = None
        if n >= 3 and np.linalg.matrix_rank(np.c_[np.ones(n), q]) == 3:
            try:  # in place: the matrix is the largest object of the method
                sol = sla.solve(*system(), assume_a="sym", check_finite=False, overwrite_a=True, overwrite_b=True)
            except (sla.LinAlgError, ValueError):
                sol = None
            if sol is not None and not np.isfinite(sol).all():
                sol = None
        if sol is None:
            sol = sla.lstsq(*system(), check_finite=False)[0]
    return TpsFit(nodes, sol[:n], sol[n:], centre, unit)


def evaluate(model: TpsFit, points: np.ndarray) -> np.ndarray:
    """The surfaces at ``points`` (k, 2) fine-pixel (row, col), directly: (k, m). For tests and few points."""
    q = (np.asarray(points, np.float64) - model.centre) / model.unit
    qn = (model.nodes - model.centre) / model.unit
    d = np.sqrt(((q[:, None, :] - qn[None, :, :]) ** 2).sum(axis=2))
    return _phi(d) @ model.b + model.a[0] + q @ model.a[1:]


def _evaluate_grid(model: TpsFit, rows: tuple[int, int], cols: tuple[int, int], dtype=np.float64) -> np.ndarray:
    """The surfaces on the fine pixels ``rows[0] <= r < rows[1]``, ``cols[0] <= c < cols[1]``,
    by FFT convolution: (m, rows, cols) of ``dtype``. Node coordinates must be multiples of ½."""
    (r0, r1), (c0, c1) = rows, cols
    m = model.b.shape[1]
    twice = np.rint(model.nodes * 2).astype(np.int64)
    if not np.allclose(twice, model.nodes * 2):
        raise ValueError("grid evaluation needs node coordinates that are multiples of 1/2")
    nr, nc = r1 - r0, c1 - c0
    # node pixel: the node position rounded down to the fine grid; offset 0 or ½ per axis
    pix = (twice - twice % 2) // 2
    parity = (twice[:, 0] % 2) * 2 + (twice[:, 1] % 2)
    # one array geometry for every parity class, spanning the node pixels and the output
    ar0, ar1 = int(min(pix[:, 0].min(), r0)), int(max(pix[:, 0].max() + 1, r1))
    ac0, ac1 = int(min(pix[:, 1].min(), c0)), int(max(pix[:, 1].max() + 1, c1))
    la_r, la_c = ar1 - ar0, ac1 - ac0
    lk_r, lk_c = nr + la_r - 1, nc + la_c - 1  # kernel offsets dx = x - node pixel, r0 - (ar1 - 1) .. r1 - 1 - ar0
    shape = (sfft.next_fast_len(lk_r, real=True), sfft.next_fast_len(lk_c, real=True))
    groups = []
    for g in np.unique(parity):
        fr, fc = 0.5 * (g // 2), 0.5 * (g % 2)
        dr = (np.arange(lk_r) + (r0 - ar1 + 1) - fr) / model.unit
        dc = (np.arange(lk_c) + (c0 - ac1 + 1) - fc) / model.unit
        kern = np.zeros(shape)
        kern[:lk_r, :lk_c] = _phi_sq(dr[:, None] ** 2 + dc[None, :] ** 2)
        sel = parity == g
        groups.append((sel, pix[sel, 0] - ar0, pix[sel, 1] - ac0, sfft.rfft2(kern)))
        del kern
    out = np.empty((m, nr, nc), dtype)
    rr = (np.arange(r0, r1) - model.centre[0]) / model.unit
    cc = (np.arange(c0, c1) - model.centre[1]) / model.unit
    for band in range(m):
        spectrum = None
        for sel, ir, ic, kspec in groups:
            a = np.zeros(shape)
            np.add.at(a, (ir, ic), model.b[sel, band])
            prod = sfft.rfft2(a)
            prod *= kspec
            spectrum = prod if spectrum is None else spectrum + prod
        full = sfft.irfft2(spectrum, s=shape)
        del spectrum
        surf = full[la_r - 1 : la_r - 1 + nr, la_c - 1 : la_c - 1 + nc]
        surf += model.a[0, band] + model.a[1, band] * rr[:, None] + model.a[2, band] * cc[None, :]
        out[band] = surf
    return out


def _ramp(n: int, lo_blend: int, hi_blend: int) -> np.ndarray:
    """Weights along one axis of a tile's evaluation range: rising over ``lo_blend`` pixels,
    falling over ``hi_blend`` pixels, 1 in between (strictly positive)."""
    w = np.ones(n)
    if lo_blend:
        w[:lo_blend] = (np.arange(lo_blend) + 0.5) / lo_blend
    if hi_blend:
        w[n - hi_blend :] = np.minimum(w[n - hi_blend :], (np.arange(hi_blend)[::-1] + 0.5) / hi_blend)
    return w


def grid_surface(values: np.ndarray, row_centres: np.ndarray, col_centres: np.ndarray,
                 shape: tuple[int, int], unit: float, dtype=np.float64) -> np.ndarray:
    """TPS of node values on a tensor grid, evaluated on every fine pixel: (m, rows, cols) of ``dtype``
    (computed in float64).

    ``values`` (m, nodes_r, nodes_c) with NaN where a node is missing (left out of the fit);
    ``row_centres`` / ``col_centres`` the node coordinates in fine pixels (multiples of ½);
    ``unit`` the node spacing (coarse pixel size) used to scale coordinates.
    """
    values = np.asarray(values, np.float64)
    m, gr, gc = values.shape
    ok = np.isfinite(values).all(axis=0)
    if not ok.any():
        raise ValueError("no node with a value")
    rows, cols = shape
    if ok.sum() <= MAX_GLOBAL_NODES:
        return _fit_eval(values, ok, row_centres, col_centres, (0, gr), (0, gc), (0, rows), (0, cols), unit, dtype)
    out = np.zeros((m, rows, cols), dtype)
    weight = np.zeros((rows, cols))
    # fine-pixel limits of node index i: half-way between node centres (the grid edges outside)
    rlim = np.r_[0, np.floor((row_centres[:-1] + row_centres[1:]) / 2).astype(int) + 1, rows]
    clim = np.r_[0, np.floor((col_centres[:-1] + col_centres[1:]) / 2).astype(int) + 1, cols]
    tiles_r, tiles_c = _tiles(gr), _tiles(gc)
    for ti, (t0, t1) in enumerate(tiles_r):
        for ui, (u0, u1) in enumerate(tiles_c):
            e_r = (max(0, t0 - BLEND), min(gr, t1 + BLEND))
            e_c = (max(0, u0 - BLEND), min(gc, u1 + BLEND))
            margin = MARGIN
            while True:  # widen the fitting range of a tile without valid nodes until it has some
                f_r = (max(0, t0 - margin), min(gr, t1 + margin))
                f_c = (max(0, u0 - margin), min(gc, u1 + margin))
                if ok[f_r[0] : f_r[1], f_c[0] : f_c[1]].any():
                    break
                margin *= 2
            pr = (int(rlim[e_r[0]]), int(rlim[e_r[1]]))
            pc = (int(clim[e_c[0]]), int(clim[e_c[1]]))
            surf = _fit_eval(values, ok, row_centres, col_centres, f_r, f_c, pr, pc, unit)
            wr = _ramp(pr[1] - pr[0], int(rlim[t0 + BLEND] - rlim[t0 - BLEND]) if ti > 0 else 0,
                       int(rlim[t1 + BLEND] - rlim[t1 - BLEND]) if ti < len(tiles_r) - 1 else 0)
            wc = _ramp(pc[1] - pc[0], int(clim[u0 + BLEND] - clim[u0 - BLEND]) if ui > 0 else 0,
                       int(clim[u1 + BLEND] - clim[u1 - BLEND]) if ui < len(tiles_c) - 1 else 0)
            w2 = wr[:, None] * wc[None, :]
            out[:, pr[0] : pr[1], pc[0] : pc[1]] += surf * w2
            weight[pr[0] : pr[1], pc[0] : pc[1]] += w2
            del surf
    out /= weight
    return out


def _tiles(n: int) -> list[tuple[int, int]]:
    """Node ranges of the tiles along one axis: ``TILE`` nodes, the last one merged into its
    neighbour when shorter than ``TILE // 2`` (so every tile is longer than ``BLEND``)."""
    starts = list(range(0, n, TILE))
    if len(starts) > 1 and n - starts[-1] < TILE // 2:
        starts.pop()
    return [(s, starts[i + 1] if i + 1 < len(starts) else n) for i, s in enumerate(starts)]


def _fit_eval(values, ok, row_centres, col_centres, fr, fc, pr, pc, unit, dtype=np.float64):
    """Fit on the nodes ``ok`` within node ranges ``fr`` x ``fc``; evaluate on fine ranges ``pr`` x ``pc``."""
    sel = np.zeros_like(ok)
    sel[fr[0] : fr[1], fc[0] : fc[1]] = ok[fr[0] : fr[1], fc[0] : fc[1]]
    ii, jj = np.nonzero(sel)
    nodes = np.c_[np.asarray(row_centres, np.float64)[ii], np.asarray(col_centres, np.float64)[jj]]
    model = fit(nodes, values[:, ii, jj].T, unit)
    return _evaluate_grid(model, pr, pc, dtype)
