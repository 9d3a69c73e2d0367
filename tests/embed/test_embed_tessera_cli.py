"""`stfusion embed probe | visualize` on geotessera folders with vector labels: tiles in two UTM
zones, the one-line label report, OUT.tif on the tiles' grid, OUT.json, and the bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.warp import transform
from tessera_folders import separable, write_npy_tile, write_tiff_tile

from stfusion.cli.main import cli
from stfusion.embed.quantise import quantise

ZONES = {"EPSG:32631": (500000.0, 5800000.0), "EPSG:32632": (300000.0, 5800000.0)}


def _folder(root, rows=12, cols=10):
    """Two npy tiles side by side in UTM 31N (one with a no-data pixel) and a tiff tile in 32N; the
    class is the left or right half of each tile."""
    classes = {}
    for k, (name, crs, dx) in enumerate((("grid_3.05_52.35", "EPSG:32631", 0), ("grid_3.15_52.35", "EPSG:32631", 100),
                                         ("grid_6.05_52.35", "EPSG:32632", 0))):
        e, cls = separable(rows, cols, seed=k)
        x0, y0 = ZONES[crs]
        if crs == "EPSG:32631":
            valid = np.ones((rows, cols), bool)
            valid[0, 0] = k > 0  # no data on the first tile's corner
            q, s = quantise(e, valid)
            s[~valid] = 0.0  # as the npy tiles store it
            write_npy_tile(root, name, 2024, q, s, crs=crs, origin=(x0 + dx, y0))
        else:
            write_tiff_tile(root, name, 2024, e, crs=crs, origin=(x0, y0))
        classes[name] = (crs, x0 + dx, y0, cls)
    return classes


def _points(classes, path):
    """A GeoJSON of lon/lat points at every pixel centre with the class as text, and one far away."""
    feats = []
    for crs, x0, y0, cls in classes.values():
        r, c = np.indices(cls.shape)
        lon, lat = transform(crs, "EPSG:4326", (x0 + 10 * c + 5).ravel(), (y0 - 10 * r - 5).ravel())
        feats += [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                   "properties": {"crop": "left" if v == 1 else "right"}} for x, y, v in zip(lon, lat, cls.ravel())]
    feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [20.0, 40.0]},
                  "properties": {"crop": "left"}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_probe_a_folder_in_two_zones_with_point_labels(tmp_path):
    classes = _folder(tmp_path / "tessera")
    labels = _points(classes, tmp_path / "points.geojson")
    out = tmp_path / "probe" / "crops"
    r = CliRunner().invoke(cli, ["embed", "probe", str(tmp_path / "tessera"), "--year", "2024", "--labels",
                                 str(labels), "--label-field", "crop", "--block", "4", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "labels: 359 of 361 points used (1 outside every tile, 1 on no-data)" in r.output
    m = json.loads(out.with_suffix(".json").read_text())
    assert m["macro_f1"] > 0.95 and m["class_names"] == {"1": "left", "2": "right"}
    assert m["zones"] == ["EPSG32631", "EPSG32632"] and set(m["f1_per_class"]) == {"1", "2"}
    assert m["confusion"]["classes"] == [1, 2] and sum(map(sum, m["confusion"]["matrix"])) == m["test_pixels"]
    assert m["label_counts"]["outside"] == 1 and m["train_pixels"] + m["test_pixels"] == 359
    with rasterio.open(tmp_path / "probe" / "crops_EPSG32631.tif") as src:
        assert src.crs.to_epsg() == 32631 and tuple(src.transform)[:6] == (10, 0, 500000, 0, -10, 5800000)
        pred = src.read(1)
        assert pred.shape == (12, 20) and src.nodata == -1 and pred[0, 0] == -1
        assert np.mean(pred[:, 10:15] == 1) > 0.9 and np.mean(pred[:, 15:] == 2) > 0.9
    with rasterio.open(tmp_path / "probe" / "crops_EPSG32632.tif") as src:
        assert src.crs.to_epsg() == 32632 and src.shape == (12, 10)
    assert np.array_equal(np.load(tmp_path / "probe" / "crops_EPSG32631.npy"), pred)
    r = CliRunner().invoke(cli, ["embed", "visualize", str(tmp_path / "tessera"), "--out", str(tmp_path / "pca.png")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "pca_EPSG32631.png").is_file() and (tmp_path / "pca_EPSG32632.png").is_file()


def test_probe_one_zone_with_polygons_and_a_bbox(tmp_path):
    classes = _folder(tmp_path / "tessera")
    crs, x0, y0, _ = classes["grid_3.05_52.35"]
    boxes = {"left": (x0, x0 + 50), "right": (x0 + 50, x0 + 100)}  # each half of the first tile
    feats = [{"type": "Feature", "properties": {"crop": k}, "geometry": {"type": "Polygon", "coordinates": [[
        [a, y0], [b, y0], [b, y0 - 120], [a, y0 - 120], [a, y0]]]}} for k, (a, b) in boxes.items()]
    path = tmp_path / "fields.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats,
                                "crs": {"type": "name", "properties": {"name": "EPSG:32631"}}}))
    lon, lat = transform(crs, "EPSG:4326", [x0 + 1, x0 + 99], [y0 - 119, y0 - 1])
    bbox = f"{lon[0]},{lat[0]},{lon[1]},{lat[1]}"
    out = tmp_path / "p"
    r = CliRunner().invoke(cli, ["embed", "probe", str(tmp_path / "tessera"), "--bbox", bbox, "--labels", str(path),
                                 "--label-field", "crop", "--label-rule", "area", "--block", "3", "--head", "rf",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "labels: 2 of 2 polygons used" in r.output
    with rasterio.open(tmp_path / "p.tif") as src:
        assert src.shape == (12, 10) and tuple(src.transform)[:6] == (10, 0, x0, 0, -10, y0)
    metrics = json.loads((tmp_path / "p.json").read_text())
    assert metrics["accuracy"] > 0.9 and metrics["label_rule"] == "area"


def test_a_pair_with_its_geotiff_takes_vector_labels(tmp_path):
    from stfusion.embed.maps import save_npy_pair

    e, cls = separable(12, 10)
    save_npy_pair(*quantise(e), tmp_path / "emb")
    with rasterio.open(tmp_path / "emb.tif", "w", driver="GTiff", width=10, height=12, count=1, dtype="int16",
                       crs="EPSG:32631", transform=rasterio.Affine(10, 0, 500000, 0, -10, 5800000)) as dst:
        dst.write(np.zeros((1, 12, 10), np.int16))
    r, c = np.indices(cls.shape)
    lon, lat = transform("EPSG:32631", "EPSG:4326", (500005 + 10 * c).ravel(), (5799995 - 10 * r).ravel())
    (tmp_path / "pts.csv").write_text("lon,lat,class\n" + "".join(f"{x},{y},{v}\n" for x, y, v in
                                                                  zip(lon, lat, cls.ravel())))
    r = CliRunner().invoke(cli, ["embed", "probe", str(tmp_path / "emb.npy"), "--labels", str(tmp_path / "pts.csv"),
                                 "--label-field", "class", "--block", "3", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0 and "labels: 120 of 120 points used" in r.output, r.output
    with rasterio.open(tmp_path / "o.tif") as src:
        assert src.crs.to_epsg() == 32631 and src.shape == (12, 10)


@pytest.mark.parametrize("case", ["year", "scales", "field", "crs", "raster"])
def test_bad_inputs_are_one_line_and_write_nothing(tmp_path, case):
    classes = _folder(tmp_path / "tessera")
    labels = _points(classes, tmp_path / "points.geojson")
    args = ["--year", "2024", "--labels", str(labels), "--label-field", "crop"]
    expect = {"year": "no tile for 2023", "scales": "no scales file", "field": "'class' is not a field",
              "crs": "declares EPSG:32631 but its coordinates are longitude/latitude",
              "raster": "2 UTM zones"}[case]
    if case == "year":
        args[1] = "2023"
    elif case == "scales":
        (tmp_path / "tessera/global_0.1_degree_representation/2024/grid_3.15_52.35/grid_3.15_52.35_scales.npy").unlink()
    elif case == "field":
        args[-1] = "class"
    elif case == "crs":
        doc = json.loads(labels.read_text())
        doc["crs"] = {"type": "name", "properties": {"name": "EPSG:32631"}}
        labels.write_text(json.dumps(doc))
    else:
        np.save(tmp_path / "lab.npy", np.ones((12, 30)))
        args = ["--labels", str(tmp_path / "lab.npy")]
    r = CliRunner().invoke(cli, ["embed", "probe", str(tmp_path / "tessera"), *args, "--out", str(tmp_path / "o" / "x")])
    assert r.exit_code == 2 and expect in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert not (tmp_path / "o").exists()
