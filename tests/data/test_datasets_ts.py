"""Time-series sets on the real sample data: Presto, eo-learn and FuseTS."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pytest

from stfusion.core.errors import FileFormatError, UnknownParameterError
from stfusion.data.catalog import load_dataset
from stfusion.data.ts_sets import DYNAMIC_WORLD_CLASSES, EOLEARN_LULC_CLASSES, PRESTO_CHANNELS

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize(
    "name, samples, steps", [("ts_presto_algae", 1122, 12), ("ts_presto_fuel", 2313, 3)]
)
def test_presto(shared_data, name, samples, steps):
    s = load_dataset(name, shared_data)
    assert s.name == name
    assert s.values.shape == (samples, steps, 18)
    assert s.channels == PRESTO_CHANNELS and len(s.units) == 18
    assert s.month.shape == s.dynamic_world.shape == s.valid.shape == (samples, steps)
    assert s.month.min() >= 0 and s.month.max() <= 11
    assert s.dynamic_world.max() < len(DYNAMIC_WORLD_CLASSES)
    assert s.latlon.shape == (samples, 2)
    assert np.all(np.abs(s.latlon[:, 0]) <= 90) and s.latlon[:, 1].min() < -90  # (lat, lon) over the USA
    assert s.target.shape == s.is_test.shape == s.ids.shape == (samples,)
    assert s.is_test.dtype == bool and 0 < s.is_test.mean() < 1
    assert s.valid.all()
    vv, ndvi, b4 = s.channel("VV"), s.channel("NDVI"), s.channel("B4")
    assert vv.max() < 20 and vv.min() > -60  # dB
    assert ndvi.min() >= -1 and ndvi.max() <= 1
    assert b4.max() > 100  # reflectance x 10000, as stored
    with pytest.raises(UnknownParameterError, match="B8A"):
        s.channel("B13")


def test_presto_targets(shared_data):
    algae = load_dataset("ts_presto_algae", shared_data)
    assert set(np.unique(algae.target)) <= {1, 2, 3, 4, 5}
    assert algae.ids[0] == "aaff"
    fuel = load_dataset("ts_presto_fuel", shared_data)
    assert 20 < fuel.target.min() and fuel.target.max() < 400  # live fuel moisture %
    assert "WY" in fuel.ids[0]


def test_eolearn_ndvi(shared_data):
    s = load_dataset("ts_eolearn_ndvi", shared_data)
    assert s.values.shape == (68, 101, 100, 1) and s.channels == ("NDVI",)
    assert s.valid.shape == (68, 101, 100) and s.valid.dtype == bool
    assert s.dates[0] == _dt.date(2015, 7, 11) and s.dates[-1] == _dt.date(2017, 12, 22)
    assert list(s.times) == sorted(s.times)
    assert s.crs == "EPSG:32633" and s.resolution == 10.0
    a, _, c, _, e, f = s.transform
    assert a == pytest.approx(10.0, abs=0.01) and e == pytest.approx(-10.0, abs=0.01)
    assert c == pytest.approx(465181.05, abs=0.01) and f == pytest.approx(5080254.63, abs=0.01)
    assert 0.5 < s.valid.mean() < 0.7
    # IS_VALID is data present and not cloudy
    assert np.array_equal(s.valid, s.layers["IS_DATA"] & ~s.layers["CLM"])
    assert s.layers["CLP"].shape == (68, 101, 100)
    assert s.layers["LULC"].shape == s.layers["DEM"].shape == (101, 100)
    assert s.layers["LULC"].max() < len(EOLEARN_LULC_CLASSES)
    ndvi = s.channel("NDVI")[s.valid]
    assert -1 <= ndvi.min() and ndvi.max() <= 1


def test_fusets_field(shared_data):
    f = load_dataset("ts_fusets_field", shared_data)
    s2 = f.s2
    assert s2.values.shape == (33, 57, 56, 3) and s2.channels == ("B04", "B08", "NDVI")
    assert s2.dates[0] == _dt.date(2019, 1, 27) and s2.dates[-1] == _dt.date(2019, 12, 28)
    assert s2.crs == "EPSG:32630"
    assert s2.transform == (10.0, 0.0, 344130.0, 0.0, -10.0, 4626620.0)
    # clouds and the outside of the field are NaN and masked
    assert np.isnan(s2.values[~s2.valid]).any(axis=-1).all()
    assert np.isfinite(s2.values[s2.valid]).all()
    field = s2.layers["field"]
    assert 0.6 < field.mean() < 0.8
    cloudy = 1 - s2.valid[:, field].mean(axis=1)
    assert (cloudy > 0.9).sum() == 2 and (cloudy == 0).sum() > 25
    b04, b08, ndvi = (s2.channel(c)[s2.valid] for c in s2.channels)
    assert 0 < b04.min() and b08.max() < 1  # reflectance 0-1
    assert np.allclose(ndvi, (b08 - b04) / (b08 + b04), atol=1e-5)
    assert set(np.unique(s2.layers["SCL"])) <= set(range(12))
    m = f.mogpr
    assert m.values.shape == (145, 3) and m.channels == ("NDVI", "RVI_DESC", "RVI_ASC")
    assert m.dates[0] == _dt.date(2019, 1, 5) and m.dates[-1] == _dt.date(2019, 12, 28)
    assert m.valid.sum(axis=0).tolist() == [33, 119, 60]
    assert np.array_equal(m.valid, np.isfinite(m.values))


def test_truncated_npy_is_a_file_format_error(tmp_path, shared_data):
    import shutil

    src = shared_data / "ts_presto" / "fuel_moisture"
    dst = tmp_path / "ts_presto" / "fuel_moisture"
    shutil.copytree(src, dst)
    raw = (dst / "target.npy").read_bytes()
    (dst / "target.npy").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FileFormatError, match="target.npy"):
        load_dataset("ts_presto_fuel", tmp_path)
    (dst / "month.npy").unlink()
    with pytest.raises(FileFormatError, match="month.npy"):
        load_dataset("ts_presto_fuel", tmp_path)
