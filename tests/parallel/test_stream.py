"""The streaming runner: block-by-block output equals the in-memory run bit for bit, for every
blockwise method; a killed run resumes and finishes only the missing blocks; bad input leaves
neither an output nor a journal."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from stfusion.core import Scene
from stfusion.core.errors import InvalidValueError, NoDataError
from stfusion.core.registry import list_methods
from stfusion.core.scene import RasterEncoding
from stfusion.io import write_scene
from stfusion.parallel import predict_files
from stfusion.parallel import stream as stream_module
from stfusion.parallel.stream import stream_predict

INT16 = RasterEncoding("int16", 1e-4, 0.0, -9999.0)
GRID = dict(transform=(30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0), crs="EPSG:32633")
BLOCKWISE = [s.name for s in list_methods("stf") if s.blockwise and not s.needs_training]


def _scenes(size: int, bands: int = 3, ratio: int = 8, seed: int = 0) -> dict[str, Scene]:
    """Patchy fields and their block means at two dates (a class-wise change), int16 x 10000."""
    rng = np.random.default_rng(seed)
    fields = np.kron(rng.random((bands, size // 16 + 1, size // 16 + 1)), np.ones((16, 16)))[:, :size, :size]
    change = np.kron(rng.normal(0, 0.03, (bands, size // 32 + 1, size // 32 + 1)), np.ones((32, 32)))[:, :size, :size]
    fine1 = 0.05 + 0.3 * fields + 0.005 * rng.standard_normal((bands, size, size))
    fine2 = fine1 + change

    def coarse(x: np.ndarray) -> np.ndarray:
        m = x.reshape(bands, size // ratio, ratio, size // ratio, ratio).mean(axis=(2, 4))
        return np.kron(m, np.ones((ratio, ratio)))

    mask = np.ones((size, size), bool)
    mask[5:9, 40:70] = False  # a nodata strip in the fine image

    def scene(x: np.ndarray, day: int, m: np.ndarray | None = None) -> Scene:
        return Scene(x.astype(np.float32), mask=m, date=dt.date(2020, 6, day), encoding=INT16, **GRID)

    return {"fine1": scene(fine1, 1, mask), "coarse1": scene(coarse(fine1), 1), "coarse2": scene(coarse(fine2), 20),
            "fine0": scene(fine1 - change, 2), "coarse0": scene(coarse(fine1 - change), 2)}


def _files(tmp: Path, size: int, **kw) -> dict[str, Path]:
    paths = {}
    for key, scene in _scenes(size, **kw).items():
        paths[key] = write_scene(scene, tmp / f"{key}_202006{scene.date.day:02d}.tif")
    return paths


def _args(files: dict[str, Path], method: str) -> tuple[list[tuple[Path, Path]], Path]:
    from stfusion.core.registry import get_spec

    pairs = [(files["fine1"], files["coarse1"])]
    if get_spec(method).min_pairs == 2:
        pairs.append((files["fine0"], files["coarse0"]))
    return pairs, files["coarse2"]


def _read(path: Path) -> tuple[np.ndarray, dict]:
    with rasterio.open(path) as src:
        return src.read(), dict(src.profile)


SMALL = {"spstfm": {"dict_size": "16", "training_samples": "200", "min_train_iter": "2", "max_train_iter": "3"}}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return _files(tmp_path_factory.mktemp("scene"), 128)


@pytest.mark.parametrize("method", BLOCKWISE)
def test_streamed_output_equals_the_in_memory_output(method, files, tmp_path):
    pairs, target = _args(files, method)
    params = SMALL.get(method, {})
    whole = _read(predict_files(method, pairs, target, tmp_path / "mem.tif", params=params, ratio=8))
    for block in (37, 64):
        streamed = _read(stream_predict(method, pairs, target, tmp_path / f"st{block}.tif", params=params,
                                        ratio=8, block=block, workers=2))
        assert whole[1] == streamed[1]
        np.testing.assert_array_equal(whole[0], streamed[0])
    assert not list(tmp_path.glob(".*"))  # no journal, no temporary file


def test_cog_and_a_coarse_file_on_its_own_grid(tmp_path):
    files = _files(tmp_path, 96)
    for key in ("coarse1", "coarse2"):
        with rasterio.open(files[key]) as src:
            data, profile = src.read()[:, ::8, ::8], dict(src.profile)
        profile.update(width=12, height=12, transform=rasterio.Affine(240.0, 0, 500000.0, 0, -240.0, 4000000.0),
                       blockxsize=16, blockysize=16)
        with rasterio.open(files[key], "w", **profile) as dst:
            dst.write(data)
    pairs = [(files["fine1"], files["coarse1"])]
    whole = _read(predict_files("starfm", pairs, files["coarse2"], tmp_path / "mem.tif", driver="COG"))
    streamed = _read(stream_predict("starfm", pairs, files["coarse2"], tmp_path / "st.tif", block=40, driver="COG"))
    assert streamed[1]["driver"] == "GTiff" and streamed[1]["dtype"] == "int16" and streamed[1]["nodata"] == -9999
    np.testing.assert_array_equal(whole[0], streamed[0])
    with rasterio.open(tmp_path / "st.tif") as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def _command(files: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from stfusion.cli.main import main; main()", "predict", "starfm",
            "--pair", str(files["fine1"]), str(files["coarse1"]), "--target", str(files["coarse2"]),
            "--out", str(out), "--chunk", "32", "--workers", "1", *extra]


CRASH_AFTER = 8
_CRASHING_RUN = """
import os, sys
from stfusion.cli.main import main
from stfusion.parallel.journal import RunJournal

save = RunJournal.save

def save_then_crash(self, *args, **kwargs):
    save(self, *args, **kwargs)
    if len(self.dir.joinpath("done.txt").read_text().splitlines()) >= {after}:
        os._exit(137)  # like SIGKILL: no cleanup, no exception handlers

RunJournal.save = save_then_crash
main()
"""


def test_a_killed_run_resumes_and_computes_only_the_missing_blocks(tmp_path, monkeypatch):
    """A run that dies (deterministically, right after its 8th block is journaled) leaves no
    output; the same command then computes only the missing blocks."""
    files = _files(tmp_path, 256)
    out = tmp_path / "pred.tif"
    journal = tmp_path / ".pred.tif.run" / "done.txt"
    command = _command(files, out)
    command[2] = _CRASHING_RUN.format(after=CRASH_AFTER)
    run = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert run.returncode == 137, run.stderr[-2000:]
    assert not out.exists()
    finished = len(journal.read_text().splitlines())
    assert finished == CRASH_AFTER

    computed = []
    original = stream_module._compute

    def counting(*args, **kwargs):
        computed.append(args[3].key)
        return original(*args, **kwargs)

    monkeypatch.setattr(stream_module, "_compute", counting)
    pairs = [(files["fine1"], files["coarse1"])]
    stream_predict("starfm", pairs, files["coarse2"], out, block=32, workers=1)
    assert len(computed) == 64 - finished
    assert not journal.parent.exists()
    uninterrupted = stream_predict("starfm", pairs, files["coarse2"], tmp_path / "once.tif",
                                   block=32, workers=2)
    assert _read(out)[1] == _read(uninterrupted)[1]
    np.testing.assert_array_equal(_read(out)[0], _read(uninterrupted)[0])


def test_a_journal_of_another_computation_is_discarded(files, tmp_path, monkeypatch):
    pairs, target = _args(files, "delta")
    out = tmp_path / "pred.tif"

    def fail(*args, **kwargs):
        raise OSError("simulated crash")

    real = stream_module._compute
    calls = []

    def crash_after_two(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            fail()
        return real(*args, **kwargs)

    monkeypatch.setattr(stream_module, "_compute", crash_after_two)
    with pytest.raises(OSError):
        stream_predict("delta", pairs, target, out, block=32, workers=1)
    assert (tmp_path / ".pred.tif.run" / "done.txt").read_text().count("\n") == 2  # progress kept
    monkeypatch.setattr(stream_module, "_compute", real)
    counted = []
    monkeypatch.setattr(stream_module, "_compute", lambda *a, **k: counted.append(1) or real(*a, **k))
    stream_predict("delta", pairs, target, out, params={"power": "2"}, block=32, workers=1)
    assert len(counted) == 16  # other parameters: every block again


def test_bad_pixels_in_a_block_leave_no_output_and_no_journal(tmp_path):
    scenes = _scenes(64)
    c2 = write_scene(scenes["coarse2"].replace(encoding=RasterEncoding("float32")), tmp_path / "c2.tif")
    data = np.array(scenes["coarse2"].data)
    data[:, 50, 50] = np.inf
    with rasterio.open(c2, "r+") as dst:
        dst.write(data)
    f1 = write_scene(scenes["fine1"], tmp_path / "f1.tif")
    c1 = write_scene(scenes["coarse1"], tmp_path / "c1.tif")
    with pytest.raises(InvalidValueError, match="NaN or inf"):
        stream_predict("delta", [(f1, c1)], c2, tmp_path / "out.tif", block=16, workers=2)
    assert not (tmp_path / "out.tif").exists() and not list(tmp_path.glob(".*"))


def test_no_predicted_pixel_is_an_input_error(tmp_path):
    scenes = _scenes(64)
    f1 = write_scene(scenes["fine1"].replace(mask=np.eye(64, dtype=bool)), tmp_path / "f1.tif")
    c1 = write_scene(scenes["coarse1"], tmp_path / "c1.tif")
    c2 = write_scene(scenes["coarse2"].replace(mask=~np.eye(64, dtype=bool)), tmp_path / "c2.tif")
    with pytest.raises(NoDataError, match="predicted no pixel"):
        stream_predict("delta", [(f1, c1)], c2, tmp_path / "out.tif", block=16)
    assert not list(tmp_path.glob(".*")) and not (tmp_path / "out.tif").exists()


def test_progress_bar_counts_blocks(files, tmp_path, capsys):
    pairs, target = _args(files, "delta")
    stream_predict("delta", pairs, target, tmp_path / "p.tif", block=32, progress=True)
    assert "16/16" in capsys.readouterr().err


def test_cli_chunk_streams_and_refuses_an_existing_output(files, tmp_path):
    out = tmp_path / "pred.tif"
    done = subprocess.run(_command(files, out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = subprocess.run(_command(files, out), capture_output=True, text=True)
    assert again.returncode == 2 and again.stderr.strip().count("\n") == 0 and "--overwrite" in again.stderr


def test_a_full_disk_keeps_the_progress_and_the_same_command_resumes(files, tmp_path, monkeypatch):
    import errno

    from stfusion.core.errors import RunInterruptedError
    from stfusion.io import blockwrite
    from stfusion.parallel.journal import RunJournal

    pairs, target = _args(files, "delta")
    out = tmp_path / "pred.tif"
    real_save, saved = RunJournal.save, []

    def save_three(self, *args):
        if len(saved) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        saved.append(1)
        real_save(self, *args)

    monkeypatch.setattr(RunJournal, "save", save_three)
    with pytest.raises(RunInterruptedError, match="No space left on device.*run the same command again"):
        stream_predict("delta", pairs, target, out, block=32, workers=1)
    assert not out.exists()
    assert len((tmp_path / ".pred.tif.run" / "done.txt").read_text().splitlines()) == 3
    monkeypatch.setattr(RunJournal, "save", real_save)

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(blockwrite.BlockWriter, "commit", full)
    with pytest.raises(RunInterruptedError, match="every block is computed"):
        stream_predict("delta", pairs, target, out, block=32, workers=1)
    assert not out.exists() and not list(tmp_path.glob(".pred.tif.*.tmp*"))
    monkeypatch.undo()
    counted = []
    real = stream_module._compute
    monkeypatch.setattr(stream_module, "_compute", lambda *a, **k: counted.append(1) or real(*a, **k))
    stream_predict("delta", pairs, target, out, block=32, workers=1)
    assert counted == [] and out.exists() and not (tmp_path / ".pred.tif.run").exists()
