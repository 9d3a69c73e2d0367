"""The catalogue of real sample data sets: name -> loader, and `load_dataset`.

Data live in ``<repo>/../shared/data`` (override with ``root=`` or the ``STFUSION_DATA``
environment variable). STF names load an `STFCase` (the README's protocol); the NDVI series, the
hyperspectral cubes and the time series load their own objects (see each loader).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from stfusion.core.errors import FileFormatError, UnknownParameterError

from .data_root import DATA_ENV, data_root
from .hs_sets import (load_hs_jasper, load_hs_samson, load_stsf_jasper, load_stsf_jasper_blind, load_stsf_samson,
                      load_stsf_samson_blind)
from .ndvi_series import NDVISeries, load_ifsdaf_ndvi_series
from .stf_sets import (
    STFCase,
    load_cia_2date,
    load_estarfm_3date,
    load_estarfm_3date_1pair,
    load_lgc_flood_simcoarse,
)
from .ts_sets import load_ts_eolearn_ndvi, load_ts_fusets_field, load_ts_presto_algae, load_ts_presto_fuel

Loader = Callable[[Path], Any]

@dataclass(frozen=True)
class DatasetInfo:
    """A catalogue entry: kind ("stf", "stf_series", "hs", "stsf", "ts"), loader and one-line summary."""

    name: str
    kind: str
    loader: Loader
    summary: str


CATALOGUE: tuple[DatasetInfo, ...] = (
    DatasetInfo("cia_2date", "stf", load_cia_2date,
                "CIA irrigated crops, 6 bands, 1 pair, MODIS on the fine grid (ratio 9.3)"),
    DatasetInfo("estarfm_3date", "stf", load_estarfm_3date,
                "ESTARFM boreal scene, 3 bands, 2 pairs -> 2001-07-11 (ratio 15.16)"),
    DatasetInfo("estarfm_3date_1pair", "stf", load_estarfm_3date_1pair,
                "ESTARFM boreal scene, 3 bands, 1 pair (05-24) -> 2001-07-11"),
    DatasetInfo("lgc_flood_simcoarse", "stf", load_lgc_flood_simcoarse,
                "LGC flood, 3 bands, 1 pair, simulated coarse (ratio 16), SVM class map"),
    DatasetInfo("ifsdaf_ndvi_series", "stf_series", load_ifsdaf_ndvi_series,
                "IFSDAF 2015 NDVI: 9 cloudy Landsat-8 dates, 23 MODIS 16-day composites (ratio 8)"),
    DatasetInfo("hs_samson", "hs", load_hs_samson, "Samson hyperspectral cube, 95x95x156, 401-889 nm"),
    DatasetInfo("hs_jasper", "hs", load_hs_jasper, "Jasper Ridge AVIRIS cube, 100x100x198, ~400-2460 nm"),
    DatasetInfo("stsf_samson", "stsf", load_stsf_samson,
                "Samson STSF experiment: HS t1 31x31, S2 10 m MS t1/t2 93x93, ratio 3 (t2 SIMULATED)"),
    DatasetInfo("stsf_jasper", "stsf", load_stsf_jasper,
                "Jasper Ridge STSF experiment: HS t1 33x33, S2 10 m MS t1/t2 99x99, ratio 3 (t2 SIMULATED)"),
    DatasetInfo("stsf_samson_blind", "stsf", load_stsf_samson_blind,
                "Samson STSF with untold responses: shifted/widened SRFs, gains, offsets, a band partly "
                "outside the HS range, wider shifted PSF, noise (t2 SIMULATED)"),
    DatasetInfo("stsf_jasper_blind", "stsf", load_stsf_jasper_blind,
                "Jasper Ridge STSF with untold responses: shifted/widened SRFs, gains, offsets, a band partly "
                "outside the HS range, wider shifted PSF, noise (t2 SIMULATED)"),
    DatasetInfo("ts_presto_algae", "ts", load_ts_presto_algae,
                "Presto algae blooms: 1122 pixels x 12 months x 18 channels"),
    DatasetInfo("ts_presto_fuel", "ts", load_ts_presto_fuel,
                "Presto fuel moisture: 2313 pixels x 3 months x 18 channels"),
    DatasetInfo("ts_eolearn_ndvi", "ts", load_ts_eolearn_ndvi,
                "eo-learn Sentinel-2 NDVI image series, 68 dates, cloud masks"),
    DatasetInfo("ts_fusets_field", "ts", load_ts_fusets_field,
                "FuseTS field 2019: S2 B04/B08/NDVI over 33 dates, plus the S1/S2 MOGPR table"),
)

DATASETS: dict[str, Loader] = {i.name: i.loader for i in CATALOGUE}
"""Data-set name -> loader taking the data root folder."""

INFO: dict[str, DatasetInfo] = {i.name: i for i in CATALOGUE}


def _loader(name: str) -> Loader:
    if name not in DATASETS:
        raise UnknownParameterError(f"unknown dataset '{name}'; use one of: {', '.join(DATASETS)}")
    return DATASETS[name]


def load_dataset(name: str, root: str | os.PathLike[str] | None = None) -> Any:
    """Load the sample data set ``name`` from ``root`` (default ``$STFUSION_DATA`` or ``<repo>/../shared/data``)."""
    loader = _loader(name)
    base = data_root(root)
    if not base.is_dir():
        raise FileFormatError(
            f"sample data folder not found: {base}; pass root=... or set {DATA_ENV} to the folder "
            "holding cia_2date/ etc."
        )
    return loader(base)


def load_case(name: str, root: str | os.PathLike[str] | None = None) -> STFCase:
    """The STF protocol of an "stf" or "stf_series" data set as an `STFCase` (the series' default case)."""
    _loader(name)
    if INFO[name].kind not in ("stf", "stf_series"):
        stf = [n for n, i in INFO.items() if i.kind in ("stf", "stf_series")]
        raise UnknownParameterError(f"'{name}' is not a fusion data set; use one of: {', '.join(stf)}")
    loaded = load_dataset(name, root)
    return loaded.case() if isinstance(loaded, NDVISeries) else loaded
