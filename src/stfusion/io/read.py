"""Reading GDAL rasters (GeoTIFF, ENVI, ...) into a `Scene` or a raw array."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import warnings
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioError

try:  # GDAL errors that rasterio raises without wrapping them (a corrupt GeoTIFF key, say)
    from rasterio._err import CPLE_BaseError
except ImportError:  # pragma: no cover - a rasterio without it raises RasterioError instead
    class CPLE_BaseError(Exception):  # type: ignore[no-redef]
        """Stand-in: never raised."""

from stfusion.core.errors import BandMismatchError, FileFormatError
from stfusion.core.grid import normalise_crs
from stfusion.core.scene import IDENTITY, RasterEncoding, Scene

from .bandnames import COMMON_NAMES, band_names, sensor_layout
from .dates import parse_date

DEFAULT_INT_SCALE = 1e-4
"""Integer reflectance is stored x10000 unless the file or the caller says otherwise."""

_RAW_DRIVERS = {"ENVI", "EHdr"}
GDAL_ERRORS = (RasterioError, CPLE_BaseError, OSError, UnicodeError)
"""What rasterio raises when GDAL cannot read or write a file (UnicodeError: undecodable metadata)."""
_FIRST_WORD = re.compile(r"[a-z0-9]+")


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """The raster's path (an ENVI ``.hdr`` is replaced by its data file), or `FileFormatError` if missing."""
    p = Path(path)
    if p.suffix.lower() == ".hdr" and p.with_suffix("").is_file():
        p = p.with_suffix("")
    if not p.is_file():
        raise FileFormatError(f"raster file not found: {p}; check the path")
    return p


@contextlib.contextmanager
def open_raster(path: Path) -> Iterator[Any]:
    """Open ``path`` with rasterio; GDAL failures (also while reading) become `FileFormatError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                yield src
    except GDAL_ERRORS as exc:
        raise FileFormatError(
            f"cannot read raster {path}: it is truncated or unreadable ({gdal_reason(exc)}); check or re-create the file"
        ) from exc


def gdal_reason(exc: BaseException) -> str:
    """The GDAL message of ``exc`` on one line; rasterio's "See previous exception" points at its cause."""
    reason = " ".join(str(exc).split())
    cause = exc.__cause__ or exc.__context__
    if "previous exception" in reason and cause is not None and str(cause).strip():
        reason = " ".join(str(cause).split())
    return reason or type(exc).__name__


def _header_int(value: Any, path: Path) -> int:
    """An integer ENVI header field (``header offset``), or `FileFormatError` naming the bad value."""
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        raise FileFormatError(
            f"ENVI header of {path} has 'header offset = {value}', not a whole number of bytes; fix its .hdr file"
        ) from None


def _check_raw_size(src: Any, path: Path) -> None:
    """GDAL pads a raw (ENVI/EHdr) file shorter than its header with zeros: refuse it instead."""
    if src.driver not in _RAW_DRIVERS:
        return
    offset = _header_int(src.tags(ns="ENVI").get("header_offset", 0), path) if src.driver == "ENVI" else 0
    itemsize = np.dtype(src.dtypes[0]).itemsize
    expected = offset + src.width * src.height * src.count * itemsize
    actual = path.stat().st_size
    if actual < expected:
        raise FileFormatError(
            f"raw raster {path} is truncated: {actual} bytes but its header describes {expected}; "
            "check the file or its .hdr (samples, lines, bands, data type)"
        )


def _band_indexes(src: Any, band_indexes: Sequence[int] | None) -> list[int]:
    if band_indexes is None:
        return [i for i in src.indexes if src.colorinterp[i - 1] != ColorInterp.alpha]
    idx = [int(i) for i in band_indexes]
    bad = [i for i in idx if not 1 <= i <= src.count]
    if bad or not idx:
        raise BandMismatchError(
            f"band indexes {bad or idx} are not in 1..{src.count} for {src.name}; give 1-based band numbers of the file"
        )
    return idx


def _crs_string(src: Any) -> str | None:
    """``"EPSG:xxxx"`` when the CRS has an EPSG code, else its WKT.

    A local (engineering) CRS, such as ENVI's ``map info = {Arbitrary, ...}``, is given in the
    canonical spelling of `normalise_crs` (no AUTHORITY clauses, unit "metre"): GDAL reads it as
    ``UNIT["Meter",1]`` from an ENVI header but as ``UNIT["metre",1,AUTHORITY[...]]`` from the
    GeoTIFF it writes, and a file and its round trip must carry the same CRS string.
    """
    if src.crs is None:
        return None
    epsg = src.crs.to_epsg()
    if epsg is not None:
        return f"EPSG:{epsg}"
    wkt = src.crs.to_wkt()
    return normalise_crs(wkt) if wkt.upper().startswith(("LOCAL_CS[", "ENGCRS[")) else wkt


def _common_name(description: str | None) -> str | None:
    """``'Blue'``, ``'blue(b1)'`` or ``'nir - band 4'`` -> the common name; None when it is not one."""
    if not description:
        return None
    text = description.strip().lower()
    if text in COMMON_NAMES:
        return text
    word = _FIRST_WORD.match(text)
    return word.group() if word and word.group() in COMMON_NAMES else None


def _wavelength(description: str | None) -> str | None:
    """A band description that is a number (a hyperspectral band's wavelength, e.g. ``'550.5'``), else None."""
    try:
        return f"{float(description):g}" if description and float(description) > 0 else None
    except ValueError:
        return None


def _names(
    src: Any, idx: list[int], bands: Sequence[str] | None, sensor: str | None
) -> tuple[str, ...] | None:
    if bands is not None:
        return tuple(bands)
    described = [_common_name(src.descriptions[i - 1]) for i in idx]
    if all(described) and len(set(described)) == len(described):
        return tuple(described)  # type: ignore[arg-type]
    wavelengths = [_wavelength(src.descriptions[i - 1]) for i in idx]
    if all(wavelengths):
        return tuple(wavelengths)  # type: ignore[arg-type]
    if sensor is not None:
        layout = sensor_layout(sensor, src.count)
        if layout is None:
            raise BandMismatchError(
                f"{src.name} has {src.count} bands, which is not a {sensor} band layout; "
                "pass bands=[...] with the band names or band_indexes=[...]"
            )
        return tuple(layout[i - 1] for i in idx)
    return None


def _scaling(
    src: Any, idx: list[int], scale: float | None, offset: float, nodata: float | None
) -> tuple[RasterEncoding, np.ndarray, np.ndarray]:
    """The encoding of the selected bands and their per-band (scale, offset), shaped (bands, 1, 1).

    Bands whose scale/offset tags differ cannot share one encoding: they get a float32 encoding.
    """
    dtype = str(src.dtypes[idx[0] - 1])
    if scale is None:
        scales = np.array([src.scales[i - 1] for i in idx], dtype=np.float64)[:, None, None]
        offsets = np.array([src.offsets[i - 1] for i in idx], dtype=np.float64)[:, None, None]
        if np.unique(scales).size > 1 or np.unique(offsets).size > 1:
            return RasterEncoding("float32", 1.0, 0.0, None), scales, offsets
        if scales.flat[0] != 1.0 or offsets.flat[0] != 0.0:
            return RasterEncoding(dtype, float(scales.flat[0]), float(offsets.flat[0]), nodata), scales, offsets
        scale = DEFAULT_INT_SCALE if np.dtype(dtype).kind in "iu" else 1.0
    enc = RasterEncoding(dtype, float(scale), float(offset), nodata)
    return enc, np.full((len(idx), 1, 1), enc.scale), np.full((len(idx), 1, 1), enc.offset)


def _valid_mask(src: Any, stored: np.ndarray, nodata: float | None) -> np.ndarray:
    """Valid where no band is nodata or NaN and the GDAL per-dataset or alpha mask is set.

    Infinities stay valid so that `Scene` reports them: they are damaged data, not a fill value.
    """
    if stored.dtype.kind == "f":
        mask = ~np.isnan(stored).any(axis=0)
    else:
        mask = np.ones(stored.shape[1:], dtype=bool)
    if nodata is not None and not np.isnan(nodata):
        mask &= ~(stored == nodata).any(axis=0)
    flags = {f for band_flags in src.mask_flag_enums for f in band_flags}
    if MaskFlags.per_dataset in flags or MaskFlags.alpha in flags:
        mask &= src.dataset_mask() > 0
    return mask


def read_scene(
    path: str | os.PathLike[str],
    *,
    date: _dt.date | None = None,
    scale: float | None = None,
    offset: float = 0.0,
    nodata: float | None = None,
    bands: Sequence[str] | None = None,
    sensor: str | None = None,
    band_indexes: Sequence[int] | None = None,
    name: str | None = None,
) -> Scene:
    """Read a raster as reflectance: ``physical = stored * scale + offset`` in float32.

    ``scale=None`` takes the file's scale/offset tags, else 1e-4 for integers and 1 for floats.
    Nodata (the file's or ``nodata``), NaN and the GDAL dataset mask make a pixel invalid. NaN is
    nodata whatever the file's nodata value is (none, NaN or a number); a NaN in one band makes the
    pixel invalid in all. Infinite values at valid pixels raise `InvalidValueError` (they are
    damaged data, not a fill value); the streaming reader refuses them the same way.
    A missing, truncated or corrupt file (or ENVI header) raises `FileFormatError`.
    A downloaded product (a Landsat C2 L2 / HLS / Sentinel-2 L2A folder, SAFE, metadata or band
    file, a MODIS or Sentinel-3 export; see `stfusion.io.products`) is read whole, with its QA
    cloud mask, by `read_product` (``bands`` then selects common names) unless ``scale``,
    ``nodata`` or ``band_indexes`` asks for the single file as it is.
    Band names come from ``bands``, else from GDAL band descriptions that are common names,
    else from ``sensor``'s band table. ``date`` defaults to the date in the file name.
    """
    if sensor is not None:
        band_names(sensor)
    if scale is None and nodata is None and band_indexes is None:
        from .products import find_product, read_product

        product = find_product(path, strict=True)
        if product is not None:
            return read_product(product, bands=bands, date=date, name=name)
    p = resolve_path(path)
    with open_raster(p) as src:
        _check_raw_size(src, p)
        idx = _band_indexes(src, band_indexes)
        _check_dtype(src, p)
        stored = src.read(idx)
        nd = src.nodata if nodata is None else nodata
        nd = None if nd is None else float(nd)
        enc, sc, off = _scaling(src, idx, scale, offset, nd)
        mask = _valid_mask(src, stored, nd)
        names = _names(src, idx, bands, sensor)
        transform = tuple(src.transform)[:6]
        crs = _crs_string(src)
    data = stored.astype(np.float32)
    if (sc != 1).any():
        data *= sc.astype(np.float32)
    if (off != 0).any():
        data += off.astype(np.float32)
    georeferenced = transform != IDENTITY or crs is not None
    return Scene(
        data=data,
        mask=mask,
        transform=transform,  # type: ignore[arg-type]
        crs=crs,
        date=date if date is not None else parse_date(p.name),
        bands=names,
        resolution=abs(transform[0]) if georeferenced else None,
        encoding=enc,
        name=name if name is not None else p.name,
    )


def _check_dtype(src: Any, path: Path) -> None:
    """Reflectance is real-valued: complex (radar SLC) rasters are refused."""
    kinds = {np.dtype(d).kind for d in src.dtypes}
    if not kinds <= set("iuf"):
        raise FileFormatError(
            f"{path} has data type {src.dtypes[0]}, not real numbers; convert it to an integer or float raster "
            "(e.g. gdal_translate -ot Float32 after taking the amplitude)"
        )


def read_array(
    path: str | os.PathLike[str], *, band_indexes: Sequence[int] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Raw values (bands, rows, cols) in the file's dtype, and ``{transform, crs, nodata, dtype}``.

    For class maps and cloud masks: no scaling and no masking.
    """
    p = resolve_path(path)
    with open_raster(p) as src:
        _check_raw_size(src, p)
        idx = _band_indexes(src, band_indexes)
        values = src.read(idx)
        meta = {
            "transform": tuple(src.transform)[:6],
            "crs": _crs_string(src),
            "nodata": src.nodata,
            "dtype": str(values.dtype),
        }
    return values, meta
