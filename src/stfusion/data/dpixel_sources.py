"""d-pixel sources for the temporal-embedding model (TESSERA, Feng et al. 2025; notes ``tessera.md`` §1.1).

Each reader turns one kind of pixel time series into `DPixels`:

- `presto_dpixels`: the Presto per-pixel sets (Tseng et al. 2023), sensors "s2" (TESSERA's 10 bands,
  reflectance 0-1) and "s1" (VV, VH in dB), no grid;
- `fusets_dpixels`: the FuseTS field, S2 validity from the scene classification (`scl_valid`),
  optionally the field-level S1 RVI series;
- `geotiff_series_dpixels`: a user folder of dated multi-band GeoTIFFs with optional SCL rasters
  or ``_mask`` sidecars;
- `dpixels_of`: any of these by built-in data-set name or folder path.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from stfusion.core.dpixel import DPixels, SensorSeries
from stfusion.core.errors import (
    BandMismatchError,
    CRSMismatchError,
    ExtentMismatchError,
    FileFormatError,
    NoDataError,
    ShapeMismatchError,
    UnknownParameterError,
)
from stfusion.core.grid import normalise_crs
from stfusion.core.scene import Transform
from stfusion.io.folder import CFMASK_CLEAR, MASK_SUFFIX, _by_date, _match_mask, _stem, scan_folder
from stfusion.io.read import read_array, read_scene

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


def _codes_valid(path: Path, image: Path, shape: tuple[int, int], codes: Sequence[float]) -> np.ndarray:
    """(rows, cols) True where the single-band raster ``path`` holds one of ``codes``."""
    raw, _ = read_array(path)
    if raw.shape[0] != 1 or raw.shape[1:] != shape:
        raise ShapeMismatchError(
            f"mask {path.name} is {raw.shape[0]} band(s) of {raw.shape[1]}x{raw.shape[2]} pixels but {image.name} is "
            f"{shape[0]}x{shape[1]}; give a single-band mask on the image's grid (resample a 20 m SCL to 10 m)"
        )
    return np.isin(raw[0], np.asarray(codes))


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
    All images must share the grid: a different size raises `ShapeMismatchError`, a shifted
    transform `ExtentMismatchError`, another CRS `CRSMismatchError`; unreadable or truncated files
    raise `FileFormatError`.
    """
    root = Path(folder)
    everything = scan_folder(root)  # FileFormatError if the folder does not exist
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

    data, valid, names = [], [], None
    grid: tuple[tuple[int, int], Transform, str | None, Path] | None = None
    for date, path in sorted(images.items()):
        x, ok, got, transform, crs = _read_date(path, bands, band_indexes, scale, nodata)
        if grid is None:
            grid = (x.shape[1:], transform, crs, path)
        _check_grid(grid, x.shape[1:], transform, crs, path)
        if data and x.shape[0] != data[0].shape[0]:
            raise BandMismatchError(
                f"{path.name} has {x.shape[0]} bands but {grid[3].name} has {data[0].shape[0]}; "
                "give images with the same bands, or select them with band_indexes=[...]"
            )
        if got is not None:
            if names is not None and got != names:
                raise BandMismatchError(
                    f"{path.name} has bands {', '.join(got)} but earlier dates have {', '.join(names)}; "
                    "store the bands in one order, or name them with bands=[...]"
                )
            names = got
        for suffix, found in side.items():
            sidecar = _match_mask(path, date, found, suffix)
            if sidecar is not None:
                codes = sorted(SCL_VALID) if suffix == scl_suffix else clear_codes
                ok = ok & _codes_valid(sidecar, path, x.shape[1:], codes)
        data.append(x)
        valid.append(ok)

    assert grid is not None  # _by_date found at least one image
    stack = np.stack(data)  # (T, C, rows, cols)
    t, c, rows, cols = stack.shape
    mask = np.stack(valid)  # (T, rows, cols)
    if not mask.any():
        raise NoDataError(
            f"no valid observation in {root}: every pixel of every date is nodata or masked; "
            "check the nodata value and the SCL/mask sidecars"
        )
    dates = sorted(images)
    start = _dt.date(dates[0].year, 1, 1)
    doy = np.array([(d - start).days + 1 for d in dates])
    values = np.moveaxis(stack, (0, 1), (2, 3)).reshape(rows * cols, t, c)
    series = SensorSeries(values, np.moveaxis(mask, 0, 2).reshape(rows * cols, t), doy,
                          names or tuple(f"b{i + 1}" for i in range(c)))
    return DPixels({sensor: series}, (rows, cols), grid[1], grid[2], root.name,
                   {"first_year": np.array(dates[0].year)})


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
    (e.g. ``with_s1=True`` for ts_fusets_field, ``pattern=`` for a folder).
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
    parts = [d for d in (folder / name for name in SENSOR_FOLDERS) if d.is_dir()]
    return sensor_folders_dpixels(folder, **options) if parts else geotiff_series_dpixels(folder, **options)


SENSOR_FOLDERS = ("s2", "s1")
"""Sub-folders read as one sensor each by `sensor_folders_dpixels` (S1 values are read unscaled, e.g. dB)."""


def sensor_folders_dpixels(folder: str | os.PathLike[str], **options: Any) -> DPixels:
    """Several sensors on one grid: each sub-folder of ``folder`` named in `SENSOR_FOLDERS` is a
    folder of dated stacks (`geotiff_series_dpixels`, ``sensor`` = the sub-folder's name; "s2" with
    its SCL rasters, "s1" unscaled unless ``scale`` is given). Days count from 1 January of the
    earliest first year of the sensors. Raises if the sensors' grids differ."""
    folder = Path(folder)
    found = {name: folder / name for name in SENSOR_FOLDERS if (folder / name).is_dir()}
    if not found:
        raise FileFormatError(f"{folder} has none of the sub-folders {', '.join(SENSOR_FOLDERS)}; put each sensor's "
                              "dated stacks in its own sub-folder")
    parts = {name: geotiff_series_dpixels(d, sensor=name, **({"scale": 1.0} if name == "s1" else {}) | options)
             for name, d in found.items()}
    first_name, first = next(iter(parts.items()))
    for name, dp in parts.items():
        _check_grid((first.shape, first.transform, first.crs, found[first_name]), dp.shape, dp.transform, dp.crs,
                    found[name])
    years = {name: int(dp.extra["first_year"]) for name, dp in parts.items()}
    start = min(years.values())
    sensors = {}
    for name, dp in parts.items():
        s = dp.sensors[name]
        shift = (_dt.date(years[name], 1, 1) - _dt.date(start, 1, 1)).days
        sensors[name] = SensorSeries(s.values, s.valid, s.doy + shift, s.bands)
    return DPixels(sensors, first.shape, first.transform, first.crs, folder.name, {"first_year": np.array(start)})


__all__ = [
    "DPIXEL_DATASETS",
    "MID_MONTH_DOY",
    "S1_BANDS",
    "SCL_INVALID",
    "SCL_VALID",
    "TESSERA_S2_BANDS",
    "dpixels_of",
    "fusets_dpixels",
    "geotiff_series_dpixels",
    "presto_dpixels",
    "scl_valid",
    "sensor_folders_dpixels",
    "SENSOR_FOLDERS",
]
