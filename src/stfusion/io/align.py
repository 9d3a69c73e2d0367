"""Moving scenes between grids: coarse onto the fine grid (`align_to_fine`) and fine onto a coarser one (`degrade`)."""

from __future__ import annotations

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject

from stfusion.core.errors import ExtentMismatchError, RatioError, UnknownParameterError
from stfusion.core.grid import grid_ratio, same_grid
from stfusion.core.scene import Scene
from stfusion.core.task import check_compatible

_METHODS = {"average": Resampling.average, "bilinear": Resampling.bilinear, "nearest": Resampling.nearest}
_LOCAL_CRS = CRS.from_wkt('LOCAL_CS["pixel grid",UNIT["metre",1]]')
"""GDAL needs a CRS to warp; scenes without one are warped in this local frame."""


def infer_ratio(fine: Scene, coarse: Scene) -> float:
    """The coarse/fine pixel-size ratio implied by the two transforms."""
    return grid_ratio(fine, coarse)


def _covered(fine: Scene, coarse: Scene) -> np.ndarray:
    """(rows, cols) True where the fine pixel lies inside the coarse extent (north-up grids only)."""
    a, b, c, d, e, f = fine.transform
    if b != 0 or d != 0 or coarse.transform[1] != 0 or coarse.transform[3] != 0:
        return np.ones((fine.height, fine.width), dtype=bool)
    left, bottom, right, top = coarse.bounds
    tol = 1e-6 * max(abs(a), abs(e))
    x = c + a * np.arange(fine.width + 1)
    y = f + e * np.arange(fine.height + 1)
    x0, x1 = np.minimum(x[:-1], x[1:]), np.maximum(x[:-1], x[1:])
    y0, y1 = np.minimum(y[:-1], y[1:]), np.maximum(y[:-1], y[1:])
    cols = (x0 >= left - tol) & (x1 <= right + tol)
    rows = (y0 >= bottom - tol) & (y1 <= top + tol)
    return rows[:, None] & cols[None, :]


def align_to_fine(coarse: Scene, fine: Scene, *, method: str = "average") -> Scene:
    """Resample ``coarse`` (on its own coarser grid) onto ``fine``'s grid.

    ``method`` is "average" (area-weighted), "bilinear" or "nearest". A fine pixel is valid only
    where it is fully covered by valid coarse pixels. The result keeps the coarse date, bands,
    encoding and name and takes the fine transform, CRS and resolution.
    """
    if method not in _METHODS:
        raise UnknownParameterError(f"unknown resampling method '{method}'; use one of: {', '.join(_METHODS)}")
    check_compatible(fine, coarse, what="align_to_fine")
    if same_grid(fine, coarse):
        return coarse.replace(transform=fine.transform, crs=fine.crs, resolution=fine.resolution)
    infer_ratio(fine, coarse)
    crs = CRS.from_user_input(fine.crs or coarse.crs) if (fine.crs or coarse.crs) else _LOCAL_CRS
    src = coarse.masked(np.nan)
    dst = np.full(fine.shape, np.nan, dtype=np.float32)
    reproject(
        src, dst,
        src_transform=Affine(*coarse.transform), src_crs=crs, src_nodata=np.nan,
        dst_transform=Affine(*fine.transform), dst_crs=crs, dst_nodata=np.nan,
        resampling=_METHODS[method],
    )
    valid = np.zeros((fine.height, fine.width), dtype=np.float32)
    reproject(
        np.asarray(coarse.mask, dtype=np.float32), valid,
        src_transform=Affine(*coarse.transform), src_crs=crs,
        dst_transform=Affine(*fine.transform), dst_crs=crs,
        resampling=Resampling.min,
    )
    mask = (valid == 1) & _covered(fine, coarse) & np.isfinite(dst).all(axis=0)
    if not mask.any():
        raise ExtentMismatchError(
            f"coarse {coarse.label} (bounds {coarse.bounds}) has no valid pixel over fine {fine.label} "
            f"(bounds {fine.bounds}); give a coarse image that covers the fine one"
        )
    return coarse.replace(
        data=dst, mask=mask, transform=fine.transform, crs=fine.crs or coarse.crs, resolution=fine.resolution
    )


def degrade(scene: Scene, ratio: int) -> Scene:
    """Block-average ``scene`` by the integer ``ratio`` onto a coarser grid, ignoring invalid pixels.

    Edge blocks that are cut by the scene border average the pixels they hold, so the coarse grid
    covers the whole scene. A coarse pixel with no valid fine pixel is invalid.
    """
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise RatioError(f"degrade needs a positive integer ratio, got {ratio!r}; e.g. 16 for 30 m -> 480 m")
    r = int(ratio)
    bands, rows, cols = scene.shape
    R, C = -(-rows // r), -(-cols // r)
    valid = np.zeros((R * r, C * r), dtype=np.float64)
    valid[:rows, :cols] = np.asarray(scene.mask)
    data = np.zeros((bands, R * r, C * r), dtype=np.float64)
    data[:, :rows, :cols] = scene.masked(0.0)
    weight = valid.reshape(R, r, C, r).sum(axis=(1, 3))
    total = (data * valid).reshape(bands, R, r, C, r).sum(axis=(2, 4))
    mask = weight > 0
    mean = np.where(mask, total / np.maximum(weight, 1), np.nan).astype(np.float32)
    a, b, c, d, e, f = scene.transform
    return scene.replace(
        data=mean,
        mask=mask,
        transform=(a * r, b * r, c, d * r, e * r, f),
        resolution=None if scene.resolution is None else scene.resolution * r,
    )
