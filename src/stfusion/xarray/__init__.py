"""The DataArray API (rioxarray conventions), lazy on Dask: `predict` and `fuse_cube`.

Arguments are DataArrays with dims (band, y, x) or (time, band, y, x); see `stfusion.xarray.convert`
for how their grid, nodata, scale and dates are read, and docs/xarray.md for examples.
"""

from .api import predict
from .cube import fuse_cube

__all__ = ["fuse_cube", "predict"]
