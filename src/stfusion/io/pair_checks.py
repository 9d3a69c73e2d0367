"""Checks of the files a user gives as pairs and target, for the commonest mistakes: a pair's two
files swapped, and dates that do not match. Each finding is one `InputWarning`; nothing is refused,
since a user may know better (for example an undated file name)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import rasterio
import rasterio.errors
from rasterio.windows import Window

from stfusion.core.errors import InputWarning

from .dates import parse_date

BLOCKS = 8
"""Coarse blocks per side of the window read to test whether an image is constant in blocks."""


def _blocky(path: Path, ratio: int) -> bool | None:
    """Whether the first band of ``path`` is constant in ``ratio``-sized blocks (over a corner
    window of `BLOCKS` blocks a side); None when the file is too small or holds no variation."""
    side = BLOCKS * ratio
    try:
        with rasterio.open(path) as src:
            if src.height < side or src.width < side:
                return None
            a = src.read(1, window=Window(0, 0, side, side), masked=True).astype(np.float64).filled(np.nan)
    except (OSError, rasterio.errors.RasterioError):
        return None  # unreadable: the reader's own error says what is wrong
    total = np.nanvar(a)
    if not np.isfinite(total) or total == 0:
        return None
    within = np.nanmean(np.nanvar(a.reshape(BLOCKS, ratio, BLOCKS, ratio), axis=(1, 3)))
    return bool(within < 1e-6 * total)


def check_pairs(pairs: Sequence[tuple[str | os.PathLike[str], str | os.PathLike[str]]],
                target: str | os.PathLike[str] | None = None, *, ratio: float | None = None) -> list[str]:
    """Warn (`InputWarning`, one line each) about (FINE, COARSE) ``pairs`` whose files look swapped
    (the fine file has the larger pixels, or is constant in ``ratio`` blocks while the coarse one is
    not) or whose names carry two different dates, and about a ``target`` dated like a pair.
    Returns the messages."""
    found = []
    pair_dates = []
    for fine, coarse in pairs:
        fine, coarse = Path(fine), Path(coarse)
        df, dc = parse_date(fine.name), parse_date(coarse.name)
        if df is not None and dc is not None and df != dc:
            found.append(f"the pair {fine.name} {coarse.name} carries two dates ({df.isoformat()} and "
                         f"{dc.isoformat()}); a pair's fine and coarse images should be of one date")
        pair_dates.append(df or dc)
        try:
            with rasterio.open(fine) as f, rasterio.open(coarse) as c:
                fine_px, coarse_px = abs(f.transform.a), abs(c.transform.a)
                same_grid = (f.width, f.height) == (c.width, c.height)
        except (OSError, rasterio.errors.RasterioError):
            continue  # unreadable: the reader's own error says what is wrong
        if not same_grid and fine_px > coarse_px:
            found.append(f"the FINE file {fine.name} has larger pixels ({fine_px:g}) than the COARSE file "
                         f"{coarse.name} ({coarse_px:g}); the pair's two files may be swapped (fine first)")
        elif same_grid and ratio and int(round(ratio)) > 1:
            r = int(round(ratio))
            if _blocky(fine, r) is True and _blocky(coarse, r) is False:
                found.append(f"the FINE file {fine.name} is constant in {r} x {r} blocks and the COARSE file "
                             f"{coarse.name} is not; the pair's two files may be swapped (fine first)")
    if target is not None:
        dt = parse_date(Path(target).name)
        if dt is not None and dt in pair_dates:
            found.append(f"the target {Path(target).name} has the date of a pair ({dt.isoformat()}); "
                         "the target should be a date without a fine image")
    for message in found:
        warnings.warn(message, InputWarning, stacklevel=2)
    return found
