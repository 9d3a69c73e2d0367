"""What every product reader shares: the `Product` description and reading its layers onto one grid."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stfusion.core.errors import BandMismatchError, FileFormatError
from stfusion.core.scene import RasterEncoding, Scene

from ..read import DEFAULT_INT_SCALE, _crs_string, open_raster

FUSION_BANDS = ("blue", "green", "red", "nir", "swir1", "swir2")
"""The bands read by default: those of this list a product has, in this order, so that fine and
coarse products (Landsat, Sentinel-2, HLS, MODIS) come out with the same bands."""


@dataclass(frozen=True)
class Layer:
    """One band of a product: band ``band`` of the GDAL dataset ``source`` (a file or an HDF
    subdataset) stored in ``file``; ``physical = stored * scale + offset``, ``fill`` marks no data.
    ``scale=None`` takes the file's scale/offset tags (1e-4 for untagged integers)."""

    source: str
    file: Path
    scale: float | None = None
    offset: float = 0.0
    fill: float | None = None
    band: int = 1


@dataclass(frozen=True)
class QALayer:
    """A quality layer: ``invalid(stored values)`` is True where the pixel is unusable (cloud,
    shadow, snow, fill). ``for_band`` set: it applies only when that band is read (MCD43A4)."""

    source: str
    file: Path
    invalid: Callable[[np.ndarray], np.ndarray]
    for_band: str | None = None


@dataclass(frozen=True)
class Product:
    """A downloaded product: its ``kind`` (e.g. "Landsat C2 L2"), product ID, the folder or file
    that identifies it, its date, its bands by common name (product band order) and QA layers."""

    kind: str
    id: str
    path: Path
    date: _dt.date | None
    layers: Mapping[str, Layer]
    qa: tuple[QALayer, ...]
    hint: str
    """How to get a complete product, for the missing-file message."""


def any_bits(bits: Sequence[int]) -> Callable[[np.ndarray], np.ndarray]:
    """A QA rule: invalid where any of ``bits`` is set."""
    flag = sum(1 << b for b in bits)
    return lambda qa: (qa.astype(np.int64) & flag) != 0


def by_name(folder: Path) -> dict[str, Path]:
    """The files of ``folder`` by lower-case name (products are spelled .TIF or .tif)."""
    try:
        return {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    except OSError:
        return {}


def _check_files(product: Product, layers: Sequence[Layer], qa: Sequence[QALayer]) -> None:
    for item in [*layers, *qa]:
        if not item.file.is_file():
            raise FileFormatError(
                f"{product.kind} product {product.id} lacks {item.file.name} in {item.file.parent}; {product.hint}"
            )


def _open_meta(layer: Layer | QALayer) -> dict[str, Any]:
    with open_raster(layer.source) as src:  # type: ignore[arg-type]
        band = layer.band if isinstance(layer, Layer) else 1
        if not 1 <= band <= src.count:
            raise FileFormatError(f"{layer.file} has {src.count} band(s), not band {band}; re-export the product")
        return {
            "transform": tuple(src.transform)[:6], "crs": _crs_string(src), "shape": (src.height, src.width),
            "dtype": str(src.dtypes[band - 1]), "scale": src.scales[band - 1], "offset": src.offsets[band - 1],
            "nodata": src.nodata,
        }


def _bounds(meta: Mapping[str, Any]) -> tuple[float, float, float, float]:
    a, _, c, _, e, f = meta["transform"]
    rows, cols = meta["shape"]
    return (c, f + e * rows, c + a * cols, f)


def _read_on(layer: Layer | QALayer, meta: Mapping[str, Any], ref: Mapping[str, Any], ref_file: Path) -> np.ndarray:
    """The stored values of ``layer`` on the reference grid: as they are, or each pixel repeated when
    its pixels are a whole multiple of the reference's over the same area (Sentinel-2 20 m on 10 m)."""
    with open_raster(layer.source) as src:  # type: ignore[arg-type]
        stored = src.read(layer.band if isinstance(layer, Layer) else 1)
    size = abs(ref["transform"][0])
    same_area = all(math.isclose(x, y, abs_tol=1e-3 * size) for x, y in zip(_bounds(meta), _bounds(ref)))
    factors = [r / s for r, s in zip(ref["shape"], stored.shape)]
    if meta["crs"] != ref["crs"] or not same_area or any(f != int(f) for f in factors):
        raise FileFormatError(
            f"{layer.file.name} (CRS {meta['crs']}, bounds {_bounds(meta)}) is not on the grid of {ref_file.name} "
            f"(CRS {ref['crs']}, bounds {_bounds(ref)}); the file is damaged or of another product: download it again"
        )
    return np.repeat(np.repeat(stored, int(factors[0]), axis=0), int(factors[1]), axis=1)


def _scale_of(layer: Layer, meta: Mapping[str, Any]) -> tuple[float, float]:
    if layer.scale is not None:
        return layer.scale, layer.offset
    if meta["scale"] != 1.0 or meta["offset"] != 0.0:
        return float(meta["scale"]), float(meta["offset"])
    return (DEFAULT_INT_SCALE if np.dtype(meta["dtype"]).kind in "iu" else 1.0), 0.0


def read_product(
    product: Product, *, bands: Sequence[str] | None = None, date: _dt.date | None = None, name: str | None = None
) -> Scene:
    """Read ``product`` as a `Scene`: the ``bands`` (common names; default the `FUSION_BANDS` it
    has) in physical reflectance on the grid of its finest band, invalid where a band holds its
    fill value or a QA layer flags the pixel. Coarser bands and QA layers of the same area are
    repeated onto the finest grid (nearest neighbour)."""
    names = tuple(bands) if bands is not None else tuple(b for b in FUSION_BANDS if b in product.layers)
    unknown = [b for b in names if b not in product.layers]
    if unknown or not names:
        raise BandMismatchError(
            f"{product.kind} product {product.id} has no band {unknown[0] if unknown else '(none asked)'}; "
            f"use some of: {', '.join(product.layers)}"
        )
    layers = [product.layers[b] for b in names]
    qa = [q for q in product.qa if q.for_band is None or q.for_band in names]
    _check_files(product, layers, qa)
    metas = [_open_meta(x) for x in layers]
    qa_metas = [_open_meta(q) for q in qa]
    finest = min(range(len(layers)), key=lambda i: abs(metas[i]["transform"][0]))
    ref, ref_file = metas[finest], layers[finest].file
    data = np.empty((len(layers), *ref["shape"]), dtype=np.float32)
    mask = np.ones(ref["shape"], dtype=bool)
    encodings = set()
    for i, (layer, meta) in enumerate(zip(layers, metas)):
        stored = _read_on(layer, meta, ref, ref_file)
        fill = layer.fill if layer.fill is not None else meta["nodata"]
        if stored.dtype.kind == "f":
            mask &= ~np.isnan(stored)
        if fill is not None and not np.isnan(fill):
            mask &= stored != fill
        scale, offset = _scale_of(layer, meta)
        band = stored.astype(np.float32)
        if scale != 1.0:
            band *= np.float32(scale)
        if offset != 0.0:
            band += np.float32(offset)
        data[i] = band
        encodings.add(RasterEncoding(meta["dtype"], scale, offset, None if fill is None else float(fill)))
    for q, meta in zip(qa, qa_metas):
        mask &= ~q.invalid(_read_on(q, meta, ref, ref_file))
    encoding = encodings.pop() if len(encodings) == 1 else RasterEncoding("float32", 1.0, 0.0, None)
    return Scene(
        data=data, mask=mask, transform=ref["transform"], crs=ref["crs"],
        date=date if date is not None else product.date, bands=names, resolution=abs(ref["transform"][0]),
        encoding=encoding, name=name if name is not None else product.id,
    )
