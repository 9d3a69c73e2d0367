"""Vector labels: GeoJSON, CSV, GeoPackage and shapefile (via pyogrio) read, reprojected and rasterised
onto embedding grids (points by pixel, polygons by pixel centre or by area), with the counts and the bad inputs."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from rasterio.warp import transform

from stfusion.core.errors import (
    CRSMismatchError,
    InvalidParameterError,
    MissingInputError,
    NoDataError,
    UnknownParameterError,
)
from stfusion.io.label_grid import rasterise_labels
from stfusion.io.tessera_mosaic import EmbeddingGrid
from stfusion.io.vector_labels import read_vector_labels
from stfusion.io.wkb import to_geojson

T = (10.0, 0.0, 500000.0, 0.0, -10.0, 5800000.0)


def _grid(rows=6, cols=5) -> EmbeddingGrid:
    values = np.ones((rows, cols, 2), np.float32)
    values[0, 0] = np.nan  # no data
    return EmbeddingGrid(values, "EPSG:32631", T, "EPSG32631")


def _centre(r, c):
    return 500005.0 + 10 * c, 5799995.0 - 10 * r


def _lonlat(points):
    lon, lat = transform("EPSG:32631", "EPSG:4326", [p[0] for p in points], [p[1] for p in points])
    return list(zip(lon, lat))


def _box(r0, c0, r1, c1):
    """The polygon of pixels rows r0..r1-1, cols c0..c1-1 (edges on pixel edges)."""
    x0, x1, y0, y1 = 500000 + 10 * c0, 500000 + 10 * c1, 5800000 - 10 * r0, 5800000 - 10 * r1
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _geojson(path, features, crs=None):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": p} for g, p in features]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc))
    return path


def test_points_in_lonlat_land_on_their_pixels_and_are_counted(tmp_path):
    pts = _lonlat([_centre(1, 1), _centre(4, 3), _centre(0, 0), _centre(2, 2), (600000.0, 5800000.0)])
    feats = [({"type": "Point", "coordinates": list(p)}, {"crop": c}) for p, c in
             zip(pts, ["wheat", "maize", "wheat", None, "maize"])]
    feats.append((None, {"crop": "wheat"}))
    labels = read_vector_labels(_geojson(tmp_path / "p.geojson", feats), "crop")
    assert labels.names == ("maize", "wheat") and labels.crs == "EPSG:4326"
    (lab,), counts = rasterise_labels(labels, [_grid()])
    assert lab[1, 1] == 2 and lab[4, 3] == 1 and np.isfinite(lab).sum() == 2  # (0, 0) is no data
    assert (counts.used, counts.outside, counts.nodata, counts.missing, counts.total) == (2, 1, 1, 2, 6)
    assert counts.line() == ("labels: 2 of 6 points used (1 outside every tile, 1 on no-data, "
                             "2 without a value or geometry)")
    csv = tmp_path / "p.csv"
    csv.write_text("id,Longitude,Latitude,class\n" + "".join(f"{i},{x},{y},{c}\n" for i, ((x, y), c) in
                                                          enumerate(zip(pts, [3, 7, 3, 3, 3]))))
    (lab2,), counts2 = rasterise_labels(read_vector_labels(csv, "class"), [_grid()])
    assert lab2[1, 1] == 3 and lab2[4, 3] == 7 and lab2[2, 2] == 3 and counts2.used == 3


def test_polygons_by_pixel_centre_reprojected_from_their_crs(tmp_path):
    feats = [(_box(1, 1, 3, 3), {"h": 1.5}), (_box(2, 2, 5, 4), {"h": 2.5}), (_box(0, 0, 1, 1), {"h": 9.0})]
    labels = read_vector_labels(_geojson(tmp_path / "b.geojson", feats, "urn:ogc:def:crs:EPSG::32631"), "h")
    assert labels.crs == "EPSG:32631" and labels.names is None
    (lab,), counts = rasterise_labels(labels, [_grid()])
    want = np.full((6, 5), np.nan)
    want[1:3, 1:3] = 1.5
    want[2:5, 2:4] = 2.5
    want[2, 2] = np.nan  # both polygons: conflicting values, dropped
    assert np.array_equal(lab, want, equal_nan=True)
    assert (counts.kind, counts.used, counts.nodata, counts.conflicts) == ("polygons", 2, 1, 1)
    # the same boxes in lon/lat (another zone's grid would get them reprojected the same way)
    ll = [{"type": "Polygon", "coordinates": [[list(p) for p in _lonlat(g["coordinates"][0])]]} for g, _ in feats]
    labels = read_vector_labels(_geojson(tmp_path / "ll.geojson", [(g, p) for g, (_, p) in zip(ll, feats)]), "h")
    assert np.array_equal(rasterise_labels(labels, [_grid()])[0][0], want, equal_nan=True)


def _ring(*xy):
    return {"type": "Polygon", "coordinates": [[list(p) for p in xy + xy[:1]]]}


def test_polygons_by_area_label_the_pixels_they_mostly_cover(tmp_path):
    """Pixel (r, c) spans x 500000 + 10 c .. + 10 and y 5800000 - 10 (r + 1) .. + 10."""
    feats = [
        (_ring((500010, 5799970), (500014, 5799970), (500014, 5799980), (500010, 5799980)), {"c": 1}),
        # 40 % of (2, 1), its centre outside: labels nothing either way
        (_ring((500024, 5799950), (500026, 5799950), (500026, 5799960), (500024, 5799960)), {"c": 2}),
        # a 20 % strip of (4, 2) through its centre: by centre only
        (_ring((500000, 5799940), (500010, 5799940), (500010, 5799944), (500004, 5799944), (500004, 5799950),
               (500000, 5799950)), {"c": 3}),
        # an L over 64 % of (5, 0) that misses its centre: by area only
    ]
    labels = read_vector_labels(_geojson(tmp_path / "a.geojson", feats, "EPSG:32631"), "c")
    (centre,), _ = rasterise_labels(labels, [_grid()])
    (area,), counts = rasterise_labels(labels, [_grid()], rule="area")
    assert np.argwhere(np.isfinite(centre)).tolist() == [[4, 2]] and centre[4, 2] == 2
    assert np.argwhere(np.isfinite(area)).tolist() == [[5, 0]] and area[5, 0] == 3
    assert (counts.used, counts.total) == (1, 3)
    with pytest.raises(InvalidParameterError, match="label rule 'majority' is unknown; use one of: centre, area"):
        rasterise_labels(labels, [_grid()], rule="majority")


def test_bad_vector_labels_are_one_line_errors(tmp_path):
    path = _geojson(tmp_path / "p.geojson", [({"type": "Point", "coordinates": [3.0, 52.35]}, {"crop": 1})])
    with pytest.raises(UnknownParameterError, match="'class' is not a field of p.geojson; its fields are: crop"):
        read_vector_labels(path, "class")
    with pytest.raises(MissingInputError, match="label_field=NAME"):
        read_vector_labels(path, None)
    utm = _geojson(tmp_path / "u.geojson", [({"type": "Point", "coordinates": list(_centre(1, 1))}, {"crop": 1})])
    with pytest.raises(CRSMismatchError, match=r"longitude/latitude .* \(500015, 5\.79998e\+06\)"):
        read_vector_labels(utm, "crop")  # no crs member: lon/lat, but the coordinates are metres
    far = _geojson(tmp_path / "f.geojson", [({"type": "Point", "coordinates": [10.0, 40.0]}, {"crop": 1})])
    with pytest.raises(NoDataError, match="no label of f.geojson falls on a valid embedding pixel"):
        rasterise_labels(read_vector_labels(far, "crop"), [_grid()])
    (x, y), = _lonlat([_centre(1, 1)])
    lie = _geojson(tmp_path / "l.geojson", [({"type": "Point", "coordinates": [x, y]}, {"crop": 1})], "EPSG:32631")
    with pytest.raises(CRSMismatchError, match="declares EPSG:32631 but its coordinates are longitude/latitude"):
        rasterise_labels(read_vector_labels(lie, "crop"), [_grid()])
    line = _geojson(tmp_path / "line.geojson", [({"type": "LineString", "coordinates": [[3, 52], [3.1, 52]]},
                                                 {"crop": 1})])
    with pytest.raises(Exception, match="points or polygons"):
        read_vector_labels(line, "crop")


def _wkb(geom) -> bytes:
    """Little-endian ISO WKB of a Point or Polygon (2D), for writing test files."""
    if geom["type"] == "Point":
        return struct.pack("<BI2d", 1, 1, *geom["coordinates"])
    rings = geom["coordinates"]
    out = struct.pack("<BII", 1, 3, len(rings))
    for ring in rings:
        out += struct.pack("<I", len(ring)) + b"".join(struct.pack("<2d", *p) for p in ring)
    return out


def test_wkb_variants_decode():
    assert to_geojson(struct.pack("<BI3d", 1, 1001, 1.0, 2.0, 3.0)) == {"type": "Point", "coordinates": [1.0, 2.0]}
    assert to_geojson(struct.pack(">BI2d", 0, 1, 1.0, 2.0)) == {"type": "Point", "coordinates": [1.0, 2.0]}
    box = _box(0, 0, 1, 1)
    multi = struct.pack("<BII", 1, 6, 2) + _wkb(box) * 2
    assert to_geojson(multi) == {"type": "MultiPolygon", "coordinates": [box["coordinates"]] * 2}
    ewkb = struct.pack("<BIi2d", 1, 0x20000001, 4326, 5.0, 6.0)  # EWKB with an SRID
    assert to_geojson(ewkb)["coordinates"] == [5.0, 6.0]


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_geopackage_and_shapefile_through_pyogrio(tmp_path, suffix):
    pyogrio = pytest.importorskip("pyogrio")
    path = tmp_path / f"fields{suffix}"
    geoms = [_box(1, 1, 3, 3), _box(3, 3, 5, 5)]
    pyogrio.raw.write(path, np.array([_wkb(g) for g in geoms], dtype=object), [np.array(["oat", "rye"], object)],
                      fields=["crop"], crs="EPSG:32631", geometry_type="Polygon", driver=None)
    labels = read_vector_labels(path, "crop")
    assert labels.crs == "EPSG:32631" and labels.names == ("oat", "rye")
    (lab,), _ = rasterise_labels(labels, [_grid()])
    assert (lab[1:3, 1:3] == 1).all() and (lab[3:5, 3:5] == 2).all() and np.isfinite(lab).sum() == 8
    with pytest.raises(UnknownParameterError, match="its fields are: crop"):
        read_vector_labels(path, "class")


def test_missing_pyogrio_names_the_extra(tmp_path, monkeypatch):
    import sys

    from stfusion.core.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "pyogrio", None)  # as if it were not installed
    (tmp_path / "f.gpkg").write_bytes(b"")
    with pytest.raises(MissingDependencyError, match=r"pip install 'stfusion\[vector\]'"):
        read_vector_labels(tmp_path / "f.gpkg", "crop")
