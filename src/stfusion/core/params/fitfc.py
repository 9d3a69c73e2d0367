"""Fit-FC parameters (Wang & Atkinson 2018, RSE 204:31-42; defaults of Q. Wang's MATLAB program Fit-FC_M).

The program asks the user for the regression-window radius (its comment gives ``W = 1``, a 3 x 3
window of coarse pixels, as the example); the spatial filter uses ``w0 = 20`` (41 x 41 fine pixels)
and ``N_S = 20`` similar pixels. Similar pixels are selected on all bands, as in the paper (the
program uses red and NIR only: ``similarity_bands`` reproduces that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidParameterError, UnknownParameterError


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_bands(value: object) -> tuple[int, ...] | None:
    """``None``, a sequence of band indices, or a comma-separated string such as ``"2,3"`` (from the CLI)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().strip("()[]")
        if text.lower() in ("", "none", "all"):
            return None
        try:
            return tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise InvalidParameterError(
                f"fitfc: similarity_bands={value!r} is not a list of band indices; give e.g. similarity_bands=2,3"
            ) from None
    try:
        bands = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidParameterError(
            f"fitfc: similarity_bands must be None or a sequence of band indices, got {value!r}"
        ) from None
    if not all(_is_int(b) for b in bands):
        raise InvalidParameterError(f"fitfc: similarity_bands must hold integer band indices, got {value!r}")
    return bands


@dataclass(frozen=True)
class FitfcParams:
    """Parameters of `stfusion.methods.classical.fitfc`.

    - ``rm_radius``: radius W of the regression window in coarse pixels ((2W+1)² coarse pixels;
      1 → 3 x 3, the program's example).
    - ``half_window``: half-width w0 of the spatial-filter window in fine pixels (20 → 41 x 41).
    - ``num_similar``: number N_S of similar pixels per window, the centre included (20).
    - ``similarity_bands``: band indices (0-based) on which similar pixels are chosen; None = all
      bands (paper). The program uses red and NIR only, e.g. ``(2, 3)`` for blue, green, red, NIR.
    - ``filtering``: "change" filters the predicted change and adds it to the fine image,
      F1 + SF(F_RM + r - F1), so an unchanged coarse image gives the fine image back; "prediction"
      filters the prediction itself, SF(F_RM + r), as in the paper and the program.
    - ``scale_factor``: integer coarse/fine factor of the coarse-pixel blocks; None = round(ratio).
    """

    rm_radius: int = 1
    half_window: int = 20
    num_similar: int = 20
    similarity_bands: tuple[int, ...] | None = None
    filtering: Literal["change", "prediction"] = "change"
    scale_factor: int | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.rm_radius) or self.rm_radius < 0:
            raise InvalidParameterError(
                f"fitfc: rm_radius must be an integer >= 0 (coarse pixels; 1 = 3x3 window), got {self.rm_radius!r}"
            )
        if not _is_int(self.half_window) or self.half_window < 1:
            raise InvalidParameterError(
                f"fitfc: half_window must be a positive integer number of fine pixels, got {self.half_window!r} "
                "(default 20)"
            )
        if not _is_int(self.num_similar) or self.num_similar < 1:
            raise InvalidParameterError(
                f"fitfc: num_similar must be a positive integer, got {self.num_similar!r} (default 20)"
            )
        if self.num_similar > (2 * self.half_window + 1) ** 2:
            raise InvalidParameterError(
                f"fitfc: num_similar={self.num_similar} exceeds the {(2 * self.half_window + 1) ** 2} pixels of the "
                f"{2 * self.half_window + 1}x{2 * self.half_window + 1} window; lower it or raise half_window"
            )
        bands = _parse_bands(self.similarity_bands)
        if bands is not None:
            if not bands:
                raise InvalidParameterError("fitfc: similarity_bands is empty; give band indices or None (all bands)")
            if min(bands) < 0 or len(set(bands)) != len(bands):
                raise InvalidParameterError(
                    f"fitfc: similarity_bands must be distinct 0-based band indices, got {bands!r}"
                )
        object.__setattr__(self, "similarity_bands", bands)
        if self.filtering not in ("change", "prediction"):
            raise UnknownParameterError(
                f"fitfc: filtering must be 'change' or 'prediction', got {self.filtering!r}"
            )
        if self.scale_factor is not None and (not _is_int(self.scale_factor) or self.scale_factor < 1):
            raise InvalidParameterError(
                f"fitfc: scale_factor must be a positive integer or None (round(ratio)), got {self.scale_factor!r}"
            )


def fitfc_halo(params: FitfcParams, resolution: float | None) -> int:
    """Half-width of the spatial-filter window in fine pixels (the regression and the residual
    interpolation are image-wide statistics, indexed by scene position)."""
    return int(params.half_window)
