"""Reading geotessera embeddings folders: the npy, tiff and zarr layouts, geotessera's dequantisation,
the grid from the landmask (not the tile name), mosaics per UTM zone, --bbox, and bad folders."""

from __future__ import annotations

import numpy as np
import pytest
from tessera_folders import separable, write_npy_tile, write_tiff_tile, write_zarr_tile

from stfusion.core.errors import FileFormatError, InvalidParameterError, MissingInputError, NoDataError
from stfusion.embed.quantise import quantise
from stfusion.io.tessera import dequantise, find_tiles, is_tessera_folder, lonlat_bounds
from stfusion.io.tessera_mosaic import load_tessera


def _pair(rows=6, cols=5, c=8, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.integers(-128, 128, (rows, cols, c)).astype(np.int8)
    s = rng.uniform(0.01, 0.1, (rows, cols)).astype(np.float32)
    return q, s


def test_dequantise_is_q_times_scale_and_zero_or_nan_scale_is_no_data():
    q, s = _pair()
    s[0, 0], s[1, 1] = 0.0, np.nan
    e = dequantise(q, s)
    assert e.dtype == np.float32 and np.isnan(e[0, 0]).all() and np.isnan(e[1, 1]).all()
    ok = np.isfinite(s) & (s != 0)
    assert np.array_equal(e[ok], q[ok].astype(np.float32) * s[ok][:, None])
    full = np.broadcast_to(s[..., None], q.shape).copy()  # (H, W, C) scales
    assert np.array_equal(dequantise(q, full), e, equal_nan=True)
    emb = np.random.default_rng(1).standard_normal((4, 3, 8)).astype(np.float32)  # our int8 writer reads back
    assert np.allclose(dequantise(*quantise(emb)), emb, atol=np.abs(emb).max() / 127)


def test_npy_layout_grid_comes_from_the_landmask_not_the_name(tmp_path):
    q, s = _pair()
    write_npy_tile(tmp_path, "grid_99.95_0.05", 2024, q, s)  # the name says lon 100 E; the grid is at 3 E, 52 N
    assert is_tessera_folder(tmp_path) and not is_tessera_folder(tmp_path / "nothing")
    (tile,) = find_tiles(tmp_path, 2024)
    assert tile.layout == "npy" and tile.crs == "EPSG:32631" and tile.shape == (6, 5)
    assert tile.transform == (10.0, 0.0, 500000.0, 0.0, -10.0, 5800000.0)
    w, s_, e, n = lonlat_bounds(tile)
    assert 2.9 < w < e < 3.1 and 52.3 < s_ < n < 52.4
    assert find_tiles(tmp_path, 2024, bbox=(2.9, 52.3, 3.1, 52.4)) == [tile]
    with pytest.raises(NoDataError, match="meets bbox="):
        find_tiles(tmp_path, 2024, bbox=(99.9, 0.0, 100.0, 0.1))
    assert np.array_equal(tile.read(), dequantise(q, s), equal_nan=True)


@pytest.mark.parametrize("layout", ["tiff", "zarr"])
def test_float_layouts_read_the_same_map(tmp_path, layout):
    if layout == "zarr":
        pytest.importorskip("zarr")
    q, s = _pair()
    s[2, 3] = 0.0
    e = q.astype(np.float32) * s[..., None]  # what geotessera exports: zeros where the scale is 0
    (write_tiff_tile if layout == "tiff" else write_zarr_tile)(tmp_path, "grid_3.05_52.35", 2023, e)
    (tile,) = find_tiles(tmp_path)  # the only year
    assert tile.layout == layout and tile.year == 2023 and tile.crs == "EPSG:32631"
    assert tile.transform == (10.0, 0.0, 500000.0, 0.0, -10.0, 5800000.0) and tile.shape == (6, 5)
    assert np.array_equal(tile.read(), dequantise(q, s), equal_nan=True)


def test_tiles_of_one_zone_are_mosaicked_and_other_zones_kept_apart(tmp_path):
    a, _ = separable(6, 5, seed=1)
    b, _ = separable(6, 4, seed=2)
    c, _ = separable(3, 3, seed=3)
    write_tiff_tile(tmp_path, "grid_3.05_52.35", 2024, a)
    write_tiff_tile(tmp_path, "grid_3.15_52.35", 2024, b, origin=(500050.0, 5799980.0))  # right of a, 2 rows down
    write_tiff_tile(tmp_path, "grid_6.05_52.35", 2024, c, crs="EPSG:32632", origin=(300000.0, 5800000.0))
    zones = load_tessera(tmp_path, 2024)
    assert [z.label for z in zones] == ["EPSG32631", "EPSG32632"]
    m = zones[0]
    assert m.values.shape == (8, 9, 8) and m.transform == (10.0, 0.0, 500000.0, 0.0, -10.0, 5800000.0)
    assert np.array_equal(m.values[:6, :5], a) and np.array_equal(m.values[2:, 5:], b)
    assert np.isnan(m.values[6:, :5]).all() and np.isnan(m.values[:2, 5:]).all()
    assert m.tiles == ("grid_3.05_52.35", "grid_3.15_52.35") and np.array_equal(zones[1].values, c)
    from rasterio.warp import transform

    lon, lat = transform("EPSG:32631", "EPSG:4326", [500015.0, 500035.0], [5799975.0, 5799955.0])
    (crop,) = load_tessera(tmp_path, 2024, bbox=(lon[0], lat[1], lon[1], lat[0]))  # pixels (2..4, 1..3) of a
    assert crop.values.shape == (3, 3, 8) and np.array_equal(crop.values, a[2:5, 1:4])
    assert crop.transform == (10.0, 0.0, 500010.0, 0.0, -10.0, 5799980.0)


def test_bad_folders_are_one_line_errors(tmp_path):
    q, s = _pair()
    with pytest.raises(FileFormatError, match="not a geotessera embeddings folder"):
        find_tiles(tmp_path, 2024)
    write_npy_tile(tmp_path, "grid_3.05_52.35", 2024, q, s)
    write_npy_tile(tmp_path, "grid_3.05_52.35", 2023, q, s)
    with pytest.raises(NoDataError, match="no tile for 2022.*2023, 2024"):
        find_tiles(tmp_path, 2022)
    with pytest.raises(MissingInputError, match="year=YEAR"):
        find_tiles(tmp_path)
    write_npy_tile(tmp_path, "grid_3.15_52.35", 2024, q, None)  # no scales file
    with pytest.raises(FileFormatError, match="no scales file"):
        load_tessera(tmp_path, 2024)
    with pytest.raises(InvalidParameterError, match=r"bbox=\(4, 52, 3, 53\)"):
        find_tiles(tmp_path, 2024, bbox=(4.0, 52.0, 3.0, 53.0))
    (tmp_path / "global_0.1_degree_tiff_all" / "grid_3.05_52.35.tiff").unlink()
    with pytest.raises(FileFormatError, match="no landmask"):
        find_tiles(tmp_path, 2023)


def test_geotessera_reads_the_same_tile(tmp_path):
    """geotessera's own loader (when installed) and ours give the same array for one npy tile."""
    tiles = pytest.importorskip("geotessera.tiles")
    q, s = _pair(c=128)
    s[0, :2] = 0.0
    write_npy_tile(tmp_path, "grid_3.05_52.35", 2024, q, s)
    (theirs,) = tiles.discover_tiles(tmp_path)
    ours = find_tiles(tmp_path, 2024)[0]
    ref, got = theirs.load_embedding(), ours.read()
    ok = s != 0
    assert np.array_equal(got[ok], ref[ok]) and np.isnan(got[~ok]).all() and (ref[~ok] == 0).all()
    assert tuple(theirs.transform)[:6] == ours.transform and theirs.crs.to_epsg() == 32631
    e = dequantise(q, s)  # and the GeoTIFF export layout: geotessera finds our test tile where it writes them
    write_tiff_tile(tmp_path / "tif", "grid_3.05_52.35", 2024, np.nan_to_num(e))
    (theirs,) = tiles.discover_tiles(tmp_path / "tif")
    assert np.array_equal(theirs.load_embedding()[ok], find_tiles(tmp_path / "tif")[0].read()[ok])
    pytest.importorskip("zarr")
    zarr_tile = write_zarr_tile(tmp_path / "zarr", "grid_3.05_52.35", 2024, np.nan_to_num(e))
    theirs = tiles.Tile.from_zarr(zarr_tile)
    assert np.array_equal(theirs.load_embedding()[ok], find_tiles(tmp_path / "zarr")[0].read()[ok])
    assert tuple(theirs.transform)[:6] == ours.transform
