"""Products as downloaded (`stfusion.io.products`): band names, scale and offset, fill values and QA
cloud masks of Landsat C2 L2, Sentinel-2 L2A, HLS, MODIS and Sentinel-3 exports, the sinusoidal warp,
and one-line errors for unreadable products."""

from __future__ import annotations

from datetime import date
import ast
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import Affine
from rasterio.warp import transform as warp_points
from rasterio.warp import transform_bounds

from stfusion.core.errors import BandMismatchError, ExtentMismatchError, FileFormatError
from stfusion.io import read_scene, write_scene
from stfusion.io.folder import scan_folder
from stfusion.io.products import coarse_grid, find_product, reproject_like

import io_products as mk
from io_products import HLS_L30, LANDSAT_ID, MODIS_500M, S2_TAKE, SINUSOIDAL, UTM

CLEAR = 21824
"""A real QA_PIXEL value of a clear land pixel (bits 6 clear, 8 and 10, 12, 14: low confidences)."""
RNG = np.random.default_rng(7)


def dn(shape=(12, 12), low=7300, high=20000):
    return RNG.integers(low, high, size=shape).astype(np.uint16)


def l2_reflectance(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float32) * np.float32(2.75e-5) + np.float32(-0.2)


# --- Landsat Collection 2 Level-2 -------------------------------------------------------------------------------


@pytest.fixture
def landsat(tmp_path):
    bands = {n: dn() for n in range(1, 8)}
    bands[5][2, 2] = 0  # fill in one band makes the pixel invalid
    qa = np.full((12, 12), CLEAR, np.uint16)
    for col, bit in enumerate((1, 2, 3, 4, 5), start=1):  # dilated cloud, cirrus, cloud, shadow, snow
        qa[0, col] = CLEAR | (1 << bit)
    qa[0, 6] = 1  # fill
    qa[1, 0] = CLEAR | (1 << 7)  # water stays valid
    folder = mk.landsat(tmp_path / LANDSAT_ID, bands, qa)
    return folder, bands


def test_landsat_folder_mtl_and_band_file_give_one_scene(landsat):
    folder, _ = landsat
    scenes = [read_scene(p) for p in (folder, folder / f"{LANDSAT_ID}_MTL.txt", folder / f"{LANDSAT_ID}_SR_B4.TIF")]
    for scene in scenes:
        assert scene.bands == ("blue", "green", "red", "nir", "swir1", "swir2")
        np.testing.assert_array_equal(scene.masked(-1), scenes[0].masked(-1))
    scene = scenes[0]
    assert scene.date.isoformat() == "2020-06-01" and scene.crs == UTM and scene.resolution == 30
    assert scene.name == LANDSAT_ID


def test_landsat_scale_offset_fill_and_qa_bits(landsat):
    folder, bands = landsat
    scene = read_scene(folder)
    expected = np.stack([l2_reflectance(bands[n]) for n in (2, 3, 4, 5, 6, 7)])
    np.testing.assert_array_equal(scene.data[:, scene.mask], expected[:, scene.mask])
    invalid = {(0, c) for c in range(1, 7)} | {(2, 2)}
    assert {tuple(map(int, rc)) for rc in np.argwhere(~scene.mask)} == invalid
    assert scene.mask[1, 0]  # water
    assert scene.encoding.dtype == "uint16" and scene.encoding.scale == 2.75e-5
    assert scene.encoding.offset == -0.2 and scene.encoding.nodata == 0


def test_landsat_written_and_read_back_exactly(landsat, tmp_path):
    scene = read_scene(landsat[0])
    out = write_scene(scene, tmp_path / "copy.tif")
    back = read_scene(out)
    np.testing.assert_array_equal(back.mask, scene.mask)
    np.testing.assert_array_equal(back.data[:, back.mask], scene.data[:, scene.mask])


def test_landsat_tm_etm_bands_skip_thermal(tmp_path):
    product_id = "LE07_L2SP_121039_20000601_20200918_02_T1"
    bands = {n: dn() for n in (1, 2, 3, 4, 5, 7)}  # no B6: thermal is ST_B6, not SR
    folder = mk.landsat(tmp_path / "le07", bands, np.full((12, 12), 5440, np.uint16), product_id=product_id)
    scene = read_scene(folder / f"{product_id}_SR_B1.TIF")
    assert scene.bands == ("blue", "green", "red", "nir", "swir1", "swir2")
    np.testing.assert_array_equal(scene.data[5], l2_reflectance(bands[7]))
    np.testing.assert_array_equal(scene.data[0], l2_reflectance(bands[1]))


def test_landsat_bands_are_selected_by_common_name(landsat):
    scene = read_scene(landsat[0], bands=["coastal", "nir"])
    assert scene.bands == ("coastal", "nir")
    np.testing.assert_array_equal(scene.data[0], l2_reflectance(landsat[1][1]))
    with pytest.raises(BandMismatchError, match="no band rededge1; use some of: coastal, blue"):
        read_scene(landsat[0], bands=["rededge1"])


def test_landsat_missing_band_or_qa_file_is_named(landsat):
    folder, _ = landsat
    (folder / f"{LANDSAT_ID}_SR_B5.TIF").unlink()
    with pytest.raises(FileFormatError, match=f"lacks {LANDSAT_ID}_SR_B5.TIF in .*; download its SR_B"):
        read_scene(folder)
    read_scene(folder, bands=["red"])  # bands that are there still read
    (folder / f"{LANDSAT_ID}_QA_PIXEL.TIF").unlink()
    with pytest.raises(FileFormatError, match="lacks .*_QA_PIXEL.TIF"):
        read_scene(folder, bands=["red"])


def test_truncated_band_file_is_named(landsat):
    band = landsat[0] / f"{LANDSAT_ID}_SR_B6.TIF"
    band.write_bytes(band.read_bytes()[:300])
    with pytest.raises(FileFormatError, match=f"{LANDSAT_ID}_SR_B6.TIF: it is truncated or unreadable") as err:
        read_scene(landsat[0])
    assert "\n" not in str(err.value)


def test_landsat_level1_and_two_products_are_refused(landsat, tmp_path):
    l1 = tmp_path / "LC08_L1TP_121039_20200601_20200824_02_T1_B4.TIF"
    l1.write_bytes(b"")
    with pytest.raises(FileFormatError, match="not a Collection 2 Level-2 product"):
        read_scene(l1)
    folder, _ = landsat
    (folder / "LC09_L2SP_121039_20220601_20220603_02_T1_MTL.txt").write_text("")
    with pytest.raises(FileFormatError, match="holds 2 Landsat products"):
        read_scene(folder)


def test_plain_rasters_and_folders(landsat, tmp_path):
    plain = mk.write(tmp_path / "CIA_MOD09GA_20011125.tif", np.ones((2, 4, 4), np.int16), transform=Affine(30, 0, 0, 0, -30, 0),
                     crs=UTM)
    assert find_product(plain) is None
    assert read_scene(plain).encoding.scale == 1e-4
    band = landsat[0] / f"{LANDSAT_ID}_SR_B4.TIF"
    single = read_scene(band, scale=1.0)  # an explicit encoding reads the one file as it is
    assert single.count == 1 and single.data.max() > 1000
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileFormatError, match="folder .*empty is not a product stfusion recognises"):
        read_scene(tmp_path / "empty")


def test_scan_folder_lists_each_product_once_dated_by_the_product(landsat, tmp_path):
    folder, _ = landsat
    date = read_scene(folder).date
    assert scan_folder(folder) == [(date, folder / f"{LANDSAT_ID}_MTL.txt")]  # its loose files: one entry
    assert scan_folder(tmp_path) == [(date, folder)]  # a product folder
    assert scan_folder(folder, products=False)[0][1].name.endswith("_QA_PIXEL.TIF")  # plain files when asked


def _flat_landsat_modis(root: Path, rows: int = 48, cols: int = 48) -> tuple[Path, dict]:
    """A flat folder: one Landsat C2 L2 product (2020-06-01, a cloud in its QA) and loose MOD09GA
    exports in sinusoidal on 2020-06-01 and 2020-06-17."""
    bands = {n: np.full((rows, cols), 12000 + 200 * n, np.uint16) for n in range(1, 8)}
    qa = np.full((rows, cols), CLEAR, np.uint16)
    qa[:4, :4] = CLEAR | (1 << 3)  # a cloud
    mk.landsat(root / LANDSAT_ID, bands, qa)
    t, srows, scols = _sinusoidal_over((500010.0, 3300000.0 - 30 * rows, 500010.0 + 30 * cols, 3300000.0))
    for doy, level in (("2020153", 1000), ("2020169", 1500)):
        sr = {n: np.full((srows, scols), level + 100 * n, np.int16) for n in range(1, 8)}
        mk.mod09ga(root, sr, np.zeros((srows // 2, scols // 2), np.uint16), t,
                   stem=f"MOD09GA.A{doy}.h27v06.061.2020155032455")
    return root, bands


def test_a_flat_folder_of_products_gives_pairs_in_the_fine_crs_with_their_masks(tmp_path):
    from stfusion.io import load_series

    root, _ = _flat_landsat_modis(tmp_path / "flat")
    series = load_series(root, root)
    assert series.fine_dates == [date(2020, 6, 1)] and series.coarse_dates == [date(2020, 6, 1), date(2020, 6, 17)]
    (pair,), (target,) = series.pairs, series.targets
    assert not pair.fine.mask[:4, :4].any() and pair.fine.mask[10:, 10:].all()  # QA_PIXEL's cloud
    for coarse in (pair.coarse, target):
        assert coarse.crs == pair.fine.crs and coarse.transform[0] > pair.fine.transform[0]  # warped, still coarse
    assert target.data[0].max() > pair.coarse.data[0].max()


def test_series_runs_on_a_flat_folder_of_products(tmp_path):
    from stfusion.parallel.series import run_series

    root, bands = _flat_landsat_modis(tmp_path / "flat")
    result = run_series("delta", root, root, tmp_path / "out")
    (written,) = result.outputs.values()
    pred = read_scene(written)
    expected = l2_reflectance(bands[4])[20, 20] + (1500 - 1000) * 1e-4  # red: fine + coarse change
    assert pred.data[2, 20, 20] == pytest.approx(expected, abs=2e-4) and not pred.mask[:4, :4].any()
    with pytest.raises(FileFormatError, match="is a Landsat C2 L2 product, which is read whole .* not streamed"):
        run_series("delta", root, root, tmp_path / "streamed", chunk=16)


# --- Sentinel-2 L2A -------------------------------------------------------------------------------------------


def _s2(tmp_path, **kw):
    dn10, dn20 = dn((8, 8), 1000, 9000), dn((4, 4), 1000, 9000)
    scl = np.full((4, 4), 4, np.uint8)
    scl[0, :] = (0, 1, 3, 8)
    scl[1, :] = (9, 10, 11, 6)  # 6 water: valid
    scl[2, 0] = 5
    return mk.sentinel2_safe(tmp_path, dn10, dn20, scl, **kw), dn10, dn20


def test_s2_safe_baseline_04_offset_and_scl(tmp_path):
    safe, dn10, dn20 = _s2(tmp_path)
    band = next(safe.rglob(f"{S2_TAKE}_B03_10m.jp2"))
    scenes = [read_scene(p) for p in (safe, safe / "MTD_MSIL2A.xml", band)]
    for scene in scenes:
        np.testing.assert_array_equal(scene.masked(-1), scenes[0].masked(-1))
    scene = scenes[0]
    assert scene.bands == ("blue", "green", "red", "nir", "swir1", "swir2") and scene.shape == (6, 8, 8)
    assert scene.date.isoformat() == "2022-06-01" and scene.resolution == 10
    np.testing.assert_allclose(scene.data[0], dn10 / 1e4 - 0.1, atol=1e-6)
    np.testing.assert_allclose(scene.data[4], np.repeat(np.repeat(dn20, 2, 0), 2, 1) / 1e4 - 0.1, atol=1e-6)
    invalid_20m = np.zeros((4, 4), bool)
    invalid_20m[0, :], invalid_20m[1, :3] = True, True
    np.testing.assert_array_equal(~scene.mask, np.repeat(np.repeat(invalid_20m, 2, 0), 2, 1))


def test_s2_offset_follows_the_processing_baseline(tmp_path):
    old, dn10, _ = _s2(tmp_path / "old", baseline="03.01", offsets=False)
    np.testing.assert_allclose(read_scene(old).data[0], dn10 / 1e4, atol=1e-6)
    unlisted, dn10, _ = _s2(tmp_path / "new", baseline="05.09", offsets=False)
    np.testing.assert_allclose(read_scene(unlisted).data[0], dn10 / 1e4 - 0.1, atol=1e-6)


def test_s2_loose_band_files_need_their_metadata(tmp_path):
    safe, _, _ = _s2(tmp_path)
    loose = tmp_path / "loose"
    loose.mkdir()
    for f in safe.rglob("*.jp2"):
        with rasterio.open(f) as src:
            mk.write(loose / f.name.replace(".jp2", ".tif"), src.read(), transform=src.transform, crs=UTM)
    with pytest.raises(FileFormatError, match="cannot tell the processing baseline of .*B02_10m.tif.*MTD_MSIL2A.xml"):
        read_scene(loose / f"{S2_TAKE}_B02_10m.tif")
    (loose / "MTD_MSIL2A.xml").write_text((safe / "MTD_MSIL2A.xml").read_text())
    np.testing.assert_array_equal(read_scene(loose / f"{S2_TAKE}_B02_10m.tif").masked(-1), read_scene(safe).masked(-1))


def test_s2_level1c_and_broken_metadata_are_refused(tmp_path):
    l1c = tmp_path / "S2A_MSIL1C_20220601T023249_N0400_R103_T50RQV_20220601T045623.SAFE"
    l1c.mkdir()
    with pytest.raises(FileFormatError, match="Level-1C .*download the Level-2A product"):
        read_scene(l1c)
    safe, _, _ = _s2(tmp_path)
    (safe / "MTD_MSIL2A.xml").write_text("<n1:Level-2A_User_Product><n1:General")
    with pytest.raises(FileFormatError, match="cannot read the Sentinel-2 metadata .*MTD_MSIL2A.xml"):
        read_scene(safe)


# --- HLS ------------------------------------------------------------------------------------------------------


def test_hls_l30_scale_fill_and_fmask(tmp_path):
    names = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B09")
    bands = {b: dn((6, 6), 100, 5000).astype(np.int16) for b in names}
    bands["B04"][5, 5] = -9999
    fmask = np.zeros((6, 6), np.uint8)
    fmask[0, :5] = [1 << b for b in range(5)]  # cirrus, cloud, adjacent, shadow, snow/ice
    fmask[1, 0], fmask[1, 1] = 1 << 5, (1 << 5) | (3 << 6)  # water, and water with high aerosol: valid
    folder = mk.hls(tmp_path / "hls", bands, fmask)
    scene = read_scene(folder / f"{HLS_L30}.B04.tif")
    assert scene.bands == ("blue", "green", "red", "nir", "swir1", "swir2")
    assert scene.date.isoformat() == "2020-06-01"
    np.testing.assert_array_equal(scene.data[3], bands["B05"].astype(np.float32) * np.float32(1e-4))
    assert {tuple(map(int, rc)) for rc in np.argwhere(~scene.mask)} == {(0, c) for c in range(5)} | {(5, 5)}


def test_hls_s30_nir_is_b8a(tmp_path):
    granule = "HLS.S30.T50RQV.2022152T023249.v2.0"
    bands = {b: dn((4, 4), 100, 5000).astype(np.int16) for b in ("B02", "B03", "B04", "B08", "B8A", "B11", "B12")}
    folder = mk.hls(tmp_path / "s30", bands, np.zeros((4, 4), np.uint8), granule=granule)
    scene = read_scene(folder)
    np.testing.assert_array_equal(scene.data[3], bands["B8A"].astype(np.float32) * np.float32(1e-4))
    assert read_scene(folder, bands=["nir_broad"]).count == 1


# --- MODIS ----------------------------------------------------------------------------------------------------


def _sinusoidal_over(fine_bounds, margin: int = 2) -> tuple[Affine, int, int]:
    """A MODIS 500 m sinusoidal grid (on the global tiling) covering UTM ``fine_bounds``, plus ``margin`` pixels."""
    left, bottom, right, top = transform_bounds(UTM, SINUSOIDAL, *fine_bounds)
    x0 = (np.floor(left / MODIS_500M) - margin) * MODIS_500M
    y0 = (np.ceil(top / MODIS_500M) + margin) * MODIS_500M
    cols = int(np.ceil((right - x0) / MODIS_500M)) + margin
    rows = int(np.ceil((y0 - bottom) / MODIS_500M)) + margin
    return mk.sinusoidal_transform(x0, y0), rows + rows % 2, cols + cols % 2


def test_mod09ga_export_bands_fill_and_state(tmp_path):
    t = mk.sinusoidal_transform(10007554.677, 3335851.559)
    sr = {n: dn((6, 6), 100, 6000).astype(np.int16) for n in range(1, 8)}
    sr[3][5, 5] = -28672
    state = np.zeros((3, 3), np.uint16)  # clear
    state[0, 0], state[0, 1], state[0, 2] = 1, 2, 1 << 2  # cloudy, mixed, shadow
    state[1, 0], state[1, 1], state[1, 2] = 3 << 8, 1 << 10, 1 << 13  # high cirrus, internal cloud, adjacent
    state[2, 0], state[2, 1] = 1 << 15, 3  # internal snow; "not set, assumed clear"
    first = mk.mod09ga(tmp_path, sr, state, t)
    scene = read_scene(first)
    assert scene.bands == ("blue", "green", "red", "nir", "swir1", "swir2")
    assert scene.date.isoformat() == "2020-06-01" and "Sinusoidal" in scene.crs
    np.testing.assert_array_equal(scene.data[0], sr[3].astype(np.float32) * np.float32(1e-4))
    np.testing.assert_array_equal(scene.data[4], sr[6].astype(np.float32) * np.float32(1e-4))
    invalid_1km = np.zeros((3, 3), bool)
    invalid_1km[0, :], invalid_1km[1, :], invalid_1km[2, 0] = True, True, True
    expected = np.repeat(np.repeat(invalid_1km, 2, 0), 2, 1)
    expected[5, 5] = True
    np.testing.assert_array_equal(~scene.mask, expected)
    (tmp_path / first.name.replace("sur_refl_b01", "state_1km")).unlink()
    with pytest.raises(FileFormatError, match="lacks .*state_1km_1.tif"):
        read_scene(first)


def test_mcd43a4_export_fill_and_quality(tmp_path):
    t = mk.sinusoidal_transform(10007554.677, 3335851.559)
    nbar = {n: dn((4, 4), 100, 6000).astype(np.int16) for n in range(1, 8)}
    nbar[2][3, 3] = 32767
    quality = {n: np.zeros((4, 4), np.uint8) for n in range(1, 8)}
    quality[1][0, 0], quality[4][0, 1], quality[5][0, 2] = 255, 1, 255  # band 5 (nir1240) is not read
    first = mk.mcd43a4(tmp_path, nbar, quality, t)
    scene = read_scene(first)
    assert scene.date.isoformat() == "2020-06-01"
    np.testing.assert_array_equal(scene.data[2], nbar[1].astype(np.float32) * np.float32(1e-4))
    assert {tuple(map(int, rc)) for rc in np.argwhere(~scene.mask)} == {(0, 0), (3, 3)}
    assert not read_scene(first, bands=["nir1240"]).mask[0, 2]


def test_modis_hdf_needs_the_hdf4_driver(tmp_path):
    with rasterio.Env() as env:
        if "HDF4" in env.drivers():
            pytest.skip("this GDAL has the HDF4 driver; the HDF path cannot be tested without a real HDF4 file")
    hdf = tmp_path / "MOD09GA.A2020153.h27v06.061.2020155032455.hdf"
    hdf.write_bytes(b"\x0e\x03\x13\x01")
    with pytest.raises(FileFormatError, match="no HDF4 driver; export its reflectance and QA subdatasets to GeoTIFF"):
        read_scene(hdf)


def _fine_grid(cols: int = 60, rows: int = 60):
    from stfusion.core.scene import Scene

    t = (30.0, 0.0, 500010.0, 0.0, -30.0, 3300000.0)
    return Scene(np.zeros((1, rows, cols), np.float32), transform=t, crs=UTM)


def _footprints(grid: tuple, rows: int, cols: int, steps: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Sinusoidal x and y of ``steps`` x ``steps`` points spread over every coarse UTM cell, corners
    included: two (rows, cols, steps**2) arrays."""
    a, _, c, _, e, f = grid
    xs, ys = [], []
    for dr in np.linspace(0, 1, steps):
        for dc in np.linspace(0, 1, steps):
            r, k = np.meshgrid(np.arange(rows) + dr, np.arange(cols) + dc, indexing="ij")
            xs.append((c + a * k).ravel())
            ys.append((f + e * r).ravel())
    sx, sy = warp_points(UTM, SINUSOIDAL, np.concatenate(xs), np.concatenate(ys))
    shape = (steps * steps, rows, cols)
    return (np.asarray(sx).reshape(shape).transpose(1, 2, 0), np.asarray(sy).reshape(shape).transpose(1, 2, 0))


def test_sinusoidal_is_area_averaged_onto_the_utm_grid():
    from stfusion.core.scene import Scene

    fine = _fine_grid()
    t, rows, cols = _sinusoidal_over(fine.bounds)
    edge_col = cols // 2
    values = np.where(np.arange(cols)[None, :] < edge_col, 0.2, 0.4).repeat(rows, 0).astype(np.float32)
    coarse = Scene(values[None], transform=tuple(t)[:6], crs=SINUSOIDAL, name="sinusoidal")
    grid, grows, gcols = coarse_grid(coarse, fine)
    r = round(grid[0] / 30)
    assert grid == (30.0 * r, 0.0, 500010.0, 0.0, -30.0 * r, 3300000.0) and 14 <= r <= 18
    out = reproject_like(coarse, fine)
    assert out.crs == UTM and out.transform == grid and out.shape == (1, grows, gcols) and out.mask.all()
    edge_x = t.c + edge_col * t.a
    corners, _ = _footprints(grid, grows, gcols)
    left, right = (corners < edge_x).all(axis=2), (corners > edge_x).all(axis=2)
    assert left.any() and right.any()
    np.testing.assert_allclose(out.data[0][left], 0.2, atol=1e-6)
    np.testing.assert_allclose(out.data[0][right], 0.4, atol=1e-6)
    straddling = out.data[0][~left & ~right]
    assert ((straddling > 0.2) & (straddling < 0.4)).all()


def test_sinusoidal_fill_masks_the_cells_it_touches():
    from stfusion.core.scene import Scene

    fine = _fine_grid()
    t, rows, cols = _sinusoidal_over(fine.bounds)
    mask = np.ones((rows, cols), bool)
    mask[rows // 2, cols // 2] = False
    coarse = Scene(np.full((1, rows, cols), 0.3, np.float32), mask=mask, transform=tuple(t)[:6], crs=SINUSOIDAL)
    out = reproject_like(coarse, fine)
    np.testing.assert_allclose(out.data[0][out.mask], 0.3, atol=1e-6)
    x0, y0 = t.c + t.a * (cols // 2), t.f + t.e * (rows // 2)  # the fill pixel: x0..x0+a, y0+e..y0
    x, y = _footprints(out.transform, out.height, out.width, steps=12)
    inside = (x > x0) & (x < x0 + t.a) & (y < y0) & (y > y0 + t.e)
    near = (x.max(2) > x0 - t.a) & (x.min(2) < x0 + 2 * t.a) & (y.min(2) < y0 - t.e) & (y.max(2) > y0 + 2 * t.e)
    assert inside.any(axis=2).sum() >= 1
    assert not out.mask[inside.any(axis=2)].any()  # a cell touching the fill pixel is invalid
    assert out.mask[~near].all()  # a cell far from it is valid
    assert reproject_like(out, fine) is out  # same CRS: unchanged
    far = coarse.replace(transform=(t.a, 0.0, t.c + 1e6, 0.0, t.e, t.f))
    with pytest.raises(ExtentMismatchError, match="has no valid pixel over"):
        reproject_like(far, fine)


# --- Sentinel-3 -----------------------------------------------------------------------------------------------


def test_s3_multiband_export_names_and_tag_scales(tmp_path):
    values = dn((4, 3, 3), 100, 9000).astype(np.int16)
    path = mk.write(tmp_path / "S3A_SY_2_SYN____20200601T023249_20200601T023549_20200602T120000_stack.tif",
                    values, transform=Affine(300, 0, 500000, 0, -300, 3300000), crs=UTM, nodata=-10000,
                    scales=[1e-4] * 4, offsets=[0.0] * 4, descriptions=["SDR_Oa17", "SDR_Oa04", "SDR_Oa08", "SDR_Oa06"])
    scene = read_scene(path)
    assert scene.bands == ("blue", "green", "red", "nir") and scene.date.isoformat() == "2020-06-01"
    np.testing.assert_array_equal(scene.data[3], values[0].astype(np.float32) * np.float32(1e-4))
    assert read_scene(path, bands=["nir"]).count == 1
    bare = mk.write(tmp_path / "S3B_OL_2_LFR____20200601T023249_bare.tif", values, transform=Affine(300, 0, 0, 0, -300, 0),
                    crs=UTM)
    with pytest.raises(FileFormatError, match="without band names"):
        read_scene(bare)


def test_s3_per_band_sdr_files_with_swir(tmp_path):
    stem = "S3A_SY_2_SYN____20200601T023249_20200601T023549_{}.tif"
    t = Affine(300, 0, 500000, 0, -300, 3300000)
    for token, value in (("SDR_Oa04", 1000), ("SDR_Oa06", 1100), ("SDR_Oa08", 1200), ("SDR_Oa17", 2500),
                         ("SDR_S5_N", 2000), ("SDR_S6_N", 1500), ("SDR_Oa01", 900)):
        mk.write(tmp_path / stem.format(token), np.full((3, 3), value, np.int16), transform=t, crs=UTM,
                 nodata=-10000, scales=[1e-4], offsets=[0.0])
    scene = read_scene(tmp_path / stem.format("SDR_Oa01"))
    assert scene.bands == ("blue", "green", "red", "nir", "swir1", "swir2")
    np.testing.assert_allclose(scene.data[:, 0, 0], [0.1, 0.11, 0.12, 0.25, 0.2, 0.15], atol=1e-6)
    assert read_scene(tmp_path / stem.format("SDR_Oa01"), bands=["oa01"]).data[0, 0, 0] == pytest.approx(0.09)


# --- predict with products; the layer rule ---------------------------------------------------------------------


def test_predict_landsat_product_with_modis_exports(tmp_path):
    from stfusion.cli.main import cli

    rows = cols = 48
    bands = {n: np.full((rows, cols), 12000 + 200 * n, np.uint16) for n in range(1, 8)}
    qa = np.full((rows, cols), CLEAR, np.uint16)
    qa[:4, :4] = CLEAR | (1 << 3)  # a cloud
    fine = mk.landsat(tmp_path / LANDSAT_ID, bands, qa)
    fine_bounds = (500010.0, 3300000.0 - 30 * rows, 500010.0 + 30 * cols, 3300000.0)
    t, srows, scols = _sinusoidal_over(fine_bounds)
    for day, doy in (("t1", "2020153"), ("t2", "2020169")):
        level = 1000 if day == "t1" else 1500
        sr = {n: np.full((srows, scols), level + 100 * n, np.int16) for n in range(1, 8)}
        mk.mod09ga(tmp_path / day, sr, np.zeros((srows // 2, scols // 2), np.uint16), t,
                   stem=f"MOD09GA.A{doy}.h27v06.061.2020155032455")
    c1 = next((tmp_path / "t1").glob("*sur_refl_b01_1.tif"))
    c2 = next((tmp_path / "t2").glob("*sur_refl_b01_1.tif"))
    out = tmp_path / "pred.tif"
    result = CliRunner().invoke(cli, ["predict", "delta", "--pair", str(fine), str(c1), "--target", str(c2),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as dst:
        assert dst.crs.to_epsg() == 32650 and dst.shape == (rows, cols) and dst.dtypes[0] == "uint16"
        pred = read_scene(out)
    assert not pred.mask[:4, :4].any() and pred.mask[10:, 10:].all()
    expected = l2_reflectance(bands[4])[20, 20] + (1500 - 1000) * 1e-4  # red: fine + coarse change
    assert pred.data[2, 20, 20] == pytest.approx(expected, abs=2e-4)
    streamed = CliRunner().invoke(cli, ["predict", "delta", "--pair", str(fine), str(c1), "--target", str(c2),
                                        "--out", str(tmp_path / "s.tif"), "--chunk", "16"])
    assert streamed.exit_code == 2 and "not streamed; drop --chunk" in streamed.stderr


def test_products_import_only_core_and_io():
    package = Path(__import__("stfusion.io.products", fromlist=["_"]).__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert not node.module.startswith("stfusion") or node.module.startswith("stfusion.core"), path.name
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                assert node.module in ("read", "dates"), f"{path.name} imports ..{node.module}"
