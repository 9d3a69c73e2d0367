"""The bench runner: method selection, one row per method x set x band, resuming from the cache, atomic outputs."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from stfusion.bench import benchmark
from stfusion.bench.datasets import load_bench_case, reduce_pairs
from stfusion.bench.runner import Selection, iter_bench
from stfusion.core.errors import OutputExistsError, UnknownMethodError, UnknownParameterError
from stfusion.core.registry import list_methods
from stfusion.core.run import predict
from stfusion.metrics import METRICS, evaluate

from small_bench import METHODS, SIZE, small_run


def test_default_selection_is_every_method_without_training():
    stf = {s.name for s in Selection().chosen("stf")}
    assert stf == {s.name for s in list_methods("stf") if not s.needs_training}
    assert {s.name for s in Selection(fit=True).chosen("stf")} == {s.name for s in list_methods("stf")}
    named = {s.name for s in Selection(methods=("delta", "dcstfn")).chosen("stf")}
    assert named == {"delta", "dcstfn"}
    assert Selection(methods=("dcstfn",)).overrides(list_methods("stf")[-1], load_bench_case(
        "synthetic_phenology", synthetic_size=SIZE))["fit"] is True


def test_bad_names_are_one_line_errors_listing_choices():
    with pytest.raises(UnknownMethodError, match="known methods: .*starfm"):
        Selection(methods=("nope",))
    with pytest.raises(UnknownParameterError, match="choose from .*synthetic_clouds"):
        load_bench_case("no_such_set")
    with pytest.raises(UnknownParameterError, match="out of scope"):
        load_bench_case("ts_presto_algae")
    with pytest.raises(UnknownParameterError, match="valid parameters"):
        Selection(params={"starfm": {"nope": "1"}})


def test_rows_per_band_with_every_metric_and_the_measurements(small_bench):
    out = small_bench.out
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == len(METHODS) * 6  # six bands each
    assert {r["method"] for r in rows} == set(METHODS)
    assert set(METRICS) <= set(rows[0])
    for r in rows:
        assert float(r["seconds"]) >= 0 and float(r["peak_mb"]) > 0 and r["stfusion"] and r["numpy"]
        assert float(r["h_over_l"]) == pytest.approx(1 / 8)
    doc = json.loads((out / "results.json").read_text())
    assert len(doc["rows"]) == len(rows) and doc["meta"]["versions"]["numpy"] == np.__version__


def test_metrics_equal_a_direct_evaluation(small_bench):
    case = load_bench_case("synthetic_abrupt", synthetic_size=SIZE)
    direct = evaluate(case.truth, predict("delta", reduce_pairs(case.task, 2)), ratio=1 / case.ratio)
    record = next(r for r in small_bench.records if r["method"] == "delta")
    for name in ("rmse", "ssim", "ergas", "sam"):
        assert record["values"][name] == pytest.approx(direct.values[name], rel=1e-9)


def _runs(out, selection=None):
    selection = selection or Selection(methods=METHODS)
    (runs,) = iter_bench(["synthetic_abrupt"], out, selection, synthetic_size=SIZE, progress=False)
    return runs


def test_second_run_reads_every_run_from_the_cache(small_bench, tmp_path, monkeypatch):
    shutil.copytree(small_bench.out / "cache", tmp_path / "cache")
    monkeypatch.setattr("stfusion.bench.runner._run", lambda *a: pytest.fail("a recorded run was recomputed"))
    again = _runs(tmp_path)
    assert all(r["cached"] for r in again.records)
    assert {r["method"]: r["values"] for r in again.records} == {r["method"]: r["values"] for r in small_bench.records}
    assert set(again.predictions) == set(METHODS)


def test_changed_parameter_reruns_only_that_method(small_bench, tmp_path):
    shutil.copytree(small_bench.out / "cache", tmp_path / "cache")
    again = _runs(tmp_path, Selection(methods=METHODS, params={"delta": {"power": "0"}}))
    assert {r["method"]: r["cached"] for r in again.records} == {"nochange": True, "delta": False, "starfm": True}


def test_a_failed_report_leaves_the_previous_outputs(small_bench, tmp_path, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(small_bench.out, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def broken(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(benchmark, "_figures", lambda runs: {})
    monkeypatch.setattr(benchmark, "page", broken)
    with pytest.raises(RuntimeError):
        small_run(out)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_refuses_a_folder_of_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="no bench results"):
        small_run(tmp_path)


def test_figures_of_sets_no_longer_run_are_removed(small_bench, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small_bench.out, out)
    (out / "figures" / "dropped_set_quicklook.png").write_bytes(b"old")
    current = sorted(p.name for p in (small_bench.out / "figures").iterdir())
    small_run(out)
    assert sorted(p.name for p in (out / "figures").iterdir()) == current


def test_a_variant_is_a_row_of_its_own(tmp_path):
    sel = Selection(methods=("delta",), variants={"delta, power=0": ("delta", {"power": "0"})})
    runs = {r["method"]: r for r in small_run(tmp_path / "out", selection=sel).records}
    assert set(runs) == {"delta", "delta, power=0"} and runs["delta, power=0"]["variant_of"] == "delta"
    assert runs["delta"]["variant_of"] is None and runs["delta, power=0"]["params"]["power"] == 0
    assert runs["delta, power=0"]["values"]["rmse"] != runs["delta"]["values"]["rmse"]


def test_a_code_change_invalidates_the_cache(small_bench, tmp_path, monkeypatch):
    from stfusion.bench import measure, runner

    shutil.copytree(small_bench.out / "cache", tmp_path / "cache")
    monkeypatch.setattr(runner, "code_digest", lambda: "another" + measure.code_digest())
    assert not any(r["cached"] for r in _runs(tmp_path).records)
