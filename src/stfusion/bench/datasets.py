"""The data sets a bench runs on: the real STF and STSF sets, five synthetic scenarios and user folders.

Every entry becomes a `BenchCase`: a task (STF `FusionTask` or `STSFTask`), the fine truth at the
target date, the coarse/fine ratio and the method parameters the set needs (STARFM's pixel size
on sets without georeference, the NDVI value range). The time-series and embedding sets
(``ts_*``) and the raw hyperspectral cubes (``hs_*``) are out of scope: they have no fusion truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np

from ..core.errors import DateError, FileFormatError, UnknownParameterError
from ..core.scene import Scene
from ..core.grid import same_grid
from ..core.task import FusionTask, Pair, STSFTask
from ..data import INFO, SyntheticConfig, data_root, load_case, load_dataset, make_series
from ..io import align_to_fine, infer_ratio, load_series

Task = Union[FusionTask, STSFTask]

REAL_STF = ("cia_2date", "estarfm_3date", "estarfm_3date_1pair", "lgc_flood_simcoarse", "ifsdaf_ndvi_series")
REAL_STSF = ("stsf_samson", "stsf_jasper", "stsf_samson_t1", "stsf_jasper_t1",
             "stsf_samson_blind", "stsf_jasper_blind", "stsf_samson_blind_t1", "stsf_jasper_blind_t1")
"""The simulated STSF experiments: predict the fine HS image at the (simulated) second date, or
(``_t1``) at the HS date itself from the MS image of that date; ``_blind``: with an MS sensor
whose responses the methods are not told (`stfusion.data.stsf_blind`)."""

PIXEL_SIZE = {"cia_2date": 50.0, "estarfm_3date": 30.0, "estarfm_3date_1pair": 30.0, "lgc_flood_simcoarse": 30.0}
"""Fine pixel size (m) of the sets without georeference (../shared/data/README.md), for STARFM's window."""
NDVI_RANGE = {"estarfm": {"data_min": -1.0}, "fsdaf": {"data_min": -1.0}, "ubdf": {"lower": -1.0, "upper": 1.0}}
"""NDVI lies in [-1, 1], not in the reflectance range the methods' bounds default to."""
REFERENCES = {
    "cia_2date": {"starfm (C v1.2.1)": "starfm_c_cia_2date_1pair.tif",
                  "fsdaf (Python port, ratio 9)": "fsdaf_port_cia_2date_1pair_ratio9.tif"},
    "estarfm_3date": {"starfm (C v1.2.1)": "starfm_c_estarfm_3date_2pair.tif",
                      "estarfm (Python port)": "estarfm_port_estarfm_3date_2pair.tif"},
    "estarfm_3date_1pair": {"starfm (C v1.2.1)": "starfm_c_estarfm_3date_1pair.tif"},
    "lgc_flood_simcoarse": {"starfm (C v1.2.1)": "starfm_c_lgc_flood_1pair.tif",
                            "fsdaf (Python port, ratio 16)": "fsdaf_port_lgc_flood_1pair_ratio16.tif"},
}
"""The reference programs' own outputs in ``../shared/reference/peers``, scored next to the methods."""

_PHENOLOGY = {"flood_date": None, "harvest_date": None}
SCENARIOS: dict[str, tuple[str, dict[str, Any]]] = {
    "synthetic_phenology": ("phenology only: gradual seasonal change, 5 classes", _PHENOLOGY),
    "synthetic_abrupt": ("phenology + abrupt change: a flood (07-20) and a harvest (08-01)", {}),
    "synthetic_heterogeneous": ("phenology in a heterogeneous landscape: 8 classes, 3x texture",
                                {**_PHENOLOGY, "n_classes": 8, "texture": 0.09}),
    "synthetic_misregistration": ("phenology + coarse images shifted by (0.25, -0.25) coarse pixels",
                                  {**_PHENOLOGY, "misregistration": "quarter"}),
    "synthetic_clouds": ("phenology + 20 % cloud masked in every fine image", {**_PHENOLOGY, "cloud_fraction": 0.2}),
}
"""Synthetic scenario -> (description, `SyntheticConfig` options). Each adds one factor to phenology only."""
SYNTHETIC_PAIRS = (1, 4)
"""Base dates (06-01, then 09-25) and target (08-10) of the synthetic scenarios, as in `stfusion demo`."""
SYNTHETIC_TARGET = 3

DEFAULT_DATASETS = REAL_STF + REAL_STSF + tuple(SCENARIOS)


@dataclass(frozen=True, eq=False)
class BenchCase:
    """One benchmark protocol: predict ``truth`` from ``task``.

    ``kind`` is "stf" or "stsf"; ``ratio`` the coarse/fine pixel-size ratio (ERGAS uses h/l =
    1 / ratio); ``params`` maps a method to the parameters this set needs. STF pairs are in order
    of preference: a method that takes fewer pairs than the task has gets the first ones.
    """

    name: str
    kind: str
    task: Task
    truth: Scene
    ratio: float
    description: str
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    references: dict[str, Path] = field(default_factory=dict)
    regions: dict[str, np.ndarray] = field(default_factory=dict)
    """Named (rows, cols) masks scored on their own (RMSE), e.g. the abrupt-change patch."""

    @property
    def n_pairs(self) -> int:
        return len(self.task.pairs) if isinstance(self.task, FusionTask) else 0


def synthetic_ratio(size: int) -> int:
    """The coarse/fine ratio of a synthetic scene of ``size`` fine pixels per side: 16 from 128 pixels, else 8."""
    return 16 if size >= 128 else 8


def _synthetic(name: str, *, seed: int, size: int) -> BenchCase:
    description, options = SCENARIOS[name]
    ratio = synthetic_ratio(size)
    options = dict(options)
    if options.get("misregistration") == "quarter":
        options["misregistration"] = (ratio / 4, -ratio / 4)
    series = make_series(SyntheticConfig(size=(size, size), ratio=ratio, seed=seed), **options)
    task, truth = series.task(list(SYNTHETIC_PAIRS), SYNTHETIC_TARGET)
    return BenchCase(name, "stf", task, truth, float(ratio), f"synthetic {size}x{size}, ratio {ratio}: {description}")


def set_params(name: str) -> dict[str, dict[str, Any]]:
    """Method -> the parameters it needs on real STF set ``name`` (STARFM's pixel size, the NDVI range)."""
    params: dict[str, dict[str, Any]] = {}
    if name in PIXEL_SIZE:
        params["starfm"] = {"resolution": PIXEL_SIZE[name]}
    if name == "ifsdaf_ndvi_series":
        params.update(NDVI_RANGE)
    return params


def _real_stf(name: str) -> BenchCase:
    case = load_case(name)
    params = set_params(name)
    peers = data_root().parent / "reference" / "peers"
    refs = {label: peers / file for label, file in REFERENCES.get(name, {}).items() if (peers / file).is_file()}
    return BenchCase(name, "stf", case.task, case.truth, float(case.ratio), case.description, params, refs)


def _real_stsf(name: str) -> BenchCase:
    cube = name.removesuffix("_t1")
    sim = load_dataset(cube)
    ratio = float(sim.task.ratio)
    if name.endswith("_t1"):
        return BenchCase(name, "stsf", sim.task_t1, sim.t1, ratio,
                         f"{INFO[cube].summary}; predict the fine HS image at the HS date (t1) from that date's MS image",
                         regions={"patch": sim.patch})
    return BenchCase(name, "stsf", sim.task, sim.t2, ratio,
                     f"{INFO[cube].summary}; predict the fine HS image at the (simulated) second date",
                     regions={"patch": sim.patch})


def _folder(path: Path, patterns: tuple[str | None, str | None] = (None, None)) -> BenchCase:
    """A user folder with ``fine/`` and ``coarse/`` subfolders of dated rasters (or one flat folder
    of both, split by the sensor codes in the names: `stfusion.io.sensors.sensor_role`, or by the
    fine and coarse glob ``patterns``): the latest date with both images is the target (its fine
    image the truth), the other such dates the pairs, nearest first. Coarse images on their own
    grid are area-averaged onto the fine grid (ratio from the transforms); coarse images already on
    the fine grid need the ratio in ``ratio.txt``."""
    fine, coarse = path / "fine", path / "coarse"
    if not (fine.is_dir() and coarse.is_dir()):
        fine = coarse = path  # a flat folder: each file placed by the sensor code in its name or a pattern
    series = load_series(fine, coarse, fine_pattern=patterns[0], coarse_pattern=patterns[1])
    if len(series.pairs) < 2:
        raise DateError(
            f"{path} has {len(series.pairs)} date(s) with both a fine and a coarse image; a bench needs two or more "
            "(the latest is predicted from the others)"
        )
    *pairs, last = series.pairs
    grid = last.fine
    if same_grid(grid, last.coarse):
        ratio = _ratio_file(path)
    else:
        ratio = float(infer_ratio(grid, last.coarse))
    on_fine = [Pair(p.fine, align_to_fine(p.coarse, grid)) for p in pairs]
    on_fine.sort(key=lambda p: abs((p.date - last.date).days) if p.date and last.date else 0)
    task = FusionTask(on_fine, align_to_fine(last.coarse, grid), ratio=ratio)
    return BenchCase(f"folder:{path.name}", "stf", task, last.fine, ratio,
                     f"user folder {path}: predict {last.date} from {', '.join(str(p.date) for p in on_fine)}")


def _ratio_file(path: Path) -> float:
    """The coarse/fine ratio of a folder whose coarse images are on the fine grid: the file ``ratio.txt``."""
    source = path / "ratio.txt"
    if not source.is_file():
        raise FileFormatError(
            f"{path}: the coarse images are on the fine grid, so the ratio is unknown; write it (e.g. 16) into {source}"
        )
    try:
        value = float(source.read_text().strip())
    except ValueError:
        raise FileFormatError(f"{source} does not hold a number; write the coarse/fine ratio, e.g. 16") from None
    if not value > 1:
        raise FileFormatError(f"{source} holds {value:g}; the coarse/fine ratio must be > 1, e.g. 16")
    return value


def describe_choices() -> str:
    return ", ".join(DEFAULT_DATASETS) + ", or a folder path (fine/ and coarse/ subfolders, or one flat folder of both)"


def check_dataset(name: str) -> None:
    """Raise a one-line error unless ``name`` is a bench data set or a folder."""
    if name in DEFAULT_DATASETS or Path(name).is_dir():
        return
    if name in INFO:
        raise UnknownParameterError(
            f"'{name}' ({INFO[name].kind}) cannot be benchmarked: bench runs the STF and STSF sets with a fusion truth "
            "(time-series, embedding and raw hyperspectral sets are out of scope; use stsf_samson/stsf_jasper for the cubes); "
            f"choose from {describe_choices()}"
        )
    raise UnknownParameterError(f"unknown dataset '{name}'; choose from {describe_choices()}")


def load_bench_case(name: str, *, seed: int = 0, synthetic_size: int = 240,
                    patterns: tuple[str | None, str | None] = (None, None)) -> BenchCase:
    """The `BenchCase` of a data-set name, a synthetic scenario (``seed``, fine size) or a folder path
    (its fine and coarse files chosen by the glob ``patterns`` when given)."""
    check_dataset(name)
    if name in SCENARIOS:
        return _synthetic(name, seed=seed, size=synthetic_size)
    if name in REAL_STF:
        return _real_stf(name)
    if name in REAL_STSF:
        return _real_stsf(name)
    return _folder(Path(name), patterns)


def real_data_available() -> bool:
    """Whether the real sample-data folder exists (``$STFUSION_DATA`` or ``../shared/data``)."""
    return data_root().is_dir()


def fingerprint(case: BenchCase) -> str:
    """SHA-256 over every input and truth array, mask, date and the ratio: the case's identity in the cache."""
    import hashlib

    digest = hashlib.sha256()
    task = case.task
    if isinstance(task, FusionTask):
        scenes = [s for p in task.pairs for s in (p.fine, p.coarse)] + [task.target]
    else:
        scenes = [task.hs, task.ms] + ([task.ms_target] if task.ms_target is not None else [])
    for scene in [*scenes, case.truth]:
        for arr in (scene.data, scene.mask):
            a = np.ascontiguousarray(np.asarray(arr))
            digest.update(f"{a.dtype}{a.shape}".encode())
            digest.update(a.data)
        digest.update(str(scene.date).encode())
    for region, mask in sorted(case.regions.items()):
        digest.update(region.encode())
        digest.update(np.ascontiguousarray(mask, dtype=bool).data)
    digest.update(repr((case.kind, case.ratio, sorted(case.params.items()))).encode())
    return digest.hexdigest()


def reduce_pairs(task: FusionTask, n: int) -> FusionTask:
    """The task with only its first ``n`` pairs (the preferred ones)."""
    if n >= len(task.pairs):
        return task
    return FusionTask(task.pairs[:n], task.target, ratio=task.ratio)
