"""Products as they are downloaded: Landsat C2 L2, Sentinel-2 L2A, HLS, MODIS MOD09GA/MCD43A4 and
Sentinel-3 exports, read into a `Scene` with their scale, offset, fill value and QA cloud mask.

`find_product` tells whether a path (a product folder, its metadata file or any of its band
files) belongs to a product; `read_scene` reads such a path through `read_product`.
`reproject_like` puts a coarse product in another CRS (MODIS sinusoidal) onto the fine grid's CRS.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from stfusion.core.errors import FileFormatError
from stfusion.core.scene import Scene

from . import hls, landsat, modis, sentinel2, sentinel3
from .base import FUSION_BANDS, Layer, Product, QALayer, read_product
from .warp import coarse_grid, reproject_like

_RECOGNISERS = (sentinel2.recognise, landsat.recognise, hls.recognise, modis.recognise, sentinel3.recognise)
KINDS = "Landsat Collection 2 Level-2, Sentinel-2 L2A (.SAFE), HLS, MODIS MOD09GA/MCD43A4, Sentinel-3 GeoTIFF exports"


def find_product(path: str | os.PathLike[str], *, strict: bool = False) -> Product | None:
    """The product that ``path`` belongs to, or None for a plain raster.

    A path that names a product of a kind or level stfusion cannot read (Landsat Level-1,
    Sentinel-2 L1C, MODIS HDF4 without GDAL's HDF4 driver) raises `FileFormatError`; so does a
    folder that is no product when ``strict``.
    """
    p = Path(path)
    for recognise in _RECOGNISERS:
        product = recognise(p)
        if product is not None:
            return product
    if strict and p.is_dir():
        raise FileFormatError(
            f"folder {p} is not a product stfusion recognises ({KINDS}); give a raster file or one product's folder"
        )
    return None


def to_fine_crs(path: str | os.PathLike[str], scene: Scene, like: Scene) -> Scene:
    """``scene``, read from ``path``, area-averaged into ``like``'s CRS (`reproject_like`) when ``path``
    is a product in another CRS (MODIS sinusoidal). A plain raster is returned as it is, so that a
    CRS mismatch between plain files stays the task's error."""
    return reproject_like(scene, like) if find_product(path) is not None else scene


def refuse_streaming(paths: Iterable[str | os.PathLike[str]]) -> None:
    """`FileFormatError` when one of ``paths`` is a product: streamed runs read plain rasters only."""
    for path in paths:
        product = find_product(path, strict=True)
        if product is not None:
            raise FileFormatError(
                f"{path} is a {product.kind} product, which is read whole with its QA mask, not streamed; drop chunk=N, "
                "or stack it into one GeoTIFF first: write_scene(read_scene(PRODUCT), 'stack.tif')"
            )


__all__ = [
    "FUSION_BANDS", "KINDS", "Layer", "Product", "QALayer", "coarse_grid", "find_product", "read_product",
    "refuse_streaming", "reproject_like", "to_fine_crs",
]
