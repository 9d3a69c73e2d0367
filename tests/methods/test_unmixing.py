"""Spatial unmixing: fractions, coarse means, the bounded least-squares solver and windowed unmixing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from stfusion.core import ShapeMismatchError
from stfusion.methods.classical.unmixing import (
    box_lsq, class_counts, coarse_means, coarse_shape, fractions, unmix_windows, window_class_means,
)


def test_class_counts_and_fractions_with_partial_blocks_and_masks():
    classes = np.array([[0, 0, 1, 1, 2],
                        [0, 1, 1, -1, 2],
                        [2, 2, 0, 0, 0]])
    valid = np.ones(classes.shape, bool)
    valid[0, 0] = False
    counts = class_counts(classes, 2, 3, valid)
    assert coarse_shape(3, 5, 2) == (2, 3) and counts.shape == (2, 3, 3)
    assert counts[0, 0].tolist() == [2, 1, 0]      # (0,0) masked
    assert counts[0, 1].tolist() == [0, 3, 0]      # -1 not counted
    assert counts[0, 2].tolist() == [0, 0, 2]      # partial column block
    assert counts[1, 0].tolist() == [0, 0, 2]      # partial row block
    assert counts[1, 2].tolist() == [1, 0, 0]
    f = fractions(counts)
    np.testing.assert_allclose(f[0, 0], [2 / 3, 1 / 3, 0.0])
    np.testing.assert_allclose(f.sum(-1), 1.0)
    empty = fractions(np.zeros((1, 1, 2), np.int64))
    assert (empty == 0).all()


def test_coarse_means_of_valid_pixels():
    img = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    mask = np.ones((3, 5), bool)
    mask[0, 0] = False
    mask[2, 4] = False  # the only pixel of block (1, 2)
    values, ok = coarse_means(img, mask, 2)
    assert ok.tolist() == [[True, True, True], [True, True, False]]
    assert values[0, 0, 0] == pytest.approx((1 + 5 + 6) / 3)
    assert values[1, 1, 1] == pytest.approx((27 + 28) / 2)
    assert np.isnan(values[:, 1, 2]).all()


def _random_problem(rng, m, n):
    a = rng.random((m, n))
    a /= a.sum(1, keepdims=True)
    return a, rng.random(m) * 0.6


@pytest.mark.parametrize("seed", range(40))
def test_box_lsq_agrees_with_scipy_bvls(seed):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(4, 25)), int(rng.integers(1, 7))
    m = max(m, n + 1)
    a, y = _random_problem(rng, m, n)
    lo, hi = (0.0, 1.0) if seed % 2 else (0.15, 0.35)  # odd seeds: mostly inactive bounds
    ours = box_lsq(a, y, lo, hi)
    ref = lsq_linear(a, y, bounds=(lo, hi), method="bvls", tol=1e-14).x
    assert (ours >= lo).all() and (ours <= hi).all()
    cost = lambda x: ((a @ x - y) ** 2).sum()  # noqa: E731
    assert cost(ours) <= cost(ref) + 1e-13
    np.testing.assert_allclose(ours, ref, atol=1e-7)


def test_box_lsq_interior_solution_is_ordinary_least_squares():
    rng = np.random.default_rng(5)
    a = rng.random((30, 4))
    x_true = np.array([0.1, 0.4, 0.25, 0.3])
    ours = box_lsq(a, a @ x_true, -10, 10)
    np.testing.assert_allclose(ours, x_true, atol=1e-12)


def test_box_lsq_rank_deficient_is_optimal_and_feasible():
    a = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])  # classes 0 and 1 always together
    y = np.array([0.3, 0.3, 0.7])
    x = box_lsq(a, y, 0.0, 1.0)
    assert np.isfinite(x).all() and ((a @ x - y) ** 2).sum() < 1e-12
    # the free direction is settled toward the mean coarse value: both classes get 0.3
    np.testing.assert_allclose(x, [0.3, 0.3, 0.7], atol=1e-6)


def test_box_lsq_shape_error():
    with pytest.raises(ShapeMismatchError):
        box_lsq(np.ones((3, 2)), np.ones(4), 0, 1)


def _pure_scene(rng, nrc=7, ncc=8, k=3, bands=2):
    """Fractions of k classes in each coarse pixel and exact coarse values of known class values."""
    counts = rng.integers(0, 6, (nrc, ncc, k))
    counts[..., 0] += 1
    frac = fractions(counts)
    r = 0.1 + 0.6 * rng.random((k, bands))
    values = np.einsum("ijk,kb->bij", frac, r)[None]
    return counts, frac, values, r


def test_unmixing_recovers_pure_class_values_exactly():
    rng = np.random.default_rng(1)
    counts, frac, values, r = _pure_scene(rng)
    ok = np.ones(frac.shape[:2], bool)
    sol, used = unmix_windows(frac, counts, ok, values, 0.0, 1.0, window=3)
    assert (used == 1).all()
    for i in range(frac.shape[0]):
        for j in range(frac.shape[1]):
            present = counts[max(0, i - 1):i + 2, max(0, j - 1):j + 2].sum((0, 1)) > 0
            np.testing.assert_allclose(sol[0, i, j][present], r[present], atol=1e-8)
            assert np.isnan(sol[0, i, j][~present]).all()


def test_underdetermined_windows_are_enlarged():
    rng = np.random.default_rng(2)
    counts, frac, values, r = _pure_scene(rng, k=3)
    ok = np.ones(frac.shape[:2], bool)
    sol, used = unmix_windows(frac, counts, ok, values, 0.0, 1.0, window=1)
    mixed = (counts > 0).sum(-1) > 1
    assert mixed.any() and (~mixed).any()
    assert (used[mixed] >= 1).all()  # one coarse pixel cannot determine 2-3 classes
    assert (used[~mixed] == 0).all()  # a pure coarse pixel determines its one class
    np.testing.assert_allclose(sol[0][counts > 0], np.broadcast_to(r[None, None], sol[0].shape)[counts > 0],
                               atol=1e-8)
    capped, used_c = unmix_windows(frac, counts, ok, values, 0.0, 1.0, window=1, max_window=1)
    assert (used_c == 0).all() and np.isfinite(capped[0][counts > 0]).all()


def test_invalid_coarse_pixels_are_not_equations():
    rng = np.random.default_rng(3)
    counts, frac, values, r = _pure_scene(rng)
    ok = np.ones(frac.shape[:2], bool)
    ok[2:5, 2:5] = False
    junk = values.copy()
    junk[:, :, 2:5, 2:5] = 99.0
    sol, used = unmix_windows(frac, counts, ok, junk, 0.0, 1.0, window=3)
    assert used[3, 3] == 2  # its 3x3 window has no valid coarse pixel
    centre = counts > 0
    np.testing.assert_allclose(sol[0][centre], np.broadcast_to(r[None, None], sol[0].shape)[centre], atol=1e-8)


def test_centre_without_classified_pixels_is_not_solved():
    rng = np.random.default_rng(4)
    counts, frac, values, r = _pure_scene(rng)
    counts[0, 0] = 0
    frac = fractions(counts)
    sol, used = unmix_windows(frac, counts, counts.sum(-1) > 0, values, 0.0, 1.0)
    assert used[0, 0] == -1 and np.isnan(sol[:, 0, 0]).all()


def test_bounds_are_respected():
    rng = np.random.default_rng(6)
    counts, frac, values, r = _pure_scene(rng)
    sol, _ = unmix_windows(frac, counts, np.ones(frac.shape[:2], bool), values, 0.3, 0.5)
    good = sol[np.isfinite(sol)]
    assert good.min() >= 0.3 and good.max() <= 0.5


def test_windowed_unmixing_does_not_depend_on_threads():
    rng = np.random.default_rng(8)
    counts, frac, values, _ = _pure_scene(rng, nrc=20, ncc=9, k=4, bands=3)
    noisy = values + 0.01 * rng.standard_normal(values.shape)
    ok = rng.random(frac.shape[:2]) > 0.1
    one = unmix_windows(frac, counts, ok, noisy, 0.0, 1.0, threads=1)
    two = unmix_windows(frac, counts, ok, noisy, 0.0, 1.0, threads=2)
    assert np.array_equal(one[0], two[0], equal_nan=True) and np.array_equal(one[1], two[1])


def test_window_class_means_against_brute_force():
    rng = np.random.default_rng(9)
    counts = rng.integers(0, 3, (5, 6, 2))
    sums = rng.random((5, 6, 2, 3)) * counts[..., None]
    half = rng.integers(0, 3, (5, 6))
    out = window_class_means(sums, counts, half)
    for i in range(5):
        for j in range(6):
            h = half[i, j]
            s = sums[max(0, i - h):i + h + 1, max(0, j - h):j + h + 1].sum((0, 1))
            n = counts[max(0, i - h):i + h + 1, max(0, j - h):j + h + 1].sum((0, 1))
            for c in range(2):
                if n[c]:
                    np.testing.assert_allclose(out[i, j, c], s[c] / n[c])
                else:
                    assert np.isnan(out[i, j, c]).all()


def test_unmix_windows_shape_error():
    with pytest.raises(ShapeMismatchError):
        unmix_windows(np.zeros((2, 2, 3)), np.zeros((2, 2, 3)), np.ones((2, 2), bool), np.zeros((1, 1, 3, 3)), 0, 1)


def test_coarse_means_do_not_depend_on_threads():
    rng = np.random.default_rng(10)
    img = rng.random((3, 61, 47)).astype(np.float32)
    mask = rng.random((61, 47)) > 0.2
    one = coarse_means(img, mask, 5, threads=1)
    two = coarse_means(img, mask, 5, threads=2)
    assert np.array_equal(one[0], two[0], equal_nan=True) and np.array_equal(one[1], two[1])
