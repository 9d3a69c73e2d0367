"""FSDAF parameters (Zhu et al. 2016, RSE 172:165-177; defaults of X. Zhu's IDL program FSDAF.pro).

Reflectance is in physical units, so the program's ``DN_min = 0`` / ``DN_max = 10000`` become
``data_min = 0.0`` / ``data_max = 1.0``; its ISODATA thresholds of ``0.05·DN_max`` (merge
distance, split standard deviation) become ``0.05·data_max``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidParameterError


def _positive_int(name: str, value: object, hint: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidParameterError(f"fsdaf: {name} must be a positive integer, got {value!r} ({hint})")


@dataclass(frozen=True)
class FsdafParams:
    """Parameters of `stfusion.methods.classical.fsdaf`.

    - ``half_window``: half-width in fine pixels of the window of the homogeneity index and of
      the final similar-pixel weighting (the program's ``w = 20`` → 41 x 41).
    - ``num_similar``: similar pixels kept per window (the program's ``num_similar_pixel``).
    - ``min_classes``, ``max_classes``: range of the ISODATA classification of the fine base
      image (ignored when a class map is given).
    - ``isodata_iterations``, ``isodata_min_pixels``: ISODATA iterations and minimum pixels per class.
    - ``num_pure``: purest coarse pixels per class used to unmix the class changes.
    - ``quantile_low``, ``quantile_high``: coarse changes of these purest pixels outside these
      quantiles are dropped (land-cover change); the program notes 0.25 / 0.75 for large changes.
    - ``data_min``, ``data_max``: valid data range (reflectance); bounds the predictions.
    - ``scale_factor``: coarse/fine pixel-size ratio as an integer (the program's
      ``scale_factor``); None uses ``round(task.ratio)``.
    """

    half_window: int = 20
    num_similar: int = 20
    min_classes: int = 4
    max_classes: int = 6
    isodata_iterations: int = 20
    isodata_min_pixels: int = 200
    num_pure: int = 100
    quantile_low: float = 0.1
    quantile_high: float = 0.9
    data_min: float = 0.0
    data_max: float = 1.0
    scale_factor: int | None = None

    def __post_init__(self) -> None:
        _positive_int("half_window", self.half_window, "fine pixels; default 20")
        _positive_int("num_similar", self.num_similar, "default 20")
        _positive_int("min_classes", self.min_classes, "default 4")
        _positive_int("max_classes", self.max_classes, "default 6")
        if self.min_classes > self.max_classes:
            raise InvalidParameterError(
                f"fsdaf: min_classes ({self.min_classes}) must not exceed max_classes ({self.max_classes}); "
                "the program uses 4 and 6"
            )
        _positive_int("isodata_iterations", self.isodata_iterations, "default 20")
        _positive_int("isodata_min_pixels", self.isodata_min_pixels, "default 200")
        _positive_int("num_pure", self.num_pure, "purest coarse pixels per class; default 100")
        if not (0.0 <= self.quantile_low < self.quantile_high <= 1.0):
            raise InvalidParameterError(
                f"fsdaf: need 0 <= quantile_low < quantile_high <= 1, got {self.quantile_low!r} and "
                f"{self.quantile_high!r} (default 0.1 and 0.9)"
            )
        if not self.data_min < self.data_max:
            raise InvalidParameterError(
                f"fsdaf: data_min ({self.data_min!r}) must be below data_max ({self.data_max!r}); "
                "for reflectance use 0 and 1"
            )
        if self.scale_factor is not None and (
            not isinstance(self.scale_factor, int) or isinstance(self.scale_factor, bool) or self.scale_factor < 2
        ):
            raise InvalidParameterError(
                f"fsdaf: scale_factor must be an integer >= 2 (coarse/fine pixel-size ratio, e.g. 16) or None, "
                f"got {self.scale_factor!r}"
            )


def fsdaf_halo(params: FsdafParams, resolution: float | None) -> int:
    """Half-width of the final weighting window in fine pixels (everything else is image-wide)."""
    return int(params.half_window)
