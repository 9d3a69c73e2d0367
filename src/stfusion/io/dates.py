"""Acquisition dates from file names (YYYYMMDD, YYYY-MM-DD, YYYYDDD and Landsat scene IDs)."""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import PurePath

_YEARS = range(1970, 2101)
_LANDSAT_ID = re.compile(r"L[CTEOM]\d{14}")
_DIGIT_RUN = re.compile(r"(?<!\d)\d+(?!\d)")
_SEPARATED = re.compile(r"(?<!\d)(\d{4})[-_.](\d{2})[-_.](\d{2})(?!\d)")


def _ymd(year: str, month: str, day: str) -> _dt.date | None:
    if int(year) not in _YEARS:
        return None
    try:
        return _dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _ydoy(year: str, doy: str) -> _dt.date | None:
    y, d = int(year), int(doy)
    if y not in _YEARS or not 1 <= d <= 366 or (d == 366 and not _is_leap(y)):
        return None
    return _dt.date(y, 1, 1) + _dt.timedelta(days=d - 1)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _with_format(name: str, fmt: str) -> _dt.date | None:
    """The leftmost, longest substring of ``name`` that ``strptime`` accepts with ``fmt``."""
    for i in range(len(name)):
        for j in range(len(name), i, -1):
            try:
                return _dt.datetime.strptime(name[i:j], fmt).date()
            except ValueError:
                continue
    return None


def parse_date(name: str, *, fmt: str | None = None) -> _dt.date | None:
    """The date in a file name, or None.

    Looks, in this order, for a Landsat scene ID (``LC81250382015104LGN00``: year and day of year
    after path/row), a run of exactly 8 digits forming YYYYMMDD, a YYYY-MM-DD (or ``_``/``.``)
    date, and a run of exactly 7 digits forming YYYYDDD (``A2015104``). Years must lie in
    1970-2100. ``fmt`` (a ``strptime`` format) replaces these rules. Only the last path
    component is searched.
    """
    base = PurePath(name).name
    if fmt is not None:
        return _with_format(base, fmt)
    for m in _LANDSAT_ID.finditer(base.upper()):
        found = _ydoy(m.group()[9:13], m.group()[13:16])
        if found is not None:
            return found
    runs = [m.group() for m in _DIGIT_RUN.finditer(base)]
    for run in runs:
        if len(run) == 8:
            found = _ymd(run[:4], run[4:6], run[6:])
            if found is not None:
                return found
    for m in _SEPARATED.finditer(base):
        found = _ymd(*m.groups())
        if found is not None:
            return found
    for run in runs:
        if len(run) == 7:
            found = _ydoy(run[:4], run[4:])
            if found is not None:
                return found
    return None
