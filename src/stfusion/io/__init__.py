"""Raster I/O: read files into `Scene`s, write them back with the same encoding, align grids, name bands."""

from .align import align_to_fine, degrade, infer_ratio
from .bandnames import SENSORS, band_index, band_names
from .cube import read_cube
from .dates import parse_date
from .folder import SeriesData, load_series, scan_folder
from .read import read_array, read_scene
from .write import encode, write_scene

__all__ = [
    "SENSORS", "SeriesData", "align_to_fine", "band_index", "band_names", "degrade", "encode", "infer_ratio",
    "load_series", "parse_date", "read_array", "read_cube", "read_scene", "scan_folder", "write_scene",
]
