"""Datasets: loaders for the real sample sets beside the checkout and the synthetic generator.

``load_dataset(name)`` returns the object a name in ``DATASETS`` describes (an `STFCase` for
the Landsat-MODIS sets); ``make_series`` draws a synthetic series with known truth.
"""

from .catalog import CATALOGUE, DATASETS, INFO, DatasetInfo, load_case, load_dataset
from .data_root import DATA_ENV, data_root
from .ndvi_series import NDVISeries
from .stf_sets import STFCase
from .srf import LANDSAT8_BANDS, SENTINEL2_BANDS, srf_matrix
from .stsf_sim import SimulatedSTSF, simulate_stsf
from .synthetic import SyntheticSeries, make_demo_task, make_series
from .synthetic_config import SyntheticConfig
from .synthetic_spectra import BANDS, CLASS_NAMES
from .ts_sets import FieldSeries, ImageSeries, PixelSeries, PointSeries

__all__ = [
    "BANDS",
    "CATALOGUE",
    "CLASS_NAMES",
    "DATASETS",
    "DATA_ENV",
    "INFO",
    "LANDSAT8_BANDS",
    "SENTINEL2_BANDS",
    "DatasetInfo",
    "FieldSeries",
    "ImageSeries",
    "NDVISeries",
    "PixelSeries",
    "PointSeries",
    "STFCase",
    "SimulatedSTSF",
    "SyntheticConfig",
    "SyntheticSeries",
    "data_root",
    "load_case",
    "load_dataset",
    "make_demo_task",
    "make_series",
    "simulate_stsf",
    "srf_matrix",
]
