"""The TESSERA tiles of a region used together: one mosaic per UTM zone, on the tiles' own grid.

TESSERA's maps (Feng et al. 2025) are published in each tile's UTM zone at 10 m and the
maintainers do not reproject them ("to avoid skew"). So tiles that share a CRS are mosaicked
without resampling: each tile is placed at the nearest whole pixel of the zone's grid (tiles on
one 10 m lattice land exactly), and where tiles overlap the first tile in name order keeps its
pixels. Tiles in several zones give several mosaics, one per zone, never a reprojection. An
optional lon/lat box crops each mosaic to the pixels inside the box.
"""

from __future__ import annotations

import math
import os
import zlib
from dataclasses import dataclass

import numpy as np

from stfusion.core.errors import NoDataError, ShapeMismatchError
from stfusion.core.scene import Transform

from .tessera import TesseraTile, check_bbox, find_tiles


@dataclass(frozen=True)
class EmbeddingGrid:
    """An embedding map on one grid: ``values`` (rows, cols, channels) float32 (NaN = no data),
    its CRS and transform (None when unknown), a ``label`` for file names and the tiles it holds."""

    values: np.ndarray
    crs: str | None
    transform: Transform | None
    label: str = ""
    tiles: tuple[str, ...] = ()


def zone_label(crs: str) -> str:
    """``EPSG:32631`` -> ``EPSG32631``; any other CRS string -> a short stable label."""
    return crs.replace(":", "") if crs.upper().startswith("EPSG:") else f"crs{zlib.crc32(crs.encode()):08x}"


def by_zone(tiles: list[TesseraTile]) -> dict[str, list[TesseraTile]]:
    """The tiles grouped by CRS, in label order."""
    groups: dict[str, list[TesseraTile]] = {}
    for tile in tiles:
        groups.setdefault(tile.crs, []).append(tile)
    return {crs: groups[crs] for crs in sorted(groups, key=zone_label)}


def _window(tiles: list[TesseraTile], crs: str, bbox: tuple[float, float, float, float] | None
            ) -> tuple[Transform, int, int]:
    """The zone grid (transform, rows, cols) covering the tiles, cropped to ``bbox`` when given."""
    a, _, _, _, e, _ = tiles[0].transform
    for t in tiles:
        ta, tb, _, td, te, _ = t.transform
        if tb != 0 or td != 0 or not (math.isclose(ta, a, rel_tol=1e-6) and math.isclose(te, e, rel_tol=1e-6)):
            raise ShapeMismatchError(f"tile {t.name} has the transform {t.transform}, not the {a:g} x {abs(e):g} "
                                     f"north-up pixels of {tiles[0].name} in {crs}; give tiles of one dataset version")
    west = min(t.transform[2] for t in tiles)
    north = max(t.transform[5] for t in tiles)
    cols = round((max(t.transform[2] + a * t.shape[1] for t in tiles) - west) / a)
    rows = round((min(t.transform[5] + e * t.shape[0] for t in tiles) - north) / e)
    r0, c0 = 0, 0
    if bbox is not None:
        from rasterio.warp import transform_bounds

        bw, bs, be, bn = transform_bounds("EPSG:4326", crs, *check_bbox(bbox))
        c0, c1 = max(0, math.floor((bw - west) / a)), min(cols, math.ceil((be - west) / a))
        r0, r1 = max(0, math.floor((bn - north) / e)), min(rows, math.ceil((bs - north) / e))
        rows, cols = max(r1 - r0, 0), max(c1 - c0, 0)
    return (a, 0.0, west + c0 * a, 0.0, e, north + r0 * e), rows, cols


def mosaic(tiles: list[TesseraTile], bbox: tuple[float, float, float, float] | None = None) -> EmbeddingGrid:
    """One map of ``tiles`` (all in one CRS), read one tile at a time into the zone's grid."""
    crs = tiles[0].crs
    transform, rows, cols = _window(tiles, crs, bbox)
    a, _, west, _, e, north = transform
    out: np.ndarray | None = None
    names = []
    for t in sorted(tiles, key=lambda t: t.name):
        r0, c0 = round((t.transform[5] - north) / e), round((t.transform[2] - west) / a)
        rs, cs = slice(max(r0, 0), min(r0 + t.shape[0], rows)), slice(max(c0, 0), min(c0 + t.shape[1], cols))
        if rs.start >= rs.stop or cs.start >= cs.stop:
            continue
        values = t.read()
        if out is None:
            out = np.full((rows, cols, values.shape[-1]), np.nan, np.float32)
        elif values.shape[-1] != out.shape[-1]:
            raise ShapeMismatchError(f"tile {t.name} has {values.shape[-1]} channels, the others {out.shape[-1]}; "
                                     "give tiles of one dataset version")
        part = values[rs.start - r0:rs.stop - r0, cs.start - c0:cs.stop - c0]
        target = out[rs, cs]
        empty = np.isnan(target).any(axis=-1)
        target[empty] = part[empty]
        names.append(t.name)
    if out is None:
        raise NoDataError(f"no pixel of the tiles in {crs} lies inside bbox={bbox}; widen the box")
    return EmbeddingGrid(out, crs, transform, zone_label(crs), tuple(names))


def load_tessera(folder: str | os.PathLike[str], year: int | None = None,
                 bbox: tuple[float, float, float, float] | None = None) -> list[EmbeddingGrid]:
    """The embedding maps of a geotessera folder for ``year`` (within the lon/lat ``bbox``): one
    `EmbeddingGrid` per UTM zone."""
    return [mosaic(group, bbox) for group in by_zone(find_tiles(folder, year, bbox)).values()]
