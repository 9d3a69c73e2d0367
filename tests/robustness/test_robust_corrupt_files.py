"""Truncated and corrupt inputs end in a one-line `FileFormatError` (CLI: exit 2), never a traceback or an output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from robust_rasters import (
    assert_one_line_error,
    fields,
    leftovers,
    predict_cli,
    stf_files,
)

from stfusion.core.errors import FileFormatError
from stfusion.io import read_scene
from stfusion.io.window import RasterSource
from stfusion.parallel import predict_files

HEADER = """ENVI
samples = 8
lines = 8
bands = 2
header offset = 0
file type = ENVI Standard
data type = 2
interleave = bsq
byte order = 0
map info = {UTM, 1, 1, 500000, 5000000, 30, 30, 33, North, WGS-84}
"""


def _envi(tmp: Path, header: str = HEADER, raw: bytes | None = None) -> Path:
    data = (np.arange(2 * 8 * 8).reshape(2, 8, 8) * 7 + 100).astype("<i2")
    path = tmp / "E_20200601"
    path.write_bytes(data.tobytes() if raw is None else raw)
    path.with_suffix(".hdr").write_text(header)
    return path


def _read_everywhere(path: Path) -> None:
    """read_scene, and a windowed read of the whole file as the streaming runner does."""
    read_scene(path)
    src = RasterSource(path)
    src.read(slice(0, src.template.height), slice(0, src.template.width))


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.6, 0.95, 0.999])
def test_a_truncated_tiled_geotiff_is_refused_by_every_reader(tmp_path, keep):
    files = stf_files(tmp_path, block=16)
    data = files["coarse2"].read_bytes()
    files["coarse2"].write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FileFormatError, match="truncated or unreadable"):
        _read_everywhere(files["coarse2"])
    for chunk in (None, 16):
        out = tmp_path / f"pred_{chunk}.tif"
        with pytest.raises(FileFormatError, match="C_20200701.tif"):
            predict_files("delta", [(files["fine1"], files["coarse1"])], files["coarse2"], out, ratio=4, chunk=chunk)
        assert not out.exists() and leftovers(out) == []


def test_a_truncated_geotiff_on_the_command_line(tmp_path):
    files = stf_files(tmp_path, block=16)
    data = files["fine1"].read_bytes()
    files["fine1"].write_bytes(data[: len(data) // 2])
    for extra in ((), ("--chunk", "16")):
        out = tmp_path / "pred.tif"
        assert_one_line_error(predict_cli(files, out, *extra), out, "truncated or unreadable")


@pytest.mark.parametrize("content", [b"", b"II*\x00", b"garbage" * 300, b"II*\x00\x08\x00\x00\x00" + b"\xff" * 200])
def test_garbage_in_a_tif_is_a_file_format_error(tmp_path, content):
    path = tmp_path / "bad_20200601.tif"
    path.write_bytes(content)
    with pytest.raises(FileFormatError, match="bad_20200601.tif"):
        _read_everywhere(path)


def test_a_garbage_target_on_the_command_line(tmp_path):
    files = stf_files(tmp_path)
    files["coarse2"].write_bytes(b"\x00not a raster\n" * 40)
    out = tmp_path / "pred.tif"
    assert_one_line_error(predict_cli(files, out), out, "C_20200701.tif")


@pytest.mark.parametrize("broken", [
    ("samples = 8\n", ""),                        # a required line missing
    ("lines = 8\n", "lines = \n"),                # an empty value
    ("data type = 2\n", "data type = 99\n"),      # an unknown data type
    ("header offset = 0\n", "header offset = }0\n"),  # garbage in a number GDAL passes through
    ("bands = 2\n", "bands = two\n"),
])
def test_a_broken_envi_header_is_a_file_format_error(tmp_path, broken):
    path = _envi(tmp_path, HEADER.replace(*broken))
    with pytest.raises(FileFormatError):
        _read_everywhere(path)
    with pytest.raises(FileFormatError):
        read_scene(path.with_suffix(".hdr"))


def test_a_broken_map_info_line_reads_without_georeferencing(tmp_path):
    """GDAL ignores a map info with too few fields: the pixels are still right, the grid is the identity."""
    for cut in ("map info = {UTM, 1\n", "map info = }{\n"):
        path = _envi(tmp_path, HEADER.replace(HEADER.splitlines()[-1] + "\n", cut))
        scene = read_scene(path)
        np.testing.assert_allclose(scene.data[1, 0, 0], (64 * 7 + 100) * 1e-4, rtol=1e-6)
        assert scene.transform == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0) and scene.crs is None


def test_a_raw_envi_file_shorter_than_its_header(tmp_path):
    full = (np.arange(2 * 8 * 8).reshape(2, 8, 8) + 100).astype("<i2").tobytes()
    path = _envi(tmp_path, raw=full[:-10])
    for read in (read_scene, RasterSource):
        with pytest.raises(FileFormatError, match=r"is truncated: 246 bytes but its header describes 256"):
            read(path)


def test_a_short_raw_envi_fine_image_on_the_command_line(tmp_path):
    files = stf_files(tmp_path)
    f1, _ = fields()
    raw = tmp_path / "F_20200601"
    raw.write_bytes(f1.astype("<f4").tobytes()[:-4])
    raw.with_suffix(".hdr").write_text(
        "ENVI\nsamples = 32\nlines = 32\nbands = 3\nheader offset = 0\nfile type = ENVI Standard\n"
        "data type = 4\ninterleave = bsq\nbyte order = 0\n"
        "map info = {UTM, 1, 1, 500000, 5000000, 30, 30, 33, North, WGS-84}\n")
    files["fine1"] = raw
    for extra in ((), ("--chunk", "8")):
        out = tmp_path / "pred.tif"
        assert_one_line_error(predict_cli(files, out, *extra), out, "is truncated")
