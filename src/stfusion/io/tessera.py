"""The published TESSERA embedding maps (Feng et al. 2025) in the folder layouts of geotessera.

A geotessera embeddings folder holds, below ``global_0.1_degree_representation/YEAR/grid_LON_LAT/``,
one 0.1-degree tile in one of three layouts (geotessera 0.7):

- ``npy``: ``grid_LON_LAT.npy`` int8 (H, W, 128) and ``grid_LON_LAT_scales.npy`` float32 (H, W)
  or (H, W, 128), with the tile's UTM grid in the landmask GeoTIFF
  ``global_0.1_degree_tiff_all/grid_LON_LAT.tiff`` (as ``geotessera download --format npy`` writes);
- ``tiff``: ``grid_LON_LAT_YEAR.tiff``, the dequantised float32 bands (``--format tiff``);
- ``zarr``: ``grid_LON_LAT_YEAR.zarr``, the dequantised ``embedding`` (y, x, band) with x/y pixel
  centres and the CRS in ``spatial_ref`` (``--format zarr``; needs ``pip install 'stfusion[zarr]'``).

Each tile's CRS and transform come from its landmask, GeoTIFF or store, never from its name.
Dequantisation is geotessera's ``q * scale``; a pixel whose scale is 0 or NaN is no data (NaN).
In the float layouts a pixel whose values are all 0 (what a 0 scale dequantises to) or not all
finite is no data.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stfusion.core.errors import (
    FileFormatError,
    InvalidParameterError,
    MissingInputError,
    NoDataError,
    ShapeMismatchError,
    require,
)
from stfusion.core.scene import Transform

from .read import _crs_string, open_raster

EMBEDDINGS_DIR = "global_0.1_degree_representation"
LANDMASKS_DIR = "global_0.1_degree_tiff_all"
_TILE = re.compile(r"grid_-?\d+\.\d+_-?\d+\.\d+")


@dataclass(frozen=True)
class TesseraTile:
    """One tile of one year: its files and its grid (rows, cols), CRS and transform."""

    name: str
    year: int
    layout: str
    path: Path
    shape: tuple[int, int]
    crs: str
    transform: Transform

    def read(self) -> np.ndarray:
        """(rows, cols, channels) float32 embeddings, NaN where there is no data."""
        if self.layout == "npy":
            return _read_npy(self)
        values = _float_nodata(np.asarray(_open_zarr(self.path)[0].values)) if self.layout == "zarr" \
            else _read_geotiff(self.path)
        if values.shape[:2] != self.shape:
            raise ShapeMismatchError(f"tile {self.path} changed shape while it was read; read it again")
        return values


def is_tessera_folder(path: str | os.PathLike[str]) -> bool:
    """True for a geotessera embeddings folder (or its ``global_0.1_degree_representation``)."""
    p = Path(path)
    return p.is_dir() and (p.name == EMBEDDINGS_DIR or (p / EMBEDDINGS_DIR).is_dir())


def _representation(folder: Path) -> Path:
    if folder.name == EMBEDDINGS_DIR:
        return folder
    if not (folder / EMBEDDINGS_DIR).is_dir():
        raise FileFormatError(f"{folder} is not a geotessera embeddings folder: it has no {EMBEDDINGS_DIR}/; "
                              "give the folder that `geotessera download` wrote")
    return folder / EMBEDDINGS_DIR


def years(folder: str | os.PathLike[str]) -> list[int]:
    """The years that have a tile folder in ``folder``."""
    rep = _representation(Path(folder))
    return sorted(int(p.name) for p in rep.iterdir() if p.is_dir() and p.name.isdigit()
                  and any(_TILE.fullmatch(t.name) for t in p.iterdir()))


def _tile_file(tile_dir: Path, year: int) -> tuple[str, Path] | None:
    """The preferred layout of a tile folder (npy, then tiff, then zarr, as geotessera) and its file."""
    name = tile_dir.name
    for layout, path in (("npy", tile_dir / f"{name}.npy"), ("tiff", tile_dir / f"{name}_{year}.tiff"),
                         ("tiff", tile_dir / f"{name}_{year}.tif"), ("zarr", tile_dir / f"{name}_{year}.zarr")):
        if path.exists():
            return layout, path
    return None


def raster_grid(path: Path) -> tuple[tuple[int, int], str, Transform]:
    """(rows, cols), CRS and transform of a raster, from its header; `FileFormatError` without a CRS."""
    with open_raster(path) as src:
        crs = _crs_string(src)
        if crs is None:
            raise FileFormatError(f"{path} has no CRS, so it gives no grid; write it with one")
        return (src.height, src.width), crs, tuple(src.transform)[:6]


def _tile(tile_dir: Path, year: int) -> TesseraTile | None:
    found = _tile_file(tile_dir, year)
    if found is None:
        return None
    layout, path = found
    name = tile_dir.name
    if layout == "npy":
        landmask = tile_dir.parents[2] / LANDMASKS_DIR / f"{name}.tiff"
        if not landmask.is_file():
            raise FileFormatError(f"tile {name} ({year}) has no landmask {landmask}, which holds its grid; "
                                  "download it again with geotessera (the npy format)")
        shape, crs, transform = raster_grid(landmask)
    elif layout == "zarr":
        _, shape, crs, transform = _open_zarr(path)
    else:
        shape, crs, transform = raster_grid(path)
    return TesseraTile(name, year, layout, path, shape, crs, transform)


def lonlat_bounds(tile: TesseraTile) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the tile's grid in degrees."""
    from rasterio.transform import Affine, array_bounds
    from rasterio.warp import transform_bounds

    return tuple(transform_bounds(tile.crs, "EPSG:4326", *array_bounds(*tile.shape, Affine(*tile.transform))))


def check_bbox(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A (min lon, min lat, max lon, max lat) box, or `InvalidParameterError`."""
    w, s, e, n = bbox
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InvalidParameterError(f"bbox=({w:g}, {s:g}, {e:g}, {n:g}) is not (min_lon, min_lat, max_lon, max_lat) in "
                                    "degrees with min < max; e.g. bbox=(0.1, 52.0, 0.3, 52.2)")
    return bbox


def find_tiles(folder: str | os.PathLike[str], year: int | None = None,
               bbox: tuple[float, float, float, float] | None = None) -> list[TesseraTile]:
    """The tiles of ``year`` in a geotessera folder (the only year when None), those meeting the
    lon/lat ``bbox`` when given; `NoDataError` when there is none."""
    folder = Path(folder)
    rep = _representation(folder)
    present = years(folder)
    if year is None:
        if len(present) != 1:
            raise MissingInputError(f"{folder} holds the years {', '.join(map(str, present)) or 'none'}; "
                                   "choose one with year=YEAR")
        year = present[0]
    year_dir = rep / str(year)
    dirs = sorted(p for p in year_dir.iterdir() if _TILE.fullmatch(p.name)) if year_dir.is_dir() else []
    tiles = [t for t in (_tile(d, year) for d in dirs) if t is not None]
    if not tiles:
        raise NoDataError(f"{folder} has no tile for {year} (years with tiles: "
                          f"{', '.join(map(str, present)) or 'none'}); give another year=YEAR")
    if bbox is not None:
        w, s, e, n = check_bbox(bbox)
        tiles = [t for t in tiles if _meets(lonlat_bounds(t), (w, s, e, n))]
        if not tiles:
            raise NoDataError(f"no tile of {year} in {folder} meets bbox=({w:g}, {s:g}, {e:g}, {n:g}); "
                              "check the box (lon/lat order) or download its tiles")
    return tiles


def _meets(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def dequantise(q: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """geotessera's ``q * scale`` (scales (H, W) or (H, W, C)) as float32; NaN where a pixel's scale
    is NaN or 0 (all its scales, for (H, W, C) scales)."""
    s = np.asarray(scales, dtype=np.float32)
    s = s[..., None] if s.ndim == q.ndim - 1 else s
    out = q.astype(np.float32) * s
    nodata = ~np.isfinite(s).all(axis=-1) | (s == 0).all(axis=-1)
    out[nodata] = np.nan
    return out


def _read_npy(tile: TesseraTile) -> np.ndarray:
    scales_path = tile.path.with_name(f"{tile.name}_scales.npy")
    if not scales_path.is_file():
        raise FileFormatError(f"tile {tile.name} ({tile.year}) has no scales file {scales_path}; "
                              "download the tile again with geotessera")
    try:
        q = np.load(tile.path, mmap_mode="r", allow_pickle=False)
        scales = np.load(scales_path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"cannot read tile {tile.path} or its scales ({exc}); download it again") from None
    if q.ndim != 3 or q.dtype != np.int8:
        raise FileFormatError(f"{tile.path} holds {q.dtype} {q.shape}, not int8 (rows, cols, channels)")
    if q.shape[:2] != tile.shape or scales.shape not in (q.shape, q.shape[:2]):
        raise ShapeMismatchError(f"tile {tile.name} ({tile.year}): values {q.shape}, scales {scales.shape} and "
                                 f"landmask {tile.shape} do not fit; download the tile again")
    return dequantise(q, scales)


def _float_nodata(values: np.ndarray, nodata: float | None = None) -> np.ndarray:
    """float32 (rows, cols, C) with NaN on pixels that are all 0, not all finite, or any ``nodata``."""
    values = values.astype(np.float32, copy=False)
    bad = ~np.isfinite(values).all(axis=-1) | (values == 0).all(axis=-1)
    if nodata is not None:
        bad |= (values == nodata).any(axis=-1)
    values[bad] = np.nan
    return values


def _read_geotiff(path: Path) -> np.ndarray:
    with open_raster(path) as src:
        return _float_nodata(np.moveaxis(src.read(out_dtype="float32"), 0, -1), src.nodata)


def _open_zarr(path: Path):
    """(lazy 'embedding' array, (rows, cols), CRS, transform) of a per-tile store written by
    geotessera's ``export_embedding_zarr``."""
    import xarray as xr
    from rasterio.crs import CRS

    require("zarr", "zarr")
    try:
        ds = xr.open_zarr(path, decode_coords="all")
        emb, wkt = ds["embedding"], ds["spatial_ref"].attrs["crs_wkt"]
        x, y = ds["x"].values.astype(np.float64), ds["y"].values.astype(np.float64)
    except (OSError, KeyError, ValueError) as exc:
        raise FileFormatError(f"cannot read the zarr tile {path} ({exc}); it needs an 'embedding' (y, x, band) "
                              "array with x/y coordinates and spatial_ref; export it again with geotessera") from None
    if emb.dims != ("y", "x", "band") or x.size < 2 or y.size < 2:
        raise FileFormatError(f"the zarr tile {path} has 'embedding' {emb.dims} {emb.shape}; expected (y, x, band) "
                              "of at least 2 x 2 pixels")
    crs = CRS.from_wkt(wkt)
    epsg = crs.to_epsg()
    a, e = x[1] - x[0], y[1] - y[0]
    transform = (float(a), 0.0, float(x[0] - a / 2), 0.0, float(e), float(y[0] - e / 2))
    return emb, (y.size, x.size), f"EPSG:{epsg}" if epsg is not None else crs.to_wkt(), transform
