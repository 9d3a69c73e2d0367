"""Window-by-window reading of rasters too large for memory.

`RasterSource` decodes a window exactly as `read_scene` decodes the whole file (same scale,
offset, nodata and mask rules), so a scene read in windows equals the scene read at once.
`AlignedSource` gives a coarse raster on its own grid as windows of the fine grid, and
`lazy_scene` wraps either as a Dask-backed `Scene` read one strip of rows at a time.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator, Protocol

import numpy as np
from rasterio.enums import MaskFlags
from rasterio.windows import Window

from stfusion.core.errors import FileFormatError
from stfusion.core.moments import STRIP_ROWS
from stfusion.core.scene import IDENTITY, Scene, check_finite

from .dates import parse_date
from .read import _band_indexes, _check_dtype, _check_raw_size, _crs_string, _names, _scaling, open_raster, resolve_path

_CACHE_WINDOWS = 2
STREAM_GDAL_CACHE = 256 * 2**20
"""GDAL's block cache during streamed runs, in bytes. Its default (5 % of the RAM) grows with the
size of the scene written, so a streamed run's peak memory would follow the scene, not the block."""


@contextlib.contextmanager
def bounded_gdal_cache(nbytes: int = STREAM_GDAL_CACHE) -> Iterator[None]:
    """Cap GDAL's block cache at ``nbytes`` while the block runs (also usable as a decorator)."""
    import rasterio

    with rasterio.Env(GDAL_CACHEMAX=nbytes):
        yield


class WindowSource(Protocol):
    """Anything that reads (data, mask) windows of a fine-grid scene."""

    template: Scene

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]: ...


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


class RasterSource:
    """A raster opened for windowed reads. ``template`` is a lazy `Scene` with the file's grid,
    CRS, date, band names and encoding (its pixels are read only when used).

    The file's size and modification time are recorded when it is opened; a window read after
    the file changed raises `FileFormatError` instead of mixing two versions of the file.
    """

    def __init__(self, path: str | os.PathLike[str], *, name: str | None = None) -> None:
        self.path = resolve_path(path)
        self.stamp = _stamp(self.path)
        with open_raster(self.path) as src:
            _check_raw_size(src, self.path)
            _check_dtype(src, self.path)
            self._idx = _band_indexes(src, None)
            nodata = None if src.nodata is None else float(src.nodata)
            self.encoding, sc, off = _scaling(src, self._idx, None, 0.0, nodata)
            self._scales = sc.astype(np.float32) if (sc != 1).any() else None
            self._offsets = off.astype(np.float32) if (off != 0).any() else None
            self._nodata = nodata
            flags = {f for band_flags in src.mask_flag_enums for f in band_flags}
            self._dataset_mask = MaskFlags.per_dataset in flags or MaskFlags.alpha in flags
            bands = _names(src, self._idx, None, None)
            transform = tuple(src.transform)[:6]
            crs = _crs_string(src)
            shape = (len(self._idx), src.height, src.width)
        self.name = name if name is not None else self.path.name
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, int, int, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        georeferenced = transform != IDENTITY or crs is not None
        self.template = _lazy(self, shape, transform=transform, crs=crs, date=parse_date(self.path.name),
                              bands=bands, resolution=abs(transform[0]) if georeferenced else None,
                              encoding=self.encoding, name=self.name)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lock")
        state["_cache"] = OrderedDict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        """Physical values (bands, h, w) float32 and the valid mask (h, w) of ``[rows, cols]``.

        Raises `InvalidValueError` for an infinite value at a valid pixel (as `read_scene` does) and
        `FileFormatError` when the file changed since it was opened.
        """
        key = (rows.start, rows.stop, cols.start, cols.stop)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        if _stamp(self.path) != self.stamp:
            raise FileFormatError(
                f"{self.path} changed while it was being read; rerun when the file is complete and unchanged"
            )
        window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
        with open_raster(self.path) as src:
            stored = src.read(self._idx, window=window)
            mask = self._mask(src, stored, window)
        data = stored.astype(np.float32)
        if self._scales is not None:
            data *= self._scales
        if self._offsets is not None:
            data += self._offsets
        check_finite(data, mask, f"'{self.name}'", f" in rows {rows.start}-{rows.stop}, cols {cols.start}-{cols.stop}")
        with self._lock:
            self._cache[key] = (data, mask)
            while len(self._cache) > _CACHE_WINDOWS:
                self._cache.popitem(last=False)
        return data, mask

    def _mask(self, src: Any, stored: np.ndarray, window: Window) -> np.ndarray:
        """The rule of `read_scene`: NaN, nodata and the GDAL dataset mask make a pixel invalid."""
        mask = ~np.isnan(stored).any(axis=0) if stored.dtype.kind == "f" else np.ones(stored.shape[1:], bool)
        if self._nodata is not None and not np.isnan(self._nodata):
            mask &= ~(stored == self._nodata).any(axis=0)
        if self._dataset_mask:
            mask &= src.dataset_mask(window=window) > 0
        return mask


class MaskedSource:
    """A `RasterSource` with a cloud-mask raster on its grid and a date: a pixel is valid where
    the image is and the mask value is one of ``clear_codes`` (as `stfusion.io.folder.read_masked`).

    ``mask`` None keeps the image's own mask; ``date`` None keeps the date of the file name.
    ``files`` lists the files read (image and mask), for run fingerprints.
    """

    def __init__(self, image: RasterSource, mask: str | os.PathLike[str] | None, clear_codes: Any,
                 date: Any = None) -> None:
        self.image = image
        self.mask_path = None if mask is None else resolve_path(mask)
        self.clear_codes = np.asarray(clear_codes)
        self.files = [image.path] + ([self.mask_path] if self.mask_path is not None else [])
        t = image.template
        if self.mask_path is not None:
            self._stamp = _stamp(self.mask_path)
            with open_raster(self.mask_path) as src:
                shape = (src.count, src.height, src.width)
            if shape != (1, t.height, t.width):
                from stfusion.core.errors import ShapeMismatchError

                raise ShapeMismatchError(
                    f"mask {self.mask_path.name} is {shape[0]} band(s) of {shape[1]}x{shape[2]} pixels but "
                    f"{t.label} is {t.height}x{t.width}; give a single-band mask on the image's grid"
                )
        self.template = _lazy(self, t.shape, transform=t.transform, crs=t.crs,
                              date=t.date if date is None else date, bands=t.bands, resolution=t.resolution,
                              encoding=t.encoding, name=t.name)

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        data, valid = self.image.read(rows, cols)
        if self.mask_path is None:
            return data, valid
        if _stamp(self.mask_path) != self._stamp:
            raise FileFormatError(
                f"{self.mask_path} changed while it was being read; rerun when the file is complete and unchanged"
            )
        window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
        with open_raster(self.mask_path) as src:
            codes = src.read(1, window=window)
        return data, valid & np.isin(codes, self.clear_codes)


class AlignedSource:
    """A coarse `RasterSource` on its own grid, read as windows of the fine grid ``fine``.

    Each window reads the coarse pixels that cover it plus a margin of two coarse pixels and
    resamples them with `align_to_fine` (``method``: average, bilinear or nearest).
    """

    MARGIN = 2

    def __init__(self, coarse: RasterSource, fine: Scene, method: str) -> None:
        from .align import align_to_fine, infer_ratio

        self.coarse, self.fine, self.method = coarse, fine, method
        self.ratio = infer_ratio(fine, coarse.template)
        self._align = align_to_fine
        t = coarse.template
        self.template = _lazy(self, (t.count, fine.height, fine.width), transform=fine.transform, crs=fine.crs,
                              date=t.date, bands=t.bands, resolution=fine.resolution, encoding=t.encoding,
                              name=t.name)

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        a, _, c, _, e, f = self.fine.transform
        ca, _, cc, _, ce, cf = self.coarse.template.transform
        x0, x1 = c + a * cols.start, c + a * cols.stop
        y0, y1 = f + e * rows.start, f + e * rows.stop
        ch, cw = self.coarse.template.height, self.coarse.template.width
        c0 = max(0, int(np.floor((min(x0, x1) - cc) / ca)) - self.MARGIN)
        c1 = min(cw, int(np.ceil((max(x0, x1) - cc) / ca)) + self.MARGIN)
        r0 = max(0, int(np.floor((max(y0, y1) - cf) / ce)) - self.MARGIN)
        r1 = min(ch, int(np.ceil((min(y0, y1) - cf) / ce)) + self.MARGIN)
        data, mask = self.coarse.read(slice(r0, r1), slice(c0, c1))
        part = self.coarse.template.replace(
            data=data, mask=mask, transform=(ca, 0.0, cc + ca * c0, 0.0, ce, cf + ce * r0))
        window_grid = self.fine.replace(
            data=np.zeros((part.count, rows.stop - rows.start, cols.stop - cols.start), np.float32), mask=None,
            transform=(a, 0.0, x0, 0.0, e, y0))
        aligned = self._align(part, window_grid, method=self.method)
        return np.asarray(aligned.data), np.asarray(aligned.mask)


def _lazy(source: WindowSource, shape: tuple[int, int, int], **meta: Any) -> Scene:
    """A `Scene` whose data and mask are Dask arrays read from ``source`` in strips of rows."""
    import dask
    import dask.array as da

    bands, rows, cols = shape
    data_parts, mask_parts = [], []
    for r in range(0, rows, STRIP_ROWS):
        rs, cs = slice(r, min(rows, r + STRIP_ROWS)), slice(0, cols)
        h = rs.stop - rs.start
        window = dask.delayed(source.read, pure=True)(rs, cs)
        data_parts.append(da.from_delayed(window[0], (bands, h, cols), dtype=np.float32))
        mask_parts.append(da.from_delayed(window[1], (h, cols), dtype=bool))
    return Scene(da.concatenate(data_parts, axis=1), mask=da.concatenate(mask_parts, axis=0), **meta)
