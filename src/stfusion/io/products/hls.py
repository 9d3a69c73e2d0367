"""Harmonized Landsat Sentinel-2 (HLS v2): ``HLS.L30.<tile>.<YYYYDDDTHHMMSS>.v2.0.<band>.tif`` COGs and ``Fmask``."""

from __future__ import annotations

import re
from pathlib import Path

from stfusion.core.errors import FileFormatError

from ..dates import parse_date
from .base import Layer, Product, QALayer, any_bits, by_name

SCALE, FILL = 1e-4, -9999
FMASK_BITS = (0, 1, 2, 3, 4)
"""Fmask bits that make a pixel invalid: cirrus, cloud, adjacent to cloud/shadow, cloud shadow,
snow/ice. Water (bit 5) and the aerosol level (bits 6-7) keep it valid."""

L30 = {"coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "nir": "B05", "swir1": "B06", "swir2": "B07",
       "cirrus": "B09"}
S30 = {"coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05", "rededge2": "B06",
       "rededge3": "B07", "nir_broad": "B08", "nir": "B8A", "watervapour": "B09", "cirrus": "B10", "swir1": "B11",
       "swir2": "B12"}
"""S30's nir is B8A, the band HLS harmonises with L30's B05; the broad B08 is ``nir_broad``."""

_FILE = re.compile(r"(HLS\.(L30|S30)\.T\w{5}\.\d{7}T\d{6}\.v\d+\.\d+)\.(\w+)\.(tif|tiff)$", re.IGNORECASE)


def _granule(m: re.Match[str]) -> str:
    return m.group(1)


def recognise(path: Path) -> Product | None:
    """The HLS granule of ``path`` (a band file or a folder of one granule's files), or None."""
    if path.is_dir():
        ids = sorted({_granule(m) for p in by_name(path).values() if (m := _FILE.match(p.name))})
        if len(ids) > 1:
            raise FileFormatError(
                f"folder {path} holds {len(ids)} HLS granules ({', '.join(ids[:3])}); give one granule's folder or file"
            )
        if not ids:
            return None
        folder, granule = path, ids[0]
    else:
        m = _FILE.match(path.name)
        if m is None:
            return None
        folder, granule = path.parent, _granule(m)
    files = by_name(folder)

    def file(band: str) -> Path:
        name = f"{granule}.{band}.tif"
        return files.get(name.lower(), folder / name)

    table = L30 if granule.upper().startswith("HLS.L30") else S30
    layers = {common: Layer(str(f), f, SCALE, 0.0, FILL) for common, band in table.items() for f in [file(band)]}
    fmask = file("Fmask")
    return Product(
        "HLS", granule, path, parse_date(granule), layers, (QALayer(str(fmask), fmask, any_bits(FMASK_BITS)),),
        "download the granule's band files and its Fmask (the cloud mask) into one folder",
    )
