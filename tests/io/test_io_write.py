"""write_scene: exact inversion of encodings, nodata, tags, GeoTIFF/COG layout, atomic writes, errors."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.errors import RasterioIOError

import stfusion.io.write as write_module
from stfusion.core.errors import (
    CRSMismatchError,
    DTypeError,
    FileFormatError,
    InvalidValueError,
    OutputExistsError,
    UnknownParameterError,
)
from stfusion.core.scene import RasterEncoding, Scene
from stfusion.io import encode, read_array, read_scene, write_scene

GEO = dict(transform=(30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0), crs="EPSG:32633")


def _scene(data, mask=None, encoding=RasterEncoding(), **kw) -> Scene:
    return Scene(np.asarray(data, dtype=np.float32), mask, encoding=encoding, **{**GEO, **kw})


def test_int16_roundtrip_with_nodata(make_tif, tmp_path):
    rng = np.random.default_rng(0)
    raw = rng.integers(-500, 9000, (3, 20, 30), dtype=np.int16)
    raw[1, 3, 4] = -9999
    src = read_scene(make_tif("in_20200101.tif", raw, nodata=-9999, descriptions=("red", "green", "blue")))
    out = write_scene(src, tmp_path / "out" / "copy.tif")
    values, meta = read_array(out)
    np.testing.assert_array_equal(values[:, src.mask], raw[:, src.mask])
    assert (values[:, 3, 4] == -9999).all()
    assert meta["dtype"] == "int16" and meta["nodata"] == -9999 and meta["crs"] == "EPSG:32633"
    assert meta["transform"] == GEO["transform"]
    back = read_scene(out)
    assert back.bands == ("red", "green", "blue")
    np.testing.assert_array_equal(back.mask, src.mask)
    assert back.encoding == src.encoding


def test_gtiff_layout(tmp_path):
    out = write_scene(_scene(np.ones((2, 40, 40)) * 0.5, encoding=RasterEncoding("int16", 1e-4)), tmp_path / "a.tif")
    with rasterio.open(out) as src:
        assert src.block_shapes[0] == (256, 256) and src.profile["tiled"]
        assert src.compression.name == "deflate"
        assert src.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") == "2"
        assert src.scales == (1.0, 1.0) and src.offsets == (0.0, 0.0)
    out = write_scene(_scene(np.ones((1, 8, 8))), tmp_path / "f.tif")
    with rasterio.open(out) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") == "3"


def test_int_encoding_without_nodata_chooses_one(tmp_path):
    data = np.full((1, 4, 4), 0.1)
    mask = np.ones((4, 4), bool)
    mask[0, 0] = False
    for dtype, expected in (("int16", -32768), ("uint16", 65535)):
        out = write_scene(_scene(data, mask, RasterEncoding(dtype, 1e-4)), tmp_path / f"{dtype}.tif")
        values, meta = read_array(out)
        assert meta["nodata"] == expected and values[0, 0, 0] == expected
        assert (values[0][mask] == 1000).all()
        np.testing.assert_array_equal(read_scene(out).mask, mask)


def test_float_output_uses_nan_nodata(tmp_path):
    mask = np.array([[True, False], [True, True]])
    out = write_scene(_scene(np.full((1, 2, 2), 0.3), mask), tmp_path / "f.tif")
    values, meta = read_array(out)
    assert np.isnan(meta["nodata"]) and np.isnan(values[0, 0, 1])
    np.testing.assert_array_equal(read_scene(out).mask, mask)


def test_encode_clips_and_keeps_valid_values_off_nodata():
    data = np.array([[[5.0, -5.0, 0.0, 0.0001]]])
    mask = np.array([[True, True, True, False]])
    stored, enc = encode(data, mask, RasterEncoding("int16", 1e-4, 0.0, 0.0))
    np.testing.assert_array_equal(stored, [[[32767, -32768, 1, 0]]])
    assert enc.nodata == 0.0
    fstored, _ = encode(np.array([[[-1.0]]]), np.array([[True]]), RasterEncoding("float32", 1.0, 0.0, -1.0))
    assert fstored[0, 0, 0] != -1.0 and abs(fstored[0, 0, 0] + 1.0) < 1e-6


def test_custom_scale_is_tagged_and_default_is_not(tmp_path):
    data = np.full((1, 3, 3), 0.35)
    enc = RasterEncoding("uint16", 2.75e-5, -0.2, 0.0)
    out = write_scene(_scene(data, encoding=enc), tmp_path / "c2.tif")
    with rasterio.open(out) as src:
        assert src.scales == (2.75e-5,) and src.offsets == (-0.2,)
        assert src.read(1)[0, 0] == round((0.35 + 0.2) / 2.75e-5)
    back = read_scene(out)
    assert back.encoding == enc
    np.testing.assert_allclose(back.data, 0.35, atol=2e-5)


def test_encoding_precedence(tmp_path):
    scene = _scene(np.full((1, 2, 2), 0.5), encoding=RasterEncoding("float32"))
    like = _scene(np.zeros((1, 2, 2)), encoding=RasterEncoding("uint8", 0.01))
    assert read_array(write_scene(scene, tmp_path / "own.tif"))[1]["dtype"] == "float32"
    values, meta = read_array(write_scene(scene, tmp_path / "like.tif", like=like))
    assert meta["dtype"] == "uint8" and values[0, 0, 0] == 50
    explicit = RasterEncoding("int32", 0.001)
    values, meta = read_array(write_scene(scene, tmp_path / "enc.tif", like=like, encoding=explicit))
    assert meta["dtype"] == "int32" and values[0, 0, 0] == 500


def test_cog_layout(tmp_path):
    data = np.random.default_rng(2).random((1, 1100, 1100))
    scene = _scene(data, encoding=RasterEncoding("uint16", 2e-5), bands=("nir",))
    out = write_scene(scene, tmp_path / "c.tif", driver="cog")
    with rasterio.open(out) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.scales == (2e-5,) and src.descriptions == ("nir",)
        assert src.block_shapes[0] == (512, 512)
        assert src.overviews(1)
        assert src.crs.to_epsg() == 32633
    assert [p.name for p in tmp_path.iterdir()] == ["c.tif"]


def test_existing_output_needs_overwrite(tmp_path):
    scene = _scene(np.ones((1, 2, 2)) * 0.2)
    path = write_scene(scene, tmp_path / "x.tif")
    with pytest.raises(OutputExistsError, match="pass overwrite=True"):
        write_scene(scene, path)
    write_scene(scene.replace(data=np.full((1, 2, 2), 0.7, np.float32)), path, overwrite=True)
    assert read_array(path)[0][0, 0, 0] == pytest.approx(0.7)


def _fail_after_first_band(dst, stored):
    dst.write(stored[0], 1)
    raise RuntimeError("disk on fire")


def test_failing_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(write_module, "_write_bands", _fail_after_first_band)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_scene(_scene(np.ones((3, 8, 8)) * 0.1), tmp_path / "p.tif")
    assert list(tmp_path.iterdir()) == []


def test_gdal_error_while_writing_is_a_file_error(tmp_path, monkeypatch):
    def fail(dst, stored):
        raise RasterioIOError("write failed")

    monkeypatch.setattr(write_module, "_write_bands", fail)
    with pytest.raises(FileFormatError, match="cannot write"):
        write_scene(_scene(np.ones((1, 8, 8)) * 0.1), tmp_path / "p.tif")
    assert list(tmp_path.iterdir()) == []


def test_failing_cog_conversion_leaves_nothing(tmp_path, monkeypatch):
    def fail(src, dst):
        dst.write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(write_module, "_to_cog", fail)
    with pytest.raises(KeyboardInterrupt):
        write_scene(_scene(np.ones((1, 8, 8)) * 0.1), tmp_path / "c.tif", driver="COG")
    assert list(tmp_path.iterdir()) == []


def test_write_errors(tmp_path):
    scene = _scene(np.ones((1, 2, 2)) * 0.1)
    with pytest.raises(UnknownParameterError, match="GTiff, COG"):
        write_scene(scene, tmp_path / "a.tif", driver="PNG")
    with pytest.raises(FileFormatError, match="is a directory"):
        write_scene(scene, tmp_path)
    with pytest.raises(DTypeError, match="cannot write dtype"):
        write_scene(scene, tmp_path / "a.tif", encoding=RasterEncoding("complex64"))
    with pytest.raises(InvalidValueError, match="does not fit"):
        write_scene(scene, tmp_path / "a.tif", encoding=RasterEncoding("uint8", 1e-2, 0.0, -9999))
    with pytest.raises(InvalidValueError, match="non-zero scale"):
        write_scene(scene, tmp_path / "a.tif", encoding=RasterEncoding("int16", 0.0))
    with pytest.raises(CRSMismatchError, match="cannot parse"):
        write_scene(scene.replace(crs="EPSG:not-a-code"), tmp_path / "a.tif")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("")
    with pytest.raises(FileFormatError, match="cannot write"):
        write_scene(scene, tmp_path / "file" / "a.tif")


@pytest.mark.realdata
def test_real_int16_roundtrip(shared_data, tmp_path):
    src_path = shared_data / "cia_2date" / "CIA_L7_20011125.tif"
    scene = read_scene(src_path)
    out = write_scene(scene, tmp_path / "CIA_copy.tif")
    original, meta_in = read_array(src_path)
    copied, meta_out = read_array(out)
    np.testing.assert_array_equal(copied, original)
    assert copied.dtype == original.dtype and meta_out["nodata"] == meta_in["nodata"] is None
    assert read_scene(out).bands == scene.bands


@pytest.mark.realdata
def test_real_envi_local_crs_roundtrip(shared_data, tmp_path):
    scene = read_scene(shared_data / "ifsdaf_ndvi_series" / "LC81250382015104LGN00_ndvi")
    back = read_scene(write_scene(scene, tmp_path / "ndvi.tif"))
    assert back.transform == scene.transform and back.crs.startswith("LOCAL_CS")
    np.testing.assert_array_equal(back.data, scene.data)
