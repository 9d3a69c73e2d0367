"""NaN, inf and all-nodata inputs, a CRS mismatch: the same outcome in memory and streamed (--chunk).

Policy (read_scene, RasterSource): NaN is nodata whatever the file's nodata value; an infinite
value at a valid pixel is refused with `InvalidValueError`; a target without a valid pixel is a
`NoDataError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from robust_rasters import (
    CHANGE,
    assert_one_line_error,
    fields,
    leftovers,
    predict_cli,
    stf_files,
    write_tif,
)

from stfusion.core import Scene
from stfusion.core.errors import CRSMismatchError, InvalidValueError, NoDataError
from stfusion.io import read_scene
from stfusion.parallel import predict_files

HOLE = (slice(None), slice(3, 7), slice(5, 13))


def _run(files: dict[str, Path], out: Path, method: str, chunk: int | None) -> Scene:
    predict_files(method, [(files["fine1"], files["coarse1"])], files["coarse2"], out, ratio=4, chunk=chunk)
    return read_scene(out)


@pytest.mark.parametrize("nodata", [None, float("nan"), -9999.0])
@pytest.mark.parametrize("method", ["delta", "starfm"])
def test_nan_pixels_in_the_fine_image_come_out_masked(tmp_path, nodata, method):
    fine, _ = fields()
    with_nan = fine.copy()
    with_nan[HOLE] = np.nan
    with_nan[0, 20, 20] = np.nan  # one band only: the pixel is invalid
    filled = fine.copy()
    filled[HOLE] = -9999.0
    filled[0, 20, 20] = -9999.0
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    nan_files = stf_files(tmp_path / "a", fine=with_nan, nodata=nodata)
    ref_files = stf_files(tmp_path / "b", fine=filled, nodata=-9999.0)  # the same pixels masked by a nodata value
    ref = _run(ref_files, tmp_path / "ref.tif", method, None)
    assert (~ref.mask).sum() == 4 * 8 + 1
    for chunk in (None, 8):
        got = _run(nan_files, tmp_path / f"out_{chunk}.tif", method, chunk)
        np.testing.assert_array_equal(got.mask, ref.mask)
        np.testing.assert_array_equal(got.masked(), ref.masked())
    if method == "delta":
        np.testing.assert_allclose(ref.masked(0)[:, ref.mask], (fine + CHANGE)[:, ref.mask], atol=1e-6)


def test_a_nan_block_in_the_target_is_masked_the_same_way_streamed(tmp_path):
    files = stf_files(tmp_path)
    _, c1 = fields()
    target = c1 + np.float32(CHANGE)
    target[:, 8:16, 8:16] = np.nan
    write_tif(files["coarse2"], target)
    whole = _run(files, tmp_path / "mem.tif", "starfm", None)
    streamed = _run(files, tmp_path / "st.tif", "starfm", 8)
    assert not whole.mask[8:16, 8:16].any() and whole.mask.sum() == 32 * 32 - 64
    np.testing.assert_array_equal(whole.mask, streamed.mask)
    np.testing.assert_array_equal(whole.masked(), streamed.masked())


@pytest.mark.parametrize("method", ["delta", "starfm", "fsdaf", "ubdf"])
@pytest.mark.parametrize("where", ["fine1", "coarse2"])
def test_inf_at_a_valid_pixel_is_refused_in_memory_and_streamed(tmp_path, method, where):
    files = stf_files(tmp_path)
    fine, c1 = fields()
    data = (fine if where == "fine1" else c1 + np.float32(CHANGE)).copy()
    data[:, 8:16, 8:16] = np.inf
    data[1, 0, 0] = -np.inf
    write_tif(files[where], data, nodata=float("nan"))
    for chunk in (None, 8):
        out = tmp_path / f"out_{chunk}.tif"
        with pytest.raises(InvalidValueError, match=rf"'{files[where].name}' has \d+ valid pixel\(s\) with NaN or inf"):
            _run(files, out, method, chunk)
        assert not out.exists() and leftovers(out) == []
        assert_one_line_error(predict_cli(files, out, *(() if chunk is None else ("--chunk", str(chunk))),
                                          method=method), out, "NaN or inf")


def test_a_scene_built_in_memory_with_nan_at_valid_pixels_is_refused_and_masked_nan_is_fine():
    data = np.full((2, 4, 4), 0.2, np.float32)
    data[0, 1, 1] = np.nan
    with pytest.raises(InvalidValueError, match="1 valid pixel"):
        Scene(data)
    mask = np.ones((4, 4), bool)
    mask[1, 1] = False
    assert Scene(data, mask=mask).mask.sum() == 15


@pytest.mark.parametrize("fill", ["nodata", "nan"])
@pytest.mark.parametrize("method", ["delta", "starfm", "fsdaf"])
def test_an_all_cloud_target_is_a_no_data_error_in_memory_and_streamed(tmp_path, fill, method):
    files = stf_files(tmp_path)
    if fill == "nodata":
        write_tif(files["coarse2"], np.full((3, 32, 32), -9999.0, np.float32), nodata=-9999.0)
    else:
        write_tif(files["coarse2"], np.full((3, 32, 32), np.nan, np.float32))
    message = "scene 'C_20200701.tif' has no valid pixel (all nodata or masked)"
    for chunk in (None, 8):
        out = tmp_path / "pred.tif"
        with pytest.raises(NoDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
            _run(files, out, method, chunk)
        assert not out.exists() and leftovers(out) == []
        extra = () if chunk is None else ("--chunk", str(chunk))
        assert_one_line_error(predict_cli(files, out, *extra, method=method), out, message)


def test_a_crs_mismatch_names_both_crss(tmp_path):
    files = stf_files(tmp_path)
    _, c1 = fields()
    write_tif(files["coarse2"], c1, crs="EPSG:32650")
    for chunk in (None, 8):
        out = tmp_path / "pred.tif"
        with pytest.raises(CRSMismatchError, match=r"CRS differs \(EPSG:32633 vs EPSG:32650\); reproject"):
            _run(files, out, "delta", chunk)
        extra = () if chunk is None else ("--chunk", str(chunk))
        line = assert_one_line_error(predict_cli(files, out, *extra), out, "CRS differs")
        assert "EPSG:32633" in line and "EPSG:32650" in line
