"""Run methods x data sets: pick the methods each set can feed, run or read back each run, score it.

`iter_bench` yields one `DatasetRuns` per data set (its case, one record per run, the
predictions), so the report can draw a set's figures and drop its images before the next set.
A record holds every metric of `stfusion.metrics.evaluate` (per band and band means), the wall
time, the traced peak memory, the resolved parameters and the versions.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
from tqdm import tqdm

from ..core.errors import InputError, InvalidParameterError, MissingDependencyError, MissingWeightsError
from ..core.registry import MethodSpec, get_spec, list_methods
from ..core.run import predict, predict_stsf
from ..core.scene import Scene
from ..data import make_series
from ..io import read_scene
from ..metrics import evaluate
from .cache import RunCache, params_dict, run_key
from .datasets import BenchCase, check_dataset, fingerprint, load_bench_case, reduce_pairs
from .measure import code_digest, measure, stfusion_version, versions

DATA_RANGE = 1.0
"""PSNR/SSIM peak L: reflectance (also used on the NDVI series, as in docs/methods/accuracy.md)."""
REFERENCE_FAMILY = "reference program"
WARM_UP_SIZE = 32


@dataclass(frozen=True)
class Selection:
    """Which methods to run and how.

    ``methods`` None: every method that needs no training, plus the deep ones when ``fit`` or
    given a checkpoint. A deep method runs from ``checkpoints[name]`` when given, else it is
    trained on the set's own inputs first (``fit=True``). ``params`` maps a method to overrides.
    ``variants`` adds runs of a method with other parameters (an ablation), each under its own
    label: label -> (method, overrides); `variant_label` names them.
    """

    methods: tuple[str, ...] | None = None
    fit: bool = False
    checkpoints: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    variants: Mapping[str, tuple[str, Mapping[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in [*(self.methods or ()), *self.checkpoints, *self.params, *(m for m, _ in self.variants.values())]:
            get_spec(name)
        for method, over in self.variants.values():
            get_spec(method).make_params({**self.params.get(method, {}), **over})
        for name in self.checkpoints:
            if not get_spec(name).needs_training:
                raise InvalidParameterError(f"checkpoints[{name!r}]: {name} needs no training; drop it")
            if not Path(self.checkpoints[name]).is_file():
                raise MissingWeightsError(f"checkpoint {self.checkpoints[name]} of {name} not found; check the path")
        for name, over in self.params.items():
            get_spec(name).make_params(over)

    def chosen(self, kind: str) -> list[MethodSpec]:
        """The methods of task kind ``kind`` ("stf" or "stsf") this selection runs, in registry order."""
        names = None if self.methods is None else {get_spec(m).name for m in self.methods}
        out = []
        for spec in list_methods(kind):
            if names is not None:
                keep = spec.name in names or spec.name in self.checkpoints
            else:
                keep = not spec.needs_training or self.fit or spec.name in self.checkpoints
            if keep:
                out.append(spec)
        return out

    def overrides(self, spec: MethodSpec, case: BenchCase) -> dict[str, Any]:
        """The parameters of ``spec`` on ``case``: the set's needs, the user's overrides, then fit/checkpoint."""
        over: dict[str, Any] = {**case.params.get(spec.name, {}), **self.params.get(spec.name, {})}
        if spec.needs_training:
            if spec.name in self.checkpoints:
                over["checkpoint"] = str(self.checkpoints[spec.name])
            else:
                over["fit"] = True
        return over


@dataclass
class DatasetRuns:
    """The runs of one data set: ``records`` (one dict per run), ``predictions`` by label, ``skipped`` notes."""

    case: BenchCase
    records: list[dict[str, Any]]
    predictions: dict[str, Scene]
    skipped: list[str]


def _pairs_for(spec: MethodSpec, case: BenchCase) -> int | None:
    """How many of the set's pairs the method gets, or None when it cannot run on them."""
    if spec.task != case.kind:
        return None
    if case.kind == "stsf":
        return 0
    n = case.n_pairs if spec.max_pairs is None else min(case.n_pairs, spec.max_pairs)
    return n if n >= spec.min_pairs else None


def _predict(spec: MethodSpec, case: BenchCase, n: int, over: dict[str, Any]) -> Scene:
    if case.kind == "stsf":
        return predict_stsf(spec.name, case.task, **over)
    return predict(spec.name, reduce_pairs(case.task, n), **over)


def variant_label(method: str, over: Mapping[str, str]) -> str:
    """The label of a variant run: ``"edcstfn, alpha=0"``."""
    return ", ".join([method, *(f"{k}={v}" for k, v in over.items())])


def _region_rmse(case: BenchCase, pred: Scene) -> dict[str, float | None]:
    """The RMSE (over bands and the region's valid pixels) in each of the case's named regions."""
    out = {}
    for name, region in case.regions.items():
        ok = region & np.asarray(case.truth.mask, bool) & np.asarray(pred.mask, bool)
        diff = np.asarray(pred.data, np.float64)[:, ok] - np.asarray(case.truth.data, np.float64)[:, ok]
        out[name] = float(np.sqrt(np.mean(diff**2))) if diff.size else None
    return out


def _score(case: BenchCase, pred: Scene) -> tuple[dict[str, Any], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = evaluate(case.truth, pred, ratio=1.0 / case.ratio, data_range=DATA_RANGE)
    return {**report.to_dict(), "region_rmse": _region_rmse(case, pred)}, sorted({str(w.message) for w in caught})


def _base(case: BenchCase, method: str, family: str, pairs: int) -> dict[str, Any]:
    return {"dataset": case.name, "kind": case.kind, "method": method, "family": family, "pairs": pairs,
            "ratio": case.ratio, "h_over_l": 1.0 / case.ratio, "data_range": DATA_RANGE}


@functools.cache
def warm_up(method: str) -> None:
    """Run an STF method needing no training once, untimed, on a tiny synthetic scene, so that
    its timed run excludes loading and compiling its Numba kernels."""
    spec = get_spec(method)
    if spec.task != "stf" or spec.needs_training:
        return
    series = make_series(size=(WARM_UP_SIZE, WARM_UP_SIZE), ratio=8)
    task, _ = series.task([1, 4][: min(2, spec.max_pairs or 2)], 3)
    predict(method, task)


def _run(spec: MethodSpec, label: str, case: BenchCase, n: int, over: dict[str, Any], key: str
         ) -> tuple[dict, Scene | None]:
    warm_up(spec.name)
    record = _base(case, label, spec.family, n)
    record["variant_of"] = spec.name if label != spec.name else None
    record.update(key=key, params=params_dict(spec.make_params(over)),
                  versions=versions(torch=spec.needs_training), warnings=[])
    try:
        done = measure(lambda: _predict(spec, case, n, over))
    except (InputError, MissingDependencyError) as exc:
        record.update(status="failed", error=" ".join(str(exc).split()), seconds=None, peak_mb=None)
        return record, None
    scores, notes = _score(case, done.value)
    record.update(status="ok", error="", seconds=done.seconds, peak_mb=done.peak_bytes / 2**20, warnings=notes,
                  **scores)
    return record, done.value


def _reference(case: BenchCase, label: str, path: Path) -> tuple[dict[str, Any], Scene]:
    raw = read_scene(path, scale=1e-4)  # the reference outputs are reflectance x 10000
    pred = case.truth.replace(data=raw.data, mask=raw.mask & case.truth.mask, name=path.name)
    record = _base(case, label, REFERENCE_FAMILY, case.n_pairs)
    scores, notes = _score(case, pred)
    record.update(key="", params={"file": path.name}, versions={}, warnings=notes, status="ok", error="",
                  seconds=None, peak_mb=None, **scores)
    return record, pred


def _dataset_runs(case: BenchCase, selection: Selection, cache: RunCache, rerun: bool,
                  progress: bool) -> DatasetRuns:
    inputs = fingerprint(case)
    version = f"{stfusion_version()}+{code_digest()[:16]}"  # the code, not only its version number
    runs, skipped = [], []
    for spec in selection.chosen(case.kind):
        n = _pairs_for(spec, case)
        if n is None:
            if selection.methods is not None:
                skipped.append(f"{spec.name}: takes {spec.pairs_text()} pair(s), the set has {case.n_pairs}")
            continue
        runs.append((spec, spec.name, n, {}))
    for label, (method, extra) in selection.variants.items():
        spec = get_spec(method)
        n = _pairs_for(spec, case)
        if n is not None:
            runs.append((spec, label, n, dict(extra)))
    records, predictions = [], {}
    for spec, label, n, extra in tqdm(runs, desc=case.name, unit="run", leave=False, disable=not progress):
        over = {**selection.overrides(spec, case), **extra}
        key = run_key(inputs=inputs, method=spec.name, params=params_dict(spec.make_params(over)), pairs=n,
                      version=version)
        hit = None if rerun else cache.get(key)
        if hit is not None:
            record, arrays = hit
            pred = None if arrays is None else case.truth.replace(data=arrays[0], mask=arrays[1], name=label)
            record["method"], record["variant_of"] = label, spec.name if label != spec.name else None
            record["cached"] = True
        else:
            record, pred = _run(spec, label, case, n, over, key)
            arrays = None if pred is None else (np.asarray(pred.data, np.float32), np.asarray(pred.mask, bool))
            cache.put(key, record, arrays)
            record["cached"] = False
        records.append(record)
        if pred is not None:
            predictions[label] = pred
    for label, path in case.references.items():
        record, pred = _reference(case, label, path)
        record["cached"] = False
        records.append(record)
        predictions[label] = pred
    return DatasetRuns(case, records, predictions, skipped)


def iter_bench(
    datasets: Iterable[str],
    out: str | Path,
    selection: Selection,
    *,
    seed: int = 0,
    synthetic_size: int = 240,
    rerun: bool = False,
    progress: bool = True,
    patterns: tuple[str | None, str | None] = (None, None),
) -> Iterator[DatasetRuns]:
    """Run ``selection`` on each data set in turn (cache in ``out/cache``); yield each set's runs.

    ``seed`` and ``synthetic_size`` (fine pixels per side) shape the synthetic scenarios;
    ``rerun`` recomputes runs that are already recorded; ``patterns`` (fine, coarse globs) pick
    the files of folder data sets.
    """
    names = list(datasets)
    for name in names:
        check_dataset(name)
    cache = RunCache(out)
    for name in tqdm(names, desc="bench", unit="set", disable=not progress):
        case = load_bench_case(name, seed=seed, synthetic_size=synthetic_size, patterns=patterns)
        yield _dataset_runs(case, selection, cache, rerun, progress)
