"""STARFM parameters (Gao et al. 2006; defaults of the USDA C program v1.2.1)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class StarfmParams:
    """``search_distance`` in metres (window half-width = search_distance / pixel size)."""

    search_distance: float = 750.0
    num_slice_pure_test: int = 40
    fine_uncertainty: float = 0.005
    coarse_uncertainty: float = 0.005
    use_spatial: bool = True
    resolution: float | None = None


def starfm_halo(params: StarfmParams, resolution: float | None) -> int:
    """Half-width of the moving window in fine pixels."""
    res = params.resolution or resolution or 30.0
    return int(math.floor(params.search_distance / res))
