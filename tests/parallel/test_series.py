"""Time-series fusion (`stfusion series`): pair choice from cloud masks, shared pair statistics,
one COG per date with a STAC index, resumption, skipped dates and bad input."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from stfusion.cli.main import cli
from stfusion.core import Scene
from stfusion.core.errors import DateError, NoDataError, OutputExistsError, UnknownMethodError, UnknownParameterError
from stfusion.core.registry import get_spec, list_methods
from stfusion.core.run import predict, predict_series
from stfusion.core.scene import RasterEncoding
from stfusion.core.task import FusionTask, Pair
from stfusion.io import align_to_fine, read_scene, write_scene
from stfusion.io.folder import DatedRaster, read_masked, scan_images
from stfusion.parallel.series import choose_pairs, coarse_for, plan_series, run_series

INT16 = RasterEncoding("int16", 1e-4, 0.0, -9999.0)
SIZE, RATIO = 64, 8
FINE_GRID = dict(transform=(30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0), crs="EPSG:32633")
COARSE_GRID = dict(transform=(240.0, 0.0, 500000.0, 0.0, -240.0, 4000000.0), crs="EPSG:32633")
FINE_DAYS = {1: 1.0, 10: 0.3, 20: 0.9, 40: 1.0}
"""Fine dates (days from 31 May 2020, see `D`) and the clear fraction of their cfmask (day 10 is mostly cloud)."""
COARSE_DAYS = (1, 5, 10, 15, 20, 30, 40, 45)


def D(day: int) -> dt.date:
    """Day ``day`` of the test series (day 1 = 2020-06-01)."""
    return dt.date(2020, 5, 31) + dt.timedelta(days=day)


ALL_STF = [s.name for s in list_methods("stf") if not s.needs_training]
SMALL = {"spstfm": {"dict_size": 16, "training_samples": 200, "min_train_iter": 2, "max_train_iter": 3}}


def _truth(day: int, rng: np.random.Generator, fields: np.ndarray) -> np.ndarray:
    return (0.05 + 0.3 * fields + 0.004 * day + 0.003 * rng.standard_normal(fields.shape)).astype(np.float32)


def _cfmask(clear: float, rng: np.random.Generator) -> np.ndarray:
    codes = np.zeros((SIZE, SIZE), np.uint8)
    cloudy = int(round((1 - clear) * SIZE))
    codes[:cloudy] = 4  # a cloud bank over the top rows
    codes[rng.random((SIZE, SIZE)) < 0.02] = 1  # clear water stays clear
    return codes


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """A fine folder (GeoTIFFs + cfmask sidecars) and a coarse folder on a 240 m grid."""
    root = tmp_path_factory.mktemp("series")
    fine, coarse = root / "fine", root / "coarse"
    rng = np.random.default_rng(3)
    fields = np.kron(rng.random((2, SIZE // 16, SIZE // 16)), np.ones((16, 16)))
    for day in sorted(set(FINE_DAYS) | set(COARSE_DAYS)):
        x = _truth(day, rng, fields)
        if day in FINE_DAYS:
            write_scene(Scene(x, encoding=INT16, **FINE_GRID), fine / f"L8_{D(day):%Y%m%d}.tif")
            codes = _cfmask(FINE_DAYS[day], rng)
            with rasterio.open(fine / f"L8_{D(day):%Y%m%d}_mask.tif", "w", driver="GTiff", width=SIZE, height=SIZE,
                               count=1, dtype="uint8", crs=FINE_GRID["crs"],
                               transform=rasterio.Affine(*FINE_GRID["transform"])) as dst:
                dst.write(codes[None])
        if day in COARSE_DAYS:
            means = x.reshape(2, SIZE // RATIO, RATIO, SIZE // RATIO, RATIO).mean(axis=(2, 4))
            write_scene(Scene(means, encoding=INT16, **COARSE_GRID), coarse / f"MOD_{D(day):%Y%j}.tif")
    return fine, coarse


def _item(path: str, day: int) -> DatedRaster:
    return DatedRaster(D(day), Path(path))


def test_pairs_nearest_clear_before_and_after():
    cands = [(_item(f"f{d}", d), _item(f"c{d}", d)) for d in (1, 20, 40)]

    def picked(method: str, day: int) -> list[int]:
        return [(f.date - D(0)).days for f, _ in choose_pairs(D(day), cands, get_spec(method))]

    assert picked("starfm", 15) == [1, 20]  # the nearest before and after
    assert picked("fsdaf", 15) == [20]  # one-pair method: the nearer
    assert picked("fsdaf", 30) == [20]  # a tie: the earlier
    assert picked("estarfm", 45) == [20, 40]  # two pairs, none after: the two nearest before
    assert picked("starfm", 45) == [40]
    assert choose_pairs(D(45), cands[:1], get_spec("estarfm")) == ()


def test_coarse_period_picks_the_composite_holding_the_date():
    composites = [_item(f"m{d}", d) for d in (1, 17)]
    assert coarse_for(D(16), composites, 16).path.name == "m1"
    assert coarse_for(D(17), composites, 16).path.name == "m17"
    assert coarse_for(D(16), composites, 1) is None


def test_plan_skips_cloudy_pairs_and_dates_without_coarse(folders):
    fine = scan_images(folders[0])
    coarse = scan_images(folders[1])
    assert [f.mask.name for f in fine] == [f"L8_{D(d):%Y%m%d}_mask.tif" for d in sorted(FINE_DAYS)]
    clear = {f.date: float(np.mean(read_masked(f.path, f.mask).mask)) for f in fine}
    assert clear[D(10)] == pytest.approx(0.3, abs=0.02)
    plan = plan_series(get_spec("starfm"), fine, coarse, clear, min_clear=0.5)
    by_day = {(t.date - D(0)).days: [(f.date - D(0)).days for f, _ in t.pairs] for t in plan.targets}
    assert by_day == {5: [1, 20], 15: [1, 20], 30: [20, 40], 45: [40]}  # day 10 is too cloudy to be a pair
    plan = plan_series(get_spec("starfm"), fine, coarse, clear, dates=[D(7), D(5)])
    assert [(t.date - D(0)).days for t in plan.targets] == [5]
    assert plan.skipped == ((D(7), "no coarse image covers 2020-06-07"),)
    with pytest.raises(DateError, match="has a fine image"):
        plan_series(get_spec("starfm"), fine, coarse, clear, dates=[D(20)])


def _task_parts(fine_dir: Path, coarse_dir: Path, pair_days: list[int], day: int) -> tuple[list[Pair], Scene]:
    def fine(d: int) -> Scene:
        return read_masked(fine_dir / f"L8_{D(d):%Y%m%d}.tif", fine_dir / f"L8_{D(d):%Y%m%d}_mask.tif").replace(date=D(d))

    grid = fine(pair_days[0])

    def coarse(d: int) -> Scene:
        return align_to_fine(read_scene(coarse_dir / f"MOD_{D(d):%Y%j}.tif"), grid).replace(date=D(d))

    pairs = [Pair(fine(d), coarse(d)) for d in pair_days]
    return pairs, coarse(day)


def test_series_equals_predict_per_date_and_writes_a_stac_index(folders, tmp_path):
    result = run_series("starfm", *folders, tmp_path / "out", progress=False)
    assert sorted((d - D(0)).days for d in result.outputs) == [5, 15, 30, 45]
    assert result.skipped == {}
    for day, pair_days in {5: [1, 20], 30: [20, 40], 45: [40]}.items():
        pairs, target = _task_parts(*folders, pair_days, day)
        expected = predict("starfm", FusionTask(pairs, target))
        reference = write_scene(expected, tmp_path / f"expected_{day}.tif", like=pairs[0].fine)
        with rasterio.open(reference) as ref, rasterio.open(result.outputs[D(day)]) as src:
            assert np.array_equal(src.read(), ref.read())
            assert src.crs.to_epsg() == 32633 and src.dtypes[0] == "int16" and src.nodata == -9999
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    index = json.loads(result.index.read_text())
    assert index["type"] == "FeatureCollection" and len(index["features"]) == 4
    item = index["features"][0]
    assert item["id"] == "starfm_20200605" and item["properties"]["datetime"] == "2020-06-05T00:00:00Z"
    assert item["properties"]["stfusion:pairs"] == ["2020-06-01", "2020-06-20"]
    assert item["assets"]["data"]["href"] == f"starfm_{D(5):%Y%m%d}.tif"
    assert item["assets"]["data"]["type"].endswith("profile=cloud-optimized")
    west, south, east, north = item["bbox"]  # UTM 33N, 500 km easting: just east of 15 deg E
    assert 14.9 < west < 15.1 and 36.0 < south < north < 36.2
    assert item["geometry"]["type"] == "Polygon"


class Killed(BaseException):
    """Stands for a kill signal: not an Exception, so nothing in stfusion catches it."""


def test_rerun_resumes_and_a_failed_date_loses_nothing(folders, tmp_path, monkeypatch):
    out = tmp_path / "out"
    from stfusion.io import write as write_module

    calls = []
    original = write_module.write_scene

    def failing(scene, path, **kw):
        calls.append(Path(path).name)
        if len(calls) == 3:
            raise Killed  # the run is killed while writing the third date
        return original(scene, path, **kw)

    monkeypatch.setattr("stfusion.io.write_scene", failing)
    with pytest.raises(Killed):
        run_series("starfm", *folders, out, progress=False)
    written = sorted(p.name for p in out.glob("*.tif"))
    assert written == [f"starfm_{D(5):%Y%m%d}.tif", f"starfm_{D(15):%Y%m%d}.tif"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left
    assert len(json.loads((out / "index.json").read_text())["features"]) == 2
    calls.clear()
    result = run_series("starfm", *folders, out, progress=False)
    assert calls == [f"starfm_{D(30):%Y%m%d}.tif", f"starfm_{D(45):%Y%m%d}.tif"]  # only the missing dates
    assert sorted((d - D(0)).days for d in result.resumed) == [5, 15]
    assert len(json.loads(result.index.read_text())["features"]) == 4
    monkeypatch.undo()
    with pytest.raises(OutputExistsError, match="not empty"):
        run_series("delta", *folders, out, progress=False)  # another command: refused
    assert len(run_series("delta", *folders, out, overwrite=True, progress=False).outputs) == 4


@pytest.mark.parametrize("chunk", [None, 24])
def test_all_cloud_target_is_skipped_with_its_reason(folders, tmp_path, chunk):
    fine, coarse = folders
    cloudy = tmp_path / "coarse"
    cloudy.mkdir()
    for p in coarse.iterdir():
        (cloudy / p.name).symlink_to(p)
    with rasterio.open(coarse / f"MOD_{D(15):%Y%j}.tif") as src:
        profile = src.profile
    profile.update(dtype="uint8", nodata=None, count=1)
    with rasterio.open(cloudy / f"MOD_{D(15):%Y%j}_mask.tif", "w", **profile) as dst:
        dst.write(np.full((1, SIZE // RATIO, SIZE // RATIO), 4, np.uint8))
    result = run_series("starfm", fine, cloudy, tmp_path / "out", progress=False, chunk=chunk)
    assert sorted((d - D(0)).days for d in result.outputs) == [5, 30, 45]
    assert list(result.skipped) == [D(15)]
    assert f"MOD_{D(15):%Y%j}.tif' has no valid pixel" in result.skipped[D(15)]
    index = json.loads(result.index.read_text())
    assert index["stfusion:skipped"] == [{"date": "2020-06-15", "reason": result.skipped[D(15)]}]
    with pytest.raises(NoDataError, match="no date of the series could be predicted"):
        run_series("starfm", fine, cloudy, tmp_path / "out2", dates=[D(15)], progress=False, chunk=chunk)
    assert not (tmp_path / "out2" / f"starfm_{D(15):%Y%m%d}.tif").exists()


@pytest.mark.parametrize("method", ALL_STF)
def test_predict_series_equals_predict_per_target(folders, method):
    spec = get_spec(method)
    pairs, first = _task_parts(*folders, [1, 20] if spec.max_pairs != 1 else [1], 5)
    second = _task_parts(*folders, [1], 15)[1]
    params = SMALL.get(method, {})
    together = predict_series(method, pairs, [first, second], ratio=RATIO, **params)
    for target, got in zip((first, second), together):
        alone = predict(method, FusionTask(pairs, target, ratio=RATIO), **params)
        assert np.array_equal(np.asarray(got.data), np.asarray(alone.data), equal_nan=True)
        assert np.array_equal(got.mask, alone.mask)


def test_bad_arguments_are_refused_before_any_work(folders, tmp_path):
    other = [s.name for s in list_methods() if s.task != "stf" or s.needs_training]
    for method in other[:1]:
        with pytest.raises(UnknownParameterError, match="cannot run a series"):
            run_series(method, *folders, tmp_path / "o")
    with pytest.raises(UnknownMethodError):
        run_series("starfmx", *folders, tmp_path / "o")
    with pytest.raises(UnknownParameterError, match="min_clear"):
        run_series("starfm", *folders, tmp_path / "o", min_clear=1.5)
    with pytest.raises(DateError, match="no dated fine raster"):
        run_series("starfm", tmp_path, folders[1], tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_cli_series(folders, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["series", "delta", "--fine-dir", str(folders[0]), "--coarse-dir", str(folders[1]), "--out-dir", str(out)]
    done = runner.invoke(cli, [*args, "--dates", "2020-06-05,20200615"])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in out.glob("*.tif")) == [f"delta_{D(5):%Y%m%d}.tif", f"delta_{D(15):%Y%m%d}.tif"]
    assert "wrote 2 date(s)" in done.output
    again = runner.invoke(cli, [*args, "--dates", "2020-06-05,20200615"])
    assert again.exit_code == 0 and "2 from an earlier run" in again.output
    bad = runner.invoke(cli, [*args, "--dates", "June 5"])
    assert bad.exit_code == 2
    assert bad.stderr.strip().count("\n") == 0 and "is not a date" in bad.stderr


@pytest.mark.parametrize("method", ["starfm", "fsdaf"])
def test_streamed_series_equals_the_in_memory_series(folders, tmp_path, method):
    memory = run_series(method, *folders, tmp_path / "memory", progress=False)
    streamed = run_series(method, *folders, tmp_path / "streamed", chunk=24, workers=2, progress=False)
    assert list(streamed.outputs) == list(memory.outputs)
    for date, path in memory.outputs.items():
        with rasterio.open(path) as a, rasterio.open(streamed.outputs[date]) as b:
            assert np.array_equal(a.read(), b.read())
    items = [json.loads(r.index.read_text())["features"] for r in (memory, streamed)]
    assert [i["properties"]["stfusion:valid_fraction"] for i in items[0]] == \
        [i["properties"]["stfusion:valid_fraction"] for i in items[1]]
    assert not [p for p in (tmp_path / "streamed").iterdir() if p.name.startswith(".")]  # no journal left


def test_cli_series_on_a_flat_folder_equals_the_two_folders(folders, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in folders[0].glob("*.tif"):
        shutil.copy(path, flat / path.name)  # L8_YYYYMMDD.tif and its _mask
    for path in folders[1].glob("*.tif"):
        shutil.copy(path, flat / path.name.replace("MOD_", "MOD09GA_"))
    runner = CliRunner()
    dates = ["--dates", "2020-06-05"]
    flat_run = runner.invoke(cli, ["series", "delta", "--fine-dir", str(flat), "--out-dir", str(tmp_path / "a"), *dates])
    assert flat_run.exit_code == 0, flat_run.output
    two = runner.invoke(cli, ["series", "delta", "--fine-dir", str(folders[0]), "--coarse-dir", str(folders[1]),
                              "--out-dir", str(tmp_path / "b"), *dates])
    assert two.exit_code == 0, two.output
    name = f"delta_{D(5):%Y%m%d}.tif"
    assert np.array_equal(read_scene(tmp_path / "a" / name).data, read_scene(tmp_path / "b" / name).data, equal_nan=True)
