"""K-SVD dictionary learning (Aharon, Elad & Bruckstein 2006, IEEE TSP 54(11):4311-4322) and the
coupled variant SPSTFM trains on fine/coarse difference patches.

Sparse codes come from scikit-learn's orthogonal matching pursuit (`orthogonal_mp`), called with
``precompute=False`` on Fortran-ordered signals: each signal is coded on its own (no Gram or
batch matrix products), so a code does not depend on which other signals share the call. That
is what makes SPSTFM's tiled output bit-identical to its in-memory output.

K-SVD alternates

1. sparse coding: at most ``sparsity`` atoms per signal (OMP);
2. atom update, one atom at a time with the codes updated on the fly ("online" / Gauss-Seidel
   mode): for atom k and the signals that use it, the rank-1 approximation (SVD) of the
   representation error without atom k gives the new atom and its coefficients;
3. dictionary clean-up: an unused atom, or one almost equal (|cos| > 0.99) to an earlier atom, is
   replaced by the worst-represented training signal (Aharon et al.'s implementation does the
   same).

``code_rows`` restricts coding and the SVD to some rows of the signals (the coarse half of a
coupled dictionary, since at prediction time only that half is known); the atoms' other rows
(the fine half) are refitted by least squares to the codes after every coding step, so they
predict the fine half from the codes of the coarse half. Atoms have unit norm on the coding
rows. ``score_rows`` chooses the rows whose mean squared error decides when to stop and which
dictionary is kept (the best one seen).

Results do not depend on the BLAS thread count when run under one BLAS thread (SPSTFM trains
under ``threadpoolctl.threadpool_limits(1)``).
"""

from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np

CHUNK = 2048
"""Signals per scikit-learn call (bounds the dense code matrix it returns)."""

COHERENCE = 0.99
"""Atoms whose |cosine| with an earlier atom exceeds this are replaced."""

TINY = 1e-12
"""Signals (and atoms on the coding rows) with a smaller Euclidean norm count as zero."""


@dataclass(frozen=True)
class SparseCodes:
    """Sparse codes of N signals: ``index`` (N, sparsity) atom numbers and ``coef`` (N, sparsity)
    coefficients, in increasing atom order; unused slots have coefficient 0 (and index 0)."""

    index: np.ndarray
    coef: np.ndarray

    def dense(self, n_atoms: int) -> np.ndarray:
        """The (n_atoms, N) coefficient matrix."""
        out = np.zeros((n_atoms, self.index.shape[0]))
        cols = np.broadcast_to(np.arange(self.index.shape[0])[:, None], self.index.shape)
        np.add.at(out, (self.index.ravel(), cols.ravel()), self.coef.ravel())
        return out


@contextmanager
def _quiet_early_stops() -> Iterator[None]:
    """Silence scikit-learn's "OMP ended prematurely" warning, in the main thread only (warning
    filters are process-wide and `warnings.catch_warnings` is not thread-safe)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Orthogonal matching pursuit ended prematurely",
                                category=RuntimeWarning)
        yield


def omp(dictionary: np.ndarray, signals: np.ndarray, sparsity: int) -> SparseCodes:
    """Codes of the columns of ``signals`` (dim, N) on ``dictionary`` (dim, K) with unit-norm
    columns, by scikit-learn's `orthogonal_mp`. Signals with (near) zero norm get a zero code.

    OMP stops before ``sparsity`` atoms when the residual cannot be reduced further (a patch
    represented exactly by fewer atoms, common with blocky coarse images); scikit-learn's warning
    about it is expected and silenced (in the main thread)."""
    from sklearn.linear_model import orthogonal_mp

    dim, n = signals.shape
    k = dictionary.shape[1]
    t = int(min(sparsity, k))
    index = np.zeros((n, t), np.intp)
    coef = np.zeros((n, t))
    if n == 0 or t == 0:
        return SparseCodes(index, coef)
    norms = np.sqrt(_column_sums(signals * signals))
    active = np.flatnonzero(norms > TINY)
    dictionary = np.asfortranarray(dictionary, dtype=np.float64)
    for start in range(0, active.size, CHUNK):
        cols = active[start : start + CHUNK]
        y = np.asfortranarray(signals[:, cols], dtype=np.float64)
        with _quiet_early_stops():
            c = orthogonal_mp(dictionary, y, n_nonzero_coefs=t, precompute=False)
        c = np.asarray(c).reshape(k, cols.size)
        nonzero = c != 0
        # the (up to t) non-zero atoms of each signal, in increasing atom order
        order = np.argsort(~nonzero, axis=0, kind="stable")[:t].T
        vals = np.take_along_axis(c.T, order, axis=1)
        used = np.take_along_axis(nonzero.T, order, axis=1)
        index[cols] = np.where(used, order, 0)
        coef[cols] = np.where(used, vals, 0.0)
    return SparseCodes(index, coef)


def reconstruct(dictionary: np.ndarray, codes: SparseCodes) -> np.ndarray:
    """``dictionary @ codes`` as (N, dim), summed atom by atom so that every signal's result is
    independent of the others (no batch matrix product)."""
    atoms = np.ascontiguousarray(dictionary.T)
    out = atoms[codes.index[:, 0]] * codes.coef[:, :1]
    for j in range(1, codes.index.shape[1]):
        out += atoms[codes.index[:, j]] * codes.coef[:, j : j + 1]
    return out


def _column_sums(a: np.ndarray) -> np.ndarray:
    """Sum over rows, row by row (a fixed order that does not depend on the number of columns)."""
    out = np.zeros(a.shape[1:])
    for row in a:
        out += row
    return out


@dataclass(frozen=True)
class KsvdResult:
    """The learned ``dictionary`` (dim, K), unit norm on the coding rows; ``history`` the mean
    squared error on the scoring rows after each coding step (history[0]: initial dictionary);
    ``best`` the index in ``history`` of the kept dictionary."""

    dictionary: np.ndarray
    history: tuple[float, ...]
    best: int


def _rows(rows: slice | None, dim: int) -> np.ndarray:
    return np.arange(dim)[rows if rows is not None else slice(None)]


def _normalise(d: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Atoms scaled to unit norm on the coding rows; also returns those norms (before scaling)."""
    norms = np.sqrt((d[code] ** 2).sum(axis=0))
    safe = np.where(norms > TINY, norms, 1.0)
    return d / safe, norms


def initial_dictionary(signals: np.ndarray, n_atoms: int, rng: np.random.Generator,
                       code_rows: slice | None = None) -> np.ndarray:
    """``n_atoms`` training signals drawn at random (those with a non-zero coding part), scaled to
    unit norm on the coding rows; random Gaussian atoms if there are too few signals."""
    dim, n = signals.shape
    code = _rows(code_rows, dim)
    usable = np.flatnonzero(np.sqrt((signals[code] ** 2).sum(axis=0)) > TINY)
    pick = rng.permutation(usable)[:n_atoms]
    d = np.empty((dim, n_atoms))
    d[:, : pick.size] = signals[:, pick]
    if pick.size < n_atoms:
        d[:, pick.size :] = rng.standard_normal((dim, n_atoms - pick.size))
    return _normalise(d, code)[0]


RIDGE = 1e-10
"""Ridge of the least-squares refits inside K-SVD, relative to the mean squared code coefficient
(it only gives an atom that no signal uses zeros)."""

RIDGE_GRID = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)
"""Candidate ridges (relative, as `RIDGE`) of the final fine dictionary; `select_ridge` picks one."""


def _normal_equations(signals: np.ndarray, codes: SparseCodes, n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    """Gram matrix X·Xᵀ (n_atoms, n_atoms) and right-hand side X·signalsᵀ (n_atoms, dim) of the codes X."""
    gram = np.zeros((n_atoms, n_atoms))
    rhs = np.zeros((n_atoms, signals.shape[0]))
    idx, coef = codes.index, codes.coef
    t = idx.shape[1]
    for a in range(t):
        np.add.at(rhs, idx[:, a], coef[:, a : a + 1] * signals.T)
        for b in range(t):
            np.add.at(gram, (idx[:, a], idx[:, b]), coef[:, a] * coef[:, b])
    return gram, rhs


def _solve(gram: np.ndarray, rhs: np.ndarray, ridge: float) -> np.ndarray:
    """The (dim, n_atoms) ridge solution; ``ridge`` is relative to the mean diagonal of ``gram``."""
    n_atoms = gram.shape[0]
    lam = ridge * max(float(np.trace(gram)) / n_atoms, TINY)
    return np.linalg.solve(gram + lam * np.eye(n_atoms), rhs).T


def fit_rows(signals: np.ndarray, codes: SparseCodes, n_atoms: int, ridge: float = RIDGE) -> np.ndarray:
    """The (dim, n_atoms) dictionary D minimising ||signals - D·X||² + λ||D||² for the given codes X
    (normal equations; λ = ``ridge`` times the mean squared coefficient per atom)."""
    return _solve(*_normal_equations(signals, codes, n_atoms), ridge)


def select_ridge(signals: np.ndarray, codes: SparseCodes, n_atoms: int, folds: int = 5) -> float:
    """The ridge of `RIDGE_GRID` whose `fit_rows` dictionary predicts held-out signals best
    (``folds``-fold cross-validation, signal j in fold j mod ``folds``; ties go to the smaller ridge).

    Codes of nearly structureless low-resolution patches are small; an unregularised fit then maps
    them to large high-resolution atoms, which turn the larger codes of other patches into
    absurd predictions. Cross-validation shrinks exactly as much as the training pairs support."""
    n = signals.shape[1]
    if n < 2 * folds:
        return RIDGE
    total = _normal_equations(signals, codes, n_atoms)
    parts = []
    for f in range(folds):
        sel = np.arange(f, n, folds)
        sub = SparseCodes(codes.index[sel], codes.coef[sel])
        parts.append((sel, sub, _normal_equations(signals[:, sel], sub, n_atoms)))
    errors = []
    for ridge in RIDGE_GRID:
        err = 0.0
        for sel, sub, (g, r) in parts:
            d = _solve(total[0] - g, total[1] - r, ridge)
            err += float(((signals[:, sel] - reconstruct(d, sub).T) ** 2).sum())
        errors.append(err)
    return RIDGE_GRID[int(np.argmin(errors))]


def ksvd(signals: np.ndarray, n_atoms: int, sparsity: int, *, rng: np.random.Generator,
         max_iter: int = 20, min_iter: int = 10, tol: float = 1e-10, code_rows: slice | None = None,
         score_rows: slice | None = None, init: np.ndarray | None = None) -> KsvdResult:
    """Learn a dictionary of ``n_atoms`` atoms for ``signals`` (dim, N) by K-SVD.

    Up to ``max_iter`` coding + update iterations; after ``min_iter`` it stops as soon as the
    scoring error decreases by less than ``tol``. Returns the dictionary with the lowest scoring
    error seen (see `KsvdResult`). ``rng`` draws the initial atoms (unless ``init`` is given) and
    replacement atoms when no training signal is left to use. With ``code_rows``, the other rows
    of the atoms are refitted by least squares (`fit_rows`) after every coding step.
    """
    z = np.asarray(signals, np.float64)
    dim, n = z.shape
    code = _rows(code_rows, dim)
    score = _rows(score_rows, dim)
    rest = np.setdiff1d(np.arange(dim), code)
    if init is None:
        d = initial_dictionary(z, n_atoms, rng, code_rows)
    else:
        d = _normalise(np.array(init, np.float64), code)[0]
    history: list[float] = []
    best_err, best_d, best_it = np.inf, d.copy(), 0
    for it in range(max_iter + 1):
        codes = omp(d[code], z[code], sparsity)
        if rest.size:
            d[rest] = fit_rows(z[rest], codes, n_atoms)
        resid = z - reconstruct(d, codes).T
        err = float((resid[score] ** 2).mean()) if n else 0.0
        history.append(err)
        if err < best_err:
            best_err, best_d, best_it = err, d.copy(), it
        if it == max_iter or (it >= max(min_iter, 1) and history[-2] - err < tol):
            break
        d = _update_atoms(z, d, codes.dense(n_atoms), resid[code], code, rng)
    return KsvdResult(best_d, tuple(history), best_it)


def _update_atoms(z: np.ndarray, d: np.ndarray, x: np.ndarray, resid: np.ndarray, code: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """One K-SVD sweep over the atoms' coding rows (online mode: ``x`` and ``resid``, the error on
    the coding rows, are updated in place): atom k and its coefficients become the rank-1 SVD
    approximation of the error without atom k over the signals that use it."""
    d = d.copy()
    dc = d[code]
    replace: list[int] = []
    for k in range(d.shape[1]):
        users = np.flatnonzero(x[k])
        if users.size == 0:
            replace.append(k)
            continue
        e = resid[:, users] + np.outer(dc[:, k], x[k, users])
        u, s, vt = np.linalg.svd(e, full_matrices=False)
        if s[0] <= TINY:  # nothing left to represent: free the atom
            resid[:, users] = e
            x[k, users] = 0.0
            replace.append(k)
            continue
        atom, coef = u[:, 0], s[0] * vt[0]
        if atom @ dc[:, k] < 0:  # keep the atom's orientation (the SVD's sign is arbitrary)
            atom, coef = -atom, -coef
        dc[:, k] = atom
        x[k, users] = coef
        resid[:, users] = e - np.outer(atom, coef)
    d[code] = dc
    # near-duplicates of an earlier atom are replaced too
    dup = np.triu(np.abs(dc.T @ dc) > COHERENCE, k=1).any(axis=0)
    replace = sorted(set(replace) | set(np.flatnonzero(dup).tolist()))
    if replace:
        _replace_atoms(z, d, resid, code, replace, rng)
    return d


def _replace_atoms(z: np.ndarray, d: np.ndarray, resid: np.ndarray, code: np.ndarray, atoms: list[int],
                   rng: np.random.Generator) -> None:
    """Put the worst-represented training signals (largest residual energy on the coding rows)
    in place of ``atoms``; random Gaussian atoms when no such signal is left."""
    energy = (resid**2).sum(axis=0)
    order = np.argsort(-energy, kind="stable")
    candidates = [j for j in order if energy[j] > TINY]
    for i, k in enumerate(atoms):
        atom = z[:, candidates[i]].copy() if i < len(candidates) else rng.standard_normal(z.shape[0])
        d[:, k] = atom / np.sqrt((atom[code] ** 2).sum())


@dataclass(frozen=True)
class CoupledDictionary:
    """A coupled pair: ``high`` (dim_h, K) and ``low`` (dim_l, K) share their sparse codes; the low
    atoms have unit norm. ``history``: the high-resolution (prediction) mean squared error of the
    training signals, coded from their low part, after each K-SVD coding step; ``best``: the kept step;
    ``ridge``: the cross-validated ridge of the final least-squares fit of ``high`` (`select_ridge`)."""

    high: np.ndarray
    low: np.ndarray
    history: tuple[float, ...]
    best: int
    ridge: float


def coupled_ksvd(high: np.ndarray, low: np.ndarray, n_atoms: int, sparsity: int, *, rng: np.random.Generator,
                 max_iter: int = 20, min_iter: int = 10, tol: float = 1e-10) -> CoupledDictionary:
    """Learn coupled dictionaries from training pairs (columns of ``high`` (dim_h, N) and ``low``
    (dim_l, N)) that share their sparse codes.

    As at prediction time, the codes come from the low part alone (OMP on the low dictionary).
    K-SVD updates the low atoms (rank-1 SVD of the low error); after every coding step the high
    atoms are the least-squares fit of the high patches to those codes, so Dh·x predicts a high
    patch from the code x of its low patch. The low dictionary kept is the one with the smallest
    error of that prediction on the training pairs; the high atoms are then refitted to its codes
    with the ridge that cross-validation on the training pairs picks (`select_ridge`).
    """
    dim_h = high.shape[0]
    z = np.vstack([np.asarray(high, np.float64), np.asarray(low, np.float64)])
    res = ksvd(z, n_atoms, sparsity, rng=rng, max_iter=max_iter, min_iter=min_iter, tol=tol,
               code_rows=slice(dim_h, None), score_rows=slice(0, dim_h))
    low_dict = res.dictionary[dim_h:]
    codes = omp(low_dict, z[dim_h:], sparsity)
    ridge = select_ridge(z[:dim_h], codes, n_atoms)
    return CoupledDictionary(fit_rows(z[:dim_h], codes, n_atoms, ridge), low_dict, res.history, res.best, ridge)
