"""Tests of the synthetic scene generator."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import ndimage

from stfusion.core.errors import (
    DateError,
    InputError,
    RatioError,
    ShapeMismatchError,
    UnknownParameterError,
)
from stfusion.core.scene import RasterEncoding
from stfusion.core.task import FusionTask
from stfusion.data.synthetic import SyntheticConfig, make_demo_task, make_series

NIR, RED = 3, 2
EXACT = dict(gain_range=(1.0, 1.0), bias_range=(0.0, 0.0), noise=0.0)


def _block_mean(a: np.ndarray, r: int) -> np.ndarray:
    b, h, w = a.shape
    return a.reshape(b, h // r, r, w // r, r).mean(axis=(2, 4))


def _ndvi(data: np.ndarray) -> np.ndarray:
    return (data[NIR] - data[RED]) / (data[NIR] + data[RED])


@pytest.fixture(scope="module")
def series():
    return make_series()


def test_same_seed_identical_and_different_seed_different(series):
    again = make_series(SyntheticConfig())
    other = make_series(seed=1)
    np.testing.assert_array_equal(series.classes, again.classes)
    for a, b, c in zip(series.fine, again.fine, other.fine):
        np.testing.assert_array_equal(a.data, b.data)
        assert not np.array_equal(a.data, c.data)
    for a, b in zip(series.coarse, again.coarse):
        np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(series.classes, other.classes)


def test_shapes_grids_and_metadata(series):
    cfg = series.config
    assert cfg.size == (240, 240) and cfg.ratio == 16 and len(series.dates) == 5
    assert series.classes.shape == (240, 240) and series.classes.dtype == np.uint8
    assert set(np.unique(series.classes)) == set(range(cfg.n_classes))
    for date, fine, coarse, cof in zip(series.dates, series.fine, series.coarse, series.coarse_on_fine):
        assert fine.shape == (6, 240, 240) and fine.data.dtype == np.float32
        assert coarse.shape == (6, 15, 15) and cof.shape == (6, 240, 240)
        assert fine.bands == coarse.bands == ("blue", "green", "red", "nir", "swir1", "swir2")
        assert fine.date == coarse.date == cof.date == date
        assert fine.crs == coarse.crs == "EPSG:32633"
        assert fine.transform == (30.0, 0.0, 500000.0, 0.0, -30.0, 5000000.0) == cof.transform
        assert coarse.transform == (480.0, 0.0, 500000.0, 0.0, -480.0, 5000000.0)
        assert coarse.bounds == fine.bounds
        assert (fine.resolution, coarse.resolution) == (30.0, 480.0)
        assert fine.name == f"synthetic-fine-{date.isoformat()}"
        assert fine.encoding == RasterEncoding(dtype="int16", scale=1e-4, offset=0.0, nodata=-9999)
        assert fine.mask.all() and fine is series.truth[series.dates.index(date)]
        assert 0.0 <= fine.data.min() and fine.data.max() <= 0.6
        np.testing.assert_array_equal(cof.data, np.kron(coarse.data, np.ones((1, 16, 16), np.float32)))


@pytest.mark.parametrize("sigma", [0.0, 3.0])
def test_coarse_is_block_mean_of_blurred_fine(sigma):
    s = make_series(size=(64, 96), ratio=8, psf_sigma=sigma, **EXACT)
    for fine, coarse in zip(s.fine, s.coarse):
        blurred = ndimage.gaussian_filter(fine.data.astype(np.float64), (0, sigma, sigma), mode="reflect")
        np.testing.assert_allclose(coarse.data, _block_mean(blurred, 8), atol=1e-5)


def test_default_psf_is_half_the_ratio():
    s = make_series(size=(64, 64), ratio=8, **EXACT)
    blurred = ndimage.gaussian_filter(s.fine[0].data.astype(np.float64), (0, 4, 4), mode="reflect")
    np.testing.assert_allclose(s.coarse[0].data, _block_mean(blurred, 8), atol=1e-5)


def test_gain_bias_and_noise():
    base = dict(size=(64, 64), ratio=8, psf_sigma=0.0)
    clean = make_series(**base, noise=0.0)
    noisy = make_series(**base, noise=0.01)
    assert np.all((0.95 <= clean.gain) & (clean.gain <= 1.05)) and np.ptp(clean.gain) > 0
    assert np.all((-0.01 <= clean.bias) & (clean.bias <= 0.01)) and np.ptp(clean.bias) > 0
    expected = _block_mean(clean.fine[0].data.astype(np.float64), 8) * clean.gain[:, None, None]
    np.testing.assert_allclose(clean.coarse[0].data, expected + clean.bias[:, None, None], atol=1e-6)
    residual = noisy.coarse[0].data - clean.coarse[0].data
    assert residual.std() == pytest.approx(0.01, rel=0.15)


def test_misregistration_shifts_coarse_content():
    s = make_series(size=(64, 64), ratio=8, psf_sigma=0.0, misregistration=(0.0, 8.0), **EXACT)
    expected = _block_mean(s.fine[0].data.astype(np.float64), 8)
    np.testing.assert_allclose(s.coarse[0].data[:, :, 1:], expected[:, :, :-1], atol=1e-5)
    assert not np.allclose(s.coarse[0].data, expected, atol=1e-3)


def test_flood_pixels_become_water(series):
    flood = series.flood_mask
    assert flood.sum() > 500 and not (series.classes[flood] == 0).any()
    water = series.fine[0].data[:, series.classes == 0].mean(axis=1)
    for date, fine in zip(series.dates, series.fine):
        spectrum = fine.data[:, flood].mean(axis=1)
        if date >= series.config.flood_date:
            np.testing.assert_allclose(spectrum, water, rtol=0.1)
        else:
            assert spectrum[NIR] > 3 * water[NIR]


def test_harvest_drops_nir(series):
    harvest = series.harvest_mask & ~series.flood_mask
    assert harvest.sum() > 300
    (crop,) = np.unique(series.classes[series.harvest_mask])
    assert series.class_names[crop].startswith("crop")
    same_crop = (series.classes == crop) & ~series.harvest_mask & ~series.flood_mask
    before, after = series.fine[2], series.fine[3]
    assert before.date < series.config.harvest_date <= after.date
    assert before.data[NIR, harvest].mean() - after.data[NIR, harvest].mean() > 0.15
    assert abs(before.data[NIR, same_crop].mean() - after.data[NIR, same_crop].mean()) < 0.05


def test_crop_ndvi_rises_then_falls_and_constant_classes_stay_flat(series):
    stable = ~series.flood_mask & ~series.harvest_mask
    crop = series.class_names.index("crop_b")
    ndvi = np.array([_ndvi(f.data)[(series.classes == crop) & stable].mean() for f in series.fine])
    peak = int(np.argmax(ndvi))
    assert 0 < peak < len(ndvi) - 1
    assert ndvi[peak] - ndvi[0] > 0.3 and ndvi[peak] - ndvi[-1] > 0.3
    urban = (series.classes == series.class_names.index("urban")) & stable
    for f in series.fine[1:]:
        np.testing.assert_array_equal(f.data[:, urban], series.fine[0].data[:, urban])


def test_clouds_mask_requested_fraction():
    s = make_series(cloud_fraction=0.3)
    clear = make_series()
    masks = [f.mask for f in s.fine]
    for fine, truth, ref in zip(s.fine, s.truth, clear.fine):
        assert abs((~fine.mask).mean() - 0.3) < 0.02
        assert np.isfinite(fine.data).all() and fine.data[NIR, ~fine.mask].min() > 0.4
        assert truth.mask.all()
        np.testing.assert_array_equal(truth.data, ref.data)
    assert not np.array_equal(masks[0], masks[1])
    np.testing.assert_array_equal(s.coarse[0].data, clear.coarse[0].data)


def test_demo_task_is_valid():
    task, truth = make_demo_task()
    assert isinstance(task, FusionTask) and len(task.pairs) == 1
    assert task.ratio == 16.0 and task.coarse_on_fine_grid
    cfg = SyntheticConfig()
    assert task.pairs[0].date < cfg.flood_date <= task.target.date
    assert task.pairs[0].date < cfg.harvest_date <= task.target.date
    assert truth.date == task.target.date and truth.shape == task.fine_grid.shape


def test_task_on_own_coarse_grid(series):
    task, truth = series.task([0, 1], -1, on_fine_grid=False)
    assert not task.coarse_on_fine_grid and task.ratio == 16.0
    assert task.target.shape == (6, 15, 15) and truth.date == series.dates[-1]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (dict(size=(-16, 240)), ShapeMismatchError),
        (dict(size=(250, 240)), ShapeMismatchError),
        (dict(size=240), ShapeMismatchError),
        (dict(ratio=0), RatioError),
        (dict(ratio=2.5), RatioError),
        (dict(n_classes=2), UnknownParameterError),
        (dict(n_classes=9), UnknownParameterError),
        (dict(noise=-0.1), UnknownParameterError),
        (dict(psf_sigma=-1.0), UnknownParameterError),
        (dict(cloud_fraction=1.0), UnknownParameterError),
        (dict(gain_range=(1.1, 0.9)), UnknownParameterError),
        (dict(bias_range=(0.1, -0.1)), UnknownParameterError),
        (dict(misregistration=(float("nan"), 0.0)), UnknownParameterError),
        (dict(seed=-1), UnknownParameterError),
        (dict(dates=()), DateError),
        (dict(dates=(dt.date(2024, 6, 1), dt.date(2024, 5, 1))), DateError),
        (dict(dates=("2024-06-01",)), DateError),
        (dict(flood_date="2024-07-01"), DateError),
        (dict(colour="red"), UnknownParameterError),
    ],
)
def test_bad_options_raise_typed_errors(options, error):
    with pytest.raises(error) as info:
        make_series(**options)
    assert isinstance(info.value, InputError) and "\n" not in str(info.value)


def test_bad_task_index_raises(series):
    with pytest.raises(DateError, match="out of range"):
        series.task([0], 5)
