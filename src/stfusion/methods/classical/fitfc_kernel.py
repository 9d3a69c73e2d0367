"""Numba kernels of Fit-FC (Wang & Atkinson 2018): the coarse-pixel regressions, the bicubic
residual on the fine grid, and the similar-pixel spatial filter.

Coarse pixels are ``scale`` x ``scale`` blocks of fine pixels anchored at the scene's top-left
corner (the last block row/column may be partial). Fine-grid kernels take the scene position of
the block's first pixel (``r0``, ``c0``), so every value depends only on the scene position and
the image-wide coarse arrays: a block cut with a halo of ``half_window`` gives bit-identical
interior pixels.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MIN_VARIANCE = 1e-12
"""A regression window whose coarse t1 values have a (population) variance at or below this
(standard deviation 1e-6 reflectance, 0.01 DN) is singular: a = 1, b = 0."""
CUBIC_A = -0.5
"""Keys' cubic convolution parameter (MATLAB ``imresize(..., 'bicubic')``)."""
MIN_TAP_WEIGHT = 0.5
"""If the valid residual taps carry less than this share of the bicubic weight, the residual of
the fine pixel's own coarse pixel is used instead of the renormalised interpolation."""


@njit(nogil=True, cache=True)
def coarse_regression(c1, c2, valid, radius, a, b, resid, resid_valid):
    """Per band and coarse pixel X, the least-squares fit ``C2 = a·C1 + b`` over the valid coarse
    pixels of the (2·radius+1)² window around X (clipped at the image border; valid = defined at
    both dates), and the residual ``R(X) = C2(X) - a·C1(X) - b`` where X itself is valid.

    ``c1``, ``c2``: (bands, nr, nc) float64 coarse-pixel values; ``valid``: (nr, nc).
    Two-pass centred sums. Fewer than 2 valid pixels or var(C1) <= MIN_VARIANCE: a = 1, b = 0.
    """
    nb, nr, nc = c1.shape
    for i in range(nr):
        i0 = max(0, i - radius)
        i1 = min(nr, i + radius + 1)
        for j in range(nc):
            j0 = max(0, j - radius)
            j1 = min(nc, j + radius + 1)
            resid_valid[i, j] = valid[i, j]
            for k in range(nb):
                n = 0
                sx = 0.0
                sy = 0.0
                for ii in range(i0, i1):
                    for jj in range(j0, j1):
                        if valid[ii, jj]:
                            n += 1
                            sx += c1[k, ii, jj]
                            sy += c2[k, ii, jj]
                ak = 1.0
                bk = 0.0
                if n >= 2:
                    mx = sx / n
                    my = sy / n
                    sxx = 0.0
                    sxy = 0.0
                    for ii in range(i0, i1):
                        for jj in range(j0, j1):
                            if valid[ii, jj]:
                                dx = c1[k, ii, jj] - mx
                                sxx += dx * dx
                                sxy += dx * (c2[k, ii, jj] - my)
                    if sxx / n > MIN_VARIANCE:
                        ak = sxy / sxx
                        bk = my - ak * mx
                a[k, i, j] = ak
                b[k, i, j] = bk
                if valid[i, j]:
                    resid[k, i, j] = c2[k, i, j] - ak * c1[k, i, j] - bk
                else:
                    resid[k, i, j] = np.nan


@njit(nogil=True, cache=True)
def keys_cubic(x):
    """Keys' cubic convolution kernel with a = -0.5 (the kernel of MATLAB ``imresize`` 'bicubic')."""
    x = abs(x)
    if x <= 1.0:
        return (CUBIC_A + 2.0) * x * x * x - (CUBIC_A + 3.0) * x * x + 1.0
    if x < 2.0:
        return CUBIC_A * x * x * x - 5.0 * CUBIC_A * x * x + 8.0 * CUBIC_A * x - 4.0 * CUBIC_A
    return 0.0


@njit(nogil=True, cache=True)
def mirror(k, n):
    """Index ``k`` reflected into [0, n) with the edge sample repeated (MATLAB imresize's
    ``[1:n, n:-1:1]`` boundary): -1 -> 0, -2 -> 1, n -> n-1, n+1 -> n-2."""
    m = k % (2 * n)
    if m >= n:
        m = 2 * n - 1 - m
    return m


@njit(nogil=True, cache=True)
def _taps(pos, scale, n, idx, wgt):
    """The 4 bicubic taps (coarse indices after mirroring, weights) of fine row/column ``pos``.
    The fine pixel centre ``pos + 0.5`` sits at coarse coordinate ``u = (pos + 0.5)/scale - 0.5``."""
    u = (pos + 0.5) / scale - 0.5
    fu = math.floor(u)
    t = u - fu
    base = int(fu) - 1
    for m in range(4):
        idx[m] = mirror(base + m, n)
        wgt[m] = keys_cubic(t + 1.0 - m)


@njit(nogil=True, cache=True)
def rm_values(f1, valid, a, b, resid, resid_valid, scale, r0, c0, change, q0, q1, out):
    """Rows ``q0:q1`` of the block: at each valid fine pixel x in coarse pixel X,
    ``v = a(X)·F1(x) + b(X) + r(x)`` (``change``: ``v - F1(x)``, computed as ``(a-1)·F1 + b + r``),
    r the bicubic interpolation of the coarse residual (taps renormalised over valid residuals;
    below MIN_TAP_WEIGHT, r = R(X)). Invalid pixels get NaN.

    ``f1``: (rows, cols, bands) float32; ``out``: (rows, cols, bands) float64.
    """
    rows, cols, nb = f1.shape
    nr = resid_valid.shape[0]
    nc = resid_valid.shape[1]
    ri = np.empty(4, np.int64)
    rw = np.empty(4)
    ci = np.empty(4, np.int64)
    cw = np.empty(4)
    for q in range(q0, q1):
        y = r0 + q
        cy = y // scale
        _taps(y, scale, nr, ri, rw)
        for p in range(cols):
            if not valid[q, p]:
                for k in range(nb):
                    out[q, p, k] = np.nan
                continue
            x = c0 + p
            cx = x // scale
            _taps(x, scale, nc, ci, cw)
            sw = 0.0
            for m in range(4):
                for n in range(4):
                    if resid_valid[ri[m], ci[n]]:
                        sw += rw[m] * cw[n]
            for k in range(nb):
                if sw >= MIN_TAP_WEIGHT:
                    acc = 0.0
                    for m in range(4):
                        for n in range(4):
                            if resid_valid[ri[m], ci[n]]:
                                acc += rw[m] * cw[n] * resid[k, ri[m], ci[n]]
                    r = acc / sw
                else:
                    r = resid[k, cy, cx]
                fv = np.float64(f1[q, p, k])
                if change:
                    out[q, p, k] = (a[k, cy, cx] - 1.0) * fv + b[k, cy, cx] + r
                else:
                    out[q, p, k] = a[k, cy, cx] * fv + b[k, cy, cx] + r


@njit(nogil=True, cache=True)
def spatial_filter(feat, valid, value, base, add_base, dy, dx, dw, n_sim, q0, q1, out, ok):
    """Rows ``q0:q1``: for each valid pixel x0, the ``n_sim`` valid pixels of its window (clipped at
    the block edge) with the smallest ``D = Σ_f (feat(x) - feat(x0))²`` (summed in band order, in
    float64), ties broken by the order of the offsets (``dy``, ``dx``: sorted by distance, then
    row, then column; the centre first), and ``out = [base(x0) +] Σ w·value / Σ w`` (summed in
    rank order) with ``w = dw`` (1/(1 + dist/A)) of each chosen offset.

    Offsets are the outer loop and a row of pixels the inner one, so the distances of one offset
    are computed for a whole row at once; each pixel keeps its running top ``n_sim`` list sorted
    by D, a later candidate entering only when strictly better.

    ``feat``: (nf, rows, cols) float32; ``value``: (rows, cols, bands) float64;
    ``base``: (rows, cols, bands) float32; ``out``: (rows, cols, bands) float32.
    """
    nf, rows, cols = feat.shape
    nb = value.shape[2]
    noff = dy.shape[0]
    best_d = np.empty((cols, n_sim))
    best_k = np.empty((cols, n_sim), np.int64)
    cnt = np.empty(cols, np.int64)
    worst = np.empty(cols)
    dist = np.empty(cols)
    for q in range(q0, q1):
        for p in range(cols):
            cnt[p] = 0
            worst[p] = np.inf
        for k in range(noff):
            y = q + dy[k]
            if y < 0 or y >= rows:
                continue
            sx = dx[k]
            p0 = max(0, -sx)
            p1 = min(cols, cols - sx)
            for p in range(p0, p1):
                dist[p] = 0.0
            for f in range(nf):
                for p in range(p0, p1):
                    t = np.float64(feat[f, y, p + sx]) - np.float64(feat[f, q, p])
                    dist[p] += t * t
            for p in range(p0, p1):
                d = dist[p]
                if d >= worst[p] or not valid[q, p] or not valid[y, p + sx]:
                    continue
                c = cnt[p]
                j = c if c < n_sim else n_sim - 1
                while j > 0 and best_d[p, j - 1] > d:
                    best_d[p, j] = best_d[p, j - 1]
                    best_k[p, j] = best_k[p, j - 1]
                    j -= 1
                best_d[p, j] = d
                best_k[p, j] = k
                if c < n_sim:
                    cnt[p] = c + 1
                if cnt[p] == n_sim:
                    worst[p] = best_d[p, n_sim - 1]
        for p in range(cols):
            if not valid[q, p]:
                continue
            sw = 0.0
            for j in range(cnt[p]):
                sw += dw[best_k[p, j]]
            for c in range(nb):
                acc = 0.0
                for j in range(cnt[p]):
                    k = best_k[p, j]
                    acc += dw[k] * value[q + dy[k], p + dx[k], c]
                v = acc / sw
                if add_base:
                    v += np.float64(base[q, p, c])
                out[q, p, c] = v
            ok[q, p] = True
