"""A small bench shared by the bench tests: one tiny synthetic scenario and three quick methods."""

from __future__ import annotations

from pathlib import Path

import pytest

from stfusion.bench.benchmark import BenchResult, run_bench
from stfusion.bench.runner import Selection

METHODS = ("nochange", "delta", "starfm")
SIZE = 32


def small_run(out: Path, **kw) -> BenchResult:
    kw.setdefault("selection", Selection(methods=METHODS))
    return run_bench(out, ["synthetic_abrupt"], synthetic_size=SIZE, progress=False, **kw)


@pytest.fixture(scope="session")
def small_bench(tmp_path_factory: pytest.TempPathFactory) -> BenchResult:
    """The bench folder of `small_run` (read only: copy it before changing it)."""
    return small_run(tmp_path_factory.mktemp("bench") / "out")
