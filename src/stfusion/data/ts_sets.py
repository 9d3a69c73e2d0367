"""Real pixel and image time series for temporal embeddings: Presto, eo-learn and FuseTS samples.

Loaders return frozen dataclasses of NumPy arrays with channel names, dates and validity masks
(True = valid observation). Values are as stored unless a docstring says otherwise.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from stfusion.core.dpixel import DPixels, SensorSeries
from stfusion.core.errors import FileFormatError, UnknownParameterError
from stfusion.core.scene import Transform

from .data_root import dataset_dir, dataset_file

PRESTO_CITATION = (
    "Tseng, G., Cartuyvels, R., Zvonkov, I., Purohit, M., Rolnick, D., Kerner, H. (2023). Lightweight, "
    "pre-trained transformers for remote sensing timeseries. arXiv:2304.14065. Data: nasaharvest/presto (MIT)."
)
EOLEARN_CITATION = "Sinergise, eo-learn example EOPatch (Slovenia), github.com/sentinel-hub/eo-learn (MIT)."
FUSETS_CITATION = "Open-EO/FuseTS example field data (2019), github.com/Open-EO/FuseTS (Apache-2.0)."

PRESTO_CHANNELS = (
    "VV", "VH", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12",
    "temperature_2m", "total_precipitation", "elevation", "slope", "NDVI",
)
PRESTO_UNITS = ("dB", "dB") + ("reflectance x 10000",) * 11 + ("K", "m", "m", "degrees", "1")

DYNAMIC_WORLD_CLASSES = (
    "water", "trees", "grass", "flooded_vegetation", "crops", "shrub_and_scrub", "built", "bare", "snow_and_ice",
)
"""Dynamic World class names by code 0-8 (Presto's per-step land-cover labels)."""

EOLEARN_LULC_CLASSES = (
    "no data", "cultivated land", "forest", "grassland", "shrubland", "water", "wetlands", "tundra",
    "artificial surface", "bareland", "snow and ice",
)
"""Land-use/land-cover names by code 0-10 of the eo-learn Slovenia example."""


@dataclass(frozen=True, eq=False)
class PixelSeries:
    """Per-pixel series with one label each: ``values`` (samples, steps, channels).

    ``month`` is the calendar month of each step (0 = January), ``latlon`` (samples, 2) degrees
    (latitude, longitude), ``dynamic_world`` the class code per step (`DYNAMIC_WORLD_CLASSES`),
    ``ids`` the sample id (algae: uid; fuel: site name), ``valid`` (samples, steps) True where all
    channels are finite.
    """

    name: str
    values: np.ndarray
    channels: tuple[str, ...]
    units: tuple[str, ...]
    month: np.ndarray
    latlon: np.ndarray
    dynamic_world: np.ndarray
    target: np.ndarray
    target_name: str
    is_test: np.ndarray
    ids: np.ndarray
    valid: np.ndarray
    description: str
    citation: str

    def channel(self, name: str) -> np.ndarray:
        """The (samples, steps) values of channel ``name``."""
        return self.values[..., _index(self.channels, name)]


@dataclass(frozen=True, eq=False)
class ImageSeries:
    """An image time series: ``values`` (dates, rows, cols, channels) float32, ``valid`` (dates, rows, cols).

    ``times`` are the acquisition times (dates may repeat: two overpasses on one day);
    ``layers`` holds auxiliary per-date masks and timeless maps by name; ``transform`` and
    ``crs`` georeference the grid; ``resolution`` is the nominal pixel size in metres.
    """

    name: str
    values: np.ndarray
    channels: tuple[str, ...]
    times: tuple[_dt.datetime, ...]
    valid: np.ndarray
    transform: Transform
    crs: str | None
    resolution: float
    description: str
    citation: str
    layers: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def dates(self) -> tuple[_dt.date, ...]:
        return tuple(t.date() for t in self.times)

    def channel(self, name: str) -> np.ndarray:
        """The (dates, rows, cols) values of channel ``name``."""
        return self.values[..., _index(self.channels, name)]


@dataclass(frozen=True, eq=False)
class PointSeries:
    """A table of dated observations: ``values`` (dates, channels) float64, NaN where missing;
    ``valid`` is ``isfinite(values)``."""

    dates: tuple[_dt.date, ...]
    values: np.ndarray
    channels: tuple[str, ...]
    valid: np.ndarray

    def channel(self, name: str) -> np.ndarray:
        return self.values[:, _index(self.channels, name)]


@dataclass(frozen=True, eq=False)
class FieldSeries:
    """The FuseTS field: Sentinel-2 image series ``s2`` and the MOGPR input table ``mogpr``
    (Sentinel-1 RVI ascending/descending and S2 NDVI, one row per date)."""

    s2: ImageSeries
    mogpr: PointSeries
    description: str
    citation: str


def _index(channels: tuple[str, ...], name: str) -> int:
    if name not in channels:
        raise UnknownParameterError(f"no channel '{name}'; use one of: {', '.join(channels)}")
    return channels.index(name)


def _npy(folder: Path, name: str) -> np.ndarray:
    path = dataset_file(folder, name)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FileFormatError(f"cannot read {path}: {exc}; restore the file from the dataset's source") from exc


def _presto(root: Path, name: str, sub: str, ids: str, target_name: str, description: str) -> PixelSeries:
    d = dataset_dir(root, f"ts_presto/{sub}")
    values = _npy(d, "s1_s2_era5_srtm.npy")
    return PixelSeries(
        name=name,
        values=values,
        channels=PRESTO_CHANNELS,
        units=PRESTO_UNITS,
        month=_npy(d, "month.npy"),
        latlon=_npy(d, "latlon.npy"),
        dynamic_world=_npy(d, "dynamic_world.npy"),
        target=_npy(d, "target.npy"),
        target_name=target_name,
        is_test=_npy(d, "is_test.npy").astype(bool),
        ids=_npy(d, ids),
        valid=np.isfinite(values).all(axis=-1),
        description=description,
        citation=PRESTO_CITATION,
    )


def load_ts_presto_algae(root: Path) -> PixelSeries:
    """Presto algae-bloom set (Tseng et al. 2023): 1122 samples x 12 monthly steps x 18 channels
    (S1 VV/VH dB, S2 x10000, ERA5, SRTM, NDVI); target = bloom severity 1-5."""
    return _presto(root, "ts_presto_algae", "algae_blooms", "uid.npy", "severity (1-5)",
                   "Presto algae blooms: monthly S1/S2/ERA5/SRTM series with severity labels 1-5")


def load_ts_presto_fuel(root: Path) -> PixelSeries:
    """Presto fuel-moisture set (Tseng et al. 2023): 2313 samples x 3 monthly steps x 18 channels;
    target = live fuel moisture (%)."""
    return _presto(root, "ts_presto_fuel", "fuel_moisture", "site.npy", "live fuel moisture (%)",
                   "Presto fuel moisture: monthly S1/S2/ERA5/SRTM series with fuel moisture (%) labels")


def _bbox_grid(path: Path, rows: int, cols: int) -> tuple[Transform, str]:
    """Transform and CRS of a GeoJSON polygon covering the ``rows`` x ``cols`` grid."""
    try:
        geo = json.loads(path.read_text())
        xs, ys = zip(*geo["coordinates"][0])
        code = re.search(r"EPSG::?(\d+)", geo["crs"]["properties"]["name"]).group(1)  # type: ignore[union-attr]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FileFormatError(
            f"cannot read the bounding box {path}: {exc}; expected a GeoJSON polygon with an EPSG crs"
        ) from exc
    left, right, bottom, top = min(xs), max(xs), min(ys), max(ys)
    return ((right - left) / cols, 0.0, left, 0.0, -(top - bottom) / rows, top), f"EPSG:{code}"


def load_ts_eolearn_ndvi(root: Path) -> ImageSeries:
    """eo-learn example EOPatch (Slovenia): Sentinel-2 NDVI, 68 dates 2015-07-11..2017-12-22,
    101 x 100 pixels of nominally 10 m (the bounding box gives 9.99 m), EPSG:32633.

    ``valid`` = IS_VALID (data present and not cloudy). Layers: ``CLP`` cloud probability 0-1,
    ``CLM`` cloud mask (True = cloud), ``IS_DATA``, ``LULC`` land use 0-10
    (`EOLEARN_LULC_CLASSES`), ``DEM`` (m), ``CLOUD_COVERAGE`` per date.
    """
    d = dataset_dir(root, "ts_eolearn_ndvi")
    ndvi = _npy(d / "data", "NDVI.npy").astype(np.float32)
    try:
        stamps = json.loads(dataset_file(d, "timestamps.json").read_text())
        times = tuple(_dt.datetime.fromisoformat(s) for s in stamps)
    except ValueError as exc:
        raise FileFormatError(f"cannot read {d / 'timestamps.json'}: {exc}; expected a JSON list of ISO times") from exc
    if len(times) != ndvi.shape[0]:
        raise FileFormatError(
            f"{d / 'timestamps.json'} lists {len(times)} times but NDVI has {ndvi.shape[0]} dates; restore the EOPatch"
        )
    transform, crs = _bbox_grid(dataset_file(d, "bbox.geojson"), *ndvi.shape[1:3])
    return ImageSeries(
        name="ts_eolearn_ndvi",
        values=ndvi,
        channels=("NDVI",),
        times=times,
        valid=_npy(d / "mask", "IS_VALID.npy")[..., 0].astype(bool),
        transform=transform,
        crs=crs,
        resolution=10.0,
        description="eo-learn Slovenia EOPatch: Sentinel-2 NDVI, 68 dates 2015-2017, cloud masks, land use, DEM",
        citation=EOLEARN_CITATION,
        layers={
            "CLP": _npy(d / "data", "CLP.npy")[..., 0],
            "CLM": _npy(d / "mask", "CLM.npy")[..., 0].astype(bool),
            "IS_DATA": _npy(d / "mask", "IS_DATA.npy")[..., 0].astype(bool),
            "LULC": _npy(d / "mask_timeless", "LULC.npy")[..., 0],
            "DEM": _npy(d / "data_timeless", "DEM.npy")[..., 0],
            "CLOUD_COVERAGE": _npy(d / "scalar", "CLOUD_COVERAGE.npy")[:, 0].astype(np.float32),
        },
    )


_DAYS_SINCE = re.compile(r"days since (\d{4})-(\d{1,2})-(\d{1,2})")


def _read_netcdf_variable(path: Path, var: str) -> tuple[np.ndarray, list[_dt.datetime], Transform, str | None]:
    """One (t, y, x) variable of a CF netCDF file: values, times, grid and CRS.

    GDAL's netCDF driver reads netCDF-4 (HDF5) files without h5netcdf or netCDF4 installed.
    """
    try:
        with rasterio.open(f"NETCDF:{path}:{var}") as src:
            values = src.read()
            units = src.tags().get("t#units", "")
            offsets = [float(src.tags(i)["NETCDF_DIM_t"]) for i in src.indexes]
            transform = tuple(src.transform)[:6]
            epsg = None if src.crs is None else src.crs.to_epsg()
    except (RasterioError, KeyError) as exc:
        raise FileFormatError(f"cannot read variable {var} of {path}: {exc}; restore the netCDF file") from exc
    m = _DAYS_SINCE.match(units)
    if m is None:
        raise FileFormatError(f"{path}: time units '{units}' are not 'days since YYYY-MM-DD'; restore the netCDF file")
    epoch = _dt.datetime(*(int(g) for g in m.groups()))
    times = [epoch + _dt.timedelta(days=o) for o in offsets]
    return values, times, transform, None if epsg is None else f"EPSG:{epsg}"  # type: ignore[return-value]


def _read_mogpr(path: Path) -> PointSeries:
    channels = ("NDVI", "RVI_DESC", "RVI_ASC")
    dates, rows = [], []
    try:
        with path.open(newline="") as fh:
            for rec in csv.DictReader(fh):
                dates.append(_dt.date.fromisoformat(rec["date"][:10]))
                rows.append([float(rec[c]) if rec[c] else np.nan for c in channels])
    except (KeyError, ValueError, TypeError) as exc:
        raise FileFormatError(f"cannot read {path}: {exc}; expected columns date,{','.join(channels)}") from exc
    values = np.array(rows, dtype=np.float64).reshape(-1, len(channels))
    return PointSeries(tuple(dates), values, channels, np.isfinite(values))


def load_ts_fusets_field(root: Path) -> FieldSeries:
    """FuseTS example field (2019, EPSG:32630, 10 m, 57 x 56 pixels, 33 Sentinel-2 dates).

    ``s2.values`` channels: B04 and B08 as reflectance 0-1 (stored x10000) and NDVI. ``valid``
    is True where all three are finite: clouds and pixels outside the field are NaN in the file.
    Layers: ``SCL`` scene classification (uint8, 0 where missing), ``CLM`` (True = flagged
    cloudy), ``field`` (rows, cols) True inside the field (finite at some date). ``mogpr`` is
    ``mogpr_input.csv``: 145 dates of S1 RVI (descending, ascending) and S2 NDVI.
    """
    d = dataset_dir(root, "ts_fusets_field")
    nc = dataset_file(d, "raw_s2_ndvi_field.nc")
    arrays = {}
    for var in ("B04", "B08", "NDVI", "SCL", "CLM"):
        arrays[var], times, transform, crs = _read_netcdf_variable(nc, var)
    values = np.stack([arrays["B04"] * 1e-4, arrays["B08"] * 1e-4, arrays["NDVI"]], axis=-1).astype(np.float32)
    valid = np.isfinite(values).all(axis=-1)
    s2 = ImageSeries(
        name="ts_fusets_field",
        values=values,
        channels=("B04", "B08", "NDVI"),
        times=tuple(times),
        valid=valid,
        transform=transform,
        crs=crs,
        resolution=abs(transform[0]),
        description="FuseTS field 2019: Sentinel-2 red, NIR, NDVI over 33 dates (clouds masked)",
        citation=FUSETS_CITATION,
        layers={
            "SCL": np.nan_to_num(arrays["SCL"], nan=0.0).astype(np.uint8),
            "CLM": np.nan_to_num(arrays["CLM"], nan=0.0) > 0,
            "field": valid.any(axis=0),
        },
    )
    mogpr = _read_mogpr(dataset_file(d, "mogpr_input.csv"))
    return FieldSeries(s2, mogpr, s2.description + "; S1 RVI / S2 NDVI table for MOGPR", FUSETS_CITATION)


def image_series_dpixels(series: ImageSeries, channels: Sequence[str] | None = None, sensor: str = "s2") -> DPixels:
    """The d-pixels of an image series (one sensor ``sensor`` with ``channels``, default all).

    Days are counted from 1 January of the first year, so a series longer than a year keeps its
    order (TESSERA itself embeds one calendar year, where this is the day of year).
    """
    names = tuple(channels or series.channels)
    idx = [_index(series.channels, c) for c in names]
    t, rows, cols = series.values.shape[:3]
    start = _dt.date(series.times[0].year, 1, 1)
    doy = np.array([(d - start).days + 1 for d in series.dates])
    values = np.moveaxis(series.values[..., idx], 0, 2).reshape(rows * cols, t, len(idx))
    valid = np.moveaxis(series.valid, 0, 2).reshape(rows * cols, t)
    return DPixels({sensor: SensorSeries(values, valid, doy, names)}, (rows, cols), series.transform, series.crs,
                   series.name)
