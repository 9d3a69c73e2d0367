"""Labels as users hold them: points or polygons with a class or value field, in GeoJSON,
GeoPackage or a shapefile, or a CSV of lon/lat points.

GeoJSON and CSV are read with the standard library; GeoPackage and shapefiles with pyogrio
(``pip install 'stfusion[vector]'``). A field of numbers is used as is (integer classes or
regression targets); a field of text becomes classes 1..K in sorted order, named in ``names``.
GeoJSON without a ``crs`` member, CSV and files without a CRS are longitude/latitude (EPSG:4326).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stfusion.core.errors import CRSMismatchError, FileFormatError, MissingInputError, UnknownParameterError, require

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".csv")
_LON, _LAT = ("lon", "longitude", "lng"), ("lat", "latitude")


@dataclass(frozen=True)
class VectorLabels:
    """One GeoJSON-like Point, Polygon or MultiPolygon per label, its value (NaN: none), the CRS
    of the coordinates, the class names of codes 1..K (text fields) and the features dropped for
    having no geometry."""

    path: Path
    geometries: list[dict[str, Any]]
    values: np.ndarray
    crs: str
    names: tuple[str, ...] | None = None
    no_geometry: int = 0


def is_vector(path: str | os.PathLike[str]) -> bool:
    """True for the label files read here (by suffix)."""
    return Path(path).suffix.lower() in VECTOR_SUFFIXES


def read_vector_labels(path: str | os.PathLike[str], field: str | None) -> VectorLabels:
    """The labels of ``path`` from its ``field`` (a property, attribute or CSV column)."""
    path = Path(path)
    if not field:
        raise MissingInputError(f"vector labels ({path.name}) need label_field=NAME, the field with the class "
                                "or value")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        geoms, raw, crs = _read_csv(path, field)
    elif suffix in (".geojson", ".json"):
        geoms, raw, crs = _read_geojson(path, field)
    else:
        geoms, raw, crs = _read_ogr(path, field)
    values, names = _values(raw)
    kept = list(_explode(geoms, values, path))
    labels = VectorLabels(path, [g for g, _ in kept], np.array([v for _, v in kept], np.float64), crs, names,
                          sum(g is None for g in geoms))
    _check_degrees(labels)
    return labels


def _fields_error(path: Path, field: str, fields: Iterable[str]) -> UnknownParameterError:
    return UnknownParameterError(f"label_field={field!r} is not a field of {path.name}; its fields are: "
                                 f"{', '.join(fields) or 'none'}")


def _read_csv(path: Path, field: str) -> tuple[list[dict[str, Any] | None], list[Any], str]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0]) if rows else []
    lower = {c.strip().lower(): c for c in columns}
    lon = next((lower[n] for n in _LON if n in lower), None)
    lat = next((lower[n] for n in _LAT if n in lower), None)
    if lon is None or lat is None:
        raise FileFormatError(f"{path.name} has no lon/lat columns (its columns: {', '.join(columns) or 'none'}); "
                              "name them lon and lat (degrees)")
    if field not in columns:
        raise _fields_error(path, field, columns)
    geoms = []
    for i, row in enumerate(rows, start=2):
        try:
            geoms.append({"type": "Point", "coordinates": [float(row[lon]), float(row[lat])]})
        except (TypeError, ValueError):
            raise FileFormatError(f"line {i} of {path.name} has lon {row[lon]!r}, lat {row[lat]!r}; give numbers "
                                  "in degrees") from None
    return geoms, [row[field] for row in rows], "EPSG:4326"


def _read_geojson(path: Path, field: str) -> tuple[list[dict[str, Any] | None], list[Any], str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(f"cannot read the GeoJSON {path} ({exc}); check the file") from None
    features = doc.get("features") if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" else \
        [doc] if isinstance(doc, dict) and doc.get("type") == "Feature" else None
    if features is None:
        raise FileFormatError(f"{path.name} is not a GeoJSON Feature or FeatureCollection; labels need features "
                              "with properties")
    props = [f.get("properties") or {} for f in features]
    if features and not any(field in p for p in props):
        raise _fields_error(path, field, sorted({k for p in props for k in p}))
    name = ((doc.get("crs") or {}).get("properties") or {}).get("name")
    crs = "EPSG:4326" if name is None else _crs_string(name, path)
    return [f.get("geometry") for f in features], [p.get(field) for p in props], crs


def _crs_string(text: str, path: Path) -> str:
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        raise FileFormatError(f"{path.name} declares the CRS {text!r}, which GDAL does not know; give an EPSG code") from None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else crs.to_wkt()


def _read_ogr(path: Path, field: str) -> tuple[list[dict[str, Any] | None], list[Any], str]:
    pyogrio = require("pyogrio", "vector")
    from .wkb import to_geojson

    try:
        fields = [str(f) for f in pyogrio.read_info(path)["fields"]]
        if field not in fields:
            raise _fields_error(path, field, fields)
        meta, _, wkb, data = pyogrio.raw.read(path, columns=[field])
    except pyogrio.errors.DataSourceError as exc:
        raise FileFormatError(f"cannot read the vector file {path} ({' '.join(str(exc).split())}); check the file") \
            from None
    crs = "EPSG:4326" if meta.get("crs") is None else _crs_string(meta["crs"], path)
    return [None if g is None else to_geojson(g) for g in wkb], list(data[0]), crs


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and math.isnan(v))


def _number(v: Any) -> float | None:
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return None


def _values(raw: list[Any]) -> tuple[list[float], tuple[str, ...] | None]:
    """Numbers as floats (NaN: missing), or text as classes 1..K with their names."""
    numbers = [math.nan if _missing(v) else _number(v) for v in raw]
    if all(n is not None for n in numbers):
        return numbers, None
    names = tuple(sorted({str(v).strip() for v in raw if not _missing(v)}))
    code = {n: float(i) for i, n in enumerate(names, start=1)}
    return [math.nan if _missing(v) else code[str(v).strip()] for v in raw], names


def _explode(geoms: list[dict[str, Any] | None], values: list[float], path: Path):
    """(geometry, value) of every Point (multi-points split), Polygon and MultiPolygon."""
    for g, v in zip(geoms, values):
        kind = None if g is None else g.get("type")
        if kind in ("Point", "Polygon", "MultiPolygon"):
            yield g, v
        elif kind == "MultiPoint":
            yield from (({"type": "Point", "coordinates": c}, v) for c in g["coordinates"])
        elif kind is not None:
            raise FileFormatError(f"{path.name} holds a {kind}; labels must be points or polygons")


def coordinates(geometry: dict[str, Any]) -> np.ndarray:
    """(n, 2) vertices of a Point, Polygon or MultiPolygon."""
    c = geometry["coordinates"]
    if geometry["type"] == "Point":
        return np.asarray([c[:2]], np.float64)
    rings = c if geometry["type"] == "Polygon" else [r for poly in c for r in poly]
    return np.concatenate([np.asarray(r, np.float64)[:, :2] for r in rings])


def _check_degrees(labels: VectorLabels) -> None:
    """`CRSMismatchError` when a lon/lat file holds coordinates that are not degrees."""
    from rasterio.crs import CRS

    if not labels.geometries or not CRS.from_user_input(labels.crs).is_geographic:
        return
    for g in labels.geometries:
        xy = coordinates(g)
        bad = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
        if bad.any():
            x, y = xy[bad][0]
            raise CRSMismatchError(f"{labels.path.name} is read as longitude/latitude ({labels.crs}) but holds the "
                                   f"coordinates ({x:.6g}, {y:.6g}); declare the CRS it is in, or reproject it to "
                                   "EPSG:4326")
