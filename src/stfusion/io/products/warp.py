"""Putting a coarse scene in another CRS (MODIS sinusoidal) onto the fine image's CRS and grid."""

from __future__ import annotations

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject, transform

from stfusion.core.errors import ExtentMismatchError
from stfusion.core.grid import normalise_crs
from stfusion.core.scene import Scene


def native_size(scene: Scene, crs: str) -> float:
    """The side of the square with the mean area of ``scene``'s pixels once put in ``crs`` (map units).

    An area, not a width: a sinusoidal pixel far from the central meridian is a strongly sheared
    parallelogram in UTM, whose bounding box would overstate its size.
    """
    a, b, c, d, e, f = scene.transform
    cols, rows = np.meshgrid(np.linspace(0, scene.width, 9), np.linspace(0, scene.height, 9))
    ring_c = np.concatenate([cols[0], cols[1:, -1], cols[-1, -2::-1], cols[-2:0:-1, 0]])
    ring_r = np.concatenate([rows[0], rows[1:, -1], rows[-1, -2::-1], rows[-2:0:-1, 0]])
    xs, ys = transform(CRS.from_user_input(scene.crs), CRS.from_user_input(crs),
                       (c + a * ring_c + b * ring_r).tolist(), (f + d * ring_c + e * ring_r).tolist())
    x, y = np.asarray(xs), np.asarray(ys)
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    return float(np.sqrt(area / (scene.width * scene.height)))


def coarse_grid(scene: Scene, like: Scene) -> tuple[tuple[float, ...], int, int]:
    """The grid in ``like``'s CRS for ``scene``: pixels ``r`` times ``like``'s (``r``: the nearest whole
    ratio of the two pixel sizes, by area), aligned with ``like``'s grid and covering it. (transform, rows, cols)."""
    a, b, c, d, e, f = like.transform
    r = max(1, round(native_size(scene, str(like.crs)) / abs(a)))
    return (a * r, b * r, c, d * r, e * r, f), -(-like.height // r), -(-like.width // r)


def reproject_like(scene: Scene, like: Scene) -> Scene:
    """``scene`` in ``like``'s CRS, area-averaged onto `coarse_grid` (so a MODIS sinusoidal scene
    lands on a UTM grid of whole fine-pixel multiples, aligned with the fine grid, and the
    coarse/fine ratio stays inferable). Unchanged when both share a CRS or one has none.

    A coarse pixel is valid only where every source pixel it touches is valid and covered.
    """
    if scene.crs is None or like.crs is None or normalise_crs(scene.crs) == normalise_crs(like.crs):
        return scene
    transform, rows, cols = coarse_grid(scene, like)
    src_crs, dst_crs = CRS.from_user_input(scene.crs), CRS.from_user_input(like.crs)
    data = np.full((scene.count, rows, cols), np.nan, dtype=np.float32)
    reproject(scene.masked(np.nan), data, src_transform=Affine(*scene.transform), src_crs=src_crs, src_nodata=np.nan,
              dst_transform=Affine(*transform), dst_crs=dst_crs, dst_nodata=np.nan, resampling=Resampling.average)
    valid = np.zeros((rows, cols), dtype=np.float32)
    reproject(np.asarray(scene.mask, dtype=np.float32), valid, src_transform=Affine(*scene.transform),
              src_crs=src_crs, src_nodata=None, dst_transform=Affine(*transform), dst_crs=dst_crs, dst_nodata=0.0,
              resampling=Resampling.min)
    mask = (valid == 1) & np.isfinite(data).all(axis=0)
    if not mask.any():
        raise ExtentMismatchError(
            f"{scene.label} (CRS {scene.crs}) has no valid pixel over {like.label} (bounds {like.bounds} in {like.crs}); "
            "give a coarse image that covers the fine one"
        )
    return scene.replace(data=data, mask=mask, transform=transform, crs=like.crs, resolution=abs(transform[0]))
