"""Numba kernel of FSDAF's last step (Zhu et al. 2016, Eqs. 21-24, as FSDAF.pro codes it):
each pixel's change is the weighted mean of the distributed changes of its most similar pixels.

Windows are truncated at the block edges and every sum runs in a fixed order over absolute
window positions, so a block cut with a halo of ``w`` gives bit-identical interior pixels.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

TIE_OFFSET = 1e-5
"""Added to the spectral difference in the ranking key ``(S + 1e-5)·(10 + d/w)`` (as the program)."""
EDGE_DISTANCE = 1e-5
"""Added to the distances of a window truncated by the image edge (as the program)."""
RELATIVE_EPS = 1e-12
"""Added to |F1(centre)| in the relative spectral difference: the program's 1e-8 DN, in reflectance."""


@njit(nogil=True, cache=True, error_model="numpy")
def fsdaf_rows(f1, change, c1, c2, cand, centre_ok, threshold, w, num_similar, data_min, data_max,
               r0, r1, out, out_ok):
    """Predict rows ``r0 .. r1 - 1`` into ``out`` (bands, rows, cols) float32 and ``out_ok`` (rows, cols).

    ``f1`` (bands, rows, cols): fine image at t1 (unclipped); ``change`` (bands, rows, cols): the
    distributed change ΔF of every pixel (from `stfusion.methods.classical.fsdaf.stats`); ``c1``,
    ``c2``: coarse images at t1 and t2 on the fine grid (used only to revise an out-of-range
    prediction); ``cand``: pixels that may be similar pixels (valid fine pixel with a change);
    ``centre_ok``: pixels to predict; ``threshold`` (bands,): similar-pixel thresholds.
    A pixel is similar when every band differs from the centre by less than the threshold (or
    not at all); the ``num_similar`` with the smallest key ``(S + 1e-5)·(10 + d/w)`` are kept,
    S = Σ_b |F1(x) - F1(c)| / |F1(c)|, ties in window order; weights ``1/((1 + d/w)(S + 1))``.
    """
    nb, rows, cols = f1.shape
    side = 2 * w + 1
    key = np.empty(num_similar)
    sel_s = np.empty(num_similar)
    sel_d = np.empty(num_similar)
    sel_q = np.empty(num_similar, np.int64)
    sel_p = np.empty(num_similar, np.int64)
    row_ok = np.empty(side, np.bool_)
    row_s = np.empty(side)
    inv = np.empty(nb)
    centre = np.empty(nb)
    dist_table = np.empty((side, side))
    for i in range(side):
        for j in range(side):
            dist_table[i, j] = math.sqrt(np.float64((i - w) * (i - w) + (j - w) * (j - w)))
    for r in range(r0, r1):
        a = max(0, r - w)
        z = min(rows - 1, r + w)
        for c in range(cols):
            out_ok[r, c] = False
            if not centre_ok[r, c]:
                continue
            p0 = max(0, c - w)
            span = min(cols - 1, c + w) + 1 - p0
            extra = EDGE_DISTANCE if (z - a + 1) * span < side * side else 0.0
            for b in range(nb):
                centre[b] = f1[b, r, c]
                inv[b] = 1.0 / (abs(centre[b]) + RELATIVE_EPS)
            count = 0
            for q in range(a, z + 1):
                # one window row at a time, band by band, so that the loops vectorise: the
                # threshold test and the relative spectral difference S of every pixel of the row
                for j in range(span):
                    row_ok[j] = cand[q, p0 + j]
                    row_s[j] = 0.0
                for b in range(nb):
                    cb = centre[b]
                    t = threshold[b]
                    ib = inv[b]
                    plane = f1[b, q]
                    for j in range(span):
                        d = abs(np.float64(plane[p0 + j]) - cb)
                        row_ok[j] &= (d < t) | (d == 0.0)
                        row_s[j] += d * ib
                drow = dist_table[q - r + w]
                for j in range(span):
                    if not row_ok[j]:
                        continue
                    p = p0 + j
                    s = row_s[j]
                    dist = drow[p - c + w] + extra
                    k = (s + TIE_OFFSET) * (10.0 + dist / w)
                    if count == num_similar and not k < key[num_similar - 1]:
                        continue
                    pos = count if count < num_similar else num_similar - 1
                    while pos > 0 and key[pos - 1] > k:
                        key[pos] = key[pos - 1]
                        sel_s[pos] = sel_s[pos - 1]
                        sel_d[pos] = sel_d[pos - 1]
                        sel_q[pos] = sel_q[pos - 1]
                        sel_p[pos] = sel_p[pos - 1]
                        pos -= 1
                    key[pos] = k
                    sel_s[pos] = s
                    sel_d[pos] = dist
                    sel_q[pos] = q
                    sel_p[pos] = p
                    if count < num_similar:
                        count += 1
            if count == 0:
                continue
            total = 0.0
            for j in range(count):
                cd = 1.0 / ((1.0 + sel_d[j] / w) * (sel_s[j] + 1.0))
                sel_s[j] = cd
                total += cd
            for b in range(nb):
                acc = 0.0
                for j in range(count):
                    acc += sel_s[j] * change[b, sel_q[j], sel_p[j]]
                pred = centre[b] + acc / total
                if pred < data_min:
                    alt = max(data_min, centre[b] + (np.float64(c2[b, r, c]) - np.float64(c1[b, r, c])))
                    pred = min(data_max, alt)
                if pred > data_max:
                    alt = min(data_max, centre[b] + (np.float64(c2[b, r, c]) - np.float64(c1[b, r, c])))
                    pred = max(data_min, alt)
                out[b, r, c] = pred
            out_ok[r, c] = True
