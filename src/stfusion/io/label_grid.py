"""Vector labels rasterised onto embedding grids.

Each geometry is reprojected to the grid's CRS. A point labels the pixel it falls in. A polygon
labels, by ``rule``:

- ``"centre"`` (default): the pixels whose centre lies inside it (rasterio's rule,
  ``all_touched=False``), so a polygon smaller than a pixel may label none;
- ``"area"``: the pixels it covers by at least half their area, measured on `AREA_SUBPIXELS` x
  `AREA_SUBPIXELS` sub-pixel centres (so to 1/64 of a pixel): mixed pixels on a field's edge are
  dropped unless the field holds most of them.

A pixel given different values by two labels is dropped. Labels on no-data pixels (NaN
embeddings) are not used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stfusion.core.errors import CRSMismatchError, InvalidParameterError, NoDataError

from .tessera_mosaic import EmbeddingGrid
from .vector_labels import VectorLabels, coordinates

LABEL_RULES = ("centre", "area")
AREA_SUBPIXELS = 8
"""Sub-pixels per pixel side on which the ``area`` rule measures a polygon's cover."""


@dataclass(frozen=True)
class LabelCounts:
    """What became of the labels: used, outside every grid, only on no-data, without a value or
    geometry, and pixels dropped for conflicting values."""

    kind: str
    total: int
    used: int
    outside: int
    nodata: int
    missing: int
    conflicts: int

    def line(self) -> str:
        """One line for the user."""
        parts = [f"{n} {what}" for n, what in ((self.outside, "outside every tile"), (self.nodata, "on no-data"),
                                               (self.missing, "without a value or geometry")) if n]
        text = f"labels: {self.used} of {self.total} {self.kind} used"
        text += f" ({', '.join(parts)})" if parts else ""
        if self.conflicts:
            text += f"; {self.conflicts} pixels with conflicting labels dropped"
        return text


def _to_pixel(transform: tuple, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(col, row) of map coordinates, fractional."""
    from rasterio.transform import Affine

    a, b, c, d, e, f = tuple(~Affine(*transform))[:6]
    return a * x + b * y + c, d * x + e * y + f


def _polygon_pixels(geometry: dict, transform: tuple, shape: tuple[int, int], rule: str) -> np.ndarray:
    """Flat indexes of the pixels that ``geometry`` labels by ``rule``, rasterised in its own window."""
    from rasterio.features import rasterize
    from rasterio.transform import Affine

    cols, rows = _to_pixel(transform, *coordinates(geometry).T)
    c0, c1 = (int(np.clip(v, 0, shape[1])) for v in (np.floor(cols.min()), np.ceil(cols.max())))
    r0, r1 = (int(np.clip(v, 0, shape[0])) for v in (np.floor(rows.min()), np.ceil(rows.max())))
    if c0 >= c1 or r0 >= r1:
        return np.zeros(0, np.int64)
    k = AREA_SUBPIXELS if rule == "area" else 1
    window = Affine(*transform) @ Affine.translation(c0, r0) @ Affine.scale(1 / k)
    mask = rasterize([(geometry, 1)], out_shape=((r1 - r0) * k, (c1 - c0) * k), transform=window, dtype="uint8")
    if k > 1:
        mask = mask.reshape(r1 - r0, k, c1 - c0, k).sum(axis=(1, 3), dtype=np.int64) * 2 >= k * k
    rr, cc = np.nonzero(mask)
    return (rr + r0).astype(np.int64) * shape[1] + cc + c0


def _point_pixels(xy: np.ndarray, transform: tuple, shape: tuple[int, int]) -> np.ndarray:
    """Flat pixel index of each point, -1 outside the grid."""
    cols, rows = _to_pixel(transform, xy[:, 0], xy[:, 1])
    r, c = np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)
    inside = (r >= 0) & (r < shape[0]) & (c >= 0) & (c < shape[1])
    return np.where(inside, r * shape[1] + c, -1)


def _grid_labels(labels: VectorLabels, grid: EmbeddingGrid, keep: np.ndarray, hit: np.ndarray, used: np.ndarray,
                 rule: str = "centre") -> tuple[np.ndarray, int]:
    """(rows, cols) float64 labels on ``grid`` (NaN: none) and the pixels dropped for conflicts;
    marks the labels that reach the grid (``hit``) and a valid pixel of it (``used``)."""
    from rasterio.warp import transform, transform_geom

    shape = grid.values.shape[:2]
    valid = np.isfinite(grid.values).all(axis=-1).ravel()
    points = np.array([g["type"] == "Point" for g in labels.geometries], bool) & keep
    index, value = [np.zeros(0, np.int64)], [np.zeros(0)]
    if points.any():
        xy = np.array([labels.geometries[i]["coordinates"][:2] for i in np.flatnonzero(points)], np.float64)
        xs, ys = transform(labels.crs, grid.crs, xy[:, 0], xy[:, 1])
        pix = _point_pixels(np.column_stack([xs, ys]), grid.transform, shape)
        ok = pix >= 0
        hit[np.flatnonzero(points)[ok]] = True
        good = ok & valid[np.where(ok, pix, 0)]
        used[np.flatnonzero(points)[good]] = True
        index.append(pix[good])
        value.append(labels.values[points][good])
    polygons = np.flatnonzero(~points & keep)
    if polygons.size:
        geoms = transform_geom(labels.crs, grid.crs, [labels.geometries[i] for i in polygons])
        for i, g in zip(polygons, geoms):
            covered = _polygon_pixels(g, grid.transform, shape, rule)
            pix = covered[valid[covered]]
            hit[i] |= bool(covered.size)
            used[i] |= bool(pix.size)
            index.append(pix)
            value.append(np.full(pix.size, labels.values[i]))
    idx, val = np.concatenate(index), np.concatenate(value)
    lo, hi = np.full(valid.size, np.inf), np.full(valid.size, -np.inf)
    np.minimum.at(lo, idx, val)
    np.maximum.at(hi, idx, val)
    out = np.where(lo == hi, lo, np.nan)
    return out.reshape(shape), int(np.count_nonzero(lo < hi))


def rasterise_labels(labels: VectorLabels, grids: Sequence[EmbeddingGrid], *, rule: str = "centre"
                     ) -> tuple[list[np.ndarray], LabelCounts]:
    """The labels on each grid (polygons by ``rule``: "centre" or "area", see the module docstring),
    and what became of them. `NoDataError` when none reaches a valid pixel; `CRSMismatchError` when
    they would only if read as longitude/latitude."""
    if rule not in LABEL_RULES:
        raise InvalidParameterError(f"label rule {rule!r} is unknown; use one of: {', '.join(LABEL_RULES)}")
    for grid in grids:
        if grid.crs is None or grid.transform is None:
            raise CRSMismatchError("the embedding map has no CRS and transform, so vector labels cannot be placed on "
                                   "it; keep the .tif that `stfusion embed infer` writes beside the .npy pair")
    n = len(labels.geometries)
    keep = np.isfinite(labels.values)
    hit, used = np.zeros(n, bool), np.zeros(n, bool)
    out, conflicts = [], 0
    for grid in grids:
        lab, c = _grid_labels(labels, grid, keep, hit, used, rule)
        out.append(lab)
        conflicts += c
    kinds = {g["type"] == "Point" for g in labels.geometries}
    kind = "points" if kinds == {True} else "polygons" if kinds == {False} else "features"
    counts = LabelCounts(kind, n + labels.no_geometry, int(used.sum()), int((keep & ~hit).sum()),
                         int((keep & hit & ~used).sum()), int((~keep).sum()) + labels.no_geometry, conflicts)
    if not used.any():
        _check_projected(labels, grids)
        raise NoDataError(f"no label of {labels.path.name} falls on a valid embedding pixel ({counts.line()}); "
                          "check the file's CRS and the tiles' area (bbox, year)")
    return out, counts


def _check_projected(labels: VectorLabels, grids: Sequence[EmbeddingGrid]) -> None:
    """`CRSMismatchError` when projected labels that miss every grid would hit one as lon/lat."""
    from rasterio.crs import CRS

    if not labels.geometries or CRS.from_user_input(labels.crs).is_geographic:
        return
    xy = np.concatenate([coordinates(g) for g in labels.geometries])
    if (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        return
    as_degrees = VectorLabels(labels.path, labels.geometries, labels.values, "EPSG:4326")
    hit, used = np.zeros(len(labels.geometries), bool), np.zeros(len(labels.geometries), bool)
    for grid in grids:
        _grid_labels(as_degrees, grid, np.isfinite(labels.values), hit, used)
    if hit.any():
        raise CRSMismatchError(f"{labels.path.name} declares {labels.crs} but its coordinates are longitude/latitude "
                               "(they fall on the tiles only when read as EPSG:4326); declare EPSG:4326")
