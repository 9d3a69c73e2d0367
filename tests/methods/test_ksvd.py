"""K-SVD and the coupled dictionaries SPSTFM trains: error decreases, planted dictionary recovered,
OMP codes match scikit-learn and do not depend on the batch."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import orthogonal_mp

from stfusion.methods.classical.ksvd import coupled_ksvd, fit_rows, ksvd, omp, reconstruct


def _planted(dim: int = 20, atoms: int = 30, n: int = 600, sparsity: int = 3, noise: float = 0.01, seed: int = 1,
             d0: np.ndarray | None = None):
    """A random unit-norm dictionary (or ``d0``) and ``n`` noisy signals of ``sparsity`` atoms each."""
    rng = np.random.default_rng(seed)
    if d0 is None:
        d0 = rng.standard_normal((dim, atoms))
        d0 /= np.linalg.norm(d0, axis=0)
    x = np.zeros((d0.shape[1], n))
    for j in range(n):
        idx = rng.choice(d0.shape[1], sparsity, replace=False)
        x[idx, j] = rng.choice([-1, 1], sparsity) * (1 + rng.random(sparsity))
    return d0, d0 @ x + noise * rng.standard_normal((d0.shape[0], n))


def test_ksvd_reduces_the_error_and_recovers_a_planted_dictionary():
    d0, z = _planted()
    res = ksvd(z, 30, 3, rng=np.random.default_rng(0), max_iter=30, min_iter=30)
    hist = np.array(res.history)
    assert len(hist) == 31 and res.best == int(np.argmin(hist))
    assert hist[-1] < 0.2 * hist[0]
    # mostly monotone (OMP is greedy, so small rises are possible)
    assert (np.diff(hist) < 0.05 * hist[0]).all()
    assert np.allclose(np.linalg.norm(res.dictionary, axis=0), 1.0)
    cos = np.abs(res.dictionary.T @ d0).max(axis=0)
    assert (cos > 0.99).mean() >= 0.7, np.sort(cos)  # measured: 0.83 (K-SVD can stop in a local minimum)


def test_ksvd_stops_when_the_error_no_longer_decreases():
    _, z = _planted(n=200)
    res = ksvd(z, 30, 3, rng=np.random.default_rng(0), max_iter=50, min_iter=2, tol=np.inf)
    assert len(res.history) == 3  # initial, then two iterations before the (impossible) tolerance stops it


def test_omp_matches_scikit_learn_and_is_independent_of_the_batch():
    rng = np.random.default_rng(3)
    d = rng.standard_normal((12, 30))
    d /= np.linalg.norm(d, axis=0)
    y = rng.standard_normal((12, 50))
    y[:, 7] = 0.0  # a zero signal gets a zero code
    codes = omp(d, y, 3)
    dense = codes.dense(30)
    ref = orthogonal_mp(d, y[:, [i for i in range(50) if i != 7]], n_nonzero_coefs=3, precompute=False)
    np.testing.assert_allclose(np.delete(dense, 7, axis=1), ref, atol=1e-12)
    assert not dense[:, 7].any()
    np.testing.assert_allclose(reconstruct(d, codes), (d @ dense).T, atol=1e-12)
    part = omp(d, y[:, 20:23], 3)
    assert np.array_equal(part.index, codes.index[20:23]) and np.array_equal(part.coef, codes.coef[20:23])
    assert np.array_equal(reconstruct(d, part), reconstruct(d, codes)[20:23])


def test_fit_rows_is_the_least_squares_dictionary():
    rng = np.random.default_rng(4)
    d = rng.standard_normal((10, 20))
    d /= np.linalg.norm(d, axis=0)
    codes = omp(d, rng.standard_normal((10, 300)), 3)
    target = rng.standard_normal((6, 300))
    got = fit_rows(target, codes, 20)
    x = codes.dense(20)
    ref = np.linalg.lstsq(x.T, target.T, rcond=None)[0].T
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_coupled_dictionaries_learn_the_amplitude_relation():
    """High patches are twice the low ones: codes from the low part predict the high part."""
    d0, low = _planted(n=500, noise=0.0)
    res = coupled_ksvd(2.0 * low, low, 30, 3, rng=np.random.default_rng(0), max_iter=20, min_iter=20)
    np.testing.assert_allclose(np.linalg.norm(res.low, axis=0), 1.0)
    _, test = _planted(n=100, noise=0.0, seed=9, d0=d0)
    codes = omp(res.low, test, 3)
    rel_high = np.linalg.norm(reconstruct(res.high, codes).T - 2.0 * test) / np.linalg.norm(2.0 * test)
    rel_low = np.linalg.norm(reconstruct(res.low, codes).T - test) / np.linalg.norm(test)
    # the fine half is predicted as well as the coarse half is represented (measured: 0.25 both)
    assert rel_high < 0.35 and abs(rel_high - rel_low) < 0.02, (rel_high, rel_low)
    assert res.history[res.best] == min(res.history)


@pytest.mark.parametrize("n", [3, 40])
def test_fewer_signals_than_atoms_still_give_a_full_dictionary(n):
    _, z = _planted(n=n)
    res = ksvd(z, 30, 3, rng=np.random.default_rng(0), max_iter=3, min_iter=3)
    assert res.dictionary.shape == (20, 30) and np.isfinite(res.dictionary).all()
    assert np.allclose(np.linalg.norm(res.dictionary, axis=0), 1.0)


def test_cross_validated_ridge_shrinks_only_what_the_codes_cannot_predict():
    from stfusion.methods.classical.ksvd import RIDGE_GRID, select_ridge

    d0, z = _planted(noise=0.0)
    codes = omp(d0, z, 3)
    rng = np.random.default_rng(5)
    related = rng.standard_normal((12, 30)) @ codes.dense(30)  # high = D_h · codes exactly
    assert select_ridge(related, codes, 30) == RIDGE_GRID[0]
    unrelated = rng.standard_normal((12, z.shape[1]))  # high patches the codes say nothing about
    assert select_ridge(unrelated, codes, 30) >= 1.0
    fitted = fit_rows(unrelated, codes, 30, select_ridge(unrelated, codes, 30))
    assert np.abs(fitted).max() < np.abs(fit_rows(unrelated, codes, 30)).max()
