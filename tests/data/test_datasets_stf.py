"""STF data sets on the real sample data: shapes, dates, bands, ratios, value ranges and the README protocols."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pytest

from stfusion.data.catalog import load_case, load_dataset
from stfusion.data.stf_sets import STFCase

pytestmark = pytest.mark.realdata


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over bands of the per-band RMSE (the README's measure)."""
    return float(np.mean(np.sqrt(np.mean((a.astype(np.float64) - b) ** 2, axis=(1, 2)))))


def _delta(case: STFCase) -> np.ndarray:
    pair = case.task.pairs[0]
    return np.asarray(pair.fine.data) + np.asarray(case.task.target.data) - np.asarray(pair.coarse.data)


def _check_reflectance(case: STFCase) -> None:
    scenes = [case.truth, case.task.target] + [s for p in case.task.pairs for s in (p.fine, p.coarse)]
    for s in scenes:
        data = np.asarray(s.data)
        assert data.dtype == np.float32
        assert -0.1 < data.min() and data.max() < 1.0, s.label
        assert np.asarray(s.mask).all(), f"{s.label}: these sets have no nodata"
        assert s.shape == case.truth.shape


def test_cia_2date(shared_data):
    case = load_dataset("cia_2date", shared_data)
    assert case.name == "cia_2date"
    assert case.truth.shape == (6, 608, 595)
    assert case.truth.bands == ("blue", "green", "red", "nir", "swir1", "swir2")
    assert case.ratio == case.task.ratio == 9.3
    assert case.task.coarse_on_fine_grid
    (pair,) = case.task.pairs
    assert pair.fine.date == pair.coarse.date == _dt.date(2001, 11, 25)
    assert case.task.target.date == case.truth.date == _dt.date(2002, 1, 12)
    assert "Emelyanova" in case.citation and "5111AC0BF1229" in case.citation
    _check_reflectance(case)
    # README baselines: they verify the protocol and the x10000 scaling
    assert _rmse(np.asarray(pair.fine.data), np.asarray(case.truth.data)) == pytest.approx(0.0642, abs=5e-4)
    assert _rmse(_delta(case), np.asarray(case.truth.data)) == pytest.approx(0.0484, abs=5e-4)


def test_estarfm_3date_two_pairs(shared_data):
    case = load_dataset("estarfm_3date", shared_data)
    assert case.truth.shape == (3, 400, 400)
    assert case.truth.bands == ("green", "red", "nir")
    assert [p.date for p in case.task.pairs] == [_dt.date(2001, 5, 24), _dt.date(2001, 8, 12)]
    assert case.task.target.date == case.truth.date == _dt.date(2001, 7, 11)
    assert case.ratio == case.task.ratio == pytest.approx(15.16)
    _check_reflectance(case)
    # README: delta baseline 0.0085 for the mean of the two per-pair delta predictions
    deltas = [np.asarray(p.fine.data) + np.asarray(case.task.target.data) - np.asarray(p.coarse.data)
              for p in case.task.pairs]
    assert _rmse(np.mean(deltas, axis=0), np.asarray(case.truth.data)) == pytest.approx(0.0085, abs=5e-4)


def test_estarfm_3date_one_pair(shared_data):
    case = load_dataset("estarfm_3date_1pair", shared_data)
    (pair,) = case.task.pairs
    assert pair.date == _dt.date(2001, 5, 24)
    assert case.truth.date == _dt.date(2001, 7, 11)
    truth = np.asarray(case.truth.data)
    assert _rmse(np.asarray(pair.fine.data), truth) == pytest.approx(0.0209, abs=5e-4)
    assert _rmse(_delta(case), truth) == pytest.approx(0.0124, abs=5e-4)


def test_estarfm_modis_nodes_repeat_at_the_stated_ratio(shared_data):
    """The ESTARFM ratio is measured: kinks of the bilinear MODIS rows repeat every ~15.16 pixels."""
    case = load_dataset("estarfm_3date_1pair", shared_data)
    modis = np.asarray(case.task.pairs[0].coarse.data, dtype=np.float64)
    kinks = np.abs(np.diff(modis, 2, axis=2)).sum(axis=0)  # (rows, cols - 2)
    periods = np.arange(8.0, 20.0, 0.02)
    scores = np.zeros_like(periods)
    for row in kinks[::10]:
        peaks = np.flatnonzero((row > np.percentile(row, 80)) & (row >= np.roll(row, 1)) & (row >= np.roll(row, -1)))
        phases = np.exp(2j * np.pi * peaks[None, :] / periods[:, None])
        scores += np.abs(phases.mean(axis=1))
    assert periods[np.argmax(scores)] == pytest.approx(case.ratio, abs=0.1)


def test_lgc_flood_simcoarse(shared_data):
    case = load_dataset("lgc_flood_simcoarse", shared_data)
    assert case.truth.shape == (3, 480, 480)
    (pair,) = case.task.pairs
    assert pair.date == _dt.date(2004, 11, 26)
    assert case.task.target.date == case.truth.date == _dt.date(2004, 12, 28)
    assert case.ratio == case.task.ratio == 16
    _check_reflectance(case)
    # the coarse images are the 16x16 block means of the fine ones (to the int16 rounding)
    fine = np.asarray(pair.fine.data, dtype=np.float64)
    blocks = fine.reshape(3, 30, 16, 30, 16).mean(axis=(2, 4))
    assert np.abs(np.asarray(pair.coarse.data)[:, ::16, ::16] - blocks).max() < 1e-4
    assert case.classes is not None and case.classes.shape == (480, 480) and case.classes.dtype == np.uint8
    assert set(np.unique(case.classes)) == {1, 2, 3, 4}
    truth = np.asarray(case.truth.data)
    assert _rmse(fine, truth) == pytest.approx(0.0460, abs=5e-4)
    assert _rmse(_delta(case), truth) == pytest.approx(0.0221, abs=5e-4)


def test_load_case_returns_stf_cases(shared_data):
    assert load_case("cia_2date", shared_data).truth.date == _dt.date(2002, 1, 12)
    series_case = load_case("ifsdaf_ndvi_series", shared_data)
    assert series_case.truth.date == _dt.date(2015, 10, 14)
