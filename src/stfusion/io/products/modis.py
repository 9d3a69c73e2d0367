"""MODIS MOD09GA/MYD09GA daily surface reflectance and MCD43A4 NBAR, in the sinusoidal projection.

An HDF4 file is read through its subdatasets when GDAL has the HDF4 driver. Its subdatasets
exported to GeoTIFF (one file per layer, the layer's name in the file name, as AppEEARS or
``gdal_translate`` of each subdataset give them) are read the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import rasterio

from stfusion.core.errors import FileFormatError

from ..dates import parse_date
from ..read import open_raster
from .base import Layer, Product, QALayer, by_name

BANDS = {"red": 1, "nir": 2, "blue": 3, "green": 4, "nir1240": 5, "swir1": 6, "swir2": 7}
"""Common name -> MODIS land band number."""
SR_SCALE, SR_FILL = 1e-4, -28672
NBAR_SCALE, NBAR_FILL = 1e-4, 32767

_HDF = re.compile(r"(MOD09GA|MYD09GA|MCD43A4)\.A\d{7}\.h\d{2}v\d{2}\.\d{3}(\.\d{13})?\.hdf$", re.IGNORECASE)
_NAMED = re.compile(r"MOD09GA|MYD09GA|MCD43A4", re.IGNORECASE)
_LAYER = re.compile(
    r"(sur_refl_b0[1-7]|state_1km|Nadir_Reflectance_Band[1-7]|BRDF_Albedo_Band_Mandatory_Quality_Band[1-7])(_1)?",
    re.IGNORECASE,
)


def state_invalid(state: np.ndarray) -> np.ndarray:
    """MOD09GA ``state_1km``: cloudy or mixed (bits 0-1 = 1 or 2), cloud shadow (2), average or high
    cirrus (bits 8-9 >= 2), internal cloud (10), adjacent to cloud (13) or internal snow (15)."""
    v = state.astype(np.int64)
    cloud = v & 0b11
    return ((cloud == 1) | (cloud == 2) | ((v >> 8) & 0b11 >= 2)
            | (v & ((1 << 2) | (1 << 10) | (1 << 13) | (1 << 15)) != 0))


def quality_invalid(quality: np.ndarray) -> np.ndarray:
    """MCD43A4 mandatory quality: 0 full and 1 magnitude BRDF inversion are valid; 255 is fill."""
    return quality > 1


def _layer_names(short: str) -> tuple[dict[str, str], dict[str, str]]:
    """(common name -> reflectance layer, common name -> its QA layer; "*" for one QA of all bands)."""
    if short.upper() == "MCD43A4":
        return ({c: f"Nadir_Reflectance_Band{n}" for c, n in BANDS.items()},
                {c: f"BRDF_Albedo_Band_Mandatory_Quality_Band{n}" for c, n in BANDS.items()})
    return {c: f"sur_refl_b0{n}" for c, n in BANDS.items()}, {"*": "state_1km"}


def _product(short: str, product_id: str, path: Path, locate: dict[str, tuple[str, Path]], hint: str) -> Product:
    """``locate``: layer name -> (GDAL source, file)."""
    bands, qas = _layer_names(short)
    nbar = short.upper() == "MCD43A4"
    scale, fill = (NBAR_SCALE, NBAR_FILL) if nbar else (SR_SCALE, SR_FILL)
    layers = {c: Layer(*locate[name], scale, 0.0, fill) for c, name in bands.items()}
    qa = tuple(
        QALayer(*locate[name], quality_invalid if nbar else state_invalid, None if c == "*" else c)
        for c, name in qas.items()
    )
    return Product(short.upper(), product_id, path, parse_date(product_id), layers, qa, hint)


def _has_hdf4() -> bool:
    with rasterio.Env() as env:
        return "HDF4" in env.drivers()


def _from_hdf(path: Path, short: str) -> Product:
    if not _has_hdf4():
        raise FileFormatError(
            f"{path} is a MODIS HDF4 product but this GDAL ({rasterio.__gdal_version__}) has no HDF4 driver; export its "
            "reflectance and QA subdatasets to GeoTIFF (gdal_translate 'HDF4_EOS:EOS_GRID:\"FILE\":GRID:sur_refl_b01_1' "
            "FILE.sur_refl_b01_1.tif, or AppEEARS) or install a GDAL with HDF4 (e.g. conda-forge libgdal-hdf4)"
        )
    with open_raster(path) as src:
        subdatasets = list(src.subdatasets)
    fields = {s.rsplit(":", 1)[-1].lower(): s for s in subdatasets}
    bands, qas = _layer_names(short)
    locate = {}
    for name in [*bands.values(), *qas.values()]:
        source = fields.get(name.lower()) or fields.get(f"{name.lower()}_1")
        if source is None:
            raise FileFormatError(f"{path} has no subdataset {name}; it is not a complete {short} file: download it again")
        locate[name] = (source, path)
    return _product(short, path.name[: -len(".hdf")], path, locate, "download the HDF file again")


def recognise(path: Path) -> Product | None:
    """The MODIS product of ``path`` (an HDF4 file, or one GeoTIFF of its exported layers), or None."""
    if path.is_dir():
        return None
    hdf = _HDF.match(path.name)
    if hdf is not None:
        return _from_hdf(path, hdf.group(1))
    short, layer = _NAMED.search(path.name), _LAYER.search(path.name)
    if short is None or layer is None or path.suffix.lower() not in (".tif", ".tiff"):
        return None
    files = by_name(path.parent)
    suffix = layer.group(2) or ""
    bands, qas = _layer_names(short.group())
    locate = {}
    for name in [*bands.values(), *qas.values()]:
        sibling = f"{path.name[: layer.start()]}{name}{suffix}{path.name[layer.end():]}"
        f = files.get(sibling.lower(), path.parent / sibling)
        locate[name] = (str(f), f)
    product_id = (path.name[: layer.start()] + path.name[layer.end():]).rsplit(".", 1)[0].strip("._")
    return _product(short.group(), product_id, path, locate,
                    "export every reflectance layer and its QA layer (state_1km / BRDF_Albedo_Band_Mandatory_Quality) "
                    "of the product beside it")
