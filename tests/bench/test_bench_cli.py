"""`stfusion bench` on the command line, and a user folder of dated rasters as a data set."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from stfusion.bench.datasets import load_bench_case
from stfusion.core.errors import FileFormatError
from stfusion.bench.runner import Selection, iter_bench
from stfusion.cli.main import cli
from stfusion.data import make_series
from stfusion.io import write_scene

from small_bench import METHODS, SIZE


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_resumes_a_bench_and_writes_the_reports(small_bench, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small_bench.out, out)
    result = run("bench", "--datasets", "synthetic_abrupt", "--methods", *METHODS, "--synthetic-size", SIZE,
                 "--out", out)
    assert result.exit_code == 0, result.output
    assert f"{len(METHODS)} run(s) on 1 data set(s) ({len(METHODS)} from the cache), 0 failed" in result.output
    for name in ("results.csv", "results.json", "report.md", "report.html"):
        assert (out / name).is_file()


def test_cli_bad_names_exit_2_with_one_line_and_write_nothing(tmp_path):
    for args, message in ((("--datasets", "nope"), "choose from"), (("--methods", "nope"), "known methods"),
                          (("--set", "starfm=1"), "METHOD.KEY=VALUE"), (("--datasets",), "needs at least one value")):
        result = run("bench", "--out", tmp_path / "out", *args)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_user_folder_is_a_data_set(tmp_path):
    series = make_series(size=(SIZE, SIZE), ratio=8)
    folder = tmp_path / "scene"
    for i in (1, 3, 4):
        day = series.dates[i].strftime("%Y%m%d")
        write_scene(series.fine[i], folder / "fine" / f"L_{day}.tif")
        write_scene(series.coarse[i], folder / "coarse" / f"M_{day}.tif")  # on its own 240 m grid
    case = load_bench_case(str(folder))
    assert case.ratio == 8 and case.truth.date == series.dates[4]
    assert [p.date for p in case.task.pairs] == [series.dates[3], series.dates[1]]  # nearest first
    (runs,) = iter_bench([str(folder)], tmp_path / "out", Selection(methods=("nochange", "delta")), progress=False)
    nochange = runs.predictions["nochange"]
    assert np.allclose(nochange.data, series.fine[3].data, atol=1e-4)  # the nearest pair's fine image
    assert {r["method"] for r in runs.records if r["status"] == "ok"} == {"nochange", "delta"}


def test_a_flat_folder_is_split_by_the_sensor_codes_in_the_names(tmp_path):
    series = make_series(size=(SIZE, SIZE), ratio=8)
    folder = tmp_path / "flat"
    for i in (1, 3, 4):
        day = series.dates[i].strftime("%Y%m%d")
        write_scene(series.fine[i], folder / f"CIA_L7_{day}.tif")
        write_scene(series.coarse[i], folder / f"CIA_MOD09GA_{day}.tif")
    case = load_bench_case(str(folder))
    assert case.ratio == 8 and case.truth.date == series.dates[4]
    assert [p.date for p in case.task.pairs] == [series.dates[3], series.dates[1]]
    write_scene(series.fine[2], folder / f"scene_{series.dates[2]:%Y%m%d}.tif")
    with pytest.raises(FileFormatError, match=r"cannot tell fine from coarse for scene_\d+\.tif"):
        load_bench_case(str(folder))
