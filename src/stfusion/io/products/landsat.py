"""Landsat Collection 2 Level-2 surface reflectance: ``<ID>_SR_B<n>.TIF`` files and ``<ID>_QA_PIXEL.TIF``."""

from __future__ import annotations

import re
from pathlib import Path

from stfusion.core.errors import FileFormatError

from ..dates import parse_date
from .base import Layer, Product, QALayer, any_bits, by_name

SCALE, OFFSET, FILL = 2.75e-5, -0.2, 0
"""Collection 2 Level-2 surface reflectance: ``reflectance = DN * 2.75e-5 - 0.2``; DN 0 is fill."""

QA_BITS = (0, 1, 2, 3, 4, 5)
"""QA_PIXEL bits that make a pixel invalid: fill, dilated cloud, cirrus, cloud, cloud shadow, snow."""

OLI = {"coastal": 1, "blue": 2, "green": 3, "red": 4, "nir": 5, "swir1": 6, "swir2": 7}
TM_ETM = {"blue": 1, "green": 2, "red": 3, "nir": 4, "swir1": 5, "swir2": 7}
BANDS = {"LC08": OLI, "LC09": OLI, "LE07": TM_ETM, "LT05": TM_ETM, "LT04": TM_ETM}
"""Sensor (the product ID's first field) -> common name -> SR band number."""

_ID = r"(L[CEOT]0[4-9])_(L[12][A-Z]{2})_(\d{6})_(\d{8})_(\d{8})_(\d{2})_(T1|T2|RT)"
_MEMBER = re.compile(
    _ID + r"_(SR_B\d|ST_B\d+|ST_[A-Z]+|QA_PIXEL|QA_RADSAT|SR_QA_AEROSOL|SR_CLOUD_QA|SR_ATMOS_OPACITY|MTL|ANG|B\d+)"
    r"\.(tif|tiff|txt|xml|json)$",
    re.IGNORECASE,
)


def _product_id(match: re.Match[str]) -> str:
    return "_".join(match.groups()[:7]).upper()


def recognise(path: Path) -> Product | None:
    """The Landsat product of ``path`` (its folder, its MTL file or any of its band files), or None."""
    if path.is_dir():
        ids = sorted({_product_id(m) for p in by_name(path).values() if (m := _MEMBER.match(p.name))})
        if len(ids) > 1:
            raise FileFormatError(
                f"folder {path} holds {len(ids)} Landsat products ({', '.join(ids[:3])}); give one product's folder "
                "or one of its files (e.g. its MTL file)"
            )
        if not ids:
            return None
        folder, product_id = path, ids[0]
    else:
        m = _MEMBER.match(path.name)
        if m is None:
            return None
        folder, product_id = path.parent, _product_id(m)
    sensor, level, collection = product_id[:4], product_id[5:9], product_id[35:37]
    if not level.startswith("L2") or collection != "02" or sensor not in BANDS:
        raise FileFormatError(
            f"{path} belongs to Landsat product {product_id}, not a Collection 2 Level-2 product of LT04/LT05/LE07/LC08/LC09 "
            "(L2SP or L2SR); download the Collection 2 Level-2 surface reflectance product"
        )
    files = by_name(folder)

    def file(suffix: str) -> Path:
        name = f"{product_id}_{suffix}.TIF"
        return files.get(name.lower(), folder / name)

    layers = {}
    for common, number in BANDS[sensor].items():
        f = file(f"SR_B{number}")
        layers[common] = Layer(str(f), f, SCALE, OFFSET, FILL)
    qa = file("QA_PIXEL")
    return Product(
        "Landsat C2 L2", product_id, path, parse_date(product_id), layers,
        (QALayer(str(qa), qa, any_bits(QA_BITS)),),
        "download its SR_B* band files and QA_PIXEL (the cloud mask) into one folder",
    )
