"""The accuracy page (docs/methods/accuracy.md) is what `benchmarks/accuracy.py` prints: rerun a part
of it and compare with the page, and check that it covers every classical method."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from stfusion.core.registry import list_methods

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "methods" / "accuracy.md"


def _script():
    spec = importlib.util.spec_from_file_location("accuracy_bench", ROOT / "benchmarks" / "accuracy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page_rows() -> dict[tuple[str, str], list[str]]:
    rows = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and re.fullmatch(r"\d", cells[1]):
            rows[(cells[0], cells[2])] = cells
    return rows


def test_every_classical_method_is_on_the_page():
    methods = {m for _, m in _page_rows()}
    expected = {s.name for s in list_methods("stf") if not s.needs_training}
    assert expected <= methods, expected - methods


@pytest.mark.realdata
def test_page_matches_a_rerun_of_the_command(shared_data, capsys):
    rows = _script().score("lgc_flood_simcoarse", ["delta", "fsdaf", "fitfc", "ubdf"])
    page = _page_rows()
    for r in rows:
        cells = page[(r["set"], r["method"])]
        assert cells[3] == f"{r['rmse']:.4f}" and cells[4] == f"{r['ssim']:.4f}" and cells[7] == f"{r['cc']:.4f}"
