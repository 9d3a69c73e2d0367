"""UBDF block kernel: each fine pixel takes its class's value from its own coarse pixel's window solution."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def ubdf_rows(classes, table, fine, fine_mask, target_mask, r0, c0, scale, add_residual, row_lo, row_hi, out, ok):
    """Rows ``row_lo``..``row_hi``-1 of a block whose first pixel is scene pixel (``r0``, ``c0``).

    ``classes`` (rows, cols) int32 (-1: no class); ``table`` (nrc, ncc, K, B) float64 value of
    each class in each coarse pixel's window (NaN: none); with ``add_residual`` the value is added
    to the fine base image ``fine`` (B, rows, cols). Writes ``out`` (B, rows, cols) float32 (NaN
    where no prediction) and ``ok`` (rows, cols).
    """
    nb = out.shape[0]
    cols = out.shape[2]
    for r in range(row_lo, row_hi):
        ci = (r0 + r) // scale
        for c in range(cols):
            k = classes[r, c]
            good = k >= 0 and target_mask[r, c] and (fine_mask[r, c] or not add_residual)
            if good:
                cj = (c0 + c) // scale
                for b in range(nb):
                    if np.isnan(table[ci, cj, k, b]):
                        good = False
                        break
            if not good:
                ok[r, c] = False
                for b in range(nb):
                    out[b, r, c] = np.nan
                continue
            cj = (c0 + c) // scale
            for b in range(nb):
                v = table[ci, cj, k, b]
                if add_residual:
                    v += np.float64(fine[b, r, c])
                out[b, r, c] = np.float32(v)
            ok[r, c] = True


@njit(nogil=True, cache=True)
def masked_range(data, mask, lo, hi):
    """Update ``lo``/``hi`` (B,) with each band's minimum/maximum over the pixels where ``mask`` is True."""
    nb, rows, cols = data.shape
    for b in range(nb):
        mn = lo[b]
        mx = hi[b]
        for r in range(rows):
            for c in range(cols):
                if mask[r, c]:
                    v = np.float64(data[b, r, c])
                    if v < mn:
                        mn = v
                    if v > mx:
                        mx = v
        lo[b] = mn
        hi[b] = mx
