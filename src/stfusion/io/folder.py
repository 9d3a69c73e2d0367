"""User folders of dated rasters: find them (`scan_folder`) and pair fine with coarse dates (`load_series`)."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path

from stfusion.core.errors import DateError, FileFormatError
from stfusion.core.scene import Scene
from stfusion.core.task import Pair

from .dates import parse_date
from .read import read_scene

RASTER_SUFFIXES = frozenset({".tif", ".tiff", ".img", ".vrt", ".jp2", ".nc", ".hdf", ".h5", ".bsq", ".bil", ".bip", ".dat"})
"""File endings read as rasters; any other file counts only when it has an ENVI ``.hdr`` sidecar."""

_SIDECARS = (".hdr", ".aux.xml", ".ovr", ".msk")


def _is_raster(path: Path) -> bool:
    name = path.name.lower()
    if name.startswith(".") or name.endswith(_SIDECARS):
        return False
    if path.suffix.lower() in RASTER_SUFFIXES:
        return True
    siblings = (path.with_name(path.name + ".hdr"), path.with_name(path.stem + ".hdr"))
    return any(s.is_file() or s.with_suffix(".HDR").is_file() for s in siblings)


def scan_folder(directory: str | os.PathLike[str], *, pattern: str = "*") -> list[tuple[_dt.date, Path]]:
    """Every raster in ``directory`` matching the glob ``pattern`` whose name holds a date, sorted by date.

    Files without a date are skipped; sidecars (``.hdr``, ``.aux.xml``, ``.ovr``) are ignored and an
    ENVI data file is recognised by its ``.hdr``.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise FileFormatError(f"folder not found: {folder}; check the path")
    found = []
    for path in sorted(folder.glob(pattern)):
        if path.is_file() and _is_raster(path):
            date = parse_date(path.name)
            if date is not None:
                found.append((date, path))
    return sorted(found, key=lambda item: (item[0], item[1].name))


def _by_date(directory: str | os.PathLike[str], pattern: str, role: str) -> dict[_dt.date, Path]:
    items = scan_folder(directory, pattern=pattern)
    if not items:
        raise DateError(
            f"no dated {role} raster matching '{pattern}' in {directory}; name files with YYYYMMDD or YYYYDDD dates"
        )
    by_date: dict[_dt.date, Path] = {}
    for date, path in items:
        if date in by_date:
            raise DateError(
                f"two {role} rasters in {directory} have the date {date.isoformat()} ({by_date[date].name}, {path.name}); "
                "narrow the file pattern so each date matches one file"
            )
        by_date[date] = path
    return by_date


@dataclass(frozen=True)
class SeriesData:
    """Fine/coarse pairs on common dates and coarse-only targets, all sorted by date."""

    pairs: list[Pair]
    targets: list[Scene]
    fine_dates: list[_dt.date]
    coarse_dates: list[_dt.date]


def load_series(
    fine_dir: str | os.PathLike[str],
    coarse_dir: str | os.PathLike[str],
    *,
    sensor_fine: str | None = None,
    sensor_coarse: str | None = None,
    pattern: str = "*",
    fine_pattern: str | None = None,
    coarse_pattern: str | None = None,
) -> SeriesData:
    """Read a fine and a coarse folder (or one folder split by ``fine_pattern``/``coarse_pattern``).

    Dates with both images become `Pair`s; coarse-only dates become targets; fine-only dates are
    only listed in ``fine_dates``. ``pattern`` is the glob for both unless a per-role one is given.
    """
    fine = _by_date(fine_dir, fine_pattern or pattern, "fine")
    coarse = _by_date(coarse_dir, coarse_pattern or pattern, "coarse")
    clash = set(fine.values()) & set(coarse.values())
    if clash:
        raise DateError(
            f"{sorted(p.name for p in clash)[0]} matches both the fine and the coarse pattern; "
            "give fine_pattern and coarse_pattern that split the folder"
        )
    pairs = [
        Pair(read_scene(fine[d], sensor=sensor_fine), read_scene(coarse[d], sensor=sensor_coarse))
        for d in sorted(fine.keys() & coarse.keys())
    ]
    targets = [read_scene(coarse[d], sensor=sensor_coarse) for d in sorted(coarse.keys() - fine.keys())]
    return SeriesData(pairs=pairs, targets=targets, fine_dates=sorted(fine), coarse_dates=sorted(coarse))
