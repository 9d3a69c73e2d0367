"""Fusion tasks, validated once at construction: `Pair`, `FusionTask` (STF) and `STSFTask` (STSF)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Sequence

from .errors import (
    BandMismatchError,
    CRSMismatchError,
    DateError,
    ExtentMismatchError,
    RatioError,
    ShapeMismatchError,
)
from .grid import covers, grid_ratio, normalise_crs, pixel_size, same_grid
from .scene import IDENTITY, Scene


def check_compatible(a: Scene, b: Scene, *, what: str) -> None:
    """Raise a typed error if ``a`` and ``b`` differ in band count, band names or CRS."""
    if a.count != b.count:
        raise BandMismatchError(
            f"{what}: image {a.label} has {a.count} bands but image {b.label} has {b.count}; give images with the same bands in the same order"
        )
    if a.bands is not None and b.bands is not None and a.bands != b.bands:
        raise BandMismatchError(
            f"{what}: band names differ ({', '.join(a.bands)} vs {', '.join(b.bands)}); reorder or select bands so they match"
        )
    ca, cb = normalise_crs(a.crs), normalise_crs(b.crs)
    if ca is not None and cb is not None and ca != cb:
        raise CRSMismatchError(
            f"{what}: CRS differs ({a.crs} vs {b.crs}); reproject one image to the other's CRS (e.g. gdalwarp -t_srs)"
        )


def check_same_grid(a: Scene, b: Scene, *, what: str) -> None:
    """Raise a typed error unless ``a`` and ``b`` are on the same pixel grid."""
    check_compatible(a, b, what=what)
    if a.shape[1:] != b.shape[1:]:
        raise ShapeMismatchError(
            f"{what}: image {a.label} is {a.height}x{a.width} pixels but image {b.label} is {b.height}x{b.width}; "
            "crop or resample them to the same grid"
        )
    if not same_grid(a, b):
        raise ExtentMismatchError(
            f"{what}: images {a.label} and {b.label} have the same size but different transforms "
            f"({a.transform} vs {b.transform}); resample one onto the other's grid"
        )


def _coarse_relation(fine: Scene, coarse: Scene, what: str) -> float | None:
    """The ratio implied by the grids: None when coarse is on the fine grid, else the inferred ratio."""
    check_compatible(fine, coarse, what=what)
    if coarse.shape[1:] == fine.shape[1:]:
        if not same_grid(fine, coarse) and coarse.transform != IDENTITY and fine.transform != IDENTITY:
            raise ExtentMismatchError(
                f"{what}: images {fine.label} and {coarse.label} have the same size but different transforms; "
                "resample the coarse image onto the fine grid"
            )
        return None
    if IDENTITY in (fine.transform, coarse.transform):
        raise ShapeMismatchError(
            f"{what}: coarse image {coarse.label} is {coarse.height}x{coarse.width} pixels but fine image {fine.label} is "
            f"{fine.height}x{fine.width}, and without georeferencing a coarse image must be on the fine grid; "
            "resample it to the fine image's size (and pass ratio=R), or give georeferenced files"
        )
    ratio = grid_ratio(fine, coarse)
    if not covers(coarse, fine, tol=pixel_size(fine)[0]):
        raise ExtentMismatchError(
            f"{what}: coarse {coarse.label} (bounds {coarse.bounds}) does not cover fine {fine.label} "
            f"(bounds {fine.bounds}); crop the fine image or give a larger coarse image"
        )
    return ratio


@dataclass(frozen=True)
class Pair:
    """A fine and a coarse image of the same date."""

    fine: Scene
    coarse: Scene

    def __post_init__(self) -> None:
        f, c = self.fine.date, self.coarse.date
        if f is not None and c is not None and f != c:
            raise DateError(
                f"pair dates differ: fine {f.isoformat()} vs coarse {c.isoformat()}; pair images of the same date"
            )

    @property
    def date(self) -> _dt.date | None:
        return self.fine.date or self.coarse.date


def _resolve_ratio(given: float | None, inferred: list[float], what: str) -> float | None:
    for r in inferred[1:]:
        if abs(r - inferred[0]) > 1e-3 * inferred[0]:
            raise RatioError(f"{what}: coarse images have different pixel sizes (ratios {inferred}); resample them to one grid")
    if inferred:
        if given is not None and abs(given - inferred[0]) > 1e-3 * inferred[0]:
            raise RatioError(
                f"{what}: ratio={given:g} contradicts the ratio {inferred[0]:g} implied by the coarse grid; drop ratio=R"
            )
        return inferred[0]
    if given is not None and not given >= 1:
        raise RatioError(f"{what}: ratio must be the coarse/fine pixel-size ratio (>= 1), got {given:g}")
    return given


@dataclass(frozen=True)
class FusionTask:
    """The STF task: pairs at base dates and the coarse image at the target date.

    Coarse images are either on the fine grid (give ``ratio``, the native coarse/fine
    pixel-size ratio, when a method needs it) or on their own coarser grid (the ratio is
    inferred from the transforms; align them with `stfusion.io.align_to_fine` before running
    a method that needs them on the fine grid).
    """

    pairs: tuple[Pair, ...]
    target: Scene
    ratio: float | None = None
    coarse_on_fine_grid: bool = field(init=False, default=True)

    def __init__(self, pairs: Sequence[Pair], target: Scene, ratio: float | None = None) -> None:
        pairs = tuple(pairs)
        if not pairs:
            raise ShapeMismatchError("a fusion task needs at least one fine/coarse pair; give Pair(fine, coarse)")
        fine0 = pairs[0].fine
        inferred: list[float] = []
        on_fine = []
        for i, p in enumerate(pairs):
            if i:
                check_same_grid(fine0, p.fine, what=f"pair {i + 1} fine image")
            r = _coarse_relation(fine0, p.coarse, what=f"pair {i + 1}")
            on_fine.append(r is None)
            if r is not None:
                inferred.append(r)
        r = _coarse_relation(fine0, target, what="target coarse image")
        on_fine.append(r is None)
        if r is not None:
            inferred.append(r)
        if len(set(on_fine)) > 1:
            raise ShapeMismatchError(
                "some coarse images are on the fine grid and some on their own grid; give them all on one grid"
            )
        ratio = _resolve_ratio(ratio, inferred, "fusion task")
        dates = [p.date for p in pairs if p.date is not None]
        if len(set(dates)) != len(dates):
            raise DateError("two pairs have the same date; give one pair per base date")
        object.__setattr__(self, "pairs", pairs)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "ratio", None if ratio is None else float(ratio))
        object.__setattr__(self, "coarse_on_fine_grid", on_fine[0])

    @property
    def fine_grid(self) -> Scene:
        """The first pair's fine scene: every output is on its grid."""
        return self.pairs[0].fine

    def require_ratio(self, method: str) -> float:
        """The ratio, or a `RatioError` saying how to give it."""
        if self.ratio is None:
            raise RatioError(
                f"{method} needs the coarse/fine pixel-size ratio; pass ratio=R (e.g. 16 for 480 m MODIS on 30 m Landsat)"
            )
        return self.ratio

    def require_fine_grid(self, method: str) -> None:
        """Raise unless the coarse images are on the fine grid."""
        if not self.coarse_on_fine_grid:
            raise ShapeMismatchError(
                f"{method} needs the coarse images on the fine grid; align them first with stfusion.io.align_to_fine"
            )


@dataclass(frozen=True)
class STSFTask:
    """The STSF task: a coarse hyperspectral image ``hs`` and a fine multispectral image ``ms`` of the same
    date, and optionally the fine multispectral image ``ms_target`` at the prediction date.

    ``srf`` is the (ms_bands, hs_bands) spectral response matrix when known.
    """

    hs: Scene
    ms: Scene
    ms_target: Scene | None = None
    ratio: float | None = None
    srf: object | None = None

    def __post_init__(self) -> None:
        hs, ms = self.hs, self.ms
        if hs.date is not None and ms.date is not None and hs.date != ms.date:
            raise DateError(
                f"hs ({hs.date.isoformat()}) and ms ({ms.date.isoformat()}) dates differ; give the MS image of the HS date"
            )
        cm, ch = normalise_crs(ms.crs), normalise_crs(hs.crs)
        if cm is not None and ch is not None and cm != ch:
            raise CRSMismatchError(f"hs CRS {hs.crs} differs from ms CRS {ms.crs}; reproject one of them")
        if hs.count <= ms.count:
            raise BandMismatchError(
                f"the hyperspectral image has {hs.count} bands, not more than the multispectral image's {ms.count}; swap hs and ms"
            )
        if self.ms_target is not None:
            check_same_grid(ms, self.ms_target, what="ms_target")
        if hs.shape[1:] == ms.shape[1:]:
            ratio = _resolve_ratio(self.ratio, [], "stsf task")
        else:
            if hs.transform != IDENTITY and ms.transform != IDENTITY:
                inferred = [grid_ratio(ms, hs)]
            else:
                rr, rc = ms.height / hs.height, ms.width / hs.width
                if abs(rr - rc) > 1e-9 or rr != int(rr):
                    raise RatioError(
                        f"ms ({ms.height}x{ms.width}) is not an integer multiple of hs ({hs.height}x{hs.width}); crop them"
                    )
                inferred = [rr]
            ratio = _resolve_ratio(self.ratio, inferred, "stsf task")
        if self.srf is not None:
            shape = getattr(self.srf, "shape", None)
            if shape != (ms.count, hs.count):
                raise ShapeMismatchError(
                    f"srf has shape {shape}; expected (ms bands, hs bands) = {(ms.count, hs.count)}"
                )
        object.__setattr__(self, "ratio", ratio)
