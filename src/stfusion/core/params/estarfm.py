"""ESTARFM parameters (Zhu et al. 2010; defaults of X. Zhu's IDL program, 2018)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EstarfmParams:
    """``half_window`` in fine pixels, ``num_classes`` for the similar-pixel threshold."""

    half_window: int = 25
    num_classes: int = 4


def estarfm_halo(params: EstarfmParams, resolution: float | None) -> int:
    """Half-width of the moving window in fine pixels."""
    return int(params.half_window)
