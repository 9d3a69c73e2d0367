"""Numba kernels of ESTARFM (Zhu et al. 2010), step for step as X. Zhu's ESTARFM.pro (2018).

The kernels see one block as a pixel-interleaved array ``pix`` (rows, cols, 5·nb) float32 whose
channels are F1, F2, C1, C2, C0 (nb bands each: fine and coarse of pairs 1 and 2, coarse at the
prediction date), so that everything about one window pixel sits in adjacent memory, and
``valid`` (rows, cols): pixels valid in all five images.

Windows are truncated at the block edges, and every sum runs in a fixed order over absolute
window positions, so a block cut with a halo of ``w`` gives bit-identical interior pixels.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MIN_SIMILAR = 5
"""More than this many similar pixels are needed for the weighted prediction (else the fallback)."""
REGRESSION_GATE = 0.02
"""A conversion coefficient is fitted only when the mean coarse change of the similar pixels is at
least ``REGRESSION_GATE · data_max`` (the program's ``DN_max·0.02``)."""
MAX_COEFFICIENT = 5.0
"""A fitted conversion coefficient is kept only in (0, MAX_COEFFICIENT]."""
DISTANCE_EPS = 1e-7
"""Added to the combined distance ``(1 - R)·d`` (as in the program)."""
CHANGE_EPS = 1e-14
"""Added to the window-mean coarse change: the program's ``0.01^5`` DN in reflectance (÷ 10000)."""


@njit(nogil=True, cache=True, error_model="numpy")
def correlations(pix, valid, nb, out):
    """``out[q, p]`` = R of Eq. 14 for every valid pixel: the Pearson correlation of its fine and
    coarse vectors over both dates and all bands. One band: the program's index form
    ``1 - (|(F1-C1)/(F1+C1)| + |(F2-C2)/(F2+C2)|)/2``. A non-finite R becomes 0.5, as in the program.
    """
    rows, cols = valid.shape
    m = 2 * nb
    for q in range(rows):
        for p in range(cols):
            r = 0.5
            if valid[q, p]:
                if nb == 1:
                    f1 = np.float64(pix[q, p, 0])
                    f2 = np.float64(pix[q, p, 1])
                    c1 = np.float64(pix[q, p, 2])
                    c2 = np.float64(pix[q, p, 3])
                    r = 1.0 - 0.5 * (abs((f1 - c1) / (f1 + c1)) + abs((f2 - c2) / (f2 + c2)))
                else:
                    mx = 0.0
                    my = 0.0
                    for i in range(m):
                        mx += pix[q, p, i]
                        my += pix[q, p, m + i]
                    mx /= m
                    my /= m
                    sxy = 0.0
                    sxx = 0.0
                    syy = 0.0
                    for i in range(m):
                        dx = np.float64(pix[q, p, i]) - mx
                        dy = np.float64(pix[q, p, m + i]) - my
                        sxy += dx * dy
                        sxx += dx * dx
                        syy += dy * dy
                    r = sxy / math.sqrt(sxx * syy)
                if not math.isfinite(r):
                    r = 0.5
            out[q, p] = r


@njit(nogil=True, cache=True, error_model="numpy")
def _column_sums(pix, valid, r, w, nb, colsum, colcnt):
    """Per column, over the window rows of row ``r``: Σ valid·(C0 - Ck) and the number of valid pixels."""
    rows, cols = valid.shape
    a = max(0, r - w)
    z = min(rows - 1, r + w)
    for p in range(cols):
        colcnt[p] = 0.0
        for k in range(2):
            for b in range(nb):
                colsum[p, k, b] = 0.0
        for q in range(a, z + 1):
            if valid[q, p]:
                colcnt[p] += 1.0
                for k in range(2):
                    for b in range(nb):
                        colsum[p, k, b] += np.float64(pix[q, p, 4 * nb + b]) - np.float64(pix[q, p, (2 + k) * nb + b])


@njit(nogil=True, cache=True, error_model="numpy")
def _window_change(c, w, colsum, colcnt, nb, out):
    """``out[k, b]`` = mean of C0 - Ck over the valid pixels of the window of column ``c``."""
    cols = colcnt.shape[0]
    n = 0.0
    out[:, :] = 0.0
    for p in range(max(0, c - w), min(cols - 1, c + w) + 1):
        n += colcnt[p]
        for k in range(2):
            for b in range(nb):
                out[k, b] += colsum[p, k, b]
    for k in range(2):
        for b in range(nb):
            out[k, b] /= n


@njit(nogil=True, cache=True, error_model="numpy")
def estarfm_rows(planes, pix, valid, corr, threshold, f_crit, w, data_min, data_max, num_similar, r0, r1, out, out_ok):
    """Predict rows ``r0 .. r1 - 1`` into ``out`` (rows, cols, nb) and ``out_ok`` (rows, cols).

    ``planes`` (2·nb, rows, cols): F1 and F2 band by band (the similar-pixel search reads them).
    ``corr``: R per pixel (`correlations`). ``threshold`` (2·nb,): similar-pixel thresholds of
    F1 then F2 bands. ``f_crit[df]``: the F(1, df) value with upper-tail probability 0.05
    (p ≤ 0.05 ⇔ F ≥ f_crit). ``num_similar`` ≤ 0 keeps every similar pixel, otherwise only the
    ``num_similar`` most similar ones (ESTARFM_FAST).
    """
    rows, cols = valid.shape
    nb = pix.shape[2] // 5
    m = 2 * nb
    side = 2 * w + 1
    dist = np.empty((side, side))
    for i in range(side):
        for j in range(side):
            dist[i, j] = 1.0 + math.sqrt(np.float64((i - w) * (i - w) + (j - w) * (j - w))) / w
    cand_q = np.empty(side * side, np.int64)
    cand_p = np.empty(side * side, np.int64)
    score = np.empty(max(num_similar, 1))
    sel_q = np.empty(max(num_similar, 1), np.int64)
    sel_p = np.empty(max(num_similar, 1), np.int64)
    row_ok = np.empty(side, np.bool_)
    colsum = np.zeros((cols, 2, nb))
    colcnt = np.zeros(cols)
    change = np.empty((2, nb))
    inv_cd = np.empty(side * side)
    for r in range(r0, r1):
        _column_sums(pix, valid, r, w, nb, colsum, colcnt)
        a = max(0, r - w)
        z = min(rows - 1, r + w)
        for c in range(cols):
            out_ok[r, c] = False
            if not valid[r, c]:
                continue
            _window_change(c, w, colsum, colcnt, nb, change)
            # similar pixels: valid, and every band of both fine images within the threshold (strict <);
            # tested a window row at a time on the band planes so that the loops vectorise
            p0 = max(0, c - w)
            span = min(cols - 1, c + w) + 1 - p0
            n = 0
            for q in range(a, z + 1):
                for j in range(span):
                    row_ok[j] = valid[q, p0 + j]
                for i in range(m):
                    centre = np.float64(planes[i, r, c])
                    t = threshold[i]
                    plane = planes[i, q]
                    for j in range(span):
                        row_ok[j] &= abs(np.float64(plane[p0 + j]) - centre) < t
                for j in range(span):
                    cand_q[n] = q
                    cand_p[n] = p0 + j
                    n += row_ok[j]
            if 0 < num_similar < n:
                n = _keep_most_similar(pix, r, c, threshold, cand_q, cand_p, n, num_similar, score, sel_q, sel_p)
            if n <= MIN_SIMILAR:
                # too few similar pixels: each pair's centre value plus the window-mean coarse change
                for b in range(nb):
                    d1 = change[0, b] + CHANGE_EPS
                    d2 = change[1, b] + CHANGE_EPS
                    t1 = (1.0 / abs(d1)) / (1.0 / abs(d1) + 1.0 / abs(d2))
                    t2 = (1.0 / abs(d2)) / (1.0 / abs(d1) + 1.0 / abs(d2))
                    out[r, c, b] = t1 * (pix[r, c, b] + d1) + t2 * (pix[r, c, nb + b] + d2)
                out_ok[r, c] = True
                continue
            # weights of Eqs. 14-17 (unnormalised; ``total`` normalises them)
            total = 0.0
            for j in range(n):
                iw = 1.0 / ((1.0 - corr[cand_q[j], cand_p[j]]) * dist[cand_q[j] - r + w, cand_p[j] - c + w]
                            + DISTANCE_EPS)
                inv_cd[j] = iw
                total += iw
            for b in range(nb):
                out[r, c, b] = _predict_band(pix, r, c, b, nb, cand_q, cand_p, inv_cd, total, n, change,
                                             f_crit, data_min, data_max)
            out_ok[r, c] = True


@njit(nogil=True, cache=True, error_model="numpy")
def _keep_most_similar(pix, r, c, threshold, cand_q, cand_p, n, keep, score, sel_q, sel_p):
    """Keep the ``keep`` candidates with the smallest Σ |F(x) - F(centre)| / threshold (ESTARFM_FAST),
    in increasing order, ties in window order (a stable insertion into a sorted list); returns ``keep``."""
    m = threshold.shape[0]
    count = 0
    for j in range(n):
        q = cand_q[j]
        p = cand_p[j]
        s = 0.0
        for i in range(m):
            s += abs(np.float64(pix[q, p, i]) - np.float64(pix[r, c, i])) / threshold[i]
        if count == keep and not s < score[keep - 1]:
            continue
        pos = count if count < keep else keep - 1
        while pos > 0 and score[pos - 1] > s:
            score[pos] = score[pos - 1]
            sel_q[pos] = sel_q[pos - 1]
            sel_p[pos] = sel_p[pos - 1]
            pos -= 1
        score[pos] = s
        sel_q[pos] = q
        sel_p[pos] = p
        count = min(count + 1, keep)
    cand_q[:keep] = sel_q[:keep]
    cand_p[:keep] = sel_p[:keep]
    return keep


@njit(nogil=True, cache=True, error_model="numpy")
def _predict_band(pix, r, c, b, nb, cand_q, cand_p, inv_cd, total, n, change, f_crit, data_min, data_max):
    """Steps 3-5 of the module docstring of `stfusion.methods.classical.estarfm` for band ``b``."""
    # sums over the similar pixels of both dates, shifted by the centre values for accuracy
    x0 = np.float64(pix[r, c, 2 * nb + b])
    y0 = np.float64(pix[r, c, b])
    sx1 = sx2 = sy = sxx = sxy = syy = g1 = g2 = h1 = h2 = 0.0
    for j in range(n):
        q = cand_q[j]
        p = cand_p[j]
        iw = inv_cd[j]
        f1 = np.float64(pix[q, p, b])
        f2 = np.float64(pix[q, p, nb + b])
        c1 = np.float64(pix[q, p, 2 * nb + b])
        c2 = np.float64(pix[q, p, 3 * nb + b])
        c0 = np.float64(pix[q, p, 4 * nb + b])
        x1 = c1 - x0
        x2 = c2 - x0
        y1 = f1 - y0
        y2 = f2 - y0
        sx1 += x1
        sx2 += x2
        sy += y1 + y2
        sxx += x1 * x1 + x2 * x2
        sxy += x1 * y1 + x2 * y2
        syy += y1 * y1 + y2 * y2
        g1 += iw * (c0 - c1)
        g2 += iw * (c0 - c2)
        h1 += iw * f1
        h2 += iw * f2
    # conversion coefficient: regression of fine on coarse, both dates pooled
    v = 1.0
    if abs(sx1 - sx2) / n >= REGRESSION_GATE * data_max:
        nn = 2.0 * n
        mx = (sx1 + sx2) / nn
        my = sy / nn
        cxx = sxx - nn * mx * mx
        cxy = sxy - nn * mx * my
        cyy = syy - nn * my * my
        slope = cxy / cxx
        if 0.0 < slope <= MAX_COEFFICIENT:
            r2 = cxy * cxy / (cxx * cyy)
            df = 2 * n - 2
            if r2 >= 1.0 or r2 / (1.0 - r2) * df >= f_crit[df]:
                v = slope
    # temporal weights (Eq. 18) from the window-mean coarse change
    d1 = abs(change[0, b]) + CHANGE_EPS
    d2 = abs(change[1, b]) + CHANGE_EPS
    t1 = (1.0 / d1) / (1.0 / d1 + 1.0 / d2)
    t2 = (1.0 / d2) / (1.0 / d1 + 1.0 / d2)
    pred = t1 * (pix[r, c, b] + v * g1 / total) + t2 * (pix[r, c, nb + b] + v * g2 / total)
    if pred <= data_min or pred >= data_max:
        # revise an out-of-range prediction: weighted mean of the similar pixels
        pred = t1 * h1 / total + t2 * h2 / total
    return pred
