"""A flat folder of Landsat and MODIS files (product IDs, sensor codes in the names) wherever the CLI
takes a folder: `stfusion bench --datasets`, `stfusion train --data`."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from cli_rasters import write_tif
from click.testing import CliRunner

from stfusion.cli.main import cli
from stfusion.data.stf_sets import CIA_RATIO

DAYS = (dt.date(2001, 10, 8), dt.date(2001, 11, 25), dt.date(2002, 1, 12))


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    """Three dates of Landsat 7 product IDs and MODIS granule IDs (coarse on the fine grid, ratio 8)."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "flat"
    folder.mkdir()
    base = rng.integers(300, 3000, (3, 48, 48))
    for k, day in enumerate(DAYS):
        fine = (base + 150 * k).astype(np.int16)
        coarse = np.repeat(np.repeat(fine.reshape(3, 6, 8, 6, 8).mean((2, 4)), 8, 1), 8, 2).astype(np.int16)
        write_tif(folder / f"LE07_L2SP_044034_{day:%Y%m%d}_20200917_02_T1_SR.tif", fine)
        write_tif(folder / f"MOD09GA.A{day:%Y%j}.h10v05.061.2020073203035.tif", coarse)
    (folder / "ratio.txt").write_text("8")
    return folder


def test_bench_on_a_flat_folder(flat: Path, tmp_path: Path):
    result = run("bench", "--datasets", flat, "--methods", "nochange", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    with open(tmp_path / "out" / "results.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["method"] == "nochange"]
    assert rows and {(r["dataset"], r["status"]) for r in rows} == {("folder:flat", "ok")}
    write_tif(flat / "scene_20011125.tif", np.zeros((3, 48, 48), np.int16))
    result = run("bench", "--datasets", flat, "--methods", "nochange", "--out", tmp_path / "again")
    errors = [line for line in result.output.splitlines() if line.startswith("stfusion: error:")]
    assert result.exit_code == 2 and len(errors) == 1
    assert "cannot tell fine from coarse for scene_20011125.tif" in errors[0]
    result = run("bench", "--datasets", flat, "--methods", "nochange", "--fine-pattern", "LE07*", "--coarse-pattern",
                 "MOD09*", "--out", tmp_path / "patterns")  # the patterns leave the unplaced file out
    assert result.exit_code == 0, result.output
    assert "1 run(s) on 1 data set(s)" in result.output


@pytest.mark.realdata
def test_bench_on_the_flat_cia_folder(shared_data: Path, tmp_path: Path):
    """The issue's example: CIA_L7_* and CIA_MOD09GA_* side by side (linked, beside the ratio.txt that
    coarse images on the fine grid need)."""
    folder = tmp_path / "cia"
    folder.mkdir()
    for path in (shared_data / "cia_2date").glob("*.tif"):
        (folder / path.name).symlink_to(path)
    (folder / "ratio.txt").write_text(str(CIA_RATIO))
    result = run("bench", "--datasets", folder, "--methods", "nochange", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "1 run(s) on 1 data set(s)" in result.output


def test_train_on_a_flat_folder(flat: Path, tmp_path: Path):
    pytest.importorskip("torch")
    ckpt = tmp_path / "net.pt"
    result = run("train", "stfdcnn", "--data", flat, "--ratio", 8, "--synthetic-steps", 0, "--steps", 1,
                 "--set", "patch=32", "--set", "batch=2", "--set", "val_every=1", "--out", ckpt)
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "net.pt.json").read_text())
    assert card["scenes"][0]["dates"] == [d.isoformat() for d in DAYS]
