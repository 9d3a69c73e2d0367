"""ESTARFM parameters (Zhu et al. 2010, RSE 114:2610-2623; defaults of X. Zhu's IDL program, 2018).

Reflectance is in physical units, so the program's ``DN_min = 0`` / ``DN_max = 10000`` become
``data_min = 0.0`` / ``data_max = 1.0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidParameterError, UnknownParameterError


@dataclass(frozen=True)
class EstarfmParams:
    """Parameters of `stfusion.methods.classical.estarfm`.

    - ``half_window``: half-width of the moving window in fine pixels (25 → 51 x 51).
    - ``num_classes``: estimated number of classes; similar-pixel threshold = 2·std/num_classes.
    - ``data_min``, ``data_max``: valid data range (reflectance). Predictions outside it are
      revised; ``0.02·data_max`` is the coarse change needed to fit a conversion coefficient.
    - ``num_similar``: keep only the N most similar pixels (ESTARFM_FAST.pro uses 20);
      None keeps every similar pixel (ESTARFM.pro).
    - ``stats_scope``: "image" (image-wide similar-pixel thresholds, tileable) or "block"
      (the program's thresholds and window truncation per ``patch_size`` block; in memory only).
    """

    half_window: int = 25
    num_classes: float = 4.0
    data_min: float = 0.0
    data_max: float = 1.0
    num_similar: int | None = None
    stats_scope: Literal["image", "block"] = "image"
    patch_size: int = 500

    def __post_init__(self) -> None:
        if not isinstance(self.half_window, int) or isinstance(self.half_window, bool) or self.half_window < 1:
            raise InvalidParameterError(
                f"estarfm: half_window must be a positive integer number of fine pixels, got {self.half_window!r}"
            )
        if not self.num_classes > 0:
            raise InvalidParameterError(f"estarfm: num_classes must be > 0, got {self.num_classes!r} (default 4)")
        if not self.data_min < self.data_max:
            raise InvalidParameterError(
                f"estarfm: data_min ({self.data_min!r}) must be below data_max ({self.data_max!r}); "
                "for reflectance use 0 and 1"
            )
        if self.num_similar is not None and (
            not isinstance(self.num_similar, int) or isinstance(self.num_similar, bool) or self.num_similar <= 5
        ):
            raise InvalidParameterError(
                f"estarfm: num_similar must be an integer > 5 or None, got {self.num_similar!r} "
                "(ESTARFM needs more than 5 similar pixels; the FAST program uses 20)"
            )
        if self.stats_scope not in ("image", "block"):
            raise UnknownParameterError(f"estarfm: stats_scope must be 'image' or 'block', got {self.stats_scope!r}")
        if not isinstance(self.patch_size, int) or isinstance(self.patch_size, bool) or self.patch_size < 1:
            raise InvalidParameterError(
                f"estarfm: patch_size must be a positive integer number of pixels, got {self.patch_size!r} (default 500)"
            )


def estarfm_halo(params: EstarfmParams, resolution: float | None) -> int:
    """Half-width of the moving window in fine pixels."""
    return int(params.half_window)
