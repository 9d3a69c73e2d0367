"""Numba kernel of STARFM (Gao et al. 2006, Eqs. 5-16): one band, several target dates at once.

The window is visited offset by offset: for each pair and offset (dy, dx), a vectorised pass
over one row of centre pixels tests the candidate at (i+dy, j+dx) and accumulates its weight and
its prediction. Memory is O(rows x cols); nothing of size pixels x window^2 is built.

Invalid pixels arrive as NaN, so every comparison with them is False: a NaN candidate is never
similar, and a NaN fine centre makes its pair contribute no candidate. ``*_ref`` arrays (NaN
where masked) give the centre values, ``*_cand`` arrays (NaN also outside the data range) the
candidates.
Similarity is ``|key(x) - key(c)| < threshold``: the key is the fine value, or a class map
(threshold 0.5). Per pixel the summation order is fixed (pair, dy, dx), so any tiling of the
image gives bit-identical output. Differences, thresholds and weights are float32, sums float64.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

ONE = np.float32(1.0)
ZERO = np.float32(0.0)
LOGISTIC = 1
"""``weighting`` code of the paper's Eq. 11 (0 = the program's (S+1)(T+1)D)."""


@njit(nogil=True, cache=True, error_model="numpy")
def starfm_rows(lref, lcand, mref, mcand, tref, tcand, kref, kcand, slices, lo, hi, dscale, ie, u_lsr, u_msr, u_comb,
                cap, weighting, paper, copy_zero, r0, r1, out):
    """Predict rows r0..r1-1 of one band into ``out`` (targets, rows, cols); NaN = no prediction.

    ``lref``/``lcand``, ``mref``/``mcand``: fine and coarse of the pairs (pairs, rows, cols),
    ``tref``/``tcand``: coarse targets (targets, rows, cols), ``kref``/``kcand``: similarity keys
    (pairs, rows, cols) with thresholds ``slices`` (pairs,). Window offsets lo..hi on both axes;
    D = 1 + dscale * d (d in pixels). Weights see differences times ``ie`` (1 / one DN);
    ``u_lsr``/``u_msr``: filter uncertainties (Eqs. 15-16); ``u_comb``: the program's weight-1
    shortcut; ``cap``: start of the program's minimum. Scalars are float32 except dscale.
    """
    npairs, rows, cols = lref.shape
    ntargets = tref.shape[0]
    temporal = npairs > 1
    logistic = weighting == LOGISTIC
    a_ref = np.empty((ntargets, cols), np.float32)
    b_ref = np.empty((ntargets, cols), np.float32)
    copy = np.empty((ntargets, cols))
    aw = np.empty((ntargets, cols))
    aq = np.empty((ntargets, cols))
    zw = np.empty((ntargets, cols))
    zq = np.empty((ntargets, cols))
    for i in range(r0, r1):
        # filter references and the zero-difference copy at each centre (pairs with a valid centre):
        # S_ref/T_ref = min (program) or max (paper) of |M - L| and |M - M_target|; copy = mean fine
        # value of pairs with T = 0, else the target coarse value if some S = 0, else NaN
        for k in range(ntargets):
            for j in range(cols):
                s_ref = -np.inf if paper else cap
                t_ref = -np.inf if paper else cap
                n_t0, sum_t0, s0 = 0, 0.0, False
                mt = tref[k, i, j]
                for p in range(npairs):
                    lc, mc = lref[p, i, j], mref[p, i, j]
                    if math.isnan(lc) or math.isnan(mc):
                        continue
                    s, t = abs(mc - lc), abs(mc - mt)
                    s_ref = max(s_ref, s) if paper else min(s_ref, s)
                    t_ref = max(t_ref, t) if paper else min(t_ref, t)
                    if t == 0:
                        n_t0 += 1
                        sum_t0 += lc
                    s0 = s0 or s == 0
                copy[k, j] = sum_t0 / n_t0 if n_t0 > 0 else (mt if s0 else np.nan)
                a_ref[k, j] = s_ref + u_lsr
                b_ref[k, j] = t_ref + u_msr
        aw[:] = 0.0
        aq[:] = 0.0
        zw[:] = 0.0
        zq[:] = 0.0
        for p in range(npairs):
            slc = slices[p]
            for dy in range(lo, hi + 1):
                y = i + dy
                if y < 0 or y >= rows:
                    continue
                for dx in range(lo, hi + 1):
                    dinv = np.float32(1.0 / (1.0 + dscale * math.sqrt(dx * dx + dy * dy)))
                    j0 = max(0, -dx)
                    j1 = min(cols, cols - dx)
                    if j1 <= j0:
                        continue
                    # unsigned indices: no wraparound test, so the loops below vectorise
                    n, c0, x0 = np.uint64(j1 - j0), np.uint64(j0), np.uint64(j0 + dx)
                    up, ui, uy = np.uint64(p), np.uint64(i), np.uint64(y)
                    for k in range(ntargets):
                        uk = np.uint64(k)
                        if logistic:
                            for jj in range(n):
                                j, x = c0 + jj, x0 + jj
                                fl, m, mt = lcand[up, uy, x], mcand[up, uy, x], tcand[uk, uy, x]
                                s, t, q = abs(m - fl), abs(m - mt), fl + mt - m
                                if paper:
                                    passes = (s < a_ref[uk, j]) & (t < b_ref[uk, j])
                                else:
                                    passes = not ((s > a_ref[uk, j]) & (t > b_ref[uk, j]))
                                if (abs(kcand[up, uy, x] - kref[up, ui, j]) < slc) & passes & (q == q):
                                    c = math.log(s * ie + ONE) * math.log(t * ie + ONE)
                                    if c == ZERO:
                                        zw[uk, j] += 1.0
                                        zq[uk, j] += q
                                    else:
                                        w = dinv / c
                                        aw[uk, j] += w
                                        aq[uk, j] += w * q
                        else:
                            for jj in range(n):
                                j, x = c0 + jj, x0 + jj
                                fl, m, mt = lcand[up, uy, x], mcand[up, uy, x], tcand[uk, uy, x]
                                s, t, q = abs(m - fl), abs(m - mt), fl + mt - m
                                if paper:
                                    passes = (s < a_ref[uk, j]) & (t < b_ref[uk, j])
                                else:
                                    passes = not ((s > a_ref[uk, j]) & (t > b_ref[uk, j]))
                                ok = (abs(kcand[up, uy, x] - kref[up, ui, j]) < slc) & passes & (q == q)
                                ts = s * ie + ONE
                                ts = ts * (t * ie + ONE) if temporal else ts
                                w = ONE if ts < u_comb else dinv / ts
                                w = w if ok else ZERO
                                aw[uk, j] += w
                                aq[uk, j] += w * (q if ok else ZERO)
        for k in range(ntargets):
            for j in range(cols):
                if math.isnan(tref[k, i, j]):
                    out[k, i, j] = np.nan
                elif copy_zero and not math.isnan(copy[k, j]):
                    out[k, i, j] = copy[k, j]
                elif zw[k, j] > 0:
                    out[k, i, j] = zq[k, j] / zw[k, j]
                elif aw[k, j] > 0:
                    out[k, i, j] = aq[k, j] / aw[k, j]
                else:
                    out[k, i, j] = np.nan
