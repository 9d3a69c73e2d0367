"""The one GeoTIFF writer of the tests (a helper module on the tests' path, not a conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.transform import from_origin

FINE_TRANSFORM = from_origin(500000, 5000000, 30, 30)
"""30 m pixels in UTM, the default grid of the written rasters."""


def write_tif(path: str | Path, data: np.ndarray, *, crs: str | None = "EPSG:32633", transform: Any = FINE_TRANSFORM,
              nodata: float | None = None, block: int | None = None, descriptions: tuple[str, ...] | None = None,
              **profile: Any) -> Path:
    """Write ``data`` ((bands,) rows, cols) as a GeoTIFF with its dtype: tiled ``block`` x ``block``
    and deflated when ``block`` is given, with band ``descriptions``; ``profile`` adds creation options."""
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    base = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0], dtype=str(data.dtype),
                crs=crs, transform=transform, nodata=nodata)
    if block is not None:
        base.update(tiled=True, blockxsize=block, blockysize=block, compress="deflate")
    base.update(profile)
    with rasterio.open(path, "w", **base) as dst:
        dst.write(data)
        if descriptions is not None:
            dst.descriptions = descriptions
    return Path(path)
