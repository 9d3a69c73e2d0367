"""DataArrays in the rioxarray conventions, read as stfusion `Scene`s and written back.

An argument is a DataArray with dims (band, y, x) or (time, band, y, x). Its grid comes from
``.rio`` when rioxarray is installed, else from the ``spatial_ref`` coordinate (``crs_wkt``,
``GeoTransform``) or a ``crs`` attribute and the spacing of the x/y coordinates. Stored values are
decoded as `stfusion.io.read_scene` decodes a file: ``scale_factor``/``add_offset`` attributes
(integers without them: x 1e-4, the library's convention; so are integers that xarray decoded to
floats without a scale), and nodata (``_FillValue``, ``.rio.nodata``, ``.rio.encoded_nodata``)
or NaN make a pixel invalid. Results are encoded back into the fine argument's representation.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import xarray as xr

from ..core.errors import CRSMismatchError, DateError, DTypeError, NoDataError, ShapeMismatchError
from ..core.grid import normalise_crs
from ..core.scene import IDENTITY, RasterEncoding, Scene, Transform
from ..io.read import DEFAULT_INT_SCALE

SPATIAL = ("band", "y", "x")
STORABLE = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}
"""The dtypes a result can be encoded in (those `stfusion.io.write_scene` writes)."""


def rioxarray() -> ModuleType | None:
    """The rioxarray module (its import registers ``.rio``), or None when it is not installed."""
    try:
        import rioxarray as rx
    except ImportError:
        return None
    return rx


def _crs_text(crs: Any) -> str | None:
    """``"EPSG:n"`` when the CRS has an EPSG code, else its WKT (as the file reader gives it)."""
    from rasterio.crs import CRS

    if crs is None or (isinstance(crs, str) and not crs.strip()):
        return None
    parsed = CRS.from_user_input(crs)
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else normalise_crs(parsed.to_wkt())


def _coordinate_transform(arr: xr.DataArray, name: str) -> Transform:
    """The affine transform implied by evenly spaced pixel-centre x/y coordinates."""
    if "x" not in arr.coords or "y" not in arr.coords:
        return IDENTITY
    x, y = (np.asarray(arr[d].values, dtype=np.float64) for d in ("x", "y"))
    if x.size < 2 or y.size < 2:
        raise ShapeMismatchError(
            f"{name} has a single pixel along x or y, so its pixel size is unknown; give a spatial_ref coordinate "
            "with a GeoTransform attribute"
        )
    a, e = x[1] - x[0], y[1] - y[0]
    for d, v, step in (("x", x, a), ("y", y, e)):
        if not np.allclose(np.diff(v), step, rtol=1e-6, atol=0):
            raise ShapeMismatchError(f"{name}'s {d} coordinate is not evenly spaced; resample {name} to a regular grid")
    return (float(a), 0.0, float(x[0] - a / 2), 0.0, float(e), float(y[0] - e / 2))


def _grid(arr: xr.DataArray, name: str) -> tuple[Transform, str | None]:
    """(transform, CRS) of ``arr``: from ``.rio`` with rioxarray, else from its coordinates and attributes."""
    if rioxarray() is not None:
        crs = arr.rio.crs
        has_xy = "x" in arr.coords and "y" in arr.coords
        transform = tuple(arr.rio.transform())[:6] if has_xy else IDENTITY
        return transform, _crs_text(crs)  # type: ignore[return-value]
    ref = arr.coords["spatial_ref"].attrs if "spatial_ref" in arr.coords else {}
    crs = ref.get("crs_wkt") or ref.get("spatial_ref") or arr.attrs.get("crs")
    geo = ref.get("GeoTransform")
    if geo is not None:
        c, a, b, f, d, e = (float(v) for v in str(geo).split())
        return (a, b, c, d, e, f), _crs_text(crs)
    return _coordinate_transform(arr, name), _crs_text(crs)


def _nodata(arr: xr.DataArray) -> float | None:
    """The stored value that marks invalid pixels (NaN when the values are already masked)."""
    if rioxarray() is not None:
        value = arr.rio.nodata
        if value is None and arr.rio.encoded_nodata is not None:
            value = np.nan
    else:
        value = arr.attrs.get("_FillValue", arr.attrs.get("nodata"))
        if value is None and "_FillValue" in arr.encoding:
            value = np.nan
    return None if value is None else float(value)


def _encoding(arr: xr.DataArray, name: str) -> RasterEncoding:
    dtype = np.dtype(arr.dtype)
    if dtype.kind not in "iuf" or dtype.name not in STORABLE | {"float16"}:
        raise DTypeError(
            f"{name} has dtype {dtype}; give reflectance as floats or integers, e.g. {name}.astype('float32')"
        )
    scale = float(arr.attrs.get("scale_factor", 1.0))
    offset = float(arr.attrs.get("add_offset", 0.0))
    decoded = dtype.kind == "f" and np.dtype(arr.encoding.get("dtype", dtype)).kind in "iu"
    if decoded:  # integers decoded by xarray/rioxarray (mask_and_scale): physical unless left unscaled
        unscaled = (arr.encoding.get("scale_factor", 1.0), arr.encoding.get("add_offset", 0.0)) == (1.0, 0.0)
        scale, offset = (DEFAULT_INT_SCALE if unscaled else 1.0), 0.0
    elif dtype.kind in "iu" and (scale, offset) == (1.0, 0.0):
        scale = DEFAULT_INT_SCALE
    return RasterEncoding("float32" if dtype.name == "float16" else dtype.name, scale, offset, _nodata(arr))


def _date(value: Any, name: str) -> _dt.date:
    if not np.issubdtype(np.asarray(value).dtype, np.datetime64):
        raise DateError(
            f"{name}'s time coordinate holds {np.asarray(value).dtype} values, not dates; give datetime64 times"
        )
    return np.datetime64(value, "D").astype(_dt.date)


def _canonical(arr: Any, name: str) -> xr.DataArray:
    """``arr`` as (time, band, y, x); a (band, y, x) image gets a time axis of length one."""
    if not isinstance(arr, xr.DataArray):
        raise DTypeError(f"{name} must be an xarray.DataArray, got {type(arr).__name__}")
    dims = set(arr.dims)
    if dims == set(SPATIAL):
        arr = arr.expand_dims("time")
    elif dims != {"time", *SPATIAL}:
        raise ShapeMismatchError(
            f"{name} has dims {tuple(arr.dims)}; give (band, y, x) or (time, band, y, x), "
            f"e.g. {name}.expand_dims('band') for a single band or {name}.rename(...) for other names"
        )
    return arr.transpose("time", *SPATIAL)


@dataclass(frozen=True, eq=False)
class Raster:
    """One DataArray argument, read once: its grid, encoding, dates and per-date valid fraction.

    ``array`` is (time, band, y, x); ``scene(i)`` decodes date ``i`` into a `Scene` (NumPy or Dask,
    as the array is). ``valid`` is computed at construction (a reduction for Dask arrays).
    """

    name: str
    array: xr.DataArray
    transform: Transform
    crs: str | None
    encoding: RasterEncoding
    dates: tuple[_dt.date | None, ...]
    valid: tuple[float, ...]

    @classmethod
    def of(cls, arr: Any, name: str) -> Raster:
        arr = _canonical(arr, name)
        enc = _encoding(arr, name)
        transform, crs = _grid(arr, name)
        times = arr.coords["time"].values if "time" in arr.coords else [None] * arr.sizes["time"]
        dates = tuple(None if t is None else _date(t, name) for t in times)
        valid = _valid(arr.data, enc.nodata).mean(axis=(1, 2))
        valid = valid.compute() if hasattr(valid, "compute") else valid
        return cls(name, arr, transform, crs, enc, dates, tuple(float(v) for v in valid))

    @property
    def lazy(self) -> bool:
        return self.array.chunks is not None

    @property
    def bands(self) -> tuple[str, ...] | None:
        names = self.array.coords["band"].values if "band" in self.array.coords else None
        return None if names is None or names.dtype.kind not in "UO" else tuple(str(b) for b in names)

    def label(self, i: int) -> str:
        date = self.dates[i]
        return self.name if len(self.dates) == 1 else f"{self.name}[time={date or i}]"

    def scene(self, i: int) -> Scene:
        """Date ``i`` as a `Scene`: physical float32 values and the valid mask."""
        if self.valid[i] == 0:
            raise NoDataError(
                f"{self.label(i)} has no valid pixel (all nodata or NaN); check its _FillValue and values"
            )
        stored = self.array.data[i]
        data = stored.astype(np.float32)
        if self.encoding.scale != 1.0:
            data = data * np.float32(self.encoding.scale)
        if self.encoding.offset != 0.0:
            data = data + np.float32(self.encoding.offset)
        georeferenced = self.transform != IDENTITY or self.crs is not None
        return Scene(data, _valid(stored, self.encoding.nodata), self.transform, self.crs, self.dates[i], self.bands,
                     resolution=abs(self.transform[0]) if georeferenced else None, encoding=self.encoding,
                     name=self.label(i))

    def same_crs(self, other: Raster) -> None:
        """`CRSMismatchError` naming both arguments when their CRSs differ."""
        if self.crs is not None and other.crs is not None and self.crs != other.crs:
            raise CRSMismatchError(
                f"{other.name} is in {other.crs} but {self.name} is in {self.crs}; reproject {other.name} to "
                f"{self.name}'s CRS, e.g. {other.name}.rio.reproject({self.name}.rio.crs)"
            )

    def static(self) -> xr.DataArray:
        """The first image without its time axis and the coordinates along time: the output template."""
        timed = [k for k, c in self.array.coords.items() if "time" in c.dims]
        return self.array.drop_vars(timed).isel(time=0)


def _valid(stored: Any, nodata: float | None) -> Any:
    """(…, y, x) True where no band is NaN or nodata (NumPy or Dask, as ``stored`` is)."""
    band = stored.ndim - 3
    if stored.dtype.kind == "f":
        valid = ~np.isnan(stored).any(axis=band)
    else:
        valid = np.ones_like(stored[..., 0, :, :], dtype=bool)
    if nodata is not None and not math.isnan(nodata):
        valid = valid & ~(stored == nodata).any(axis=band)
    return valid


def to_dataarray(values: Any, like: xr.DataArray, encoding: RasterEncoding, date: _dt.date | None) -> xr.DataArray:
    """Stored ``values`` (band, y, x) on ``like``'s grid, with its coordinates, attributes and encoding.

    ``encoding.nodata`` becomes the ``_FillValue`` attribute when the stored values are not NaN-masked.
    """
    coords = {k: c for k, c in like.coords.items() if set(c.dims) <= set(SPATIAL)}
    if date is not None:
        coords["time"] = np.datetime64(date, "ns")
    attrs = dict(like.attrs)
    if encoding.nodata is not None and not math.isnan(encoding.nodata):
        attrs["_FillValue"] = np.asarray(encoding.nodata).astype(encoding.dtype)[()]
    out = xr.DataArray(values, dims=SPATIAL, coords=coords, attrs=attrs, name=like.name)
    out.encoding = {k: v for k, v in like.encoding.items() if k not in ("source", "preferred_chunks", "chunks")}
    return out
