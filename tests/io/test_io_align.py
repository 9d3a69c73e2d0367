"""align_to_fine, degrade and infer_ratio on synthetic georeferenced scenes (30 m fine, 480 m coarse)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from stfusion.core.errors import CRSMismatchError, ExtentMismatchError, RatioError, UnknownParameterError
from stfusion.core.scene import RasterEncoding, Scene
from stfusion.io import align_to_fine, degrade, infer_ratio

FINE_T = (30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0)


def _fine(data=None, mask=None, **kw) -> Scene:
    if data is None:
        data = np.random.default_rng(0).random((2, 64, 48))
    return Scene(np.asarray(data, np.float32), mask, transform=FINE_T, crs="EPSG:32633", **kw)


def _blocky(coarse: Scene, rows: int, cols: int, r: int) -> np.ndarray:
    return np.kron(coarse.data, np.ones((r, r), np.float32))[:, :rows, :cols]


def test_degrade_block_means_and_grid():
    fine = _fine(date=dt.date(2020, 5, 1), bands=("red", "nir"), encoding=RasterEncoding("int16", 1e-4))
    coarse = degrade(fine, 16)
    assert coarse.shape == (2, 4, 3)
    assert coarse.transform == (480.0, 0.0, 500000.0, 0.0, -480.0, 4000000.0)
    assert coarse.resolution == 480.0
    np.testing.assert_allclose(coarse.data[:, 1, 2], fine.data[:, 16:32, 32:48].mean(axis=(1, 2)), rtol=1e-6)
    assert (coarse.date, coarse.bands, coarse.encoding) == (fine.date, fine.bands, fine.encoding)


def test_degrade_ignores_invalid_pixels_and_cut_edges():
    data = np.ones((1, 20, 20), np.float32)
    data[0, :2, :2] = 100.0
    mask = np.ones((20, 20), bool)
    mask[:2, :2] = False
    mask[16:, :16] = False
    coarse = degrade(_fine(data, mask), 16)
    assert coarse.shape == (1, 2, 2)
    np.testing.assert_allclose(coarse.data[0][coarse.mask], 1.0)
    np.testing.assert_array_equal(coarse.mask, [[True, True], [False, True]])


@pytest.mark.parametrize("ratio", [0, -2, 2.5, True])
def test_degrade_bad_ratio(ratio):
    with pytest.raises(RatioError, match="positive integer ratio"):
        degrade(_fine(), ratio)


def test_degrade_then_nearest_is_blocky():
    fine = _fine()
    coarse = degrade(fine, 16)
    aligned = align_to_fine(coarse, fine, method="nearest")
    assert aligned.transform == fine.transform and aligned.shape == fine.shape
    assert aligned.mask.all()
    np.testing.assert_array_equal(aligned.data, _blocky(coarse, 64, 48, 16))


@pytest.mark.parametrize("method", ["average", "bilinear", "nearest"])
def test_constant_stays_constant(method):
    fine = _fine(np.full((2, 64, 48), 0.3))
    coarse = degrade(fine, 16).replace(transform=(480.0, 0.0, 499900.0, 0.0, -480.0, 4000100.0))
    aligned = align_to_fine(coarse, fine, method=method)
    np.testing.assert_allclose(aligned.data[:, aligned.mask], 0.3, rtol=1e-6)
    assert aligned.mask.sum() > 0.5 * aligned.mask.size


def test_average_of_unaligned_grid_is_area_weighted():
    fine = Scene(np.zeros((1, 2, 2), np.float32), transform=(30.0, 0, 0.0, 0, -30.0, 60.0), crs="EPSG:32633")
    coarse = Scene(
        np.array([[[0.0, 1.0], [0.0, 1.0]]], np.float32), transform=(40.0, 0, -20.0, 0, -40.0, 70.0), crs="EPSG:32633"
    )
    aligned = align_to_fine(coarse, fine, method="average")
    # fine pixel x-range [0, 30]: 20 m inside the 0-valued coarse column and 10 m inside the 1-valued one
    np.testing.assert_allclose(aligned.data[0, :, 0], 1 / 3, atol=1e-6)
    np.testing.assert_allclose(aligned.data[0, :, 1], 1.0, atol=1e-6)


def test_mask_invalid_coarse_and_uncovered_fine_pixels():
    fine = _fine()
    mask = np.ones((64, 48), bool)
    mask[:16, :16] = False
    coarse = degrade(_fine(mask=mask), 16)
    aligned = align_to_fine(coarse, fine)
    np.testing.assert_array_equal(aligned.mask, mask)
    shifted = coarse.replace(transform=(480.0, 0.0, 500240.0, 0.0, -480.0, 4000000.0))
    aligned = align_to_fine(shifted, fine)
    assert not aligned.mask[:, :8].any()
    assert not aligned.mask[:16, 8:24].any() and aligned.mask[:16, 24:].all()
    assert aligned.mask[16:, 8:].all()


def test_result_keeps_coarse_metadata():
    fine = _fine(date=dt.date(2020, 1, 1), bands=("red", "nir"))
    coarse = degrade(fine, 16).replace(date=dt.date(2020, 2, 2), encoding=RasterEncoding("int16", 1e-4), name="mod")
    aligned = align_to_fine(coarse, fine)
    assert (aligned.date, aligned.bands, aligned.encoding, aligned.name) == (
        coarse.date, coarse.bands, coarse.encoding, "mod"
    )
    assert (aligned.crs, aligned.resolution) == ("EPSG:32633", 30.0)


def test_same_grid_is_returned_unchanged():
    fine = _fine()
    assert np.array_equal(align_to_fine(fine, fine).data, fine.data)


def test_infer_ratio():
    fine = _fine()
    assert infer_ratio(fine, degrade(fine, 16)) == pytest.approx(16.0)


def test_crs_mismatch():
    fine = _fine()
    coarse = degrade(fine, 16).replace(crs="EPSG:32634")
    with pytest.raises(CRSMismatchError, match="CRS differs"):
        align_to_fine(coarse, fine)


def test_unknown_method():
    fine = _fine()
    with pytest.raises(UnknownParameterError, match="average, bilinear, nearest"):
        align_to_fine(degrade(fine, 16), fine, method="cubic")


def test_ungeoreferenced_needs_a_ratio():
    fine = Scene(np.ones((1, 32, 32), np.float32))
    coarse = Scene(np.ones((1, 2, 2), np.float32))
    with pytest.raises(RatioError, match="no georeferencing"):
        align_to_fine(coarse, fine)


def test_no_overlap():
    fine = _fine()
    far = degrade(fine, 16).replace(transform=(480.0, 0.0, 900000.0, 0.0, -480.0, 4000000.0))
    with pytest.raises(ExtentMismatchError, match="no valid pixel over fine"):
        align_to_fine(far, fine)
