"""Hyperspectral cubes on the real sample data, and the simulated STSF task built from them."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core.errors import BandMismatchError, RatioError, ShapeMismatchError, UnknownParameterError
from stfusion.core.scene import Scene
from stfusion.data.catalog import load_dataset
from stfusion.data.stsf_sim import (
    SENTINEL2_BANDS,
    gaussian_srf,
    senescence_factor,
    simulate_change,
    simulate_stsf,
    wavelengths,
)

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def samson(shared_data) -> Scene:
    return load_dataset("hs_samson", shared_data)


@pytest.fixture(scope="module")
def jasper(shared_data) -> Scene:
    return load_dataset("hs_jasper", shared_data)


def test_samson_cube(samson):
    assert samson.shape == (156, 95, 95)
    wl = wavelengths(samson)
    assert wl[0] == pytest.approx(401.0) and wl[-1] == pytest.approx(889.0)
    assert np.allclose(np.diff(wl), (889.0 - 401.0) / 155, atol=1e-3)
    data = np.asarray(samson.data)
    assert data.min() >= 0.0 and data.max() <= 1.0


def test_jasper_cube(jasper):
    assert jasper.shape == (198, 100, 100)
    wl = wavelengths(jasper)
    assert 390 < wl[0] < 410 and 2440 < wl[-1] < 2480
    # SlectBands drops the water-vapour bands near 1400 and 1900 nm
    assert not np.any((wl > 1390) & (wl < 1440)) and not np.any((wl > 1850) & (wl < 1950))
    data = np.asarray(jasper.data)
    assert data.min() >= 0.0 and 0.1 < data.mean() < 0.5 and data.max() < 1.5  # Y / maxValue(5000)


def test_srf_rows_are_normalised_gaussians(samson):
    wl = wavelengths(samson)
    names, srf = gaussian_srf(wl, SENTINEL2_BANDS)
    assert names == ("blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08")
    assert np.allclose(srf.sum(axis=1), 1.0)
    red = srf[names.index("red")]
    assert abs(wl[np.argmax(red)] - 664.6) < 2.0
    half = wl[red >= red.max() / 2]
    assert half[-1] - half[0] == pytest.approx(31.0, abs=2 * 3.2)  # FWHM within two band spacings


@pytest.mark.parametrize("name, ms_bands, size", [("hs_samson", 8, 92), ("hs_jasper", 10, 100)])
def test_simulate_stsf_shapes_and_srf(shared_data, name, ms_bands, size):
    cube = load_dataset(name, shared_data)
    task, truth = simulate_stsf(cube, ratio=4, seed=1)
    assert task.ratio == 4
    assert task.hs.shape == (cube.count, size // 4, size // 4)
    assert task.ms.shape == task.ms_target.shape == (ms_bands, size, size)
    assert task.srf.shape == (ms_bands, cube.count)
    assert truth.shape == (cube.count, size, size) and truth.bands == cube.bands
    fine = np.asarray(cube.data, dtype=np.float64)[:, :size, :size]
    assert np.allclose(task.ms.data, np.einsum("kb,brc->krc", task.srf, fine), atol=1e-6)
    assert np.allclose(task.ms_target.data, np.einsum("kb,brc->krc", task.srf, truth.data), atol=1e-5)
    # the coarse HS keeps the scene mean (blur and block means preserve it, up to the borders)
    assert np.asarray(task.hs.data).mean() == pytest.approx(fine.mean(), rel=0.02)


def test_change_model(samson):
    wl = wavelengths(samson)
    cube = np.asarray(samson.data, dtype=np.float64)
    unchanged, patch = simulate_change(cube, wl, change="none")
    assert np.array_equal(unchanged, cube) and not patch.any()
    later, patch = simulate_change(cube, wl, change="senescence", seed=3)
    again, _ = simulate_change(cube, wl, change="senescence", seed=3)
    assert np.array_equal(later, again)  # seeded
    assert patch.sum() == (95 // 5) ** 2
    nir, red = (wl >= 820) & (wl <= 880), (wl >= 640) & (wl <= 680)
    ndvi = (cube[nir].mean(0) - cube[red].mean(0)) / (cube[nir].mean(0) + cube[red].mean(0))
    # the patch takes the mean spectrum of the 5 % lowest-NDVI pixels (water), with 2 % noise
    water = cube[:, ndvi <= np.quantile(ndvi, 0.05)].mean(axis=1)
    assert water[nir].mean() < water[(wl >= 500) & (wl <= 600)].mean()
    assert np.allclose(later[:, patch] / water[:, None], 1.0, atol=0.1)
    # senescence raises red and lowers NIR on vegetation outside the patch
    veg = (ndvi > 0.7) & ~patch
    assert veg.sum() > 100
    assert later[red][:, veg].mean() > 1.2 * cube[red][:, veg].mean()
    assert later[nir][:, veg].mean() < 0.9 * cube[nir][:, veg].mean()
    # non-vegetated pixels outside the patch do not change
    bare = (ndvi < 0.3) & ~patch
    assert np.allclose(later[:, bare], cube[:, bare])
    greener, _ = simulate_change(cube, wl, change="greening", seed=3)
    assert greener[nir][:, veg].mean() > cube[nir][:, veg].mean()


def test_senescence_factor_shape():
    wl = np.array([550.0, 675.0, 850.0, 1000.0, 1650.0, 2200.0])
    a = senescence_factor(wl)
    assert a[1] > 0.5 and a[0] > 0.1  # red and green up
    assert a[2] == pytest.approx(-0.3, abs=0.01) and a[3] == pytest.approx(-0.3, abs=0.01)  # NIR down
    assert a[4] == pytest.approx(0.2, abs=0.01) and a[5] == pytest.approx(0.2, abs=0.01)  # SWIR up


def test_simulate_stsf_errors(samson):
    with pytest.raises(RatioError, match="integer >= 2"):
        simulate_stsf(samson, ratio=1)
    with pytest.raises(RatioError, match="too small"):
        simulate_stsf(samson, ratio=48)
    with pytest.raises(UnknownParameterError, match="sentinel2"):
        simulate_stsf(samson, srf="worldview")
    with pytest.raises(UnknownParameterError, match="senescence"):
        simulate_stsf(samson, change="flood")
    with pytest.raises(UnknownParameterError, match="psf_fwhm"):
        simulate_stsf(samson, psf_fwhm=-1.0)
    with pytest.raises(ShapeMismatchError, match="expected \\(ms bands, 156\\)"):
        simulate_stsf(samson, srf=np.ones((4, 10)))
    with pytest.raises(BandMismatchError, match="wavelengths"):
        simulate_stsf(samson.replace(bands=None))
    with pytest.raises(BandMismatchError, match="no band of the multispectral sensor"):
        gaussian_srf(np.linspace(2300.0, 2400.0, 20), SENTINEL2_BANDS)


def test_simulate_stsf_with_landsat8_and_a_matrix(samson):
    task, _ = simulate_stsf(samson, srf="landsat8", ratio=5, change="none")
    assert task.ms.bands == ("coastal", "blue", "green", "red", "nir")
    assert task.hs.shape == (156, 19, 19)
    assert np.allclose(task.ms_target.data, task.ms.data)
    matrix = np.full((3, 156), 1.0 / 156)
    task, _ = simulate_stsf(samson, srf=matrix)
    assert task.ms.bands == ("ms1", "ms2", "ms3")
    assert np.allclose(task.ms.data[0], np.asarray(samson.data)[:, :92, :92].mean(axis=0), atol=1e-6)


def test_without_blur_the_coarse_hs_is_the_block_mean(samson):
    task, _ = simulate_stsf(samson, ratio=4, psf_fwhm=0.0, change="none")
    blocks = np.asarray(samson.data, dtype=np.float64)[:, :92, :92].reshape(156, 23, 4, 23, 4).mean(axis=(2, 4))
    assert np.allclose(task.hs.data, blocks, atol=1e-6)
    blurred, _ = simulate_stsf(samson, ratio=4, change="none")
    assert not np.allclose(blurred.hs.data, blocks, atol=1e-3)
