"""`stfusion series` on the IFSDAF 2015 NDVI series laid out as a user's folders (cloudy Landsat
dates with cfmask files, one GeoTIFF per MODIS 16-day composite): the held-out DOY 287 equals
the prediction of the documented protocol (`load_case("ifsdaf_ndvi_series")`)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from stfusion.cli.main import cli
from stfusion.core import predict
from stfusion.data import load_case
from stfusion.data.ndvi_series import TARGET_DATE, composite_start
from stfusion.io import read_scene, write_scene
from stfusion.metrics import evaluate


@pytest.fixture(scope="module")
def season(shared_data, tmp_path_factory):
    src = shared_data / "ifsdaf_ndvi_series"
    root = tmp_path_factory.mktemp("ifsdaf")
    fine, coarse = root / "fine", root / "coarse"
    fine.mkdir()
    for f in sorted(src.glob("LC8*")):
        if "2015287" not in f.name:  # DOY 287 held out
            (fine / f.name).symlink_to(f)
    modis = read_scene(src / "MOD_16Day_ndvi")
    for i in range(modis.count):
        write_scene(modis.select_bands([i]), coarse / f"MOD13_A{composite_start(i):%Y%j}.tif")
    return fine, coarse


def test_held_out_doy287_equals_the_protocol(season, tmp_path):
    out = tmp_path / "doy287"
    done = CliRunner().invoke(cli, ["series", "fitfc", "--fine-dir", str(season[0]), "--coarse-dir", str(season[1]),
                                    "--out-dir", str(out), "--coarse-period", "16", "--dates", "2015-10-14"])
    assert done.exit_code == 0, done.output
    item = json.loads((out / "index.json").read_text())["features"][0]["properties"]
    assert item["stfusion:pairs"] == ["2015-09-05"]  # DOY 248: the nearest clear date (84 %), before
    assert item["stfusion:coarse"] == "MOD13_A2015273.tif"  # the composite of DOY 273-288
    case = load_case("ifsdaf_ndvi_series")
    expected = write_scene(predict("fitfc", case.task), tmp_path / "expected.tif", like=case.task.pairs[0].fine)
    with rasterio.open(expected) as ref, rasterio.open(out / "fitfc_20151014.tif") as got:
        assert np.array_equal(got.read(), ref.read())
    rmse = evaluate(case.truth, read_scene(out / "fitfc_20151014.tif"), ratio=1 / 8, metrics=("rmse",)).values["rmse"]
    delta = evaluate(case.truth, predict("delta", case.task), ratio=1 / 8, metrics=("rmse",)).values["rmse"]
    assert rmse < delta  # Fit-FC beats the delta baseline on this date (docs/methods/accuracy.md)


def test_season_predicts_every_composite_without_a_landsat_date(season, tmp_path):
    done = CliRunner().invoke(cli, ["series", "delta", "--fine-dir", str(season[0]), "--coarse-dir", str(season[1]),
                                    "--out-dir", str(tmp_path / "season"), "--coarse-period", "16"])
    assert done.exit_code == 0, done.output
    index = json.loads((tmp_path / "season" / "index.json").read_text())
    dates = [f["properties"]["datetime"][:10] for f in index["features"]]
    assert len(dates) == 15  # 23 composites, 8 of which hold a Landsat date
    assert TARGET_DATE.isoformat() not in dates and "2015-09-30" in dates  # composite 17 is dated by its first day
    assert all(f["properties"]["stfusion:pairs"] for f in index["features"])
