"""The sensor band-name table."""

from __future__ import annotations

import pytest

from stfusion.core.errors import UnknownParameterError
from stfusion.io import SENSORS, band_index, band_names


def test_modis_mod09_band_numbers():
    numbers = {n: band_index("modis", n) for n in ("blue", "green", "red", "nir", "swir1", "swir2")}
    assert numbers == {"blue": 3, "green": 4, "red": 1, "nir": 2, "swir1": 6, "swir2": 7}


def test_landsat_and_sentinel2():
    assert band_names("landsat7")[:5] == ("blue", "green", "red", "nir", "swir1")
    assert band_index("landsat7", "swir2") == 7
    assert band_index("landsat8", "nir") == 5 and band_index("Landsat-9", "coastal") == 1
    s2 = band_names("sentinel2")
    assert s2[1:8] == ("blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir")
    assert band_index("sentinel2", "nir08") == 9 and band_index("sentinel2", "SWIR2") == 13


def test_every_sensor_has_unique_names():
    for names in SENSORS.values():
        assert len(set(names)) == len(names)


def test_unknown_sensor_lists_valid_ones():
    with pytest.raises(UnknownParameterError, match="use one of: landsat5, landsat7"):
        band_names("spot5")


def test_unknown_band_lists_valid_ones():
    with pytest.raises(UnknownParameterError, match="has no band 'pan'.*red, nir, blue"):
        band_index("modis", "pan")
