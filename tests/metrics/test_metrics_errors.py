"""Every error and warning path of the array-level metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stfusion.core.errors import (
    DTypeError,
    NoDataError,
    RatioError,
    ShapeMismatchError,
    UnknownParameterError,
)
from stfusion.metrics import apa, ergas, ergas_ratio, psnr, q2n, rase, rmse, sam, ssim, uiqi

RNG = np.random.default_rng(3)
T = RNG.uniform(0.1, 0.5, (2, 16, 16))
P = T + RNG.normal(0, 0.02, T.shape)


def test_shape_mismatch():
    with pytest.raises(ShapeMismatchError, match="same bands on the same grid"):
        rmse(T, P[:, :, :15])


def test_band_count_mismatch():
    with pytest.raises(ShapeMismatchError):
        ssim(T, P[:1], data_range=1.0)


def test_wrong_dimensions():
    with pytest.raises(ShapeMismatchError, match="dimensions"):
        rmse(T[None], P[None])


def test_wrong_dtype():
    with pytest.raises(DTypeError, match="real-valued"):
        rmse(T.astype(complex), P)


def test_mask_shape():
    with pytest.raises(ShapeMismatchError, match="mask has shape"):
        rmse(T, P, mask=np.ones((16, 15), dtype=bool))


def test_all_masked():
    with pytest.raises(NoDataError, match="no valid pixel"):
        rmse(T, P, mask=np.zeros((16, 16), dtype=bool))


def test_all_non_finite():
    with pytest.raises(NoDataError):
        sam(np.full_like(T, np.nan), P)


def test_image_smaller_than_window():
    with pytest.raises(ShapeMismatchError, match="at least 11x11"):
        ssim(T[:, :10], P[:, :10], data_range=1.0)


def test_no_valid_window():
    mask = np.ones((16, 16), dtype=bool)
    mask[::4, ::4] = False
    with pytest.raises(NoDataError, match="8x8 window"):
        uiqi(T, P, mask=mask)


def test_no_valid_block():
    mask = np.ones((16, 16), dtype=bool)
    mask[5, 5] = False
    with pytest.raises(NoDataError, match="block"):
        q2n(T, P, mask=mask, block=16)


def test_data_range_is_required():
    with pytest.raises(TypeError):
        psnr(T, P)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ssim(T, P)  # type: ignore[call-arg]


@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf])
def test_bad_data_range(value):
    with pytest.raises(UnknownParameterError, match="data_range"):
        psnr(T, P, data_range=value)
    with pytest.raises(UnknownParameterError, match="data_range"):
        ssim(T, P, data_range=value)


def test_ratio_is_required():
    with pytest.raises(TypeError):
        ergas(T, P)  # type: ignore[call-arg]


def test_ratio_above_one_suggests_inverse():
    with pytest.raises(RatioError, match=r"did you mean ratio=0\.0625"):
        ergas(T, P, ratio=16)


@pytest.mark.parametrize("value", [0, -0.25, math.nan])
def test_bad_ratio(value):
    with pytest.raises(RatioError, match=r"\(0, 1\]"):
        ergas(T, P, ratio=value)


def test_ergas_ratio_helper():
    assert ergas_ratio(30, 500) == pytest.approx(0.06)
    with pytest.raises(RatioError, match="swap"):
        ergas_ratio(480, 30)
    with pytest.raises(RatioError, match="positive"):
        ergas_ratio(0, 30)


@pytest.mark.parametrize("block", [1, 2.5, True])
def test_bad_blocks(block):
    with pytest.raises(UnknownParameterError, match="block"):
        uiqi(T, P, block=block)
    with pytest.raises(UnknownParameterError, match="block"):
        q2n(T, P, block=block)


@pytest.mark.parametrize("tol", [-0.1, math.nan])
def test_bad_lbp_tol(tol):
    with pytest.raises(UnknownParameterError, match="lbp_tol"):
        apa(T, P, lbp_tol=tol)


def test_apa_needs_a_valid_3x3_neighbourhood():
    with pytest.raises(ShapeMismatchError, match="3x3"):
        apa(T[:, :2], P[:, :2])


def test_sam_without_nonzero_spectra_is_nan_with_warning():
    with pytest.warns(RuntimeWarning, match="SAM is undefined"):
        assert math.isnan(sam(np.zeros_like(T), P))


def test_zero_reference_mean_is_nan_with_warning():
    truth = np.zeros_like(T)
    with pytest.warns(RuntimeWarning, match="RASE is undefined"):
        assert math.isnan(rase(truth, P))
    with pytest.warns(RuntimeWarning, match="ERGAS is undefined"):
        assert math.isnan(ergas(truth, P, ratio=1.0))
