"""UBDF parameters (unmixing-based data fusion; Zurita-Milla, Clevers & Schaepman 2008, IEEE GRSL
5(3):453-457; Zurita-Milla et al. 2009, RSE 113:1874-1885).

The paper optimises two parameters, the number of classes and the window size; it publishes no
universal default. The defaults here are a 3 x 3 coarse-pixel window (the HoucaiGuo Python
program and the STDFA/STRUM IDL programs use 3 x 3) and 4 classes (well below the 9 equations
of a 3 x 3 window, as STDFA's 3 and FSDAF's 4-6 ISODATA classes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidParameterError, UnknownParameterError


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class UbdfParams:
    """Parameters of `stfusion.methods.classical.ubdf`.

    - ``num_classes``: number of k-means clusters of the fine base image (ignored when a class
      map is given with ``classes=``).
    - ``window``: odd width of the moving window in coarse pixels (3 → 3 x 3). The window grows
      by one coarse pixel on each side while it has fewer valid coarse pixels than classes
      present, or lacks a class of its centre coarse pixel (up to ``max_window``).
    - ``max_window``: odd upper limit of the enlarged window in coarse pixels; None lets it grow
      to the whole image.
    - ``scale_factor``: integer size of a coarse pixel in fine pixels; None → ``round(task.ratio)``.
    - ``add_residual``: add the fine base image's within-class residual, fine minus its class's
      base-date value in the same window (True, default), or return the class values alone (the
      paper's UBDF, False).
    - ``residual_base``: how the base-date class value is obtained: "unmixed" (default) unmixes
      the base-date coarse image in the same window with the same fractions, so the prediction
      is ``F1 + r2 - r1`` (the STDFA form); "fine" takes the mean of the fine base pixels of the
      class in the window.
    - ``lower``, ``upper``: bounds of the class values; None → each band's data range (minimum
      and maximum over the valid pixels of the base pair and the target).
    - ``seed``: seed of the k-means++ initialisation; ``max_iter``: k-means iteration limit.
    """

    num_classes: int = 4
    window: int = 3
    max_window: int | None = None
    scale_factor: int | None = None
    add_residual: bool = True
    residual_base: Literal["unmixed", "fine"] = "unmixed"
    lower: float | None = None
    upper: float | None = None
    seed: int = 0
    max_iter: int = 100

    def __post_init__(self) -> None:
        if not _is_int(self.num_classes) or self.num_classes < 1:
            raise InvalidParameterError(
                f"ubdf: num_classes must be a positive integer, got {self.num_classes!r} (default 4)"
            )
        if not _is_int(self.window) or self.window < 1 or self.window % 2 == 0:
            raise InvalidParameterError(
                f"ubdf: window must be an odd positive number of coarse pixels, got {self.window!r} (default 3)"
            )
        if self.max_window is not None and (
            not _is_int(self.max_window) or self.max_window % 2 == 0 or self.max_window < self.window
        ):
            raise InvalidParameterError(
                f"ubdf: max_window must be None or an odd number of coarse pixels >= window ({self.window}), "
                f"got {self.max_window!r}"
            )
        if self.scale_factor is not None and (not _is_int(self.scale_factor) or self.scale_factor < 1):
            raise InvalidParameterError(
                f"ubdf: scale_factor must be None or a positive integer (fine pixels per coarse pixel), "
                f"got {self.scale_factor!r}"
            )
        if not isinstance(self.add_residual, bool):
            raise InvalidParameterError(f"ubdf: add_residual must be true or false, got {self.add_residual!r}")
        if self.residual_base not in ("unmixed", "fine"):
            raise UnknownParameterError(
                f"ubdf: residual_base must be 'unmixed' or 'fine', got {self.residual_base!r}"
            )
        for name in ("lower", "upper"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or value != value or abs(value) == float("inf")):
                raise InvalidParameterError(f"ubdf: {name} must be None or a finite number, got {value!r}")
        if self.lower is not None and self.upper is not None and not self.lower < self.upper:
            raise InvalidParameterError(
                f"ubdf: lower ({self.lower!r}) must be below upper ({self.upper!r}); for reflectance use 0 and 1"
            )
        if not _is_int(self.seed) or self.seed < 0:
            raise InvalidParameterError(f"ubdf: seed must be a non-negative integer, got {self.seed!r}")
        if not _is_int(self.max_iter) or self.max_iter < 1:
            raise InvalidParameterError(
                f"ubdf: max_iter must be a positive integer number of k-means iterations, got {self.max_iter!r}"
            )


def ubdf_halo(params: UbdfParams, resolution: float | None) -> int:
    """0: every window operation (fractions, unmixing) runs once on the coarse grid in ``stats``;
    a block only looks up its pixels' class values, so it needs no neighbours."""
    return 0
