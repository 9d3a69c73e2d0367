"""Tiled Dask runs (`predict --chunk/--scheduler`, `predict_tiled`) give the in-memory output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from stfusion.cli.main import cli
from stfusion.core import predict
from stfusion.data import SyntheticConfig, make_series
from stfusion.parallel import predict_tiled


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def case():
    series = make_series(SyntheticConfig(size=(64, 80), ratio=8, seed=5))
    return series.task([1], 3)[0], series.classes


def _write(path: Path, scene) -> Path:
    from stfusion.io import write_scene

    return write_scene(scene, path)


@pytest.fixture
def files(case, tmp_path):
    task, classes = case
    paths = {
        "fine": _write(tmp_path / "fine.tif", task.pairs[0].fine),
        "coarse": _write(tmp_path / "coarse.tif", task.pairs[0].coarse),
        "target": _write(tmp_path / "target.tif", task.target),
    }
    with rasterio.open(paths["fine"]) as src:
        profile = src.profile | {"count": 1, "dtype": "uint8", "nodata": None}
    with rasterio.open(tmp_path / "classes.tif", "w", **profile) as dst:
        dst.write(classes[None].astype(np.uint8))
    paths["classes"] = tmp_path / "classes.tif"
    return paths


def _predict(files, out: Path, *extra: object):
    return run("predict", "starfm", "--pair", files["fine"], files["coarse"], "--target", files["target"],
               "--out", out, "--ratio", 8, *extra)


def test_cli_chunked_run_equals_in_memory_run(files, tmp_path):
    whole, tiled = tmp_path / "whole.tif", tmp_path / "tiled.tif"
    assert _predict(files, whole).exit_code == 0
    result = _predict(files, tiled, "--chunk", 24, "--scheduler", "threads")
    assert result.exit_code == 0, result.stderr
    with rasterio.open(whole) as a, rasterio.open(tiled) as b:
        np.testing.assert_array_equal(a.read(), b.read())


def test_cli_class_map_is_used_and_tiles_the_same(files, tmp_path):
    plain, with_classes, tiled = tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "c.tif"
    assert _predict(files, plain).exit_code == 0
    assert _predict(files, with_classes, "--classes", files["classes"]).exit_code == 0
    assert _predict(files, tiled, "--classes", files["classes"], "--chunk", 20).exit_code == 0
    with rasterio.open(plain) as a, rasterio.open(with_classes) as b, rasterio.open(tiled) as c:
        assert not np.array_equal(a.read(), b.read())
        np.testing.assert_array_equal(b.read(), c.read())


def test_class_map_errors_are_one_line(files, tmp_path):
    out = tmp_path / "x.tif"
    result = run("predict", "delta", "--pair", files["fine"], files["coarse"], "--target", files["target"],
                 "--out", out, "--ratio", 8, "--classes", files["classes"])
    assert result.exit_code == 2 and "takes no class map" in result.stderr and not out.exists()
    assert "drop --classes MAP" in result.stderr  # the library's classes=MAP, as the CLI's flag
    with rasterio.open(files["fine"]) as src:
        profile = src.profile | {"count": 1, "dtype": "uint8", "nodata": None, "width": 10}
    small = tmp_path / "small.tif"
    with rasterio.open(small, "w", **profile) as dst:
        dst.write(np.zeros((1, profile["height"], 10), np.uint8))
    result = _predict(files, out, "--classes", small)
    assert result.exit_code == 2 and "fine grid" in result.stderr and not out.exists()


def test_unknown_or_unreachable_scheduler_is_one_line(files, tmp_path, monkeypatch):
    import stfusion.parallel.overlap as overlap

    monkeypatch.setattr(overlap, "CONNECT_TIMEOUT", "1s")
    out = tmp_path / "x.tif"
    result = _predict(files, out, "--scheduler", "gpu")
    assert result.exit_code == 2 and "unknown scheduler" in result.stderr and not out.exists()
    result = _predict(files, out, "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2 and "cannot reach" in result.stderr and not out.exists()


def test_local_cluster_with_two_workers_is_bit_identical(case):
    distributed = pytest.importorskip("distributed")
    task, _ = case
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                                  processes=True) as cluster:
        tiled = predict_tiled("starfm", task, chunk=24, scheduler=cluster.scheduler_address)
    whole = predict("starfm", task)
    assert np.array_equal(whole.mask, tiled.mask)
    assert np.array_equal(whole.data[:, whole.mask], tiled.data[:, tiled.mask])
