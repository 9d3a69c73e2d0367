"""An input replaced while a streamed run reads it: a one-line error, no output, no journal; the rerun
after restoring the file finishes and equals the in-memory result."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
from robust_rasters import (
    assert_one_line_error,
    fields,
    leftovers,
    predict_cli,
    stf_files,
    write_tif,
)

from stfusion.core.errors import FileFormatError
from stfusion.parallel import predict_files
from stfusion.parallel import stream as stream_module


def _replace_after_first_block(monkeypatch, path: Path) -> list[int]:
    """Make the streaming runner rewrite ``path`` (other values, a later mtime) once its first block is done."""
    real, calls = stream_module._compute, []

    def compute(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            _, c1 = fields(seed=5)
            write_tif(path, c1)
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        return result

    monkeypatch.setattr(stream_module, "_compute", compute)
    return calls


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read()


def test_a_target_replaced_between_blocks_stops_the_run_and_a_rerun_finishes(tmp_path, monkeypatch):
    files = stf_files(tmp_path)
    original = files["coarse2"].read_bytes()
    pairs = [(files["fine1"], files["coarse1"])]
    out = tmp_path / "pred.tif"
    calls = _replace_after_first_block(monkeypatch, files["coarse2"])
    with pytest.raises(FileFormatError, match="C_20200701.tif changed while it was being read; rerun"):
        predict_files("delta", pairs, files["coarse2"], out, ratio=4, chunk=8, workers=1)
    assert len(calls) == 1  # stopped at the second block
    assert not out.exists() and leftovers(out) == []
    monkeypatch.undo()

    files["coarse2"].write_bytes(original)
    predict_files("delta", pairs, files["coarse2"], out, ratio=4, chunk=8, workers=1)
    whole = predict_files("delta", pairs, files["coarse2"], tmp_path / "mem.tif", ratio=4)
    np.testing.assert_array_equal(_read(out), _read(whole))
    assert leftovers(out) == []


def test_a_fine_image_replaced_during_a_cli_run(tmp_path, monkeypatch):
    files = stf_files(tmp_path)
    out = tmp_path / "pred.tif"
    _replace_after_first_block(monkeypatch, files["fine1"])
    assert_one_line_error(predict_cli(files, out, "--chunk", "8", "--workers", "1"), out, "changed while it was being read")
