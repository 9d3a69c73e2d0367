"""The hand-checkable 2×2, 2-band vectors of notes section 1.9, and other values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stfusion.metrics import bias, cc, ergas, ergas_ratio, mae, psnr, rase, rmse, sam

TRUTH = np.array([[[1.0, 2.0], [3.0, 4.0]], [[2.0, 2.0], [2.0, 2.0]]])
PRED = np.array([[[1.5, 2.5], [3.5, 4.5]], [[1.0, 3.0], [1.0, 3.0]]])


def test_rmse_mae_bias():
    np.testing.assert_allclose(rmse(TRUTH, PRED), [0.5, 1.0])
    np.testing.assert_allclose(mae(TRUTH, PRED), [0.5, 1.0])
    np.testing.assert_allclose(bias(TRUTH, PRED), [0.5, 0.0])


def test_ergas_and_rase():
    assert ergas(TRUTH, PRED, ratio=1.0) == pytest.approx(38.078866, abs=1e-6)
    assert ergas(TRUTH, PRED, ratio=1 / 16) == pytest.approx(2.379929, abs=1e-6)
    assert ergas(TRUTH, PRED, ratio=ergas_ratio(30, 480)) == pytest.approx(2.379929, abs=1e-6)
    assert rase(TRUTH, PRED) == pytest.approx(35.136418, abs=1e-6)


def test_psnr_pooled():
    assert psnr(TRUTH, PRED, data_range=4.0, pooled=True) == pytest.approx(14.082400, abs=1e-6)
    np.testing.assert_allclose(psnr(TRUTH, PRED, data_range=4.0), [10 * math.log10(16 / 0.25), 10 * math.log10(16)])


def test_cc_constant_band_is_nan_with_warning():
    with pytest.warns(RuntimeWarning, match="band 2 is constant"):
        r = cc(TRUTH, PRED)
    assert r[0] == pytest.approx(1.0)
    assert math.isnan(r[1])


def test_sam():
    assert sam(TRUTH, PRED) == pytest.approx(14.952250, abs=1e-6)


def test_sam_45_degrees_zero_pixel_excluded():
    truth = np.array([[[1.0, 0.0]], [[0.0, 0.0]]])  # pixel 2 is an all-zero spectrum
    pred = np.array([[[1.0, 0.3]], [[1.0, 0.7]]])
    assert sam(truth, pred) == pytest.approx(45.0)
    assert sam(truth, pred, degrees=False) == pytest.approx(math.pi / 4)
