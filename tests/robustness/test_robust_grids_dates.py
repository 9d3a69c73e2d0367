"""Coarse grids that do not divide the fine grid, and dates out of order or repeated."""

from __future__ import annotations

import numpy as np
import pytest
from rasterio.transform import from_origin
from robust_rasters import CHANGE, fields, leftovers, stf_files, write_tif

from stfusion.core.errors import DateError, ExtentMismatchError
from stfusion.io import read_scene
from stfusion.parallel import predict_files


@pytest.mark.parametrize(("size", "cells", "shift"), [
    (45.0, 22, 0.0),    # ratio 1.5: not an integer
    (100.0, 10, 0.0),   # ratio 3.33, and 1000 m of coarse over 960 m of fine
    (120.0, 9, 15.0),   # ratio 4, the coarse grid half a fine pixel off and larger than the fine extent
])
def test_a_coarse_grid_that_does_not_divide_the_fine_grid_is_aligned(tmp_path, size, cells, shift):
    """Coarse values constant in time up to a uniform change: delta must give fine + change exactly."""
    files = stf_files(tmp_path)
    rng = np.random.default_rng(3)
    coarse = (0.1 + 0.2 * rng.random((3, cells, cells))).astype(np.float32)
    grid = from_origin(500000 - shift, 5000000 + shift, size, size)
    write_tif(files["coarse1"], coarse, transform=grid)
    write_tif(files["coarse2"], coarse + np.float32(CHANGE), transform=grid)
    fine, _ = fields()
    pairs = [(files["fine1"], files["coarse1"])]
    whole = read_scene(predict_files("delta", pairs, files["coarse2"], tmp_path / "mem.tif"))
    streamed = read_scene(predict_files("delta", pairs, files["coarse2"], tmp_path / "st.tif", chunk=8))
    assert whole.shape == (3, 32, 32) and whole.transform == read_scene(files["fine1"]).transform
    assert whole.mask.all() and streamed.mask.all()
    np.testing.assert_allclose(whole.data, fine + CHANGE, atol=2e-6)
    np.testing.assert_allclose(streamed.data, whole.data, atol=1e-6)


@pytest.mark.parametrize("chunk", [None, 8])
def test_a_coarse_grid_that_does_not_cover_the_fine_extent_is_refused(tmp_path, chunk):
    files = stf_files(tmp_path)
    grid = from_origin(500000, 5000000, 120.0, 120.0)
    for key in ("coarse1", "coarse2"):
        write_tif(files[key], np.full((3, 7, 7), 0.2, np.float32), transform=grid)  # 840 m < 960 m
    out = tmp_path / "pred.tif"
    with pytest.raises(ExtentMismatchError, match="does not cover fine 'F_20200601.tif'"):
        predict_files("delta", [(files["fine1"], files["coarse1"])], files["coarse2"], out, chunk=chunk)
    assert not out.exists() and leftovers(out) == []


def _two_pairs(tmp_path):
    rng = np.random.default_rng(1)
    fa = (0.05 + 0.3 * rng.random((3, 32, 32))).astype(np.float32)
    fb = (fa + 0.05 * rng.random((3, 32, 32))).astype(np.float32)

    def coarse(x):
        return np.kron(x.reshape(3, 8, 4, 8, 4).mean(axis=(2, 4)), np.ones((4, 4))).astype(np.float32)

    a = (write_tif(tmp_path / "F_20200601.tif", fa), write_tif(tmp_path / "C_20200601.tif", coarse(fa)))
    b = (write_tif(tmp_path / "F_20200901.tif", fb), write_tif(tmp_path / "C_20200901.tif", coarse(fb)))
    between = write_tif(tmp_path / "C_20200701.tif", coarse(0.7 * fa + 0.3 * fb))
    after = write_tif(tmp_path / "C_20201001.tif", coarse(fb + 0.01))
    return a, b, between, after


@pytest.mark.parametrize("method", ["estarfm", "starfm", "ubdf"])
def test_pairs_in_any_order_give_the_result_of_the_sorted_pairs(tmp_path, method):
    a, b, between, after = _two_pairs(tmp_path)
    for target in (between, after):  # target between the pairs, and after both
        ref = read_scene(predict_files(method, [a, b], target, tmp_path / "sorted.tif", ratio=4, overwrite=True))
        for chunk in (None, 8):
            got = read_scene(predict_files(method, [b, a], target, tmp_path / "rev.tif", ratio=4, chunk=chunk,
                                           overwrite=True))
            np.testing.assert_array_equal(got.mask, ref.mask)
            np.testing.assert_array_equal(got.masked(), ref.masked())


def test_a_pair_after_the_target_is_used_like_one_before_it(tmp_path):
    """Backward prediction: delta from a later pair is fine + (target - later coarse)."""
    _, b, between, _ = _two_pairs(tmp_path)
    got = read_scene(predict_files("delta", [b], between, tmp_path / "back.tif", ratio=4))
    fb, cb, ct = read_scene(b[0]), read_scene(b[1]), read_scene(between)
    np.testing.assert_allclose(got.data, fb.data + ct.data - cb.data, atol=2e-6)


@pytest.mark.parametrize("chunk", [None, 8])
def test_duplicate_pair_dates_are_a_date_error(tmp_path, chunk):
    a, _, between, _ = _two_pairs(tmp_path)
    out = tmp_path / "pred.tif"
    with pytest.raises(DateError, match="two pairs have the same date"):
        predict_files("estarfm", [a, a], between, out, ratio=4, chunk=chunk)
    assert not out.exists() and leftovers(out) == []


def test_a_pair_of_two_dates_is_a_date_error(tmp_path):
    a, b, between, _ = _two_pairs(tmp_path)
    with pytest.raises(DateError, match="fine 2020-06-01 vs coarse 2020-09-01"):
        predict_files("starfm", [(a[0], b[1])], between, tmp_path / "p.tif", ratio=4)
