"""Common band names per sensor, in each sensor's file band order.

Names follow the STAC ``eo`` common names where the project uses them (blue, green, red, nir,
swir1, swir2, ...). ``band_index`` gives the 1-based position of a band in that order, which is
the band number for Landsat and MODIS; for Sentinel-2 the order is B01-B08, B8A, B09-B12.
"""

from __future__ import annotations

from stfusion.core.errors import UnknownParameterError

SENSORS: dict[str, tuple[str, ...]] = {
    "landsat5": ("blue", "green", "red", "nir", "swir1", "tir", "swir2"),
    "landsat7": ("blue", "green", "red", "nir", "swir1", "tir", "swir2", "pan"),
    "landsat8": ("coastal", "blue", "green", "red", "nir", "swir1", "swir2", "pan", "cirrus", "tir1", "tir2"),
    "landsat9": ("coastal", "blue", "green", "red", "nir", "swir1", "swir2", "pan", "cirrus", "tir1", "tir2"),
    "modis": ("red", "nir", "blue", "green", "nir1240", "swir1", "swir2"),
    "sentinel2": (
        "coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08",
        "watervapour", "cirrus", "swir1", "swir2",
    ),
}
"""Sensor name -> common band names in the sensor's band order (band 1 first)."""

REFLECTIVE: dict[str, tuple[str, ...]] = {
    "landsat5": ("blue", "green", "red", "nir", "swir1", "swir2"),
    "landsat7": ("blue", "green", "red", "nir", "swir1", "swir2"),
    "landsat8": ("coastal", "blue", "green", "red", "nir", "swir1", "swir2"),
    "landsat9": ("coastal", "blue", "green", "red", "nir", "swir1", "swir2"),
    "modis": SENSORS["modis"],
    "sentinel2": tuple(n for n in SENSORS["sentinel2"] if n != "cirrus"),
}
"""The surface-reflectance band stack usually delivered per sensor (thermal, pan and cirrus dropped)."""

COMMON_NAMES: frozenset[str] = frozenset(n for names in SENSORS.values() for n in names)


def _check_sensor(sensor: str) -> str:
    key = sensor.lower().replace("-", "").replace("_", "").replace(" ", "")
    if key not in SENSORS:
        raise UnknownParameterError(
            f"unknown sensor '{sensor}'; use one of: {', '.join(SENSORS)}"
        )
    return key


def band_names(sensor: str) -> tuple[str, ...]:
    """Common band names of ``sensor`` in its band order (band 1 first)."""
    return SENSORS[_check_sensor(sensor)]


def band_index(sensor: str, name: str) -> int:
    """The 1-based band number of the band ``name`` of ``sensor``."""
    names = band_names(sensor)
    if name.lower() not in names:
        raise UnknownParameterError(
            f"sensor '{sensor}' has no band '{name}'; use one of: {', '.join(names)}"
        )
    return names.index(name.lower()) + 1


def sensor_layout(sensor: str, count: int) -> tuple[str, ...] | None:
    """The band names of a ``count``-band file of ``sensor``: all bands or the reflective stack; else None."""
    key = _check_sensor(sensor)
    for names in (SENSORS[key], REFLECTIVE[key]):
        if len(names) == count:
            return names
    return None
