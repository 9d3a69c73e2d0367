"""SSIM against scikit-image and UIQI against a direct transcription of img_qi.m's definition."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from stfusion.metrics import ssim, uiqi


def random_pair(seed: int, shape=(3, 40, 37)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.05, 0.5, shape)
    pred = truth + rng.normal(0, 0.03, shape)
    return truth, pred


def skimage_map(t: np.ndarray, p: np.ndarray, data_range: float) -> np.ndarray:
    _, smap = structural_similarity(
        t, p, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=data_range, full=True
    )
    return smap


@pytest.mark.parametrize("data_range", [1.0, 0.5])
def test_ssim_equals_skimage_wang_mode(data_range):
    truth, pred = random_pair(0)
    expected = [
        structural_similarity(
            t, p, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=data_range
        )
        for t, p in zip(truth, pred)
    ]
    np.testing.assert_allclose(ssim(truth, pred, data_range=data_range), expected, rtol=0, atol=1e-10)


def test_masked_ssim_averages_positions_with_whole_window_valid():
    truth, pred = random_pair(1)
    mask = np.ones(truth.shape[1:], dtype=bool)
    mask[10:14, 20:23] = False
    rows, cols = mask.shape
    keep = np.zeros_like(mask)
    for y in range(5, rows - 5):
        for x in range(5, cols - 5):
            keep[y, x] = mask[y - 5 : y + 6, x - 5 : x + 6].all()
    expected = [skimage_map(t, p, 1.0)[keep].mean() for t, p in zip(truth, pred)]
    np.testing.assert_allclose(ssim(truth, pred, data_range=1.0, mask=mask), expected, rtol=0, atol=1e-10)


def test_masked_ssim_ignores_values_under_the_mask():
    truth, pred = random_pair(2)
    mask = np.ones(truth.shape[1:], dtype=bool)
    mask[:, :4] = False
    spoiled = pred.copy()
    spoiled[:, :, :4] = np.nan
    np.testing.assert_allclose(ssim(truth, spoiled, data_range=1.0, mask=mask), ssim(truth, pred, data_range=1.0, mask=mask))


def img_qi(x: np.ndarray, y: np.ndarray, block: int) -> float:
    """Wang & Bovik's Q, one window at a time, with img_qi.m's special cases."""
    values = []
    for i in range(x.shape[0] - block + 1):
        for j in range(x.shape[1] - block + 1):
            a = x[i : i + block, j : j + block].ravel()
            b = y[i : i + block, j : j + block].ravel()
            ma, mb = a.mean(), b.mean()
            va, vb = a.var(), b.var()
            cov = np.mean((a - ma) * (b - mb))
            energy = ma**2 + mb**2
            if np.isclose(va + vb, 0, atol=1e-15) and energy != 0:
                values.append(2 * ma * mb / energy)
            elif (va + vb) * energy != 0:
                values.append(4 * cov * ma * mb / ((va + vb) * energy))
            else:
                values.append(1.0)
    return float(np.mean(values))


@pytest.mark.parametrize("block", [8, 5])
def test_uiqi_equals_direct_windows(block):
    truth, pred = random_pair(3, shape=(2, 16, 13))
    expected = [img_qi(t, p, block) for t, p in zip(truth, pred)]
    np.testing.assert_allclose(uiqi(truth, pred, block=block), expected, rtol=0, atol=1e-10)


def test_uiqi_special_cases():
    # band 1: both constant and different -> 2·μx·μy/(μx²+μy²); band 2: both zero -> 1
    truth = np.stack([np.full((8, 8), 0.2), np.zeros((8, 8))])
    pred = np.stack([np.full((8, 8), 0.4), np.zeros((8, 8))])
    np.testing.assert_allclose(uiqi(truth, pred), [2 * 0.08 / 0.2, 1.0])


def test_uiqi_constant_against_varying_is_zero():
    truth = np.full((1, 8, 8), 0.3)
    pred = np.random.default_rng(4).uniform(0, 1, (1, 8, 8))
    assert uiqi(truth, pred)[0] == pytest.approx(0.0, abs=1e-9)


def test_masked_uiqi_equals_mean_over_valid_windows():
    truth, pred = random_pair(5, shape=(1, 14, 14))
    mask = np.ones((14, 14), dtype=bool)
    mask[0, 0] = False  # only the window at (0, 0) holds it
    full = []
    for i in range(7):
        for j in range(7):
            if (i, j) != (0, 0):
                full.append(img_qi(truth[0, i : i + 8, j : j + 8], pred[0, i : i + 8, j : j + 8], 8))
    assert uiqi(truth, pred, mask=mask)[0] == pytest.approx(np.mean(full), abs=1e-10)
