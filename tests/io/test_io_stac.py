"""stac_images: the fine and coarse images of a local STAC catalogue or ItemCollection."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from stfusion.core.errors import DateError, FileFormatError, MissingDependencyError
from stfusion.io.sensors import metadata_role
from stfusion.io.stac_read import stac_images

D1, D2, D3 = dt.date(2020, 1, 1), dt.date(2020, 1, 17), dt.date(2020, 2, 2)


@pytest.fixture
def pystac():
    return pytest.importorskip("pystac")


def _tif(make_tif, name: str) -> Path:
    return make_tif(name, np.full((2, 4, 4), 1000, np.int16))


def _item(pystac, item_id: str, date: dt.date, assets: dict[str, tuple[str, list[str]]], **props):
    item = pystac.Item(item_id, None, None, dt.datetime(date.year, date.month, date.day, 10, 30), props)
    for key, (href, roles) in assets.items():
        item.add_asset(key, pystac.Asset(href, media_type=None if href.endswith(".png") else pystac.MediaType.GEOTIFF,
                                         roles=roles))
    return item


def test_a_catalogue_split_by_platform_with_masks_and_relative_hrefs(pystac, make_tif, tmp_path):
    for name in ("a_20200101.tif", "a_20200101_mask.tif", "b_20200117.tif", "m1.tif", "m2.tif", "m3.tif"):
        _tif(make_tif, name)
    (tmp_path / "a.png").write_bytes(b"png")
    catalog = pystac.Catalog("demo", "fine and coarse")
    fine = {D1: "a_20200101", D2: "b_20200117"}
    for date, stem in fine.items():
        assets = {"image": (f"../../{stem}.tif", ["data"]), "thumb": ("../../a.png", ["thumbnail"])}
        if date == D1:
            assets["cloud"] = (f"../../{stem}_mask.tif", ["cloud"])
        landsat = {"platform": "landsat-8", "instruments": ["oli", "tirs"]}
        catalog.add_item(_item(pystac, f"scene-{stem}", date, assets, **landsat))
    modis = pystac.Collection("modis-09GA-061", "MODIS", pystac.Extent(
        pystac.SpatialExtent([[-180, -90, 180, 90]]), pystac.TemporalExtent([[None, None]])))
    for i, date in enumerate((D1, D2, D3), 1):  # no platform: the collection id says MODIS
        modis.add_item(_item(pystac, f"granule-{i}", date, {"sr": (f"../../../m{i}.tif", ["data", "reflectance"])}))
    catalog.add_child(modis)
    catalog.normalize_hrefs(str(tmp_path / "stac"))
    catalog.save(pystac.CatalogType.SELF_CONTAINED)

    fine_images, coarse_images = stac_images(tmp_path / "stac" / "catalog.json")
    assert [(f.date, f.path, f.mask) for f in fine_images] == [
        (D1, tmp_path / "a_20200101.tif", tmp_path / "a_20200101_mask.tif"), (D2, tmp_path / "b_20200117.tif", None)]
    assert [(c.date, c.path.name) for c in coarse_images] == [(D1, "m1.tif"), (D2, "m2.tif"), (D3, "m3.tif")]
    fine_images, coarse_images = stac_images(tmp_path / "stac" / "catalog.json", fine_pattern="[ab]_*",
                                             coarse_pattern="m[12].tif")
    assert len(fine_images) == 2 and [c.path.name for c in coarse_images] == ["m1.tif", "m2.tif"]


def _collection(tmp_path: Path, items: list[dict]) -> Path:
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return path


def _feature(item_id: str, date: str, href: str, **props) -> dict:
    return {"type": "Feature", "stac_version": "1.1.0", "id": item_id, "geometry": None, "links": [],
            "properties": {"datetime": f"{date}T00:00:00Z", **props},
            "assets": {"data": {"href": href, "type": "image/tiff; application=geotiff", "roles": ["data"]}}}


def test_an_item_collection_placed_by_ids_and_file_names(pystac, make_tif, tmp_path):
    _tif(make_tif, "LE07_L2SP_044034_20200101_20200917_02_T1_SR.tif")
    _tif(make_tif, "granule.tif")
    _tif(make_tif, "s3.tif")
    source = _collection(tmp_path, [
        _feature("LE07_L2SP_044034_20200101_20200917_02_T1", "2020-01-01",
                 "LE07_L2SP_044034_20200101_20200917_02_T1_SR.tif"),
        _feature("MOD09GA.A2020001.h18v04.061", "2020-01-01", str(tmp_path / "granule.tif")),  # an absolute href
        _feature("olci", "2020-01-17", f"file://{tmp_path / 's3.tif'}", platform="sentinel-3a"),
    ])
    fine, coarse = stac_images(source)
    assert [f.path.name for f in fine] == ["LE07_L2SP_044034_20200101_20200917_02_T1_SR.tif"]
    assert [(c.date, c.path.name) for c in coarse] == [(D1, "granule.tif"), (D2, "s3.tif")]


def test_items_it_cannot_use_are_named(pystac, make_tif, tmp_path):
    _tif(make_tif, "x.tif")
    _tif(make_tif, "y.tif")
    land = _feature("l8", "2020-01-01", "x.tif", platform="landsat-8")
    terra = _feature("t", "2020-01-01", "y.tif", platform="terra")
    with pytest.raises(FileFormatError, match=r"cannot tell fine from coarse for STAC items odd-1, odd-2 in "):
        stac_images(_collection(tmp_path, [land, terra, _feature("odd-1", "2020-01-17", "x.tif"),
                                           _feature("odd-2", "2020-02-02", "y.tif", platform="sentinel-1a")]))
    two = _feature("two", "2020-01-17", "x.tif", platform="landsat-8")
    two["assets"]["b2"] = dict(two["assets"]["data"], href="y.tif")
    with pytest.raises(FileFormatError, match=r"STAC item two in .* has 2 raster assets \(data, b2\); series needs"):
        stac_images(_collection(tmp_path, [land, terra, two]))
    with pytest.raises(FileFormatError, match=r"asset data of STAC item r is not a local file \(https://e.org/r.tif\)"):
        stac_images(_collection(tmp_path, [land, terra, _feature("r", "2020-01-17", "https://e.org/r.tif",
                                                                  platform="terra")]))
    with pytest.raises(FileFormatError, match=r"asset data of STAC item g: file not found: .*gone\.tif; fix the href"):
        stac_images(_collection(tmp_path, [land, terra, _feature("g", "2020-01-17", "gone.tif", platform="terra")]))
    with pytest.raises(DateError, match=r"two coarse STAC items in .* have the date 2020-01-01 \(y\.tif, x\.tif\)"):
        stac_images(_collection(tmp_path, [land, terra, _feature("t2", "2020-01-01", "x.tif", platform="aqua")]))
    with pytest.raises(DateError, match=r"items\.json has no coarse item"):
        stac_images(_collection(tmp_path, [land]))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FileFormatError, match=r"cannot read .*bad\.json as a STAC catalogue"):
        stac_images(tmp_path / "bad.json")
    with pytest.raises(FileFormatError, match=r"STAC file not found"):
        stac_images(tmp_path / "none.json")


def test_without_pystac_the_error_names_the_extra(tmp_path, monkeypatch):
    (tmp_path / "items.json").write_text('{"type": "FeatureCollection", "features": []}')
    monkeypatch.setitem(sys.modules, "pystac", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'stfusion\[stac\]'"):
        stac_images(tmp_path / "items.json")


@pytest.mark.parametrize("values, role", [
    (["landsat-8", "landsat", "oli", "tirs"], "fine"), (["LANDSAT_7", "etm+"], "fine"), (["sentinel-2b"], "fine"),
    (["hls2-s30"], "fine"), (["terra", "modis"], "coarse"), (["aqua"], "coarse"), (["modis-43A4-061"], "coarse"),
    (["MOD09GA.061"], "coarse"), (["sentinel-3a", "olci"], "coarse"), (["sentinel-1a"], None), ([], None),
    (["landsat-8", "terra"], None),
])
def test_metadata_role(values, role):
    assert metadata_role(values) == role
