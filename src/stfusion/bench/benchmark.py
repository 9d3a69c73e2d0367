"""`stfusion bench`: run the methods on the data sets and write results.csv/json, report.md and report.html.

The runs are cached in ``<out>/cache`` as they finish (see `stfusion.bench.cache`); the
results, the figures and the reports are written together at the end through a staging folder,
so a failed bench leaves the previous report in place and never a partial one.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..core.errors import OutputExistsError, require
from . import report_figures as rf
from .atomic import staging_dir, write_text
from .cache import CACHE_DIR
from .datasets import DEFAULT_DATASETS, REAL_STF, REAL_STSF, real_data_available
from .measure import versions
from .quicklook import page_names
from .report import Section, markdown, page
from .results import write_results
from .runner import DatasetRuns, Selection, iter_bench

OUTPUTS = ("results.csv", "results.json", "report.md", "report.html")
MEMORY_NOTE = ("peak MB: tracemalloc peak of the Python and NumPy allocations during the run (PyTorch and Numba "
               "internals are not traced); time: wall clock of the method call, training included, after one untimed "
               "warm-up call on a 32 x 32 synthetic scene (classical methods: Numba loading excluded)")


@dataclass(frozen=True)
class BenchResult:
    """What a bench wrote: the run records, the output folder, and the data sets left out (no sample data)."""

    records: list[dict[str, Any]]
    out: Path
    missing: list[str]


def default_datasets() -> tuple[list[str], list[str]]:
    """(data sets to run, real sets left out because the sample-data folder is missing)."""
    if real_data_available():
        return list(DEFAULT_DATASETS), []
    real = set(REAL_STF + REAL_STSF)
    return [d for d in DEFAULT_DATASETS if d not in real], [d for d in DEFAULT_DATASETS if d in real]


def check_out(out: Path) -> None:
    """Refuse a non-empty folder that is not a bench folder (no cache and no results)."""
    if out.is_dir() and any(out.iterdir()) and not (out / CACHE_DIR).is_dir() and not (out / "results.json").is_file():
        raise OutputExistsError(
            f"{out} holds other files and no bench results; give an empty or new folder, or a folder of an earlier bench"
        )


def _figures(runs: DatasetRuns) -> dict[str, bytes]:
    case, preds, records = runs.case, runs.predictions, runs.records
    if not preds:
        return {}
    title = case.name
    pages = rf.quicklooks(case.task, case.truth, records, preds, title)
    figs: dict[str, bytes | None] = {
        **dict(zip(page_names("quicklook", len(pages)), pages)),
        "scatter": rf.density_scatter(case.truth, preds, title),
        "apa": rf.apa_figure(records, title),
        "bands": rf.band_charts(records, title),
        "tradeoff": rf.tradeoff(records, title),
    }
    return {k: v for k, v in figs.items() if v is not None}


def _meta(command: str, records: Sequence[dict[str, Any]], seed: int, synthetic_size: int) -> dict[str, Any]:
    matplotlib = require("matplotlib", "plot")
    deep = any(r.get("versions", {}).get("torch") for r in records)
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
        "versions": {**versions(torch=deep), "matplotlib": matplotlib.__version__},
        "command": command,
        "memory": MEMORY_NOTE,
        "seeds": f"synthetic scenes: seed {seed}, {synthetic_size}x{synthetic_size} fine pixels; "
                 "methods: their own seed parameters (default 0)",
    }


def run_bench(
    out: str | Path,
    datasets: Sequence[str] | None = None,
    selection: Selection | None = None,
    *,
    seed: int = 0,
    synthetic_size: int = 240,
    rerun: bool = False,
    progress: bool = True,
    command: str = "stfusion bench",
    patterns: tuple[str | None, str | None] = (None, None),
) -> BenchResult:
    """Run ``selection`` (default: every method needing no training) on ``datasets`` (default: all) into
    ``out``; ``patterns`` (fine, coarse globs) pick the files of folder data sets."""
    out = Path(out)
    check_out(out)
    missing: list[str] = []
    if datasets is None:
        datasets, missing = default_datasets()
    selection = selection or Selection()
    sections, records = [], []
    for runs in iter_bench(datasets, out, selection, seed=seed, synthetic_size=synthetic_size, rerun=rerun,
                           progress=progress, patterns=patterns):
        figures = _figures(runs)
        sections.append(Section(runs.case.name, runs.case.description, runs.case.ratio, runs.records, figures,
                                runs.skipped))
        records += runs.records
    overall = rf.overall_tradeoff(records)
    meta = _meta(command, records, seed, synthetic_size)
    paths = {(s.name, k): f"figures/{s.name.replace(':', '_')}_{k}.png" for s in sections for k in s.figures}
    if overall is not None:
        paths[("all", "tradeoff")] = "figures/all_tradeoff.png"
    with staging_dir(out) as tmp:
        (tmp / "figures").mkdir()
        blobs = {**{(s.name, k): v for s in sections for k, v in s.figures.items()}, ("all", "tradeoff"): overall}
        for key, rel in paths.items():
            (tmp / rel).write_bytes(blobs[key])
        write_results(tmp, records, meta)
        write_text(tmp / "report.md", markdown(sections, meta, paths))
        write_text(tmp / "report.html", page(sections, meta, overall))
    keep = {out / rel for rel in paths.values()}
    for old in (out / "figures").glob("*.png"):  # figures of sets or methods this bench no longer has
        if old not in keep:
            old.unlink()
    return BenchResult(records, out, missing)
