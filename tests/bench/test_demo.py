"""`stfusion.bench.demo` on tiny scenes: every family's rows, the quick-look pages and the summary."""

from __future__ import annotations

import csv
import importlib.util
import io

import pytest
from PIL import Image

from stfusion.bench import demo
from stfusion.bench.demo import run_demo
from stfusion.bench.demo_stsf import hs_scene
from stfusion.bench.quicklook import MAX_WIDTH_PX

from tiny_demo import TINY

TORCH = importlib.util.find_spec("torch") is not None
STSF = {"bicubic", "gsa", "cnmf", "cascade"}


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    return run_demo(out, settings=TINY), out


def _rows(out):
    return list(csv.DictReader((out / "metrics.csv").open()))


def test_every_family_has_rows_with_rmse_and_sam(tiny_demo):
    result, out = tiny_demo
    rows = _rows(out)
    stsf = {r["method"]: r for r in rows if r["task"] == "stsf"}
    assert set(stsf) == STSF | ({"dcstsf"} if TORCH else set())
    assert all(float(r["rmse"]) > 0 and float(r["sam"]) > 0 for r in stsf.values())
    assert float(stsf["cascade"]["rmse"]) < float(stsf["bicubic"]["rmse"])  # the MS change helps at t2
    stf = {(r["method"], r["pairs"]) for r in rows if r["task"] == "stf"}
    assert {("delta", "1"), ("fsdaf", "1"), ("estarfm", "2")} <= stf
    assert (("stfdcnn", "2") in stf) == TORCH
    if TORCH:
        fitted = [r for r in rows if r["training"] != "-"]
        assert {r["method"] for r in fitted} == {"stfdcnn", "dcstsf"}
        assert len(result.notes) == 2 and all("validation" in n for n in result.notes)
        assert "Not run, to keep the demo under 2 minutes on 2 cores: dcstfn, edcstfn, ganstfm" in (
            out / "summary.md").read_text()
    assert sorted(p.name for p in (out / "predictions").iterdir()) == sorted(
        f.split("/")[1] for f in result.files if f.startswith("predictions/"))


def test_quicklook_pages_fit_the_screen(tiny_demo):
    result, out = tiny_demo
    pages = [f for f in result.files if f.startswith("quicklook")]
    assert "quicklook-stsf.png" in pages  # one page suffices for the STSF methods
    assert {"quicklook-1.png", "quicklook-2.png"} <= set(pages) and "quicklook.png" not in pages
    for name in pages:
        assert Image.open(io.BytesIO((out / name).read_bytes())).size[0] <= MAX_WIDTH_PX


def test_summary_has_both_tables_and_the_next_commands(tiny_demo):
    _, out = tiny_demo
    text = (out / "summary.md").read_text()
    assert "## Spatiotemporal fusion (STF)" in text and "## Spatial-temporal-spectral fusion (STSF)" in text
    assert "t2 simulated" in text and "lowest SAM" in text
    tail = text.split("## Next: your own files", 1)[1]
    for command in ("stfusion predict", "stfusion stsf", "stfusion bench", "--fit"):
        assert command in tail


def test_without_torch_the_deep_parts_are_skipped_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "_torch_missing", lambda: True)
    result = run_demo(tmp_path / "out", settings=TINY)
    assert {r["training"] for r in result.rows} == {"-"}
    assert {r["method"] for r in result.rows if r["task"] == "stsf"} == STSF
    (note,) = result.notes
    assert note.startswith("Deep networks and DC-STSF skipped: PyTorch is not installed")
    assert [line for line in (tmp_path / "out" / "summary.md").read_text().splitlines() if "skipped" in line] == [note]


def test_stale_pages_of_an_earlier_demo_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "_torch_missing", lambda: True)
    out = tmp_path / "out"
    out.mkdir()
    (out / "quicklook.png").write_bytes(b"old")
    (out / "notes.txt").write_text("mine")
    result = run_demo(out, settings=TINY, overwrite=True)
    assert not (out / "quicklook.png").exists() and (out / "notes.txt").read_text() == "mine"
    written = sorted(f for f in result.files if f.startswith("quicklook"))
    assert sorted(p.name for p in out.glob("quicklook*.png")) == written


def test_the_hyperspectral_scene_is_a_smooth_vnir_cube():
    cube = hs_scene(size=24, bands=12)
    wl = [float(b) for b in cube.bands]
    assert cube.shape == (12, 24, 24) and wl == sorted(wl) and 400 < wl[0] and wl[-1] < 1000
    assert 0 <= float(cube.data.min()) and float(cube.data.max()) < 1
