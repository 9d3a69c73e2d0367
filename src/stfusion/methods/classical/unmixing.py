"""Spatial unmixing on the coarse grid: class fractions per coarse pixel and a windowed bounded
least-squares solver (the machinery of MMT/UBDF, STDFA and STRUM; reusable by other methods).

Coarse pixels are ``scale`` x ``scale`` blocks of fine pixels anchored at the scene's top-left
corner (a partial last block row/column is allowed), as the reference programs do.

The linear mixing model of a coarse pixel i in a window: ``C(i) = Σ_c f(i, c)·r(c) + e``, with
``f(i, c)`` the fraction of class c among the classified fine pixels of i. For each centre coarse
pixel, `unmix_windows` solves ``min Σ_i (Σ_c f(i, c) r(c) - C(i))²`` subject to
``lo ≤ r(c) ≤ hi`` over the valid coarse pixels of the window, for every band and date, with
a small exact active-set solver (`box_lsq`, Numba) instead of one ``scipy.optimize.lsq_linear``
call per problem.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from ...core.errors import ShapeMismatchError

RIDGE = 1e-6
"""Relative weight of the Tikhonov term ``λ·Σ_c (r(c) - mean C)²``, ``λ = RIDGE·trace(AᵀA)/n``,
added only to windows whose least-squares problem is (numerically) rank-deficient, e.g. two
classes in the same proportion in every coarse pixel: it settles their otherwise arbitrary
solution toward the window's mean coarse value. Full-rank windows are solved exactly.
"""

PIVOT = 1e-10
"""A Cholesky pivot below ``PIVOT`` times its diagonal entry marks a face as rank-deficient."""


def coarse_shape(rows: int, cols: int, scale: int) -> tuple[int, int]:
    """Number of coarse rows and columns (partial last blocks included)."""
    return -(-rows // scale), -(-cols // scale)


def _block_ids(rows: int, cols: int, scale: int) -> np.ndarray:
    """(rows, cols) index of each fine pixel's coarse pixel, row-major on the coarse grid."""
    _, ncc = coarse_shape(rows, cols, scale)
    return (np.arange(rows)[:, None] // scale) * ncc + np.arange(cols)[None, :] // scale


def class_counts(classes: np.ndarray, scale: int, num_classes: int | None = None,
                 valid: np.ndarray | None = None) -> np.ndarray:
    """(coarse rows, coarse cols, K) number of fine pixels of each class in each coarse pixel.

    ``classes`` (rows, cols) int; negative labels and pixels where ``valid`` is False are not counted.
    """
    classes = np.asarray(classes)
    rows, cols = classes.shape
    k = int(classes.max()) + 1 if num_classes is None else int(num_classes)
    k = max(k, 1)
    ok = classes >= 0
    if valid is not None:
        ok &= np.asarray(valid, bool)
    nrc, ncc = coarse_shape(rows, cols, scale)
    ids = _block_ids(rows, cols, scale)[ok].astype(np.int64) * k + classes[ok]
    return np.bincount(ids, minlength=nrc * ncc * k).reshape(nrc, ncc, k)


def fractions(counts: np.ndarray) -> np.ndarray:
    """Class fractions (count / classified pixels) per coarse pixel; 0 where none is classified."""
    total = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, total, out=np.zeros(counts.shape), where=total > 0)


@njit(nogil=True, cache=True)
def _block_sums(image, mask, scale, sums, n, row_lo, row_hi):
    """Per-block sums of the valid pixels of ``image`` (bands, rows, cols) and their counts, for
    fine rows ``row_lo``..``row_hi``-1 (whole coarse rows, so each block is summed in one order)."""
    bands, rows, cols = image.shape
    for r in range(row_lo, row_hi):
        i = r // scale
        for c in range(cols):
            if mask[r, c]:
                j = c // scale
                n[i, j] += 1
                for b in range(bands):
                    sums[b, i, j] += np.float64(image[b, r, c])


def coarse_means(image: np.ndarray, mask: np.ndarray | None, scale: int,
                 threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Block means of the valid pixels of ``image`` (bands, rows, cols): (values (bands, nrc, ncc)
    float64, NaN where no pixel is valid; valid (nrc, ncc) bool).

    When the coarse image sits on the fine grid with blocks not aligned to the scale (CIA's MODIS
    blocks), this is the mean of its valid values over the block.
    """
    image = np.asarray(image)
    bands, rows, cols = image.shape
    ok = np.ones((rows, cols), bool) if mask is None else np.asarray(mask, bool)
    nrc, ncc = coarse_shape(rows, cols, scale)
    sums = np.zeros((bands, nrc, ncc))
    n = np.zeros((nrc, ncc), np.int64)
    threads = max(1, int(threads or os.cpu_count() or 1))
    step = max(1, -(-nrc // (2 * threads))) * scale  # strips of whole coarse rows
    strips = [(r, min(rows, r + step)) for r in range(0, rows, step)]
    if threads == 1 or len(strips) == 1:
        _block_sums(image, ok, int(scale), sums, n, 0, rows)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda s: _block_sums(image, ok, int(scale), sums, n, s[0], s[1]), strips))
    good = n > 0
    out = np.full((bands, nrc, ncc), np.nan)
    np.divide(sums, n, out=out, where=good[None])
    return out, good


def window_class_means(sums: np.ndarray, counts: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Mean per class and band over each coarse pixel's window of half-width ``half`` (nrc, ncc).

    ``sums`` (nrc, ncc, K, B) are per-coarse-pixel sums of fine values per class, ``counts``
    (nrc, ncc, K) the numbers of pixels summed. Returns (nrc, ncc, K, B), NaN where a class has
    no pixel in the window.
    """
    nrc, ncc = counts.shape[:2]
    cs = np.zeros((nrc + 1, ncc + 1) + sums.shape[2:])
    cs[1:, 1:] = sums.cumsum(0).cumsum(1)
    cn = np.zeros((nrc + 1, ncc + 1) + counts.shape[2:])
    cn[1:, 1:] = counts.cumsum(0).cumsum(1)
    ii, jj = np.indices((nrc, ncc))
    h = np.maximum(np.asarray(half), 0)
    r0, r1 = np.clip(ii - h, 0, nrc), np.clip(ii + h + 1, 0, nrc)
    c0, c1 = np.clip(jj - h, 0, ncc), np.clip(jj + h + 1, 0, ncc)
    s = cs[r1, c1] - cs[r0, c1] - cs[r1, c0] + cs[r0, c0]
    n = cn[r1, c1] - cn[r0, c1] - cn[r1, c0] + cn[r0, c0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n[..., None] > 0, s / n[..., None], np.nan)


# --------------------------------------------------------------------------------------------
# the bounded least-squares solver


@njit(nogil=True, cache=True)
def _solve_face(h, g, x, state, z, m, r, free):
    """``z`` = minimiser of ½zᵀHz - gᵀz with the variables of ``state != 0`` fixed at ``x``
    (Cholesky of the free block). Returns False if that block is not positive definite."""
    n = h.shape[0]
    nf = 0
    for i in range(n):
        z[i] = x[i]
        if state[i] == 0:
            free[nf] = i
            nf += 1
    if nf == 0:
        return True
    for a in range(nf):
        i = free[a]
        s = g[i]
        for j in range(n):
            if state[j] != 0:
                s -= h[i, j] * x[j]
        r[a] = s
        for b in range(nf):
            m[a, b] = h[i, free[b]]
    for a in range(nf):
        s = m[a, a]
        for c in range(a):
            s -= m[a, c] * m[a, c]
        if not s > PIVOT * m[a, a]:
            return False
        d = math.sqrt(s)
        m[a, a] = d
        for b in range(a + 1, nf):
            t = m[b, a]
            for c in range(a):
                t -= m[b, c] * m[a, c]
            m[b, a] = t / d
    for a in range(nf):
        s = r[a]
        for c in range(a):
            s -= m[a, c] * r[c]
        r[a] = s / m[a, a]
    for a in range(nf - 1, -1, -1):
        s = r[a]
        for c in range(a + 1, nf):
            s -= m[c, a] * r[c]
        r[a] = s / m[a, a]
    for a in range(nf):
        z[free[a]] = r[a]
    return True


@njit(nogil=True, cache=True)
def box_qp(h, g, lo, hi, x, state, z, m, r, free, grad):
    """Minimise ½xᵀHx - gᵀx subject to ``lo ≤ x ≤ hi`` (H symmetric positive definite), in place.

    Primal active-set method (Nocedal & Wright, Algorithm 16.3, for bounds): ``x`` must start
    feasible, ``state`` marks variables fixed at their lower (-1) or upper (+1) bound. Exact up to
    rounding when it terminates (at most 10·n + 20 face solves). Returns the number of solves,
    or -1 when a face is not (numerically) positive definite.
    """
    n = h.shape[0]
    gscale = 1.0
    for i in range(n):
        gscale += abs(g[i])
    tol = 1e-13 * gscale
    it = 0
    while it < 10 * n + 20:
        it += 1
        if not _solve_face(h, g, x, state, z, m, r, free):
            return -1
        alpha = 1.0
        block = -1
        for i in range(n):
            if state[i] != 0:
                continue
            step = z[i] - x[i]
            if z[i] < lo[i] and step < 0.0:
                a = (lo[i] - x[i]) / step
            elif z[i] > hi[i] and step > 0.0:
                a = (hi[i] - x[i]) / step
            else:
                continue
            if a < alpha:
                alpha = a
                block = i
        if block < 0:
            for i in range(n):
                if state[i] == 0:
                    x[i] = z[i]
        else:
            for i in range(n):
                if state[i] == 0:
                    x[i] = min(hi[i], max(lo[i], x[i] + alpha * (z[i] - x[i])))
            if z[block] < lo[block]:
                x[block] = lo[block]
                state[block] = -1
            else:
                x[block] = hi[block]
                state[block] = 1
            continue
        # optimal on this face: check the multipliers of the fixed variables
        worst = -1
        wv = -tol
        for i in range(n):
            if state[i] == 0:
                continue
            s = -g[i]
            for j in range(n):
                s += h[i, j] * x[j]
            grad[i] = s
            lam = s if state[i] < 0 else -s
            if lam < wv:
                wv = lam
                worst = i
        if worst < 0:
            break
        state[worst] = 0
    return it


@njit(nogil=True, cache=True)
def _box_lsq(a, y, lo, hi, ridge, x):
    """Bounded least squares ``min |A x - y|²``, ``lo ≤ x ≤ hi``, into ``x``; if the problem is
    rank-deficient, ``min |A x - y|² + λ|x - mean(y)|²`` with ``λ = ridge·trace(AᵀA)/n``."""
    mrows, n = a.shape
    h = np.zeros((n, n))
    g = np.zeros(n)
    ybar = 0.0
    for i in range(mrows):
        ybar += y[i]
        for p in range(n):
            g[p] += a[i, p] * y[i]
            for q in range(n):
                h[p, q] += a[i, p] * a[i, q]
    ybar /= max(mrows, 1)
    state = np.zeros(n, np.int8)
    z = np.empty(n)
    m = np.empty((n, n))
    r = np.empty(n)
    free = np.empty(n, np.int64)
    grad = np.empty(n)
    for attempt in range(2):
        if attempt == 1:
            if not ridge > 0.0:
                break
            tr = 0.0
            for p in range(n):
                tr += h[p, p]
            lam = ridge * (tr / n if tr > 0 else 1.0)
            for p in range(n):
                h[p, p] += lam
                g[p] += lam * ybar
        for p in range(n):
            x[p] = min(hi[p], max(lo[p], ybar))
            state[p] = 0
            if x[p] == lo[p]:
                state[p] = -1
            elif x[p] == hi[p]:
                state[p] = 1
        if box_qp(h, g, lo, hi, x, state, z, m, r, free, grad) >= 0:
            return True
    return False


def box_lsq(a: np.ndarray, y: np.ndarray, lo, hi, ridge: float = RIDGE) -> np.ndarray:
    """Bounded linear least squares ``argmin |a x - y|²`` subject to ``lo ≤ x ≤ hi`` (scalars or
    per-variable arrays), the problem of ``scipy.optimize.lsq_linear(a, y, bounds=(lo, hi))``.

    When the problem is rank-deficient and ``ridge > 0``, the term ``λ·|x - mean(y)|²``,
    ``λ = ridge·trace(aᵀa)/n``, is added to make the solution unique; with ``ridge = 0`` a
    rank-deficient problem returns the feasible point reached (not necessarily optimal).
    """
    a = np.ascontiguousarray(a, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64).ravel()
    if a.ndim != 2 or a.shape[0] != y.size:
        raise ShapeMismatchError(
            f"box_lsq: a is {a.shape} but y has {y.size} values; give a (m, n) matrix and m values"
        )
    n = a.shape[1]
    lo = np.broadcast_to(np.asarray(lo, np.float64), (n,)).copy()
    hi = np.broadcast_to(np.asarray(hi, np.float64), (n,)).copy()
    x = np.empty(n)
    _box_lsq(a, y, lo, hi, float(ridge), x)
    return x


# --------------------------------------------------------------------------------------------
# windowed unmixing


@njit(nogil=True, cache=True)
def _window_ok(present_n, m, centre_missing):
    return m >= present_n and centre_missing == 0


@njit(nogil=True, cache=True)
def _add_cell(frac, rows_valid, rr, cc, wsum, acc):
    """Add coarse pixel (rr, cc) to the running window (class fraction sums, row count)."""
    if not rows_valid[rr, cc]:
        return 0
    k = frac.shape[2]
    for c in range(k):
        f = frac[rr, cc, c]
        if f > 0.0:
            wsum[c] += f
    acc[0] += 1
    return 1


@njit(nogil=True, cache=True)
def unmix_rows(frac, counts, rows_valid, values, lo, hi, half, max_half, ridge, row_lo, row_hi, sol, used):
    """Solve the windows of the centre coarse pixels in rows ``row_lo``..``row_hi``-1.

    ``frac`` (nrc, ncc, K) fractions; ``counts`` (nrc, ncc, K) classified fine pixels per class
    (the centre's classes are those with counts > 0); ``rows_valid`` (nrc, ncc) coarse pixels
    usable as equations; ``values`` (D, B, nrc, ncc) coarse values of D dates; ``lo``/``hi``
    (B,) bounds. Writes ``sol`` (D, nrc, ncc, K, B) (NaN for classes absent from the window)
    and ``used`` (nrc, ncc) the half-width of the window finally used (-1: nothing solved).
    """
    nrc, ncc, k = frac.shape
    nd, nb = values.shape[0], values.shape[1]
    wsum = np.zeros(k)
    acc = np.zeros(1, np.int64)
    cls = np.empty(k, np.int64)
    x = np.empty(k)
    lob = np.empty(k)
    hib = np.empty(k)
    for i in range(row_lo, row_hi):
        for j in range(ncc):
            for d in range(nd):
                for c in range(k):
                    for b in range(nb):
                        sol[d, i, j, c, b] = np.nan
            used[i, j] = -1
            ncentre = 0
            for c in range(k):
                if counts[i, j, c] > 0:
                    ncentre += 1
            if ncentre == 0:
                continue
            # grow the window until it is determined and holds every class of the centre
            for c in range(k):
                wsum[c] = 0.0
            acc[0] = 0
            h = half
            for rr in range(max(0, i - h), min(nrc, i + h + 1)):
                for cc in range(max(0, j - h), min(ncc, j + h + 1)):
                    _add_cell(frac, rows_valid, rr, cc, wsum, acc)
            while True:
                npresent = 0
                missing = 0
                for c in range(k):
                    if wsum[c] > 0.0:
                        npresent += 1
                    elif counts[i, j, c] > 0:
                        missing += 1
                if _window_ok(npresent, acc[0], missing):
                    break
                whole = i - h <= 0 and j - h <= 0 and i + h >= nrc - 1 and j + h >= ncc - 1
                if whole or h >= max_half:
                    break
                h += 1
                c0, c1 = max(0, j - h), min(ncc - 1, j + h)
                for rr in (i - h, i + h):
                    if 0 <= rr < nrc:
                        for cc in range(c0, c1 + 1):
                            _add_cell(frac, rows_valid, rr, cc, wsum, acc)
                for cc in (j - h, j + h):
                    if 0 <= cc < ncc:
                        for rr in range(max(0, i - h + 1), min(nrc, i + h)):
                            _add_cell(frac, rows_valid, rr, cc, wsum, acc)
            mrows = acc[0]
            if mrows == 0:
                continue
            n = 0
            for c in range(k):
                if wsum[c] > 0.0:
                    cls[n] = c
                    n += 1
            a = np.empty((mrows, n))
            y = np.empty((nd, nb, mrows))
            q = 0
            for rr in range(max(0, i - h), min(nrc, i + h + 1)):
                for cc in range(max(0, j - h), min(ncc, j + h + 1)):
                    if not rows_valid[rr, cc]:
                        continue
                    for p in range(n):
                        a[q, p] = frac[rr, cc, cls[p]]
                    for d in range(nd):
                        for b in range(nb):
                            y[d, b, q] = values[d, b, rr, cc]
                    q += 1
            used[i, j] = h
            xs = x[:n]
            for d in range(nd):
                for b in range(nb):
                    for p in range(n):
                        lob[p] = lo[b]
                        hib[p] = hi[b]
                    _box_lsq(a, y[d, b], lob[:n], hib[:n], ridge, xs)
                    for p in range(n):
                        sol[d, i, j, cls[p], b] = xs[p]


def unmix_windows(frac: np.ndarray, counts: np.ndarray, rows_valid: np.ndarray, values: np.ndarray,
                  lo: np.ndarray, hi: np.ndarray, *, window: int = 3, max_window: int | None = None,
                  ridge: float = RIDGE, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Class values of every coarse pixel's window, for D dates and B bands.

    - ``frac``, ``counts``: (nrc, ncc, K) fractions and classified pixel counts (`class_counts`);
    - ``rows_valid``: (nrc, ncc) coarse pixels that may serve as equations (valid coarse value
      at every date solved, at least one classified fine pixel);
    - ``values``: (D, B, nrc, ncc) coarse values; ``lo``, ``hi``: (B,) bounds of the class values;
    - ``window``: odd initial width in coarse pixels, enlarged by one coarse pixel per side while
      the window has fewer valid coarse pixels than classes present or misses a class of its
      centre coarse pixel, up to ``max_window`` (None: the whole image).

    Returns ``sol`` (D, nrc, ncc, K, B) float64 (NaN: class absent from the window, or the centre
    has no classified pixel) and ``used`` (nrc, ncc) int32, the final half-width (-1: not solved).
    Rows of coarse pixels run on ``threads`` threads; the result does not depend on it.
    """
    frac = np.ascontiguousarray(frac, np.float64)
    counts = np.ascontiguousarray(counts, np.int64)
    rows_valid = np.ascontiguousarray(rows_valid, bool)
    values = np.ascontiguousarray(values, np.float64)
    if values.ndim != 4 or values.shape[2:] != frac.shape[:2] or counts.shape != frac.shape \
            or rows_valid.shape != frac.shape[:2]:
        raise ShapeMismatchError(
            f"unmix_windows: fractions {frac.shape}, counts {counts.shape}, rows_valid {rows_valid.shape} and "
            f"values {values.shape} do not match; give (nrc, ncc, K), (nrc, ncc, K), (nrc, ncc), (D, B, nrc, ncc)"
        )
    nrc, ncc, k = frac.shape
    nd, nb = values.shape[:2]
    lo = np.ascontiguousarray(np.broadcast_to(np.asarray(lo, np.float64), (nb,)))
    hi = np.ascontiguousarray(np.broadcast_to(np.asarray(hi, np.float64), (nb,)))
    half = int(window) // 2
    max_half = max(nrc, ncc) if max_window is None else max(half, int(max_window) // 2)
    sol = np.empty((nd, nrc, ncc, k, nb))
    used = np.empty((nrc, ncc), np.int32)
    threads = max(1, int(threads or os.cpu_count() or 1))
    args = (frac, counts, rows_valid, values, lo, hi, half, max_half, float(ridge))
    if threads == 1 or nrc < 2:
        unmix_rows(*args, 0, nrc, sol, used)
    else:
        step = max(1, -(-nrc // (4 * threads)))
        strips = [(r, min(nrc, r + step)) for r in range(0, nrc, step)]
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda s: unmix_rows(*args, s[0], s[1], sol, used), strips))
    return sol, used
