"""Tiny geotessera embeddings folders (npy, tiff and zarr layouts) for the tests."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import Affine

REP, MASKS = "global_0.1_degree_representation", "global_0.1_degree_tiff_all"


def tile_dir(root: Path, name: str, year: int) -> Path:
    d = root / REP / str(year) / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_npy_tile(root: Path, name: str, year: int, q: np.ndarray, scales: np.ndarray | None, *,
                   crs: str = "EPSG:32631", origin: tuple[float, float] = (500000.0, 5800000.0)) -> Path:
    """``grid_*.npy`` + ``_scales.npy`` (unless None) and the landmask GeoTIFF holding the grid."""
    d = tile_dir(root, name, year)
    np.save(d / f"{name}.npy", q.astype(np.int8))
    if scales is not None:
        np.save(d / f"{name}_scales.npy", scales.astype(np.float32))
    (root / MASKS).mkdir(parents=True, exist_ok=True)
    rows, cols = q.shape[:2]
    with rasterio.open(root / MASKS / f"{name}.tiff", "w", driver="GTiff", width=cols, height=rows, count=1,
                       dtype="uint8", crs=crs, transform=Affine(10, 0, origin[0], 0, -10, origin[1])) as dst:
        dst.write(np.ones((1, rows, cols), np.uint8))
    return d / f"{name}.npy"


def write_tiff_tile(root: Path, name: str, year: int, values: np.ndarray, *, crs: str = "EPSG:32631",
                    origin: tuple[float, float] = (500000.0, 5800000.0)) -> Path:
    """``grid_*_YEAR.tiff``: float32 bands, as geotessera's GeoTIFF export."""
    path = tile_dir(root, name, year) / f"{name}_{year}.tiff"
    rows, cols, c = values.shape
    with rasterio.open(path, "w", driver="GTiff", width=cols, height=rows, count=c, dtype="float32", crs=crs,
                       transform=Affine(10, 0, origin[0], 0, -10, origin[1])) as dst:
        dst.write(np.moveaxis(values, -1, 0).astype(np.float32))
    return path


def write_zarr_tile(root: Path, name: str, year: int, values: np.ndarray, *, crs: str = "EPSG:32631",
                    origin: tuple[float, float] = (500000.0, 5800000.0)) -> Path:
    """``grid_*_YEAR.zarr``: 'embedding' (y, x, band) with pixel-centre x/y and spatial_ref, as
    geotessera's zarr export (xarray + rioxarray) writes it."""
    import xarray as xr
    from rasterio.crs import CRS

    path = tile_dir(root, name, year) / f"{name}_{year}.zarr"
    rows, cols, c = values.shape
    x = origin[0] + 10 * (np.arange(cols) + 0.5)
    y = origin[1] - 10 * (np.arange(rows) + 0.5)
    ds = xr.Dataset({"embedding": (("y", "x", "band"), values.astype(np.float32), {"grid_mapping": "spatial_ref"})},
                    coords={"y": y, "x": x, "band": np.arange(c),
                            "spatial_ref": ((), 0, {"crs_wkt": CRS.from_user_input(crs).to_wkt()})})
    with warnings.catch_warnings():  # zarr notes that consolidated metadata is not in the v3 spec
        warnings.simplefilter("ignore")
        ds.to_zarr(path, zarr_format=3)
    return path


def separable(rows: int, cols: int, channels: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings whose first channel says the class (1: left half, 2: right half) and the classes."""
    rng = np.random.default_rng(seed)
    classes = np.where(np.arange(cols)[None, :] < cols // 2, 1, 2).repeat(rows, 0)
    e = rng.standard_normal((rows, cols, channels)).astype(np.float32)
    e[..., 0] += np.where(classes == 1, -4.0, 4.0)
    return e, classes
