"""Grid arithmetic on affine transforms: comparing grids, extents and pixel-size ratios. NumPy-free."""

from __future__ import annotations

import math
import re

from .scene import IDENTITY, Scene

_REL_TOL = 1e-6


_AUTHORITY = re.compile(r',\s*AUTHORITY\["[^"]*",\s*"[^"]*"\]')
_METRE = re.compile(r'UNIT\["(?:meter|metre|meters|metres)"', re.IGNORECASE)


def normalise_crs(crs: str | None) -> str | None:
    """A comparable CRS string (case and whitespace folded); None stays None.

    A local (engineering) CRS, as ENVI's "Arbitrary" map info gives, loses its AUTHORITY
    clauses and spells its unit "metre": GDAL writes ``UNIT["Meter",1]`` into ENVI headers but
    ``UNIT["metre",1,AUTHORITY["EPSG","9001"]]`` into GeoTIFFs, and both are the same CRS.
    """
    if crs is None:
        return None
    text = " ".join(str(crs).split())
    if text.upper().startswith("EPSG:"):
        return text.upper()
    if text.upper().startswith(("LOCAL_CS[", "ENGCRS[")):
        return _METRE.sub('UNIT["metre"', _AUTHORITY.sub("", text))
    return text


def pixel_size(scene: Scene) -> tuple[float, float]:
    """(x size, y size) of a pixel in map units, positive."""
    a, b, _, d, e, _ = scene.transform
    return (math.hypot(a, d), math.hypot(b, e))


def same_grid(a: Scene, b: Scene) -> bool:
    """True when both scenes have the same shape (rows, cols) and transform."""
    return a.shape[1:] == b.shape[1:] and all(
        math.isclose(x, y, rel_tol=_REL_TOL, abs_tol=1e-9) for x, y in zip(a.transform, b.transform)
    )


def grid_ratio(fine: Scene, coarse: Scene) -> float:
    """Coarse/fine pixel-size ratio inferred from the transforms (x and y must agree)."""
    from .errors import RatioError

    if fine.transform == IDENTITY or coarse.transform == IDENTITY:
        raise RatioError(
            f"cannot infer the coarse/fine ratio: scene {fine.label if fine.transform == IDENTITY else coarse.label} "
            "has no georeferencing; resample the coarse image to the fine grid and pass ratio=R"
        )
    fx, fy = pixel_size(fine)
    cx, cy = pixel_size(coarse)
    rx, ry = cx / fx, cy / fy
    if not math.isclose(rx, ry, rel_tol=1e-3):
        raise RatioError(
            f"coarse/fine pixel-size ratio differs in x ({rx:g}) and y ({ry:g}); resample the coarse image to square pixels"
        )
    if rx < 1 - 1e-6:
        raise RatioError(
            f"the 'coarse' image {coarse.label} has smaller pixels ({cx:g}) than the fine image ({fx:g}); swap them"
        )
    return rx


def covers(outer: Scene, inner: Scene, tol: float) -> bool:
    """True when ``outer`` covers the bounds of ``inner`` to within ``tol`` map units."""
    ol, ob, or_, ot = outer.bounds
    il, ib, ir, it = inner.bounds
    return ol <= il + tol and ob <= ib + tol and or_ >= ir - tol and ot >= it - tol
