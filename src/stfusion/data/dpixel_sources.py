"""d-pixel sources for the temporal-embedding model (TESSERA, Feng et al. 2025; notes ``tessera.md`` §1.1).

Each reader turns one kind of pixel time series into `DPixels`:

- `presto_dpixels`: the Presto per-pixel sets (Tseng et al. 2023), sensors "s2" (TESSERA's 10 bands,
  reflectance 0-1) and "s1" (VV, VH in dB), no grid;
- `fusets_dpixels`: the FuseTS field, S2 validity from the scene classification (`scl_valid`),
  optionally the field-level S1 RVI series;
- `geotiff_series_dpixels`: a user folder of dated multi-band GeoTIFFs with optional SCL rasters
  or ``_mask`` sidecars, whole or one block of rows at a time (``rows=``); `folder_grid` gives
  its grid from the file headers only, to plan the blocks;
- `dpixels_of`: any of these by built-in data-set name or folder path.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
from rasterio.enums import MaskFlags
from rasterio.windows import Window

from stfusion.core.dpixel import DPixels, SensorSeries
from stfusion.core.errors import (
    BandMismatchError,
    CRSMismatchError,
    ExtentMismatchError,
    FileFormatError,
    InvalidParameterError,
    NoDataError,
    ShapeMismatchError,
    UnknownParameterError,
)
from stfusion.core.grid import normalise_crs
from stfusion.core.scene import Transform, check_finite
from stfusion.io.dates import parse_date
from stfusion.io.folder import CFMASK_CLEAR, MASK_SUFFIX, _by_date, _match_mask, _stem, scan_folder
from stfusion.io.read import (
    _band_indexes,
    _check_dtype,
    _check_raw_size,
    _crs_string,
    _names,
    _scaling,
    open_raster,
    read_array,
    read_scene,
)

from .ts_sets import FieldSeries, PixelSeries, _index, image_series_dpixels

TESSERA_S2_BANDS = ("B4", "B2", "B3", "B8", "B8A", "B5", "B6", "B7", "B11", "B12")
"""TESSERA's Sentinel-2 band order (not wavelength order), in Presto's band names; notes §1.1
[code: tessera/README, rust_for_s2_stacking]."""

S1_BANDS = ("VV", "VH")
"""TESSERA's Sentinel-1 channels (notes §1.1)."""

SCL_CLASSES = frozenset(range(12))
"""Sentinel-2 L2A scene classification codes 0-11."""

SCL_INVALID = frozenset({0, 1, 2, 3, 8, 9})
"""SCL classes TESSERA treats as invalid: 0 no data, 1 saturated/defective, 2 dark area/shadow,
3 cloud shadow, 8 cloud medium probability, 9 cloud high probability. Water (6), thin cirrus (10)
and snow (11) stay valid. Notes ``tessera.md`` §1.1 [code: tessera s2_fast_processor.py ``SCL_INVALID``]."""

SCL_VALID = SCL_CLASSES - SCL_INVALID
"""The SCL classes kept as valid observations: 4 vegetation, 5 bare soil, 6 water, 7 unclassified,
10 thin cirrus, 11 snow."""

PRESTO_REFLECTANCE_SCALE = 1e-4
"""Presto stores S2 reflectance x 10000."""

_MONTH_START = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])
MID_MONTH_DOY = _MONTH_START + 15
"""Day of year of the 15th of each month (0 = January) in a non-leap year: 15, 46, ..., 349."""


def scl_valid(scl: np.ndarray) -> np.ndarray:
    """True where a Sentinel-2 SCL code is a valid observation by TESSERA's rule (`SCL_INVALID`).

    Anything that is not an SCL class 0-11 (NaN, a 255 fill) is invalid as well.
    """
    return np.isin(np.asarray(scl), np.array(sorted(SCL_VALID)))


def _presto_doy(month: np.ndarray, calendar: bool) -> np.ndarray:
    """(samples, steps) mid-month days; unless ``calendar``, counted from 1 January of the first
    step's year, so a series running from July to June keeps increasing (380 = 15 January next year)."""
    month = np.asarray(month, dtype=np.int64)
    if month.size and (month.min() < 0 or month.max() > 11):
        raise FileFormatError(
            f"Presto month indexes run {month.min()}..{month.max()}, not 0..11; restore month.npy from the dataset"
        )
    doy = MID_MONTH_DOY[month]
    if calendar or month.shape[1] < 2:
        return doy
    years = np.concatenate([np.zeros_like(month[:, :1]), np.cumsum(np.diff(month, axis=1) < 0, axis=1)], axis=1)
    return doy + 365 * years


def presto_dpixels(series: PixelSeries, *, calendar_doy: bool = False) -> DPixels:
    """The d-pixels of a Presto set (Tseng et al. 2023): sensors "s2" and "s1", no grid.

    "s2" holds the bands in TESSERA's order `TESSERA_S2_BANDS` as reflectance 0-1 (Presto's x 10000
    divided by 10000); "s1" holds VV, VH in dB. An observation is valid where its bands are finite
    and not all zero (TESSERA: an S1 step is valid if VV != 0 or VH != 0; notes §1.1). ``doy`` is the
    15th of each step's month (month 0 = January); it counts on past 365 when a series crosses a
    year (``calendar_doy=True`` gives the plain day of year 15-349 instead). ``extra`` holds
    ``target``, ``is_test``, ``latlon`` (samples, 2) degrees and ``ids``.
    """
    values = np.asarray(series.values, dtype=np.float64)
    doy = _presto_doy(series.month, calendar_doy)
    sensors = {}
    for sensor, bands, scale in (("s2", TESSERA_S2_BANDS, PRESTO_REFLECTANCE_SCALE), ("s1", S1_BANDS, 1.0)):
        x = values[..., [_index(series.channels, b) for b in bands]] * scale
        valid = np.isfinite(x).all(axis=2) & (x != 0).any(axis=2)
        sensors[sensor] = SensorSeries(x, valid, doy, bands)
    extra = {"target": np.asarray(series.target), "is_test": np.asarray(series.is_test, dtype=bool),
             "latlon": np.asarray(series.latlon), "ids": np.asarray(series.ids)}
    return DPixels(sensors, None, name=series.name, extra=extra)


def _rvi_stream(field: FieldSeries) -> tuple[list[_dt.date], np.ndarray, np.ndarray]:
    """The finite S1 RVI observations of both orbits, pooled and sorted by date: dates, values, orbit."""
    table = field.mogpr
    parts = []
    for orbit, column in (("ascending", "RVI_ASC"), ("descending", "RVI_DESC")):
        rvi = table.channel(column)
        keep = np.flatnonzero(np.isfinite(rvi))
        parts.append((keep, rvi[keep], np.full(keep.size, orbit)))
    rows = np.concatenate([p[0] for p in parts])
    vals = np.concatenate([p[1] for p in parts])
    orbits = np.concatenate([p[2] for p in parts])
    order = np.argsort(rows, kind="stable")  # by date; ascending before descending on a shared date
    return [table.dates[i] for i in rows[order]], vals[order], orbits[order]


def fusets_dpixels(field: FieldSeries, *, ndvi: bool = False, with_s1: bool = False) -> DPixels:
    """The d-pixels of the FuseTS field on its grid (57 x 56 pixels, EPSG:32630).

    Sensor "s2" holds B04, B08 (reflectance 0-1), plus NDVI when ``ndvi``; an observation is valid
    where its SCL class is valid by TESSERA's rule (`scl_valid`) and the bands are finite. ``doy``
    counts from 1 January of the first S2 year (`image_series_dpixels`).

    ``with_s1`` adds sensor "s1" with the MOGPR table's Sentinel-1 radar vegetation index: ONE series
    for the whole field (the table is field-level, not per pixel), broadcast to every pixel, also
    outside the field. Ascending and descending observations are pooled into one band "RVI" as
    TESSERA pools S1 orbits (notes §1.1); ``extra["s1_orbit"]`` names the orbit of each S1 step
    (note the orbits' RVI levels differ: ascending is about a third of descending here).
    ``extra["field"]`` (pixels,) is True inside the field.
    """
    s2 = field.s2
    channels = ("B04", "B08", "NDVI") if ndvi else ("B04", "B08")
    idx = [_index(s2.channels, c) for c in channels]
    if "SCL" not in s2.layers:
        raise FileFormatError(f"the field series {s2.name} has no SCL layer; load it with load_ts_fusets_field")
    valid = scl_valid(s2.layers["SCL"]) & np.isfinite(s2.values[..., idx]).all(axis=-1)
    dp = image_series_dpixels(dataclasses.replace(s2, valid=valid), channels, "s2")
    extra: dict[str, np.ndarray] = {"field": np.asarray(s2.layers["field"], dtype=bool).reshape(-1)}
    sensors = dict(dp.sensors)
    if with_s1:
        dates, rvi, orbits = _rvi_stream(field)
        if not dates:
            raise NoDataError(f"the MOGPR table of {s2.name} has no finite RVI value; restore mogpr_input.csv")
        start = _dt.date(s2.times[0].year, 1, 1)
        doy = np.array([(d - start).days + 1 for d in dates])
        n, t = dp.pixels, len(dates)
        sensors["s1"] = SensorSeries(np.broadcast_to(rvi[None, :, None], (n, t, 1)), np.ones((n, t), bool), doy,
                                     ("RVI",))
        extra["s1_orbit"] = orbits
    return DPixels(sensors, dp.shape, dp.transform, dp.crs, dp.name, extra)


def _codes_valid(path: Path, image: Path, shape: tuple[int, int], codes: Sequence[float],
                 rows: tuple[int, int] | None = None) -> np.ndarray:
    """(rows, cols) True where the single-band raster ``path`` holds one of ``codes``; only its rows
    ``r0:r1`` when ``rows`` is given (the size check is on the whole raster)."""
    with open_raster(path) as src:
        _check_raw_size(src, path)
        idx = _band_indexes(src, None)
        if len(idx) != 1 or (src.height, src.width) != tuple(shape):
            raise ShapeMismatchError(
                f"mask {path.name} is {len(idx)} band(s) of {src.height}x{src.width} pixels but {image.name} is "
                f"{shape[0]}x{shape[1]}; give a single-band mask on the image's grid (resample a 20 m SCL to 10 m)"
            )
        window = None if rows is None else Window(0, rows[0], src.width, rows[1] - rows[0])
        return np.isin(src.read(idx[0], window=window), np.asarray(codes))


def _read_window(src: Any, path: Path, idx: list[int], scale: float | None, nodata: float | None,
                 rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``r0:r1`` of one open date, decoded as `read_scene` decodes the whole file: (bands, h, cols)
    float32 values and (h, cols) valid (no NaN, no nodata, GDAL dataset mask set)."""
    window = Window(0, rows[0], src.width, rows[1] - rows[0])
    stored = src.read(idx, window=window)
    nd = src.nodata if nodata is None else nodata
    nd = None if nd is None else float(nd)
    _, sc, off = _scaling(src, idx, scale, 0.0, nd)
    mask = ~np.isnan(stored).any(axis=0) if stored.dtype.kind == "f" else np.ones(stored.shape[1:], bool)
    if nd is not None and not np.isnan(nd):
        mask &= ~(stored == nd).any(axis=0)
    flags = {f for band_flags in src.mask_flag_enums for f in band_flags}
    if MaskFlags.per_dataset in flags or MaskFlags.alpha in flags:
        mask &= src.dataset_mask(window=window) > 0
    data = stored.astype(np.float32)
    del stored
    if (sc != 1).any():
        data *= sc.astype(np.float32)
    if (off != 0).any():
        data += off.astype(np.float32)
    check_finite(data, mask, f"'{path.name}'", f" in rows {rows[0]}-{rows[1]}")
    return data, mask


def _read_date(
    path: Path, bands: Sequence[str] | None, band_indexes: Sequence[int] | None, scale: float | None,
    nodata: float | None,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...] | None, Transform, str | None]:
    """One date: (bands, rows, cols) float32 values, (rows, cols) valid, names, transform, CRS.

    A date whose image is entirely nodata is kept, all invalid (a time series has such dates).
    """
    try:
        scene = read_scene(path, scale=scale, nodata=nodata, bands=bands, band_indexes=band_indexes)
    except NoDataError:
        raw, meta = read_array(path, band_indexes=band_indexes)
        names = None if bands is None else tuple(bands)
        return (np.zeros(raw.shape, np.float32), np.zeros(raw.shape[1:], bool), names, meta["transform"],
                meta["crs"])
    return scene.data, np.asarray(scene.mask), scene.bands, scene.transform, scene.crs


_Grid = tuple[tuple[int, int], Transform, "str | None", Path]
"""(shape, transform, CRS, first file) of a folder's images, for `_check_grid`."""


@dataclasses.dataclass(frozen=True)
class FolderGrid:
    """The grid of a folder of dated stacks, from the file headers only (`folder_grid`).

    ``bands`` maps each sensor to its band names and ``dates`` to its sorted dates; ``first_year``
    is the year the ``doy`` of `geotiff_series_dpixels` / `sensor_folders_dpixels` count from.
    """

    shape: tuple[int, int]
    transform: Transform
    crs: str | None
    bands: dict[str, tuple[str, ...]]
    dates: dict[str, tuple[_dt.date, ...]]
    first_year: int
    name: str

    def block_transform(self, r0: int) -> Transform:
        """The transform of the block of rows starting at row ``r0``."""
        return _shifted(self.transform, r0)


def _shifted(transform: Transform, r0: int) -> Transform:
    """``transform`` with its origin moved down ``r0`` rows."""
    a, b, c, d, e, f = transform
    return (a, b, c + b * r0, d, e, f + e * r0)


def _folder_images(root: Path, pattern: str, scl_suffix: str | None, mask_suffix: str | None
                   ) -> tuple[dict[_dt.date, Path], dict[str, list[tuple[_dt.date, Path]]]]:
    """The dated images of ``root`` (one per date) and the sidecars found per suffix."""
    everything = scan_folder(root, products=False)  # FileFormatError if the folder does not exist
    if not any(p.is_file() for p in root.glob(pattern)):
        raise FileFormatError(
            f"no file matching '{pattern}' in {root}; put one multi-band GeoTIFF per date in it, "
            "named with its date (e.g. S2_20200101.tif)"
        )
    side: dict[str, list[tuple[_dt.date, Path]]] = {}
    for suffix in (scl_suffix, mask_suffix):
        if suffix:
            side[suffix] = [(d, p) for d, p in everything if _stem(p).endswith(suffix)]
    images = _by_date(root, pattern, "image", skip={p for found in side.values() for _, p in found})
    return images, side


def _check_bands(path: Path, count: int, got: tuple[str, ...] | None, first: tuple[int, tuple[str, ...] | None, Path]
                 ) -> None:
    """`BandMismatchError` if a date's band count or names differ from the earlier dates'."""
    count0, names0, path0 = first
    if count != count0:
        raise BandMismatchError(
            f"{path.name} has {count} bands but {path0.name} has {count0}; "
            "give images with the same bands, or select them with band_indexes=[...]"
        )
    if got is not None and names0 is not None and got != names0:
        raise BandMismatchError(
            f"{path.name} has bands {', '.join(got)} but earlier dates have {', '.join(names0)}; "
            "store the bands in one order, or name them with bands=[...]"
        )


def _checked(images: dict[_dt.date, Path], bands: Sequence[str] | None, band_indexes: Sequence[int] | None
             ) -> Iterator[tuple[_dt.date, Path, Any, list[int], _Grid, tuple[str, ...]]]:
    """Each image by date, open, after the header checks of the full read (grid, band count and
    names): ``(date, path, src, band indexes, grid of the first image, band names so far)``."""
    grid: _Grid | None = None
    first: tuple[int, tuple[str, ...] | None, Path] | None = None
    for date in sorted(images):
        path = images[date]
        with open_raster(path) as src:
            _check_raw_size(src, path)
            idx = _band_indexes(src, band_indexes)
            _check_dtype(src, path)
            got = _names(src, idx, bands, None)
            if got is not None and len(got) != len(idx):
                raise ShapeMismatchError(f"{path.name} has {len(idx)} bands but {len(got)} band names were given; "
                                         "give one name per band")
            shape, transform, crs = (src.height, src.width), tuple(src.transform)[:6], _crs_string(src)
            grid = grid or (shape, transform, crs, path)  # type: ignore[assignment]
            _check_grid(grid, shape, transform, crs, path)  # type: ignore[arg-type]
            first = first or (len(idx), got, path)
            _check_bands(path, len(idx), got, first)
            first = (first[0], first[1] or got, first[2])
            names = first[1] or tuple(f"b{i + 1}" for i in range(first[0]))
            yield date, path, src, idx, grid, names  # type: ignore[misc]


def _headers(images: dict[_dt.date, Path], bands: Sequence[str] | None, band_indexes: Sequence[int] | None
             ) -> tuple[_Grid, tuple[str, ...]]:
    """The common grid and band names of ``images`` from their headers (no pixel read)."""
    *_, (*_, grid, names) = _checked(images, bands, band_indexes)
    return grid, names


def _row_range(rows: slice, height: int) -> tuple[int, int]:
    """(r0, r1) of a block of rows of a raster of ``height`` rows."""
    r0 = 0 if rows.start is None else rows.start
    r1 = height if rows.stop is None else rows.stop
    if rows.step not in (None, 1) or not 0 <= r0 < r1 <= height:
        raise InvalidParameterError(f"rows {rows.start}:{rows.stop} are not a block of rows in 0..{height}; "
                                    f"give rows=slice(r0, r1) with 0 <= r0 < r1 <= {height}")
    return r0, r1


def geotiff_series_dpixels(
    folder: str | os.PathLike[str],
    *,
    pattern: str = "*",
    sensor: str = "s2",
    bands: Sequence[str] | None = None,
    band_indexes: Sequence[int] | None = None,
    scl_suffix: str | None = "_SCL",
    mask_suffix: str | None = MASK_SUFFIX,
    clear_codes: Sequence[float] = CFMASK_CLEAR,
    scale: float | None = None,
    nodata: float | None = None,
    rows: slice | None = None,
) -> DPixels:
    """The d-pixels of a folder of dated multi-band rasters (one GeoTIFF stack per date), on their grid.

    Dates come from the file names (`stfusion.io.folder.scan_folder`: YYYYMMDD, YYYY-MM-DD, YYYYDDD),
    one image per date. Values are read by `read_scene` (integers x ``scale``, default the file's
    scale tags else 1e-4; pass ``scale=1`` for dB or other physical values), so the file's nodata
    (or ``nodata``), NaN and GDAL masks make an observation invalid. An image's ``<stem><scl_suffix>``
    raster (else the only one of its date) is a Sentinel-2 SCL map: classes TESSERA rejects
    (`SCL_INVALID`) are invalid. A ``<stem><mask_suffix>`` sidecar is a cloud mask whose
    ``clear_codes`` are valid (cfmask by default; ``(1,)`` for a 0/1 mask). Both may be given;
    ``None`` disables one. A date whose image is all nodata stays, all invalid.

    ``bands`` names the file's bands (else GDAL band descriptions, else ``b1, b2, ...``);
    ``band_indexes`` (1-based) selects some. ``doy`` counts from 1 January of the first year
    (``extra["first_year"]``).
    ``rows=slice(r0, r1)`` reads only those rows of every date and sidecar: the d-pixels of the block
    (shape (r1 - r0, cols), the block's transform, the same ``doy`` and first year as the whole
    read), equal to those rows of the whole read; a block without any valid observation is allowed.
    All images must share the grid: a different size raises `ShapeMismatchError`, a shifted
    transform `ExtentMismatchError`, another CRS `CRSMismatchError`; unreadable or truncated files
    raise `FileFormatError`.
    """
    return _series(Path(folder), pattern=pattern, sensor=sensor, bands=bands, band_indexes=band_indexes,
                   scl_suffix=scl_suffix, mask_suffix=mask_suffix, clear_codes=clear_codes, scale=scale,
                   nodata=nodata, rows=rows)[0]


def _series(root: Path, *, pattern: str = "*", sensor: str = "s2", bands: Sequence[str] | None = None,
            band_indexes: Sequence[int] | None = None, scl_suffix: str | None = "_SCL",
            mask_suffix: str | None = MASK_SUFFIX, clear_codes: Sequence[float] = CFMASK_CLEAR,
            scale: float | None = None, nodata: float | None = None, rows: slice | None = None
            ) -> tuple[DPixels, _Grid]:
    """`geotiff_series_dpixels` and the grid of the whole folder."""
    images, side = _folder_images(root, pattern, scl_suffix, mask_suffix)
    window: tuple[int, int] | None = None
    data, valid = [], []

    def add(date: _dt.date, path: Path, x: np.ndarray, ok: np.ndarray, shape: tuple[int, int],
            window: tuple[int, int] | None) -> None:
        for suffix, found in side.items():
            sidecar = _match_mask(path, date, found, suffix)
            if sidecar is not None:
                codes = sorted(SCL_VALID) if suffix == scl_suffix else clear_codes
                ok = ok & _codes_valid(sidecar, path, shape, codes, window)
        data.append(x)
        valid.append(ok)

    if rows is not None:
        for date, path, src, idx, grid, seen in _checked(images, bands, band_indexes):
            window = window or _row_range(rows, grid[0][0])
            x, ok = _read_window(src, path, idx, scale, nodata, window)
            add(date, path, x, ok, grid[0], window)
            names = seen
    else:
        for date, path in sorted(images.items()):
            x, ok, got, transform, crs = _read_date(path, bands, band_indexes, scale, nodata)
            if not data:
                grid, names = (x.shape[1:], transform, crs, path), got  # type: ignore[assignment]
            _check_grid(grid, x.shape[1:], transform, crs, path)
            _check_bands(path, x.shape[0], got, (data[0].shape[0] if data else x.shape[0], names, grid[3]))
            names = names or got
            add(date, path, x, ok, x.shape[1:], None)

    stack = np.stack(data)  # (T, C, h, cols)
    data.clear()
    t, c, h, cols = stack.shape
    mask = np.stack(valid)  # (T, h, cols)
    if window is None and not mask.any():
        raise NoDataError(
            f"no valid observation in {root}: every pixel of every date is nodata or masked; "
            "check the nodata value and the SCL/mask sidecars"
        )
    dates = sorted(images)
    start = _dt.date(dates[0].year, 1, 1)
    doy = np.array([(d - start).days + 1 for d in dates])
    values = np.moveaxis(stack, (0, 1), (2, 3)).reshape(h * cols, t, c)
    del stack
    series = SensorSeries(values, np.moveaxis(mask, 0, 2).reshape(h * cols, t), doy,
                          names or tuple(f"b{i + 1}" for i in range(c)))
    transform = grid[1] if window is None else _shifted(grid[1], window[0])
    dp = DPixels({sensor: series}, (h, cols), transform, grid[2], root.name, {"first_year": np.array(dates[0].year)})
    return dp, grid


def _series_grid(root: Path, *, pattern: str = "*", sensor: str = "s2", bands: Sequence[str] | None = None,
                 band_indexes: Sequence[int] | None = None, scl_suffix: str | None = "_SCL",
                 mask_suffix: str | None = MASK_SUFFIX, **_: Any) -> tuple[FolderGrid, _Grid]:
    """`folder_grid` of one folder of stacks (options that do not change the grid are ignored)."""
    images, _side = _folder_images(root, pattern, scl_suffix, mask_suffix)
    grid, names = _headers(images, bands, band_indexes)
    dates = tuple(sorted(images))
    return FolderGrid(grid[0], grid[1], grid[2], {sensor: names}, {sensor: dates}, dates[0].year, root.name), grid


def folder_grid(folder: str | os.PathLike[str], **options: Any) -> FolderGrid:
    """The grid of a folder of dated stacks (or of its `SENSOR_FOLDERS` sub-folders) from the file
    headers only, without reading pixels: shape, transform, CRS, band names and dates per sensor, and
    the first year, as `dpixels_of` would read the folder with ``options``. Raises as the full read
    does when the dates' grids or bands differ (sidecars are checked when blocks are read)."""
    folder = Path(folder)
    found = sensor_parts(folder, options.get("pattern"))
    if not found:
        return _series_grid(folder, **options)[0]
    parts = {name: _series_grid(d, **{**options, "sensor": name, "pattern": glob}) for name, (d, glob) in found.items()}
    first_name, (first, first_grid) = next(iter(parts.items()))
    for name, (_g, grid) in parts.items():
        _check_grid((*first_grid[:3], found[first_name][0]), grid[0], grid[1], grid[2], found[name][0])
    bands: dict[str, tuple[str, ...]] = {}
    dates: dict[str, tuple[_dt.date, ...]] = {}
    for k, (g, _) in parts.items():  # pooled orbits: one sensor, all dates (bands are checked on reading)
        bands.setdefault(SENSOR_FOLDERS[k], g.bands[k])
        dates[SENSOR_FOLDERS[k]] = tuple(sorted(dates.get(SENSOR_FOLDERS[k], ()) + g.dates[k]))
    return FolderGrid(first.shape, first.transform, first.crs, bands, dates,
                      min(g.first_year for g, _ in parts.values()), folder.name)


def _check_grid(
    first: tuple[tuple[int, int], Transform, str | None, Path], shape: tuple[int, int], transform: Transform,
    crs: str | None, path: Path,
) -> None:
    shape0, transform0, crs0, path0 = first
    if tuple(shape) != tuple(shape0):
        raise ShapeMismatchError(
            f"{path.name} is {shape[0]}x{shape[1]} pixels but {path0.name} is {shape0[0]}x{shape0[1]}; "
            "resample every date to one grid (e.g. gdalwarp -te ... -tr ...)"
        )
    if normalise_crs(crs) != normalise_crs(crs0):
        raise CRSMismatchError(
            f"{path.name} is in {crs} but {path0.name} in {crs0}; reproject every date to one CRS (gdalwarp -t_srs)"
        )
    if not np.allclose(transform, transform0, rtol=1e-6, atol=1e-9):
        raise ExtentMismatchError(
            f"{path.name} has transform {tuple(transform)} but {path0.name} {tuple(transform0)}; "
            "put every date on one pixel grid (gdalwarp -te ... -tr ...)"
        )


DPIXEL_DATASETS: dict[str, Callable[..., DPixels]] = {
    "ts_eolearn_ndvi": image_series_dpixels,
    "ts_presto_algae": presto_dpixels,
    "ts_presto_fuel": presto_dpixels,
    "ts_fusets_field": fusets_dpixels,
}
"""Built-in data-set name (`stfusion.data.catalog`) -> the converter of its loaded object to d-pixels."""


def dpixels_of(source: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None,
               **options: Any) -> DPixels:
    """The d-pixels of a built-in data set (a name in `DPIXEL_DATASETS`) or of a folder of dated GeoTIFFs.

    A string that is a data-set name is loaded with `stfusion.data.load_dataset` (from ``root``) even
    when a folder of that name exists; a `Path` is always a folder. ``options`` go to the converter
    (e.g. ``with_s1=True`` for ts_fusets_field, ``pattern=`` or ``rows=slice(r0, r1)`` for a folder).
    """
    from .catalog import load_dataset

    if isinstance(source, str) and source in DPIXEL_DATASETS:
        return DPIXEL_DATASETS[source](load_dataset(source, root), **options)
    if isinstance(source, str) and not Path(source).is_dir():
        raise UnknownParameterError(
            f"'{source}' is neither a d-pixel data set nor a folder; use one of: {', '.join(DPIXEL_DATASETS)}, "
            "or the path of a folder of dated GeoTIFFs"
        )
    folder = Path(source)
    several = bool(sensor_parts(folder, options.get("pattern")))
    return sensor_folders_dpixels(folder, **options) if several else geotiff_series_dpixels(folder, **options)


SENSOR_FOLDERS = {"s2": "s2", "s1": "s1", "s1_ascending": "s1", "s1_descending": "s1"}
"""Sub-folders read by `sensor_folders_dpixels`, and the sensor each belongs to: the S1 orbits are
pooled into one "s1" series as TESSERA pools them (S1 values are read unscaled, e.g. dB)."""

FLAT_SENSORS = {"s2": "[Ss]2*", "s1": "[Ss]1*"}
"""In a flat folder holding both sensors' stacks, the file-name globs of each (``S2_20200101.tif``,
``S2A_...``, with the SCL and mask sidecars; ``S1_20200101.tif``, ``S1A_...``)."""


def sensor_parts(folder: Path, pattern: str | None = None) -> dict[str, tuple[Path, str]]:
    """The sensor parts of ``folder`` as {name in `SENSOR_FOLDERS`: (directory, glob)}: its
    `SENSOR_FOLDERS` sub-folders, or, without them and without a user ``pattern``, its S2 and S1
    files by `FLAT_SENSORS` when it holds both. Empty for a folder of one sensor's stacks."""
    found = {name: (folder / name, pattern or "*") for name in SENSOR_FOLDERS if (folder / name).is_dir()}
    if found or pattern not in (None, "*") or not folder.is_dir():
        return found
    flat = {name: (folder, glob) for name, glob in FLAT_SENSORS.items()
            if any(p.is_file() and parse_date(p.name) for p in folder.glob(glob))}
    return flat if len(flat) == len(FLAT_SENSORS) else {}


def _pooled(parts: dict[str, SensorSeries], where: Path) -> dict[str, SensorSeries]:
    """The series of the sub-folders, those of one sensor merged in time order (stable: a date in
    several orbit folders keeps the folder order)."""
    out: dict[str, SensorSeries] = {}
    for name, s in parts.items():
        sensor = SENSOR_FOLDERS[name]
        if sensor not in out:
            out[sensor] = s
            continue
        have = out[sensor]
        if have.bands != s.bands:
            raise BandMismatchError(f"{where / name} has the bands {', '.join(s.bands)} but the other {sensor} "
                                    f"folders have {', '.join(have.bands)}; give every orbit the same bands")
        doy = np.concatenate([have.doy, s.doy])
        order = np.argsort(doy, kind="stable")
        out[sensor] = SensorSeries(np.concatenate([have.values, s.values], axis=1)[:, order],
                                   np.concatenate([have.valid, s.valid], axis=1)[:, order], doy[order], s.bands)
    return out


def sensor_folders_dpixels(folder: str | os.PathLike[str], *, rows: slice | None = None, **options: Any) -> DPixels:
    """Several sensors on one grid: each sub-folder of ``folder`` named in `SENSOR_FOLDERS` is a
    folder of dated stacks (`geotiff_series_dpixels`; "s2" with its SCL rasters, "s1" unscaled unless
    ``scale`` is given), or ``folder`` holds both sensors' stacks side by side (`FLAT_SENSORS`).
    ``s1_ascending/`` and ``s1_descending/`` (and ``s1/``) are pooled into one "s1" series in time
    order, as TESSERA pools the orbits. Days count from 1 January of the earliest first year of the
    sensors. ``rows=slice(r0, r1)`` reads that block of rows of every sensor (as
    `geotiff_series_dpixels`). Raises if the sensors' grids differ."""
    folder = Path(folder)
    found = sensor_parts(folder, options.pop("pattern", None))
    if not found:
        raise FileFormatError(f"{folder} has none of the sub-folders {', '.join(SENSOR_FOLDERS)} and not both S2_* and "
                              "S1_* stacks; put each sensor's dated stacks in its own sub-folder")
    parts = {name: _series(d, **({"scale": 1.0} if SENSOR_FOLDERS[name] == "s1" else {}) | options
                           | {"sensor": name, "rows": rows, "pattern": glob})
             for name, (d, glob) in found.items()}
    first_name, (first, first_grid) = next(iter(parts.items()))
    for name, (_dp, grid) in parts.items():
        _check_grid((*first_grid[:3], found[first_name][0]), grid[0], grid[1], grid[2], found[name][0])
    years = {name: int(dp.extra["first_year"]) for name, (dp, _) in parts.items()}
    start = min(years.values())
    sensors = {}
    for name, (dp, _) in parts.items():
        s = dp.sensors[name]
        shift = (_dt.date(years[name], 1, 1) - _dt.date(start, 1, 1)).days
        sensors[name] = SensorSeries(s.values, s.valid, s.doy + shift, s.bands)
    return DPixels(_pooled(sensors, folder), first.shape, first.transform, first.crs, folder.name,
                   {"first_year": np.array(start)})


__all__ = [
    "DPIXEL_DATASETS",
    "MID_MONTH_DOY",
    "S1_BANDS",
    "SCL_INVALID",
    "SCL_VALID",
    "TESSERA_S2_BANDS",
    "FolderGrid",
    "dpixels_of",
    "folder_grid",
    "fusets_dpixels",
    "geotiff_series_dpixels",
    "presto_dpixels",
    "scl_valid",
    "sensor_folders_dpixels",
    "SENSOR_FOLDERS",
    "FLAT_SENSORS",
    "sensor_parts",
]
