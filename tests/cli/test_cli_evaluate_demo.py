"""`stfusion evaluate` and `stfusion demo`, and bad-value inputs to `predict`."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import rasterio
from click.testing import CliRunner

from stfusion.cli.main import cli
from stfusion.io import read_scene
from stfusion.metrics import evaluate

from cli_rasters import write_tif

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from tiny_demo import TINY  # noqa: E402


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_evaluate_prints_table_and_writes_json_and_apa(scenes, tmp_path):
    js, png = tmp_path / "m.json", tmp_path / "apa.png"
    result = run("evaluate", scenes["truth"], scenes["fine1"], "--h-over-l", 0.25, "--json", js, "--apa", png)
    assert result.exit_code == 0, result.output
    assert "rmse" in result.output.lower() and "ergas" in result.output.lower()
    values = json.loads(js.read_text())
    direct = evaluate(read_scene(scenes["truth"]), read_scene(scenes["fine1"]), ratio=0.25)
    assert np.isclose(values["values"]["rmse"], direct.values["rmse"], rtol=1e-6)
    assert values["values"]["q2n"] is None  # one masked pixel leaves no fully valid 32x32 block
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_ratio_spellings(scenes):
    """--h-over-l and --coarse-ratio give the same ERGAS; the deprecated --ratio reads either
    convention with a one-line warning; missing, doubled or out-of-range values are refused."""
    def ergas(*option):
        result = run("evaluate", scenes["truth"], scenes["fine1"], *option)
        assert result.exit_code == 0, result.output
        line = next(t for t in result.stdout.splitlines() if "ERGAS (h/l" in t)
        return line, result.stderr

    reference, quiet = ergas("--h-over-l", 0.25)
    assert not quiet and ergas("--coarse-ratio", 4)[0] == reference
    for old in (0.25, 4):
        line, warning = ergas("--ratio", old)
        assert line == reference and "--ratio is deprecated" in warning and len(warning.strip().splitlines()) == 1
    for bad in ((), ("--h-over-l", 0.25, "--coarse-ratio", 4), ("--h-over-l", 4), ("--coarse-ratio", 0.25)):
        result = run("evaluate", scenes["truth"], scenes["fine1"], *bad)
        assert result.exit_code == 2 and ("--h-over-l" in result.stderr or "--coarse-ratio" in result.stderr)


def test_evaluate_refuses_existing_json(scenes, tmp_path):
    js = tmp_path / "m.json"
    js.write_text("keep")
    result = run("evaluate", scenes["truth"], scenes["fine1"], "--coarse-ratio", 4, "--json", js)
    assert result.exit_code == 2 and "--overwrite" in result.stderr and js.read_text() == "keep"


def test_evaluate_shape_mismatch_is_one_line(scenes, tmp_path):
    other = write_tif(tmp_path / "small.tif", np.ones((3, 16, 16), np.int16))
    result = run("evaluate", scenes["truth"], other, "--h-over-l", 0.25)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_nan_pixels_of_a_float_file_are_masked_not_filled(scenes, tmp_path):
    """NaN is GDAL's nodata for float rasters: such pixels get no prediction (nodata out)."""
    with rasterio.open(scenes["coarse2"]) as src:
        data = src.read().astype(np.float32) * 1e-4
    data[:, 8:12, 8:12] = np.nan
    write_tif(scenes["coarse2"], data, nodata=None)
    out = tmp_path / "pred.tif"
    result = run("predict", "delta", "--pair", scenes["fine1"], scenes["coarse1"], "--target", scenes["coarse2"],
                 "--out", out)
    assert result.exit_code == 0, result.stderr
    with rasterio.open(out) as dst:
        pred = dst.read()
    assert (pred[:, 8:12, 8:12] == -9999).all() and (pred[:, 12:, 12:] != -9999).all()


def test_complex_raster_is_refused(scenes, tmp_path):
    write_tif(scenes["coarse2"], np.ones((3, 32, 32), np.complex64), nodata=None)
    out = tmp_path / "pred.tif"
    result = run("predict", "delta", "--pair", scenes["fine1"], scenes["coarse1"], "--target", scenes["coarse2"],
                 "--out", out)
    assert result.exit_code == 2 and "not real numbers" in result.stderr and not out.exists()


def test_demo_writes_metrics_quicklooks_and_summary(tmp_path, monkeypatch):
    """The command on the tiny scenes of tests/bench (the full demo is timed in docs/bench.md), without the
    networks' fits, which tests/bench/test_demo.py covers."""
    import stfusion.bench.demo as demo

    monkeypatch.setattr(demo, "DemoSettings", lambda: TINY)
    monkeypatch.setattr(demo, "_torch_missing", lambda: True)
    out = tmp_path / "demo"
    result = run("demo", "--out", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    methods = {(r["task"], r["method"], r["pairs"]) for r in rows}
    assert {("stf", "nochange", "1"), ("stf", "delta", "1"), ("stf", "starfm", "1"), ("stf", "estarfm", "2"),
            ("stsf", "cascade", "")} <= methods
    classical = {(r["method"], r["pairs"]): float(r["rmse"]) for r in rows
                 if r["task"] == "stf" and r["training"] == "-"}
    assert classical[("starfm", "1")] < classical[("nochange", "1")]
    assert max(classical.values()) < 2 * classical[("nochange", "1")], classical  # no method is broken on the scene
    pages = sorted(p.name for p in out.glob("quicklook*.png"))
    assert "quicklook-stsf.png" in pages and all((out / p).read_bytes()[:4] == b"\x89PNG" for p in pages)
    assert f"{out}/quicklook-1.png" in result.stdout and f"{out}/summary.md" in result.stdout
    assert "stfusion: Deep networks and DC-STSF skipped: PyTorch is not installed" in result.stderr
    summary = (out / "summary.md").read_text()
    assert "estarfm" in summary and "stfusion stsf" in summary
    assert len(list((out / "predictions").glob("*.tif"))) == len(rows)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".demo")]
    assert oct((out / "metrics.csv").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_demo_refuses_a_folder_with_files_without_overwrite(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = run("demo", "--out", tmp_path)
    assert result.exit_code == 2 and "--overwrite" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "keep.txt").read_text() == "mine"
