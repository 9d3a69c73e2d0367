"""`stfusion.xarray.predict` on GeoTIFFs opened with rioxarray equals the file path of the library."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core import predict as predict_scene
from stfusion.io import encode, read_scene
from stfusion.io.blockwrite import output_encoding
from stfusion.parallel import build_task
from stfusion.xarray import predict

rioxarray = pytest.importorskip("rioxarray", reason="needs rioxarray (pip install rioxarray)")


def _open(files, **kw):
    return [rioxarray.open_rasterio(files[k], **kw) for k in ("fine", "coarse", "target")]


@pytest.mark.parametrize("method", ["starfm", "fitfc"])
def test_predict_equals_the_in_memory_run_and_keeps_the_fine_grid(files, tmp_path, method):
    fine, coarse, target = _open(files)
    out = predict(method, fine, coarse, target.assign_coords(time=np.datetime64("2024-08-10")))
    ref = predict_scene(method, build_task([(files["fine"], files["coarse"])], files["target"]))
    stored, enc = encode(ref.data, ref.mask, output_encoding(ref.encoding, True))
    assert out.dtype == np.int16 and np.array_equal(out.values, stored)
    assert out.rio.crs == fine.rio.crs and out.rio.transform() == fine.rio.transform()
    assert out.rio.nodata == enc.nodata == -9999
    assert str(out.time.values)[:10] == "2024-08-10"
    out.rio.to_raster(tmp_path / "out.tif")
    back, like = read_scene(tmp_path / "out.tif"), read_scene(files["fine"])
    assert np.array_equal(back.mask, ref.mask) and back.encoding == like.encoding
    assert back.transform == like.transform and back.crs == like.crs
    assert np.array_equal(back.data, read_scene(files["fine"]).replace(data=stored * np.float32(1e-4)).data)


def test_masked_and_scaled_input_gives_physical_floats(files):
    fine, coarse, target = _open(files, mask_and_scale=True)
    out = predict("starfm", fine, coarse, target)
    ref = predict_scene("starfm", build_task([(files["fine"], files["coarse"])], files["target"]))
    assert out.dtype == np.float32 and out.encoding["_FillValue"] == -9999
    assert np.array_equal(~np.isnan(out.values).any(axis=0), ref.mask)
    # the file has no scale tag: rioxarray's floats are the stored integers, read x 1e-4 as read_scene does
    assert np.array_equal(out.values[:, ref.mask], (ref.data[:, ref.mask].astype(np.float64) / 1e-4).astype(np.float32))


def test_dask_backed_inputs_give_a_lazy_result_equal_to_the_eager_one(files, monkeypatch):
    import dask.array as da

    from stfusion.methods.classical import starfm

    eager = predict("starfm", *_open(files))
    calls = []
    kernel = starfm.predict_block
    monkeypatch.setattr(starfm, "predict_block", lambda *a: calls.append(1) or kernel(*a))
    lazy = predict("starfm", *_open(files, chunks={"y": 16, "x": 32}))
    assert isinstance(lazy.data, da.Array) and not calls
    assert np.array_equal(lazy.values, eager.values) and calls
    assert lazy.rio.crs == eager.rio.crs and lazy.attrs == eager.attrs
