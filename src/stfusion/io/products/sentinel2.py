"""Sentinel-2 Level-2A: a ``.SAFE`` folder, its ``MTD_MSIL2A.xml``, or its band files (JP2 or GeoTIFF).

Reflectance is ``(DN + BOA_ADD_OFFSET) / QUANTIFICATION``. The offset (-1000) exists from processing
baseline 04.00 on; both are read from ``MTD_MSIL2A.xml``, which must therefore come with the bands.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from stfusion.core.errors import FileFormatError

from ..dates import parse_date
from .base import Layer, Product, QALayer

METADATA = "MTD_MSIL2A.xml"
BAND_IDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")
"""Band order of the metadata's ``band_id`` attributes (0 = B01, 8 = B8A, 12 = B12)."""
BANDS = {
    "coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05", "rededge2": "B06",
    "rededge3": "B07", "nir": "B08", "nir08": "B8A", "watervapour": "B09", "swir1": "B11", "swir2": "B12",
}
SCL_INVALID = (0, 1, 3, 8, 9, 10, 11)
"""Scene classes masked: no data, saturated/defective, cloud shadow, cloud medium/high probability,
thin cirrus, snow."""
FILL = 0

_FILE = re.compile(r"(T\d{2}[A-Z]{3})_(\d{8}T\d{6})_(B\d{2}|B8A|SCL|AOT|WVP|TCI)(?:_(\d{2})m)?\.(jp2|tif|tiff)$",
                   re.IGNORECASE)
_MAX_DEPTH = 6
"""How far above a band file the product's metadata is looked for (SAFE: GRANULE/<id>/IMG_DATA/R10m)."""


def _safe_root(path: Path) -> Path | None:
    """The folder holding ``MTD_MSIL2A.xml`` at or above ``path`` (a folder), or None."""
    for folder in [path, *path.parents][:_MAX_DEPTH]:
        if (folder / METADATA).is_file():
            return folder
    return None


def _elements(root: ET.Element, tag: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == tag]


def _encoding(xml: Path) -> tuple[float, dict[str, float]]:
    """(quantification value, band -> BOA add offset) from the product metadata."""
    try:
        root = ET.parse(xml).getroot()
        baseline = [float(e.text or "") for e in _elements(root, "PROCESSING_BASELINE")]
        quant = [float(e.text or "") for e in _elements(root, "BOA_QUANTIFICATION_VALUE")]
        listed = {BAND_IDS[int(e.get("band_id", ""))]: float(e.text or "") for e in _elements(root, "BOA_ADD_OFFSET")}
    except (ET.ParseError, ValueError, IndexError, OSError) as exc:
        raise FileFormatError(
            f"cannot read the Sentinel-2 metadata {xml} ({' '.join(str(exc).split())}); download the product again"
        ) from None
    if not baseline and not listed:
        raise FileFormatError(
            f"{xml} holds neither PROCESSING_BASELINE nor BOA_ADD_OFFSET_VALUES_LIST; download the product again"
        )
    default = -1000.0 if baseline and baseline[0] >= 4.0 else 0.0
    return (quant[0] if quant else 10000.0), {b: listed.get(b, default) for b in BAND_IDS}


def _files(folder: Path, pattern: str) -> dict[str, dict[int, Path]]:
    """Band files below ``folder`` of the tile/time ``pattern`` (e.g. T32TQM_20220101T103421): band -> {res: path}."""
    found: dict[str, dict[int, Path]] = {}
    for p in folder.rglob("*"):
        m = _FILE.match(p.name)
        if m and p.is_file() and f"{m.group(1)}_{m.group(2)}".upper() == pattern:
            found.setdefault(m.group(3).upper(), {})[int(m.group(4) or 0)] = p
    return found


def _datatakes(folder: Path) -> list[str]:
    return sorted({f"{m.group(1)}_{m.group(2)}".upper() for p in folder.rglob("*") if (m := _FILE.match(p.name))})


def recognise(path: Path) -> Product | None:
    """The Sentinel-2 L2A product of ``path`` (SAFE folder, metadata file or band file), or None."""
    name = path.name.upper()
    if name == "MTD_MSIL1C.XML" or (path.is_dir() and ("MSIL1C" in name or (path / "MTD_MSIL1C.xml").is_file())):
        raise FileFormatError(
            f"{path} is a Sentinel-2 Level-1C product (top-of-atmosphere); download the Level-2A product (MSIL2A)"
        )
    band = _FILE.match(path.name) if path.is_file() else None
    if path.is_dir():
        root = path if (path / METADATA).is_file() else None
        if root is None:
            if name.endswith(".SAFE"):
                raise FileFormatError(f"{path} has no {METADATA}; download the whole Level-2A .SAFE product")
            return None
    elif path.name == METADATA:
        root = path.parent
    elif band is not None:
        root = _safe_root(path.parent)
        if root is None:
            raise FileFormatError(
                f"cannot tell the processing baseline of {path.name} (reflectance offset -0.1 from baseline 04.00 on): "
                f"keep the product's {METADATA} beside its band files, give the .SAFE folder, or read the file alone "
                "with read_scene(path, scale=1e-4, offset=...)"
            )
    else:
        return None
    if band is not None:
        datatake = f"{band.group(1)}_{band.group(2)}".upper()
    else:
        takes = _datatakes(root)
        if len(takes) != 1:
            raise FileFormatError(
                f"{root} holds {'no' if not takes else len(takes)} Sentinel-2 band file sets"
                f"{' (' + ', '.join(takes[:3]) + ')' if takes else ''}; give one product's folder or one of its band files"
            )
        datatake = takes[0]
    quant, offsets = _encoding(root / METADATA)
    files = _files(root, datatake)

    def finest(band_id: str, res: int) -> Path:
        have = files.get(band_id, {})
        return have[min(have)] if have else root / f"{datatake}_{band_id}_{res}m.jp2"

    layers = {
        common: Layer(str(f), f, 1.0 / quant, offsets[b] / quant, FILL)
        for common, b in BANDS.items()
        for f in [finest(b, 10 if b in ("B02", "B03", "B04", "B08") else 60 if b in ("B01", "B09") else 20)]
    }
    scl = finest("SCL", 20)
    return Product(
        "Sentinel-2 L2A", datatake, path, parse_date(datatake), layers,
        (QALayer(str(scl), scl, lambda v: np.isin(v, SCL_INVALID)),),
        f"download the whole product (band files, SCL and {METADATA})",
    )
