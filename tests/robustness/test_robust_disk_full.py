"""A write that runs out of space (a file-size limit, or ENOSPC) raises a one-line `FileFormatError` and
leaves nothing at the output path: write_scene and the in-memory predict path (the streamed path is
covered in tests/parallel/test_stream.py)."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import rasterio
from robust_rasters import assert_one_line_error, leftovers, predict_cli, stf_files

from stfusion.core import Scene
from stfusion.core.errors import FileFormatError
from stfusion.io import write as write_module
from stfusion.io import write_scene
from stfusion.io.write import check_complete

LIMITED = textwrap.dedent("""
    import resource, signal, sys
    import numpy as np
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
    from stfusion.core import Scene
    from stfusion.core.errors import FileFormatError
    from stfusion.io import write_scene
    scene = Scene(np.random.default_rng(0).random((3, 600, 600), dtype=np.float32),
                  transform=(30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0), crs="EPSG:32633")
    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        write_scene(scene, sys.argv[1], driver=sys.argv[2])
    except FileFormatError as exc:
        print("FileFormatError:", exc)
    else:
        print("written")
""")


@pytest.mark.parametrize("driver", ["GTiff", "COG"])
@pytest.mark.parametrize("limit", [20_000, 1_500_000, 2_500_000, 3_700_000])
def test_write_scene_under_a_file_size_limit_leaves_nothing(tmp_path, driver, limit):
    """The file is ~3.8 MB: GDAL stops at the limit without raising; the check catches every cut."""
    out = tmp_path / "out.tif"
    done = subprocess.run([sys.executable, "-c", LIMITED, str(out), driver, str(limit)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("FileFormatError: cannot write"), done.stdout
    assert "free space" in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_write_scene_without_a_limit_succeeds_in_the_same_subprocess(tmp_path):
    out = tmp_path / "out.tif"
    done = subprocess.run([sys.executable, "-c", LIMITED, str(out), "GTiff", str(10**9)], capture_output=True, text=True)
    assert done.stdout.strip() == "written", done.stderr
    check_complete(out)
    with rasterio.open(out) as src:
        assert src.shape == (600, 600)


def test_a_cut_file_fails_the_completeness_check(tmp_path):
    scene = Scene(np.random.default_rng(1).random((2, 300, 300), dtype=np.float32))
    path = write_scene(scene, tmp_path / "a.tif")
    check_complete(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5000])
    with pytest.raises((OSError, rasterio.errors.RasterioError)):
        check_complete(path)


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_enospc_in_write_scene(tmp_path, monkeypatch):
    monkeypatch.setattr(write_module, "_write_bands", _enospc)
    out = tmp_path / "p.tif"
    with pytest.raises(FileFormatError, match=r"cannot write .*p.tif \(\[Errno 28\] No space left on device\)"):
        write_scene(Scene(np.full((1, 8, 8), 0.1, np.float32)), out)
    assert list(tmp_path.iterdir()) == []


def test_enospc_in_an_in_memory_cli_run(tmp_path, monkeypatch):
    files = stf_files(tmp_path)
    out = tmp_path / "pred.tif"
    monkeypatch.setattr(write_module, "_write_bands", _enospc)
    assert_one_line_error(predict_cli(files, out), out, "No space left on device")
    monkeypatch.undo()
    monkeypatch.setattr(write_module, "_to_cog", _enospc)
    assert_one_line_error(predict_cli(files, out, "--cog"), out, "No space left on device")
    assert leftovers(out) == []
