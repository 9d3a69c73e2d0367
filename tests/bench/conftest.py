"""The small bench shared by the bench tests (`small_bench.small_run`), run once per session."""

from __future__ import annotations

import pytest

from stfusion.bench.benchmark import BenchResult

from small_bench import small_run


@pytest.fixture(scope="session")
def small_bench(tmp_path_factory: pytest.TempPathFactory) -> BenchResult:
    """The bench folder of `small_run` (read only: copy it before changing it)."""
    return small_run(tmp_path_factory.mktemp("bench") / "out")
