"""`stfusion train` and `stfusion predict --checkpoint/--fit` with tiny rasters and a few steps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from cli_rasters import write_tif
from stfusion.cli.main import cli

pytest.importorskip("torch")
TINY = ("--set", "patch=32", "--set", "batch=2", "--set", "val_every=1")


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two dated fine/coarse pairs (48 x 48, 3 bands, int16 x 1e-4) and a coarse target."""
    rng = np.random.default_rng(0)
    d = tmp_path / "scene"
    d.mkdir()
    base = rng.integers(300, 3000, (3, 48, 48))
    for day, add in (("20200601", 0), ("20200701", 150), ("20200801", 300)):
        fine = (base + add).astype(np.int16)
        coarse = np.repeat(np.repeat(fine.reshape(3, 6, 8, 6, 8).mean((2, 4)), 8, 1), 8, 2).astype(np.int16)
        write_tif(d / f"M_{day}.tif", coarse)
        if day != "20200701":
            write_tif(d / f"L_{day}.tif", fine)
    return d


def test_train_then_predict_with_the_checkpoint(folder: Path, tmp_path: Path):
    ckpt = tmp_path / "net.pt"
    result = run("train", "stfdcnn", "--data", folder, "--fine-pattern", "L_*", "--coarse-pattern", "M_*",
                 "--ratio", 8, "--synthetic-steps", 0, "--steps", 2, *TINY, "--out", ckpt)
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "net.pt.json").read_text())
    assert card["method"] == "stfdcnn" and card["ratio"] == 8
    assert card["scenes"][0]["dates"] == ["2020-06-01", "2020-08-01"] and card["validation"]["steps_run"] == 2
    assert (tmp_path / "net.pt.csv").read_text().startswith("step,")
    out = tmp_path / "pred.tif"
    result = run("predict", "stfdcnn", "--pair", folder / "L_20200601.tif", folder / "M_20200601.tif",
                 "--target", folder / "M_20200701.tif", "--ratio", 8, "--checkpoint", ckpt, "--out", out)
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as src:
        assert src.crs.to_string() == "EPSG:32633" and src.count == 3 and src.dtypes[0] == "int16"
    again = run("train", "stfdcnn", "--data", folder, "--fine-pattern", "L_*", "--coarse-pattern", "M_*",
                "--ratio", 8, "--synthetic-steps", 0, "--out", ckpt)
    assert again.exit_code == 2 and "exists" in again.output


def test_predict_fit_trains_on_the_given_pair(folder: Path, tmp_path: Path):
    out = tmp_path / "fit.tif"
    result = run("predict", "edcstfn", "--pair", folder / "L_20200601.tif", folder / "M_20200601.tif",
                 "--target", folder / "M_20200701.tif", "--ratio", 8, "--fit", "--set", "steps=2",
                 "--set", "pretrain_steps=1", *TINY, "--out", out)
    assert result.exit_code == 0, result.output and out.is_file()


@pytest.mark.parametrize("args, message", [
    (("predict", "starfm", "--fit"), "for the deep methods"),
    (("predict", "stfdcnn"), "needs trained weights"),
    (("predict", "stfdcnn", "--fit", "--checkpoint", "x.pt"), "not both"),
    (("predict", "stfdcnn", "--checkpoint", "missing.pt"), "does not exist"),
])
def test_deep_predict_errors_are_one_line(folder: Path, tmp_path: Path, args, message):
    pair = ("--pair", folder / "L_20200601.tif", folder / "M_20200601.tif", "--target", folder / "M_20200701.tif")
    result = run(*args[:2], *pair, "--ratio", 8, *args[2:], "--out", tmp_path / "p.tif")
    assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "p.tif").exists()


def test_train_errors(folder: Path, tmp_path: Path):
    out = tmp_path / "n.pt"
    result = run("train", "starfm", "--data", folder, "--out", out)
    assert result.exit_code == 2 and "needs no training" in result.output
    result = run("train", "stfdcnn", "--out", out)
    assert result.exit_code == 2 and "--data FOLDER or --dataset" in result.output
    result = run("train", "stfdcnn", "--data", folder, "--fine-pattern", "L_*", "--coarse-pattern", "M_*",
                 "--ratio", 8, "--out", out)  # unnamed bands: no synthetic pretraining
    assert result.exit_code == 2 and "synthetic pretraining needs bands" in result.output
    assert not out.exists()
