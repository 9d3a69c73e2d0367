"""`stfusion stsf` and `stfusion train dcstsf` end to end on a tiny simulated task written as GeoTIFFs."""

from __future__ import annotations

import importlib.util

import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from stfusion.cli.main import cli
from stfusion.io import read_scene, write_scene

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "methods"))
from stsf_fixtures import tiny_cube  # noqa: E402

from stfusion.data.stsf_sim import simulate_stsf  # noqa: E402

TINY = ["--set", "steps=6", "--set", "batch=2", "--set", "patch=16", "--set", "width=8", "--set", "blocks=1",
        "--set", "stages=1", "--set", "val_every=3"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("stsf")
    cube = tiny_cube().replace(transform=(10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0), crs="EPSG:32633")
    sim = simulate_stsf(cube, ratio=3)
    paths = {}
    for key, scene in (("hs", sim.task.hs), ("ms", sim.task.ms), ("ms2", sim.task.ms_target), ("t2", sim.t2)):
        paths[key] = write_scene(scene, d / f"{key}.tif")
    return d, paths


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("method", ["bicubic", "gsa", "cnmf", "cascade"])
def test_baselines_write_the_fine_hs_image(files, method):
    d, p = files
    out = d / f"{method}.tif"
    r = _run("stsf", method, "--hs", p["hs"], "--ms", p["ms"], "--ms-target", p["ms2"], "--out", out)
    assert r.exit_code == 0, r.output
    got, truth = read_scene(out), read_scene(p["t2"])
    assert got.shape == truth.shape and got.crs == truth.crs and got.transform == truth.transform
    assert got.bands == truth.bands  # wavelength band descriptions are kept
    assert np.sqrt(np.mean((got.data - truth.data) ** 2)) < 0.05


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="DC-STSF needs torch (pip install -e '.[torch]')")
def test_dcstsf_fit_train_and_checkpoint(files):
    d, p = files
    out = d / "fit.tif"
    r = _run("stsf", "dcstsf", "--fit", "--hs", p["hs"], "--ms", p["ms"], "--ms-target", p["ms2"], "--out", out, *TINY)
    assert r.exit_code == 0, r.output
    assert read_scene(out).shape == read_scene(p["t2"]).shape
    verdict = [line for line in r.output.splitlines() if line.startswith("stfusion: ") and "dcstsf" in line]
    assert len(verdict) == 1 and "cascade RMSE" in verdict[0] and "returning" in verdict[0], r.output
    t1 = d / "fit_t1.tif"
    r = _run("stsf", "dcstsf", "--fit", "--hs", p["hs"], "--ms", p["ms"], "--out", t1, "--ratio", 3, *TINY)
    assert r.exit_code == 0, r.output
    ckpt = d / "dc.pt"
    r = _run("train", "dcstsf", "--hs", p["hs"], "--ms", p["ms"], "--out", ckpt, *TINY)
    assert r.exit_code == 0 and ckpt.is_file() and (d / "dc.pt.csv").is_file(), r.output
    pred = d / "ckpt.tif"
    r = _run("stsf", "dcstsf", "--checkpoint", ckpt, "--hs", p["hs"], "--ms", p["ms"], "--ms-target", p["ms2"],
             "--out", pred)
    assert r.exit_code == 0, r.output


def test_usage_errors(files):
    d, p = files
    r = CliRunner().invoke(cli, ["stsf", "nosuch", "--hs", str(p["hs"]), "--ms", str(p["ms"]), "--out", str(d / "x.tif")])
    assert r.exit_code == 2 and "unknown method" in r.output
    r = CliRunner().invoke(cli, ["stsf", "gsa", "--fit", "--hs", str(p["hs"]), "--ms", str(p["ms"]), "--out", str(d / "x.tif")])
    assert r.exit_code == 2 and "needs no training" in r.output
    r = CliRunner().invoke(cli, ["stsf", "gsa", "--hs", str(p["ms"]), "--ms", str(p["hs"]), "--out", str(d / "x.tif")])
    assert r.exit_code == 2 and "swap --hs and --ms" in r.output
    r = CliRunner().invoke(cli, ["train", "dcstsf", "--data", str(d), "--out", str(d / "x.pt")])
    assert r.exit_code == 2 and "--hs HS_T1 --ms MS_T1" in r.output
    assert not (d / "x.tif").exists() and not (d / "x.pt").exists()


def test_npy_and_mat_cubes_as_hs_input(files):
    import scipy.io

    d, p = files
    hs = read_scene(p["hs"])
    np.save(d / "hs.npy", np.moveaxis(np.asarray(hs.data), 0, -1))  # (rows, cols, bands)
    scipy.io.savemat(d / "hs.mat", {"cube": np.moveaxis(np.asarray(hs.data), 0, -1).astype(np.float64)})
    ref = d / "from_tif.tif"
    assert _run("stsf", "gsa", "--hs", p["hs"], "--ms", p["ms"], "--out", ref).exit_code == 0
    for name in ("hs.npy", "hs.mat"):
        out = d / f"from_{name}.tif"
        r = _run("stsf", "gsa", "--hs", d / name, "--ms", p["ms"], "--out", out)
        assert r.exit_code == 0, r.output
        assert np.allclose(read_scene(out).data, read_scene(ref).data, atol=1e-4)


def test_an_ms_band_the_hs_cube_cannot_explain_is_reported_in_one_line(files):
    d, p = files
    ms = read_scene(p["ms"])
    data = ms.data.copy()
    data[3] = np.random.default_rng(0).random(data[3].shape).astype(np.float32)
    noisy = write_scene(ms.replace(data=data), d / "ms_noisy.tif")
    r = _run("stsf", "gsa", "--hs", p["hs"], "--ms", noisy, "--out", d / "noisy.tif")
    assert r.exit_code == 0, r.output
    lines = [line for line in r.output.splitlines() if "warning" in line]
    assert len(lines) == 1 and lines[0].startswith("stfusion: warning: MS band nir is poorly explained"), r.output


def test_chunk_streams_the_same_output_and_refuses_what_cannot_stream(files):
    d, p = files
    for method in ("gsa", "cascade"):
        ref, out = d / f"{method}_mem.tif", d / f"{method}_chunk.tif"
        args = ("--hs", p["hs"], "--ms", p["ms"], "--ms-target", p["ms2"], "--srf", "sentinel2")
        assert _run("stsf", method, *args, "--out", ref).exit_code == 0
        r = _run("stsf", method, *args, "--out", out, "--chunk", 12, "--workers", 2)
        assert r.exit_code == 0, r.output
        got, want = read_scene(out), read_scene(ref)
        assert got.bands == want.bands and got.transform == want.transform and got.crs == want.crs
        np.testing.assert_array_equal(got.data, want.data)
    np.save(d / "hs_chunk.npy", np.moveaxis(np.asarray(read_scene(p["hs"]).data), 0, -1))
    r = CliRunner().invoke(cli, ["stsf", "cnmf", "--hs", str(d / "hs_chunk.npy"), "--ms", str(p["ms"]), "--out",
                                 str(d / "c.tif"), "--chunk", "12"])
    assert r.exit_code != 0 and "cube, which cannot be read in windows; convert it to GeoTIFF" in r.output
    r = CliRunner().invoke(cli, ["stsf", "gsa", "--hs", str(p["hs"]), "--ms", str(p["ms"]), "--out",
                                 str(d / "w.tif"), "--workers", "2"])
    assert r.exit_code != 0 and "--workers is for streamed runs; add --chunk N" in r.output
    assert not (d / "c.tif").exists() and not (d / "w.tif").exists()
