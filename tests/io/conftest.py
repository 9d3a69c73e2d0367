"""Fixtures of the reader and writer tests."""

from io_rasters import make_tif

__all__ = ["make_tif"]
