"""Helpers of the DataArray API tests (a module name of its own: test folders share sys.path)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from stfusion.core.scene import Scene


def as_array(scenes: list[Scene], *, time: bool = True) -> xr.DataArray:
    """Scenes as a stackstac/odc-stac-like float64 cube (time, band, y, x): NaN where invalid, band
    names as coordinates, pixel-centre x/y coordinates and a ``crs`` attribute (no spatial_ref)."""
    first = scenes[0]
    a, _, c, _, e, f = first.transform
    data = np.stack([np.where(s.mask, s.data, np.nan) for s in scenes]).astype(np.float64)
    coords = {"band": list(first.bands), "x": c + a * (np.arange(first.width) + 0.5),
              "y": f + e * (np.arange(first.height) + 0.5)}
    if time:
        coords["time"] = np.array([s.date for s in scenes], dtype="datetime64[ns]")
    return xr.DataArray(data, dims=("time", "band", "y", "x"), coords=coords, attrs={"crs": first.crs})
