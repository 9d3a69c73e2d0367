"""parse_date on the file-name conventions of Landsat, MODIS, Sentinel-2 and the sample data."""

from __future__ import annotations

import datetime as dt

import pytest

from stfusion.io import parse_date


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CIA_L7_20011125.tif", dt.date(2001, 11, 25)),
        ("Landsat20041126", dt.date(2004, 11, 26)),
        ("MODIS20041228", dt.date(2004, 12, 28)),
        ("LC81250382015104LGN00_ndvi", dt.date(2015, 4, 14)),
        ("le71250382000366EDC00.tif", dt.date(2000, 12, 31)),
        ("MOD09GA.A2015104.h27v05.006.2015295091547.hdf", dt.date(2015, 4, 14)),
        ("LC08_L1TP_125038_20150414_20200909_02_T1_SR_B4.TIF", dt.date(2015, 4, 14)),
        ("S2A_MSIL2A_20190815T104031_N0213_R008_T32TPS_20190815T135442", dt.date(2019, 8, 15)),
        ("fine_2019-08-15.tif", dt.date(2019, 8, 15)),
        ("/data/20200101/scene_2019_08_15.tif", dt.date(2019, 8, 15)),
        ("tile_12345678_20200229.tif", dt.date(2020, 2, 29)),
        ("tm0524", None),
        ("MOD_16Day_ndvi", None),
        ("run_2019366.tif", None),
        ("id_123456789.tif", None),
        ("20251340.tif", None),
    ],
)
def test_parse_date(name, expected):
    assert parse_date(name) == expected


def test_explicit_format():
    assert parse_date("img_25.11.2001_L7.tif", fmt="%d.%m.%Y") == dt.date(2001, 11, 25)
    assert parse_date("tm0524", fmt="%m%d") == dt.date(1900, 5, 24)
    assert parse_date("CIA_L7_20011125.tif", fmt="%d.%m.%Y") is None
