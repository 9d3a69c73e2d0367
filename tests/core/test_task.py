import datetime as dt

import numpy as np
import pytest

from stfusion.core import (
    BandMismatchError,
    CRSMismatchError,
    DateError,
    ExtentMismatchError,
    FusionTask,
    Pair,
    RatioError,
    Scene,
    ShapeMismatchError,
    STSFTask,
)

D1, D2 = dt.date(2020, 6, 1), dt.date(2020, 7, 1)
FINE_T = (30.0, 0.0, 500000.0, 0.0, -30.0, 5000000.0)
COARSE_T = (480.0, 0.0, 500000.0, 0.0, -480.0, 5000000.0)


def scene(shape=(2, 32, 32), date=D1, transform=FINE_T, crs="EPSG:32633", bands=None, seed=0):
    return Scene(np.random.default_rng(seed).random(shape), transform=transform, crs=crs, date=date, bands=bands)


def test_task_on_fine_grid_keeps_given_ratio():
    task = FusionTask([Pair(scene(), scene(seed=1))], scene(date=D2), ratio=16)
    assert task.ratio == 16 and task.coarse_on_fine_grid


def test_task_infers_ratio_from_coarse_grid():
    coarse = lambda d: scene((2, 2, 2), date=d, transform=COARSE_T)  # noqa: E731
    task = FusionTask([Pair(scene(), coarse(D1))], coarse(D2))
    assert task.ratio == pytest.approx(16) and not task.coarse_on_fine_grid
    with pytest.raises(ShapeMismatchError, match="align"):
        task.require_fine_grid("starfm")
    with pytest.raises(RatioError, match="contradicts"):
        FusionTask([Pair(scene(), coarse(D1))], coarse(D2), ratio=8)


def test_band_count_mismatch():
    with pytest.raises(BandMismatchError, match="2 bands .* 3"):
        FusionTask([Pair(scene(), scene((3, 32, 32)))], scene(date=D2))


def test_band_name_mismatch():
    with pytest.raises(BandMismatchError, match="band names differ"):
        FusionTask([Pair(scene(bands=("red", "nir")), scene(bands=("nir", "red")))], scene(date=D2))


def test_crs_mismatch():
    with pytest.raises(CRSMismatchError, match="reproject"):
        FusionTask([Pair(scene(), scene(crs="EPSG:4326"))], scene(date=D2))


def test_shape_mismatch_between_fine_images():
    with pytest.raises(ShapeMismatchError, match="32x32"):
        FusionTask([Pair(scene(), scene()), Pair(scene((2, 30, 30), date=D2), scene((2, 30, 30), date=D2))],
                   scene(date=dt.date(2020, 8, 1)))


def test_extent_mismatch_same_size_other_transform():
    shifted = (30.0, 0.0, 600000.0, 0.0, -30.0, 5000000.0)
    with pytest.raises(ExtentMismatchError):
        FusionTask([Pair(scene(), scene(transform=shifted))], scene(date=D2))


def test_coarse_must_cover_fine():
    small = (480.0, 0.0, 510000.0, 0.0, -480.0, 5000000.0)
    with pytest.raises(ExtentMismatchError, match="does not cover"):
        FusionTask([Pair(scene(), scene((2, 2, 2), transform=small))], scene((2, 2, 2), date=D2, transform=small))


def test_dates():
    with pytest.raises(DateError, match="pair dates differ"):
        Pair(scene(date=D1), scene(date=D2))
    with pytest.raises(DateError, match="same date"):
        FusionTask([Pair(scene(), scene()), Pair(scene(), scene())], scene(date=D2))


def test_ratio_below_one_is_refused():
    with pytest.raises(RatioError, match=">= 1"):
        FusionTask([Pair(scene(), scene())], scene(date=D2), ratio=0.5)
    with pytest.raises(ShapeMismatchError, match="without georeferencing a coarse image must be on the fine grid"):
        FusionTask([Pair(Scene(np.ones((1, 8, 8))), Scene(np.ones((1, 2, 2))))], Scene(np.ones((1, 2, 2))), ratio=4)


def test_empty_pairs():
    with pytest.raises(ShapeMismatchError, match="at least one"):
        FusionTask([], scene())


def test_stsf_task_validation():
    hs = Scene(np.random.rand(20, 8, 8))
    ms = Scene(np.random.rand(4, 32, 32))
    task = STSFTask(hs, ms, Scene(np.random.rand(4, 32, 32)))
    assert task.ratio == 4
    with pytest.raises(BandMismatchError, match="swap"):
        STSFTask(ms, hs)
    with pytest.raises(RatioError, match="integer multiple"):
        STSFTask(Scene(np.random.rand(20, 7, 7)), ms)
    with pytest.raises(ShapeMismatchError, match="srf"):
        STSFTask(hs, ms, srf=np.ones((3, 20)))


def test_local_crs_spellings_compare_equal_and_real_crss_do_not():
    from stfusion.core.grid import normalise_crs

    envi = 'LOCAL_CS["Arbitrary",UNIT["Meter",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
    gtiff = 'LOCAL_CS["Arbitrary",UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
    assert normalise_crs(envi) == normalise_crs(gtiff)
    assert normalise_crs("epsg:32650") == "EPSG:32650" != normalise_crs("EPSG:32651")
    assert normalise_crs(envi) != normalise_crs(envi.replace("Meter", "Foot"))
