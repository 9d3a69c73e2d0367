"""Maps of several grids (TESSERA's tiles in several UTM zones, Feng et al. 2025) handled as one:
laid side by side on one canvas, NaN (no data) where no map is, so that one head is trained and
one PCA fitted on all of them; `split` cuts a result on the canvas back into the maps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def side_by_side(maps: Sequence[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, slice]]]:
    """One (max rows, sum of cols, ...) float array of ``maps`` (rows, cols, ...) left to right,
    and each map's (rows, column slice) on it."""
    dtype = np.result_type(np.float32, *(m.dtype for m in maps))
    if len(maps) == 1:
        return np.asarray(maps[0], dtype), [(maps[0].shape[0], slice(0, maps[0].shape[1]))]
    rows = max(m.shape[0] for m in maps)
    cols = sum(m.shape[1] for m in maps)
    out = np.full((rows, cols, *maps[0].shape[2:]), np.nan, dtype)
    places, c = [], 0
    for m in maps:
        out[:m.shape[0], c:c + m.shape[1]] = m
        places.append((m.shape[0], slice(c, c + m.shape[1])))
        c += m.shape[1]
    return out, places


def split(canvas: np.ndarray, places: list[tuple[int, slice]]) -> list[np.ndarray]:
    """The maps of ``places`` cut out of ``canvas``."""
    return [canvas[:rows, cols] for rows, cols in places]
