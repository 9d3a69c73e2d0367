"""`stfusion predict` runs every classical method on the real files as they ship (ENVI int16) and
writes what the Python API computes, in the fine input's encoding."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from stfusion.cli.main import cli
from stfusion.core import predict
from stfusion.core.registry import list_methods
from stfusion.data import load_case

ONE_PAIR = [s.name for s in list_methods("stf") if not s.needs_training and s.min_pairs == 1]
# The baselines weight pairs by their dates, which these ENVI file names do not carry (tm0524).
TWO_PAIR = [s.name for s in list_methods("stf")
            if not s.needs_training and s.min_pairs == 2 and s.family != "baseline"]
SETS = {  # set -> (pair stems, target stem, ratio); STARFM gets the pixel size: the files have no georeference
    "lgc_flood_simcoarse": ([("Landsat20041126", "MODIS20041126")], "MODIS20041228", "16"),
    "estarfm_3date": ([("tm0524", "modis0524"), ("tm0812", "modis0812")], "modis0711", "15.16"),
}
# Smaller settings where the defaults take long; the test compares the CLI with the API, not accuracy.
QUICK = {"spstfm": {"dict_size": "64", "training_samples": "500", "max_train_iter": "5", "min_train_iter": "2"},
         "starfm": {"resolution": "30"}}


def _run(method: str, name: str, shared_data, out) -> np.ma.MaskedArray:
    pairs, target, ratio = SETS[name]
    d = shared_data / name
    args = ["predict", method]
    for fine, coarse in pairs:
        args += ["--pair", str(d / fine), str(d / coarse)]
    args += ["--target", str(d / target), "--out", str(out), "--ratio", ratio]
    for key, value in QUICK.get(method, {}).items():
        args += ["--set", f"{key}={value}"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as dst:
        assert set(dst.dtypes) == {"int16"}
        return dst.read(masked=True)


def _expected(method: str, name: str, shared_data) -> np.ndarray:
    case = load_case(name, shared_data)
    pred = predict(method, case.task, **QUICK.get(method, {}))
    return np.ma.masked_array(np.round(np.asarray(pred.data) * 10000), ~np.broadcast_to(pred.mask, pred.shape))


@pytest.mark.realdata
@pytest.mark.parametrize("method", ONE_PAIR)
def test_one_pair_methods_on_the_flood_scene(method, shared_data, tmp_path):
    written = _run(method, "lgc_flood_simcoarse", shared_data, tmp_path / f"{method}.tif")
    expected = _expected(method, "lgc_flood_simcoarse", shared_data)
    np.testing.assert_array_equal(written.mask, np.ma.getmaskarray(expected))
    assert np.abs(written.astype(np.float64) - expected).max() <= 1  # the float -> int16 rounding


@pytest.mark.realdata
@pytest.mark.parametrize("method", TWO_PAIR)
def test_two_pair_methods_on_the_estarfm_scene(method, shared_data, tmp_path):
    written = _run(method, "estarfm_3date", shared_data, tmp_path / f"{method}.tif")
    expected = _expected(method, "estarfm_3date", shared_data)
    assert np.abs(written.astype(np.float64) - expected).max() <= 1
