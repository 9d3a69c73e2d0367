"""Masks and non-finite pixels: pixelwise metrics over valid pixels equal the metrics of those pixels alone;
identical images give the ideal values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stfusion.metrics import apa, bias, cc, ergas, mae, psnr, q2n, rase, rmse, sam, ssim, uiqi

PIXELWISE = {
    "rmse": lambda t, p, m: rmse(t, p, mask=m),
    "rmse_pooled": lambda t, p, m: rmse(t, p, mask=m, pooled=True),
    "mae": lambda t, p, m: mae(t, p, mask=m),
    "bias": lambda t, p, m: bias(t, p, mask=m),
    "cc": lambda t, p, m: cc(t, p, mask=m),
    "psnr": lambda t, p, m: psnr(t, p, mask=m, data_range=1.0),
    "psnr_pooled": lambda t, p, m: psnr(t, p, mask=m, data_range=1.0, pooled=True),
    "sam": lambda t, p, m: sam(t, p, mask=m),
    "rase": lambda t, p, m: rase(t, p, mask=m),
    "ergas": lambda t, p, m: ergas(t, p, mask=m, ratio=0.25),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    truth = rng.uniform(0.05, 0.5, (3, 20, 24))
    pred = truth + rng.normal(0.01, 0.03, truth.shape)
    mask = rng.uniform(size=(20, 24)) > 0.3
    return truth, pred, mask


@pytest.mark.parametrize("name", sorted(PIXELWISE))
def test_masked_equals_valid_subset(data, name):
    truth, pred, mask = data
    subset_t, subset_p = truth[:, mask][:, None, :], pred[:, mask][:, None, :]
    f = PIXELWISE[name]
    np.testing.assert_allclose(f(truth, pred, mask), f(subset_t, subset_p, None), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(PIXELWISE))
def test_non_finite_pixels_are_left_out_like_masked_ones(data, name):
    truth, pred, mask = data
    t, p = truth.copy(), pred.copy()
    t[0, ~mask] = np.nan
    p[2, ~mask] = np.inf
    f = PIXELWISE[name]
    np.testing.assert_allclose(f(t, p, None), f(truth, pred, mask), rtol=1e-12)


def test_masked_pixels_may_hold_anything_in_windowed_metrics(data):
    truth, pred, _ = data
    mask = np.ones(truth.shape[1:], dtype=bool)
    mask[:3] = False
    t = truth.copy()
    t[:, :3] = 1e30
    np.testing.assert_allclose(uiqi(t, pred, mask=mask), uiqi(truth, pred, mask=mask))
    np.testing.assert_allclose(apa(t, pred, mask=mask).edge, apa(truth, pred, mask=mask).edge)


def test_two_dimensional_input_is_one_band(data):
    truth, pred, mask = data
    np.testing.assert_allclose(rmse(truth[1], pred[1], mask=mask), rmse(truth[1:2], pred[1:2], mask=mask))


def test_identity_gives_ideal_values(data):
    truth, _, _ = data
    pred = truth.copy()
    np.testing.assert_array_equal(rmse(truth, pred), 0)
    np.testing.assert_array_equal(mae(truth, pred), 0)
    np.testing.assert_allclose(cc(truth, pred), 1)
    np.testing.assert_allclose(ssim(truth, pred, data_range=1.0), 1)
    np.testing.assert_allclose(uiqi(truth, pred), 1)
    assert sam(truth, pred) == pytest.approx(0, abs=1e-5)
    assert q2n(truth, pred) == pytest.approx(1)
    assert ergas(truth, pred, ratio=1.0) == 0 and rase(truth, pred) == 0
    assert psnr(truth, pred, data_range=1.0, pooled=True) == math.inf
    assert np.all(psnr(truth, pred, data_range=1.0) == math.inf)
    result = apa(truth, pred)
    assert np.all(result.edge == 0) and np.all(result.lbp == 0) and np.all(result.ad == 0)
