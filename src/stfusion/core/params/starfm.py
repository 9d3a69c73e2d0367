"""STARFM parameters (Gao et al. 2006; defaults of the USDA C program v1.2.1 as run in practice).

Reflectance-valued parameters are in physical units (0-1); ``scale_factor`` (the program's
SCALE_FACTOR, 10000) converts them to the program's integer DN where a rule needs DN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidParameterError, MissingInputError


@dataclass(frozen=True)
class StarfmParams:
    """Parameters of `stfusion.methods.classical.starfm` (C program keyword in brackets).

    - ``search_distance``: metres [MAX_SEARCH_DISTANCE]; window half-width = search_distance /
      pixel size, and the distance weight is D = 1 + d / search_distance.
    - ``num_slice_pure_test`` [NUM_SLICE_PURE_TEST]: similar-pixel threshold = 2 std / this.
    - ``fine_uncertainty``, ``coarse_uncertainty``: reflectance [LANDSAT/MODIS_UNCERTAINTY / scale].
    - ``use_spatial`` [USE_SPATIAL_FLAG]: search the window (False: the centre pixel only).
    - ``resolution``: fine pixel size in metres; overrides the scene's (needed when it has none).
    - ``weighting``: "program" ((S+1)(T+1)D with the uncertainty shortcut) or "logistic" (Eq. 11).
    - ``filter_rule``: "program" (reject a candidate failing both Eq. 15 and 16, minimum over
      pairs) or "paper" (require both, maximum over pairs).
    - ``copy_on_zero_diff``: the paper's zero-difference rule; None = on, except with compat="gao".
    - ``valid_min``, ``valid_max``: reflectance data range [LANDSAT/MODIS_DATA_RANGE]; None = no test.
    - ``scale_factor`` [SCALE_FACTOR]: DN per unit reflectance (the "+1" of (S+1) is one DN).
    - ``compat``: "none" (float reflectance) or "gao" (the C program's integer DN arithmetic).
    """

    search_distance: float = 750.0
    num_slice_pure_test: int = 40
    fine_uncertainty: float = 0.005
    coarse_uncertainty: float = 0.005
    use_spatial: bool = True
    resolution: float | None = None
    weighting: Literal["program", "logistic"] = "program"
    filter_rule: Literal["program", "paper"] = "program"
    copy_on_zero_diff: bool | None = None
    valid_min: float | None = None
    valid_max: float | None = None
    scale_factor: float = 10000.0
    compat: Literal["none", "gao"] = "none"


def starfm_resolution(params: StarfmParams, resolution: float | None) -> float:
    """The fine pixel size in metres: ``params.resolution``, else the scene's, else an error."""
    res = params.resolution if params.resolution is not None else resolution
    if res is None:
        raise MissingInputError(
            "starfm needs the fine pixel size to turn search_distance into a window, and the scene has no "
            "georeferencing; pass resolution=METRES (e.g. resolution=30)"
        )
    if not (math.isfinite(res) and res > 0):
        raise InvalidParameterError(f"starfm: resolution must be a positive number of metres, got {res:g}")
    return float(res)


def starfm_window(params: StarfmParams, resolution: float | None) -> tuple[int, int]:
    """The window's first and last offset in pixels along each axis, centre = 0.

    Default: the symmetric (2h+1)-pixel window, h = floor(search_distance / pixel size).
    ``compat="gao"``: the program's ``W = (int)(2 * MAX_SEARCH_DISTANCE / RESOLUTION)`` pixels
    with offsets -W/2 .. W-1-W/2 (asymmetric when W is even, e.g. -25 .. 24 for 750 m at 30 m).
    """
    if not params.use_spatial:
        return 0, 0
    res = starfm_resolution(params, resolution)
    if not (math.isfinite(params.search_distance) and params.search_distance >= res):
        raise InvalidParameterError(
            f"starfm: search_distance must be at least the pixel size ({res:g} m), got {params.search_distance:g}; "
            "give e.g. search_distance=750"
        )
    if params.compat == "gao":
        size = int(2 * int(params.search_distance) / res + 1e-9)
        return -(size // 2), size - 1 - size // 2
    half = int(params.search_distance / res + 1e-9)
    return -half, half


def starfm_halo(params: StarfmParams, resolution: float | None) -> int:
    """Pixels a block needs on each side: the window's larger half-width."""
    lo, hi = starfm_window(params, resolution)
    return max(-lo, hi)
