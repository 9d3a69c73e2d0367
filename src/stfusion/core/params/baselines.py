"""Parameters of every registered method: frozen dataclasses whose defaults are the papers' defaults.

They live in `core` so the registry (and `stfusion methods`) can show them without importing
any algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoChangeParams:
    """`nochange`: the fine image of the base date nearest the target date (no parameters)."""


@dataclass(frozen=True)
class DeltaParams:
    """`delta`: fine + (coarse_target - coarse_base), pairs weighted by inverse time distance.

    ``power``: exponent of the inverse distance in days (0 = equal weights).
    """

    power: float = 1.0
