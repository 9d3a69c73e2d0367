"""A local (engineering) CRS survives a write/read round trip: the output can be mixed with the input it
came from, while different real CRSs still do not mix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from robust_rasters import fields, write_tif

from stfusion.core.errors import CRSMismatchError
from stfusion.core.task import FusionTask, Pair
from stfusion.io import read_scene, write_scene
from stfusion.io.window import RasterSource
from stfusion.parallel import predict_files

# the header ENVI itself writes for an image without a projection (as in ../shared/data/ifsdaf_ndvi_series)
ARBITRARY = "map info = {Arbitrary, 1.0000, 1.0000, 1.0000, 1.0000, 3.0e+001, 3.0e+001, 1, units=Meters}\n"


def _envi(path: Path, data: np.ndarray) -> Path:
    bands, rows, cols = data.shape
    path.write_bytes(data.astype("<f4").tobytes())
    path.with_suffix(".hdr").write_text(
        f"ENVI\nsamples = {cols}\nlines = {rows}\nbands = {bands}\nheader offset = 0\nfile type = ENVI Standard\n"
        f"data type = 4\ninterleave = bsq\nbyte order = 0\n{ARBITRARY}")
    return path


def test_an_envi_arbitrary_crs_round_trips_through_write_scene(tmp_path):
    fine, coarse = fields()
    original = read_scene(_envi(tmp_path / "F_20200601", fine))
    assert original.crs.startswith("LOCAL_CS[") and original.resolution == 30.0
    back = read_scene(write_scene(original, tmp_path / "rt_20200601.tif"))
    assert back.crs == original.crs and back.transform == original.transform
    coarse_rt = read_scene(write_scene(original.replace(data=coarse, name="c"), tmp_path / "C_20200601.tif"))
    target = read_scene(write_scene(original.replace(data=coarse + 0.02, name="t", date=None),
                                    tmp_path / "C_20200701.tif"))
    task = FusionTask([Pair(original, coarse_rt)], target, ratio=4)  # ENVI original with GeoTIFF round trips
    assert task.coarse_on_fine_grid
    assert RasterSource(tmp_path / "rt_20200601.tif").template.crs == original.crs


def test_an_output_of_a_local_crs_input_can_be_an_input_again(tmp_path):
    fine, coarse = fields()
    f1 = _envi(tmp_path / "F_20200601", fine)
    c1 = _envi(tmp_path / "C_20200601", coarse)
    c2 = _envi(tmp_path / "C_20200701", coarse + 0.02)
    pred = predict_files("delta", [(f1, c1)], c2, tmp_path / "F_20200701.tif", ratio=4)
    c3 = _envi(tmp_path / "C_20200801", coarse + 0.05)
    for chunk in (None, 8):  # the GeoTIFF output as the fine image of a pair with ENVI coarse images
        out = predict_files("delta", [(pred, c2)], c3, tmp_path / f"next_{chunk}.tif", ratio=4, chunk=chunk)
        np.testing.assert_allclose(read_scene(out).data, fine + 0.05, atol=2e-6)


def test_a_geotiff_local_cs_round_trips(tmp_path):
    import rasterio

    fine, _ = fields()
    crs = rasterio.crs.CRS.from_wkt('LOCAL_CS["site grid",UNIT["Meter",1]]')
    a = read_scene(write_tif(tmp_path / "a.tif", fine, crs=crs))
    b = read_scene(write_scene(a, tmp_path / "b.tif"))
    assert a.crs == b.crs
    FusionTask([Pair(a, b)], b)


def test_different_crss_still_differ(tmp_path):
    import rasterio

    fine, _ = fields()
    utm50 = read_scene(write_tif(tmp_path / "a.tif", fine, crs="EPSG:32650"))
    utm51 = read_scene(write_tif(tmp_path / "b.tif", fine, crs="EPSG:32651"))
    with pytest.raises(CRSMismatchError, match=r"EPSG:32650 vs EPSG:32651"):
        FusionTask([Pair(utm50, utm51)], utm51)
    metre = read_scene(write_tif(tmp_path / "m.tif", fine, crs=rasterio.crs.CRS.from_wkt('LOCAL_CS["g",UNIT["metre",1]]')))
    foot = read_scene(write_tif(tmp_path / "f.tif", fine,
                                crs=rasterio.crs.CRS.from_wkt('LOCAL_CS["g",UNIT["US survey foot",0.3048006096]]')))
    with pytest.raises(CRSMismatchError, match="CRS differs"):
        FusionTask([Pair(metre, foot)], foot)
