"""The small bench of the bench tests: one tiny synthetic scenario and three quick methods.

A module of its own, not conftest.py: test modules import it by name, and a ``conftest`` import
would find whichever conftest.py pytest loaded last when several test folders run together."""

from __future__ import annotations

from pathlib import Path

from stfusion.bench.benchmark import BenchResult, run_bench
from stfusion.bench.runner import Selection

METHODS = ("nochange", "delta", "starfm")
SIZE = 32


def small_run(out: Path, **kw) -> BenchResult:
    kw.setdefault("selection", Selection(methods=METHODS))
    return run_bench(out, ["synthetic_abrupt"], synthetic_size=SIZE, progress=False, **kw)
