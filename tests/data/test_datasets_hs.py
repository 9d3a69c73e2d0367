"""Hyperspectral cubes on the real sample data, and the simulated STSF task built from them."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core.errors import BandMismatchError, RatioError, ShapeMismatchError, UnknownParameterError
from stfusion.core.scene import Scene
from stfusion.data.catalog import load_dataset
from stfusion.core.observation import psf_kernel, spatial_degrade
from stfusion.data.srf import srf_matrix
from stfusion.data.stsf_sim import senescence_factor, simulate_change, simulate_stsf, wavelengths

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


@pytest.mark.parametrize("sensor", ["sentinel2", "sentinel2-gaussian"])
def test_srf_rows_are_normalised_and_centred(samson, sensor):
    wl = wavelengths(samson)
    names, srf = srf_matrix(wl, sensor)
    # B8A (864.7 +- 10.5 nm) fits inside 401-889 nm; SWIR bands do not
    assert names == ("blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08")
    assert np.allclose(srf.sum(axis=1), 1.0) and (srf >= 0).all()
    red = srf[names.index("red")]
    assert abs(wl[np.argmax(red)] - 664.6) < 15.0
    assert np.allclose(srf @ np.full(wl.size, 0.3), 0.3)  # a flat spectrum stays flat


def test_measured_and_gaussian_srfs_agree_roughly(samson):
    wl = wavelengths(samson)
    _, measured = srf_matrix(wl, "sentinel2")
    _, gauss = srf_matrix(wl, "sentinel2-gaussian")
    spectrum = np.asarray(samson.data, dtype=np.float64)[:, 40, 40]
    assert np.allclose(measured @ spectrum, gauss @ spectrum, rtol=0.1)
    assert not np.allclose(measured, gauss)  # the measured responses are not Gaussians


@pytest.mark.parametrize("name, size", [("hs_samson", 93), ("hs_jasper", 99)])
def test_simulate_stsf_shapes_and_observation_model(shared_data, name, size):
    cube = load_dataset(name, shared_data)
    sim = simulate_stsf(cube, seed=1)
    task = sim.task
    assert task.ratio == 3
    assert task.hs.shape == (cube.count, size // 3, size // 3)
    assert task.ms.shape == task.ms_target.shape == (4, size, size)
    assert task.ms.bands == ("blue", "green", "red", "nir")
    assert task.srf.shape == (4, cube.count)
    assert sim.t2.shape == sim.t1.shape == (cube.count, size, size) and sim.t2.bands == cube.bands
    fine = np.asarray(cube.data, dtype=np.float64)[:, :size, :size]
    assert np.allclose(task.ms.data, np.einsum("kb,brc->krc", task.srf, fine), atol=1e-5)
    assert np.allclose(task.ms_target.data, np.einsum("kb,brc->krc", task.srf, sim.t2.data), atol=1e-5)
    assert np.allclose(task.hs.data, spatial_degrade(fine, 3, psf_kernel(3)), atol=1e-5)
    assert sim.task_t1.ms_target is None


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
    # bare surfaces get darker (wetter), and the illumination change stays within 5 %
    bare = (ndvi < 0.2) & ~patch
    ratio = later[:, bare].mean(axis=1) / cube[:, bare].mean(axis=1)
    assert 0.8 < ratio.mean() < 1.0
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
    with pytest.raises(BandMismatchError, match="swir1"):
        simulate_stsf(samson, bands=("red", "swir1"))
    with pytest.raises(BandMismatchError, match="no sentinel2 band"):
        srf_matrix(np.linspace(2300.0, 2400.0, 20))


def test_simulate_stsf_with_landsat8_and_a_matrix(samson):
    sim = simulate_stsf(samson, srf="landsat8", bands=None, ratio=5, change="none")
    assert sim.task.ms.bands == ("coastal", "blue", "green", "red", "nir")
    assert sim.task.hs.shape == (156, 19, 19)
    assert np.allclose(sim.task.ms_target.data, sim.task.ms.data)
    matrix = np.full((3, 156), 1.0 / 156)
    sim = simulate_stsf(samson, srf=matrix)
    assert sim.task.ms.bands == ("ms1", "ms2", "ms3")
    assert np.allclose(sim.task.ms.data[0], np.asarray(samson.data)[:, :93, :93].mean(axis=0), atol=1e-6)


def test_without_blur_the_coarse_hs_is_decimated(samson):
    sim = simulate_stsf(samson, psf_fwhm=0.0, change="none")
    assert np.allclose(sim.task.hs.data, np.asarray(samson.data)[:, 1:93:3, 1:93:3], atol=1e-6)
    blurred = simulate_stsf(samson, change="none")
    assert not np.allclose(blurred.task.hs.data, sim.task.hs.data, atol=1e-3)
