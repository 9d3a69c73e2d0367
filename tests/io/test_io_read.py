"""read_scene and read_array: scaling, nodata and masks, names, dates, georeferencing, bad files."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
import rasterio

from stfusion.core.errors import (
    BandMismatchError,
    FileFormatError,
    InvalidValueError,
    NoDataError,
    UnknownParameterError,
)
from stfusion.io import read_array, read_scene


def test_int16_is_scaled_and_georeferenced(make_tif):
    raw = np.arange(2 * 4 * 5, dtype=np.int16).reshape(2, 4, 5) * 100
    scene = read_scene(make_tif("L8_20200315.tif", raw))
    assert scene.data.dtype == np.float32
    np.testing.assert_allclose(scene.data, raw * 1e-4, rtol=1e-6)
    assert scene.mask.all()
    assert scene.crs == "EPSG:32633"
    assert scene.transform == (30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0)
    assert scene.resolution == 30.0
    assert scene.date == dt.date(2020, 3, 15)
    assert scene.name == "L8_20200315.tif"
    assert scene.encoding.dtype == "int16" and scene.encoding.scale == 1e-4 and scene.encoding.nodata is None


def test_float_file_is_not_scaled_and_nan_is_invalid(make_tif):
    raw = np.full((2, 3, 3), 0.25, dtype=np.float32)
    raw[1, 0, 0] = np.nan
    scene = read_scene(make_tif("f.tif", raw))
    assert scene.encoding.scale == 1.0
    assert not scene.mask[0, 0] and scene.mask.sum() == 8
    np.testing.assert_array_equal(scene.data[:, 1, 1], [0.25, 0.25])


def test_inf_at_a_valid_pixel_is_refused(make_tif):
    raw = np.full((2, 3, 3), 0.25, dtype=np.float32)
    raw[0, 1, 1] = np.inf
    with pytest.raises(InvalidValueError, match="NaN or inf"):
        read_scene(make_tif("inf.tif", raw))
    assert not read_scene(make_tif("inf_nd.tif", raw, nodata=np.inf)).mask[1, 1]


def test_nodata_in_any_band_makes_pixel_invalid(make_tif):
    raw = np.full((3, 4, 4), 1000, dtype=np.int16)
    raw[2, 1, 2] = -9999
    scene = read_scene(make_tif("n.tif", raw, nodata=-9999))
    assert scene.encoding.nodata == -9999.0
    expected = np.ones((4, 4), bool)
    expected[1, 2] = False
    np.testing.assert_array_equal(scene.mask, expected)


def test_nodata_argument_overrides_file(make_tif):
    raw = np.full((1, 3, 3), 500, dtype=np.uint16)
    raw[0, 0, 0] = 0
    scene = read_scene(make_tif("z.tif", raw), nodata=0)
    assert not scene.mask[0, 0] and scene.mask.sum() == 8
    assert scene.encoding.nodata == 0.0


def test_scale_and_offset_tags_of_the_file_are_applied(make_tif, tmp_path):
    path = make_tif("c2.tif", np.full((2, 2, 2), 20000, dtype=np.uint16))
    with rasterio.open(path, "r+") as dst:
        dst.scales = (2.75e-5, 2.75e-5)
        dst.offsets = (-0.2, -0.2)
    scene = read_scene(path)
    np.testing.assert_allclose(scene.data, 20000 * 2.75e-5 - 0.2, rtol=1e-6)
    assert (scene.encoding.scale, scene.encoding.offset) == (2.75e-5, -0.2)


def test_per_band_scales_give_a_float_encoding(make_tif):
    path = make_tif("pb.tif", np.full((2, 2, 2), 100, dtype=np.int16))
    with rasterio.open(path, "r+") as dst:
        dst.scales = (0.01, 0.001)
    scene = read_scene(path)
    np.testing.assert_allclose(scene.data[:, 0, 0], [1.0, 0.1], rtol=1e-6)
    assert scene.encoding.dtype == "float32"


def test_explicit_scale_and_offset(make_tif):
    scene = read_scene(make_tif("s.tif", np.full((1, 2, 2), 10, dtype=np.uint8)), scale=0.5, offset=1.0)
    np.testing.assert_allclose(scene.data, 6.0)
    assert (scene.encoding.scale, scene.encoding.offset) == (0.5, 1.0)


def test_dataset_mask_is_used(make_tif):
    path = make_tif("m.tif", np.full((2, 3, 3), 700, dtype=np.int16))
    msk = np.full((3, 3), 255, dtype=np.uint8)
    msk[2, 2] = 0
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as dst:
        dst.write_mask(msk)
    scene = read_scene(path)
    assert not scene.mask[2, 2] and scene.mask.sum() == 8


def test_alpha_band_is_a_mask_not_a_band(make_tif):
    rgba = np.full((4, 3, 3), 120, dtype=np.uint8)
    rgba[3] = 255
    rgba[3, 0, 1] = 0
    scene = read_scene(make_tif("rgba.tif", rgba, photometric="RGB", alpha="YES"))
    assert scene.count == 3
    assert not scene.mask[0, 1] and scene.mask.sum() == 8


def test_band_names_from_descriptions(make_tif):
    path = make_tif("d.tif", np.ones((3, 2, 2), np.int16), descriptions=("Blue(b1)", "green", "NIR - band 4"))
    assert read_scene(path).bands == ("blue", "green", "nir")
    assert read_scene(path, bands=["b", "g", "n"]).bands == ("b", "g", "n")


def test_band_names_from_sensor_and_indexes(make_tif):
    path = make_tif("s7.tif", np.ones((6, 2, 2), np.int16), descriptions=("a", "b", "c", "d", "e", "f"))
    assert read_scene(path).bands is None
    assert read_scene(path, sensor="landsat7").bands == ("blue", "green", "red", "nir", "swir1", "swir2")
    sub = read_scene(path, sensor="landsat7", band_indexes=[4, 3])
    assert sub.bands == ("nir", "red") and sub.count == 2
    modis = make_tif("m7.tif", np.ones((7, 2, 2), np.int16))
    assert read_scene(modis, sensor="modis", band_indexes=[3, 4, 1]).bands == ("blue", "green", "red")


def test_unknown_sensor_is_refused(make_tif):
    path = make_tif("d2.tif", np.ones((2, 2, 2), np.int16), descriptions=("red", "nir"))
    with pytest.raises(UnknownParameterError, match="unknown sensor 'spot5'"):
        read_scene(path, sensor="spot5")


def test_sensor_with_wrong_band_count_is_refused(make_tif):
    path = make_tif("five.tif", np.ones((5, 2, 2), np.int16))
    with pytest.raises(BandMismatchError, match="not a landsat8 band layout"):
        read_scene(path, sensor="landsat8")


@pytest.mark.parametrize("indexes", [[0], [3], []])
def test_band_index_out_of_range(make_tif, indexes):
    path = make_tif("two.tif", np.ones((2, 2, 2), np.int16))
    with pytest.raises(BandMismatchError, match="not in 1..2"):
        read_scene(path, band_indexes=indexes)
    with pytest.raises(BandMismatchError):
        read_array(path, band_indexes=indexes)


def test_ungeoreferenced_file_reads_silently(tmp_path):
    path = tmp_path / "plain.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", driver="GTiff", width=3, height=2, count=1, dtype="int16") as dst:
            dst.write(np.ones((1, 2, 3), np.int16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scene = read_scene(path, date=dt.date(2001, 1, 2))
    assert scene.transform == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    assert scene.crs is None and scene.resolution is None and not scene.georeferenced
    assert scene.date == dt.date(2001, 1, 2)


def test_all_nodata_raises(make_tif):
    path = make_tif("empty.tif", np.full((1, 2, 2), -1, np.int16), nodata=-1)
    with pytest.raises(NoDataError):
        read_scene(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match="not found"):
        read_scene(tmp_path / "nope.tif")
    with pytest.raises(FileFormatError, match="not found"):
        read_array(tmp_path / "nope.tif")


def test_truncated_geotiff(make_tif):
    rng = np.random.default_rng(1)
    path = make_tif("cut.tif", rng.integers(0, 10000, (3, 64, 64), dtype=np.int16))
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(FileFormatError, match="truncated or unreadable"):
        read_scene(path)
    with pytest.raises(FileFormatError, match="truncated or unreadable"):
        read_array(path)


def test_not_a_raster(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("not an image")
    with pytest.raises(FileFormatError, match="truncated or unreadable"):
        read_scene(path)


def _envi(tmp_path, data: np.ndarray, *, drop: int = 0):
    raw = tmp_path / "img20010524"
    raw.write_bytes(data.astype("<i2").tobytes()[: data.nbytes - drop])
    b, r, c = data.shape
    (tmp_path / "img20010524.hdr").write_text(
        f"ENVI\nsamples = {c}\nlines = {r}\nbands = {b}\nheader offset = 0\nfile type = ENVI Standard\n"
        "data type = 2\ninterleave = bsq\nbyte order = 0\n"
    )
    return raw


def test_envi_raw_and_hdr_path(tmp_path):
    data = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)
    raw = _envi(tmp_path, data)
    scene = read_scene(raw.with_name("img20010524.hdr"))
    np.testing.assert_allclose(scene.data, data * 1e-4, rtol=1e-6)
    assert scene.date == dt.date(2001, 5, 24)


def test_envi_raw_shorter_than_header(tmp_path):
    raw = _envi(tmp_path, np.ones((2, 3, 4), np.int16), drop=6)
    with pytest.raises(FileFormatError, match="truncated"):
        read_scene(raw)


def test_read_array_keeps_raw_values(make_tif):
    raw = np.array([[[0, 1], [4, 255]]], dtype=np.uint8)
    values, meta = read_array(make_tif("classes.tif", raw, nodata=255))
    np.testing.assert_array_equal(values, raw)
    assert values.dtype == np.uint8
    assert meta == {
        "transform": (30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0),
        "crs": "EPSG:32633",
        "nodata": 255.0,
        "dtype": "uint8",
    }


@pytest.mark.realdata
def test_real_geotiff(shared_data):
    scene = read_scene(shared_data / "cia_2date" / "CIA_L7_20011125.tif")
    assert scene.shape == (6, 608, 595)
    assert scene.bands == ("blue", "green", "red", "nir", "swir1", "swir2")
    assert scene.date == dt.date(2001, 11, 25)
    assert scene.encoding.dtype == "int16" and scene.mask.all()
    assert -0.1 < float(scene.data.min()) < 0 < float(scene.data.max()) < 1


@pytest.mark.realdata
def test_real_envi(shared_data):
    scene = read_scene(shared_data / "estarfm_3date" / "tm0524")
    assert scene.shape == (3, 400, 400) and scene.date is None and not scene.georeferenced
    ndvi = read_scene(shared_data / "ifsdaf_ndvi_series" / "LC81250382015104LGN00_ndvi")
    assert ndvi.date == dt.date(2015, 4, 14)
    assert ndvi.resolution == 30.0 and ndvi.crs.startswith("LOCAL_CS")


@pytest.mark.realdata
def test_real_class_map(shared_data):
    values, meta = read_array(shared_data / "lgc_flood_simcoarse" / "Landsat20041126_SVM_classification")
    assert values.dtype == np.uint8 and values.shape == (1, 480, 480)
    assert set(np.unique(values)) <= {0, 1, 2, 3, 4}

