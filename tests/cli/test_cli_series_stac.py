"""`stfusion series --stac`: a local STAC catalogue as input; the STAC index it writes validates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from stfusion.cli.main import cli
from stfusion.core import Scene
from stfusion.core.scene import RasterEncoding
from stfusion.io import read_scene, write_scene
from stfusion.parallel.series import PROJECTION_EXTENSION, RASTER_EXTENSION

INT16 = RasterEncoding("int16", 1e-4, 0.0, -9999.0)
FINE_GRID = dict(transform=(30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0), crs="EPSG:32633")
COARSE_GRID = dict(transform=(240.0, 0.0, 500000.0, 0.0, -240.0, 4000000.0), crs="EPSG:32633")
DATES = {dt.date(2020, 6, 1): True, dt.date(2020, 6, 9): False, dt.date(2020, 6, 17): True}
"""The coarse dates, and whether a fine image has the date too."""


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """A fine folder (int16 reflectance, one cfmask) and a coarse folder on a grid 8 times coarser."""
    root = tmp_path_factory.mktemp("stac")
    rng = np.random.default_rng(1)
    base = rng.uniform(0.05, 0.4, (2, 32, 32)).astype(np.float32)
    for k, (date, has_fine) in enumerate(DATES.items()):
        x = base + 0.01 * k
        if has_fine:
            write_scene(Scene(x, encoding=INT16, **FINE_GRID), root / "fine" / f"LC08_{date:%Y%m%d}.tif")
        coarse = x.reshape(2, 4, 8, 4, 8).mean(axis=(2, 4))
        write_scene(Scene(coarse, encoding=INT16, **COARSE_GRID), root / "coarse" / f"MOD09GA_{date:%Y%m%d}.tif")
    mask = np.zeros((1, 32, 32), np.uint8)
    mask[:, :4] = 4  # a strip of cloud
    write_scene(Scene(mask.astype(np.float32), **FINE_GRID), root / "fine" / "LC08_20200601_mask.tif")
    return root / "fine", root / "coarse"


def _catalogue(folders: tuple[Path, Path], where: Path) -> Path:
    """An ItemCollection of the two folders: Landsat items with a mask asset, Terra MODIS items."""
    fine, coarse = folders
    features = []
    for folder, platform in ((fine, "landsat-8"), (coarse, "terra")):
        for path in sorted(folder.glob("*[0-9].tif")):
            date = dt.datetime.strptime(path.stem.split("_")[1], "%Y%m%d")
            assets = {"sr": {"href": str(path), "type": "image/tiff; application=geotiff", "roles": ["data"]}}
            if path.with_name(f"{path.stem}_mask.tif").is_file():
                assets["qa"] = {"href": str(path.with_name(f"{path.stem}_mask.tif")), "roles": ["cloud"]}
            features.append({"type": "Feature", "stac_version": "1.1.0", "id": path.stem, "geometry": None,
                             "links": [], "assets": assets,
                             "properties": {"datetime": f"{date:%Y-%m-%d}T10:30:00Z", "platform": platform}})
    path = where / "items.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_series_reads_a_stac_item_collection_like_its_folders(folders, tmp_path):
    pytest.importorskip("pystac")
    runner = CliRunner()
    stac = runner.invoke(cli, ["series", "delta", "--stac", str(_catalogue(folders, tmp_path)),
                               "--out-dir", str(tmp_path / "a")])
    assert stac.exit_code == 0, stac.output
    two = runner.invoke(cli, ["series", "delta", "--fine-dir", str(folders[0]), "--coarse-dir", str(folders[1]),
                              "--out-dir", str(tmp_path / "b")])
    assert two.exit_code == 0, two.output
    assert sorted(p.name for p in (tmp_path / "a").glob("*.tif")) == ["delta_20200609.tif"]
    a, b = (read_scene(tmp_path / d / "delta_20200609.tif") for d in "ab")
    assert np.array_equal(a.data, b.data, equal_nan=True)
    run = json.loads((tmp_path / "a" / "index.json").read_text())["stfusion:run"]
    assert [f[0] for f in run["fine"]] == ["LC08_20200601.tif", "LC08_20200617.tif"]
    assert run["fine"][0][3] == "LC08_20200601_mask.tif"  # the item's mask asset
    both = runner.invoke(cli, ["series", "delta", "--stac", str(tmp_path / "items.json"), "--fine-dir",
                               str(folders[0]), "--out-dir", str(tmp_path / "c")])
    assert both.exit_code == 2 and "give either --fine-dir" in both.output


def _index_items(folders: tuple[Path, Path], out: Path) -> list[dict]:
    result = CliRunner().invoke(cli, ["series", "delta", "--fine-dir", str(folders[0]), "--coarse-dir",
                                      str(folders[1]), "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    index = json.loads((out / "index.json").read_text())
    assert index["type"] == "FeatureCollection" and index["features"]
    return index["features"]


def test_the_index_items_hold_the_item_spec_and_extension_fields(folders, tmp_path):
    """The fields STAC 1.1 and the projection (v2) and raster (v1.1) extensions require or we promise."""
    for item in _index_items(folders, tmp_path / "out"):
        assert item["type"] == "Feature" and item["stac_version"] == "1.1.0" and item["links"] == []
        assert set(item["stac_extensions"]) == {PROJECTION_EXTENSION, RASTER_EXTENSION}
        assert isinstance(item["id"], str) and item["properties"]["datetime"].endswith("Z")
        assert item["geometry"]["type"] == "Polygon" and len(item["bbox"]) == 4
        props = item["properties"]
        assert props["proj:code"] == "EPSG:32633" and "proj:epsg" not in props  # proj:epsg is v1 only
        assert props["proj:shape"] == [32, 32] and props["proj:transform"] == list(FINE_GRID["transform"])
        asset = item["assets"]["data"]
        assert asset["raster:bands"] == [{"data_type": "int16", "nodata": -9999, "scale": 1e-4, "offset": 0.0}] * 2


def test_the_index_items_validate_with_pystac(folders, tmp_path):
    """pystac checks each item as written (``validate_dict``: ``Item.from_dict`` would first migrate
    old fields) against the STAC 1.1 item schema and the extension schemas it ships (no network)."""
    pytest.importorskip("jsonschema")
    pytest.importorskip("pystac", minversion="1.16")  # ships the STAC 1.1 and extension schemas
    validation = pytest.importorskip("pystac.validation")
    errors = pytest.importorskip("pystac.errors")
    for data in _index_items(folders, tmp_path / "out"):
        assert set(validation.validate_dict(data)) >= {PROJECTION_EXTENSION, RASTER_EXTENSION}
        with pytest.raises(errors.STACValidationError, match="proj:epsg"):
            validation.validate_dict({**data, "properties": {**data["properties"], "proj:epsg": 32633}})
