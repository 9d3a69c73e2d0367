"""Writing tiny GeoTIFFs for the command-line tests: the shared writer, with nodata -9999 unless told."""

from __future__ import annotations

import functools

from tif_helpers import FINE_TRANSFORM, write_tif as _write_tif

write_tif = functools.partial(_write_tif, nodata=-9999)

__all__ = ["FINE_TRANSFORM", "write_tif"]
