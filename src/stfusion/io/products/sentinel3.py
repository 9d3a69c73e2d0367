"""Sentinel-3 OLCI and SYN products exported to GeoTIFF (names starting ``S3A_OL_``, ``S3B_SY_``, ...).

Either one file per band, the band's name in the file name (``..._Oa04_reflectance.tif``,
``..._SDR_Oa04.tif``), or one multi-band file whose band descriptions are those names. Scale,
offset and nodata come from the files' tags, as GDAL exports them from the netCDF originals.
"""

from __future__ import annotations

import re
from pathlib import Path

from stfusion.core.errors import FileFormatError

from ..dates import parse_date
from ..read import open_raster
from .base import Layer, Product, by_name

COMMON = {"oa03": "coastal", "oa04": "blue", "oa06": "green", "oa08": "red", "oa11": "rededge1", "oa12": "rededge2",
          "oa16": "rededge3", "oa17": "nir", "s5": "swir1", "s6": "swir2"}
"""OLCI bands (and SYN's SLSTR nadir S5/S6) with a common name; other bands are named ``oa01``, ``s1``, ..."""

_PRODUCT = re.compile(r"S3[AB_]_(OL|SY)_", re.IGNORECASE)
_BAND = re.compile(r"(SDR_)?(Oa\d{2}|S[1-6])(_N)?(_reflectance)?", re.IGNORECASE)
_TOKEN = re.compile(r"(?<![A-Za-z0-9])(SDR_Oa\d{2}|SDR_S[1-6]_N|Oa\d{2}_reflectance|Oa\d{2})(?![A-Za-z0-9])",
                    re.IGNORECASE)
_TOKENS = [f"Oa{n:02d}" for n in range(1, 22)] + [f"S{n}_N" for n in range(1, 7)]


def _common(band_name: str) -> str | None:
    m = _BAND.fullmatch(band_name.strip())
    if m is None or (m.group(2).upper().startswith("S") and not (m.group(1) and m.group(3))):
        return None
    key = m.group(2).lower()
    return COMMON.get(key, key)


def _hint(path: Path) -> str:
    return f"export the Sentinel-3 bands of {path.name} to GeoTIFF again"


def _multiband(path: Path, product_id: str) -> Product:
    with open_raster(path) as src:
        descriptions = list(src.descriptions)
    names = [_common(d or "") for d in descriptions]
    if not any(names):
        raise FileFormatError(
            f"{path} is a Sentinel-3 export without band names (Oa01..Oa21, SDR_Oa01, ...) in its band descriptions; "
            "export it with band names, or read it with read_scene(path, scale=1, bands=[...]) naming its bands"
        )
    layers = {n: Layer(str(path), path, None, band=i + 1) for i, n in enumerate(names) if n is not None}
    return Product("Sentinel-3", product_id, path, parse_date(product_id), layers, (), _hint(path))


def recognise(path: Path) -> Product | None:
    """The Sentinel-3 export of ``path`` (a multi-band GeoTIFF or one band's GeoTIFF), or None."""
    if path.is_dir() or _PRODUCT.match(path.name) is None or path.suffix.lower() not in (".tif", ".tiff"):
        return None
    token = _TOKEN.search(path.name)
    if token is None:
        return _multiband(path, path.name.rsplit(".", 1)[0])
    before, after = path.name[: token.start()], path.name[token.end():]
    text = token.group()
    sdr, reflectance = text.upper().startswith("SDR_"), text.lower().endswith("_reflectance")
    files = by_name(path.parent)
    layers = {}
    for band in _TOKENS:
        if band.startswith("S") and not sdr:
            continue
        name = f"{'SDR_' if sdr else ''}{band}{'_reflectance' if reflectance else ''}"
        f = files.get(f"{before}{name}{after}".lower())
        common = _common(name)
        if f is not None and common is not None:
            layers[common] = Layer(str(f), f, None)
    product_id = (before + after).rsplit(".", 1)[0].strip("._")
    return Product("Sentinel-3", product_id, path, parse_date(product_id), layers, (), _hint(path))
