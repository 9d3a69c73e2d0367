"""Writing tiny GeoTIFFs for the command-line tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

FINE_TRANSFORM = from_origin(500000, 5000000, 30, 30)


def write_tif(path: Path, data: np.ndarray, *, crs: str | None = "EPSG:32633", nodata=-9999,
              transform=FINE_TRANSFORM) -> Path:
    """Write ``data`` (bands, rows, cols) as a GeoTIFF with its dtype."""
    profile = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                   dtype=str(data.dtype), crs=crs, transform=transform, nodata=nodata)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path
