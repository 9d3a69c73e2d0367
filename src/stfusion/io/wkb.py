"""Well-known binary (ISO and EWKB, 2D/Z/M) to GeoJSON-like geometry dicts, x and y only.

pyogrio returns geometries as WKB; rasterio's rasterising and reprojection take GeoJSON dicts.
"""

from __future__ import annotations

import struct
from typing import Any

_TYPES = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon",
          7: "GeometryCollection"}


def to_geojson(wkb: bytes) -> dict[str, Any]:
    """The GeoJSON-like dict of one WKB geometry."""
    return _geometry(memoryview(wkb), 0)[0]


def _geometry(buf: memoryview, pos: int) -> tuple[dict[str, Any], int]:
    order = "<" if buf[pos] == 1 else ">"
    (code,) = struct.unpack_from(order + "I", buf, pos + 1)
    pos += 5
    dims = 2 + bool(code & 0x80000000) + bool(code & 0x40000000)  # EWKB Z and M flags
    if code & 0x20000000:  # EWKB SRID
        pos += 4
    code &= 0x0FFFFFFF
    kind, iso = code % 1000, code // 1000
    dims += (0, 1, 1, 2)[iso]  # ISO: 1000 Z, 2000 M, 3000 ZM
    name = _TYPES.get(kind)
    if name is None:
        raise ValueError(f"unknown WKB geometry type {code}")

    def points(pos: int) -> tuple[list[list[float]], int]:
        (n,) = struct.unpack_from(order + "I", buf, pos)
        flat = struct.unpack_from(f"{order}{n * dims}d", buf, pos + 4)
        return [list(flat[i:i + 2]) for i in range(0, n * dims, dims)], pos + 4 + 8 * n * dims

    def rings(pos: int) -> tuple[list[list[list[float]]], int]:
        (n,) = struct.unpack_from(order + "I", buf, pos)
        pos += 4
        out = []
        for _ in range(n):
            ring, pos = points(pos)
            out.append(ring)
        return out, pos

    if kind == 1:
        coords = list(struct.unpack_from(f"{order}{dims}d", buf, pos)[:2])
        return {"type": name, "coordinates": coords}, pos + 8 * dims
    if kind == 2:
        line, pos = points(pos)
        return {"type": name, "coordinates": line}, pos
    if kind == 3:
        poly, pos = rings(pos)
        return {"type": name, "coordinates": poly}, pos
    (n,) = struct.unpack_from(order + "I", buf, pos)
    pos += 4
    parts = []
    for _ in range(n):
        part, pos = _geometry(buf, pos)
        parts.append(part)
    if kind == 7:
        return {"type": name, "geometries": parts}, pos
    return {"type": name, "coordinates": [p["coordinates"] for p in parts]}, pos
