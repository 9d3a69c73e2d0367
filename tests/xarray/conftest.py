"""Small synthetic scenes for the DataArray API: GeoTIFFs written by rasterio, and cubes built in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from stfusion.data import SyntheticConfig, make_series


@pytest.fixture(scope="session")
def series():
    """Five dates of a 48 x 64 fine grid (30 m) and an 8 x coarser grid, with some cloud in the fine images."""
    return make_series(SyntheticConfig(size=(48, 64), ratio=8, seed=5, cloud_fraction=0.1))


@pytest.fixture
def files(series, tmp_path: Path) -> dict[str, Path]:
    """int16 GeoTIFFs (x 1e-4, nodata -9999): fine and coarse (own grid) of date 1, coarse of date 3."""
    from stfusion.io import write_scene

    scenes = {"fine": series.fine[1], "coarse": series.coarse[1], "target": series.coarse[3]}
    return {k: write_scene(s, tmp_path / f"{k}.tif") for k, s in scenes.items()}
