"""Tiny generated GeoTIFFs for the io tests (a helper module, not a conftest, so it cannot shadow tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

UTM_TRANSFORM = Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0)


def _write(path: Path, data: np.ndarray, **profile: Any) -> Path:
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    descriptions = profile.pop("descriptions", None)
    base = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0], dtype=str(data.dtype))
    base.update(profile)
    with rasterio.open(path, "w", **base) as dst:
        dst.write(data)
        if descriptions is not None:
            dst.descriptions = descriptions
    return path


@pytest.fixture
def make_tif(tmp_path: Path) -> Callable[..., Path]:
    """``make_tif(name, data, **profile)`` writes a GeoTIFF in ``tmp_path`` (EPSG:32633, 30 m unless told)."""

    def make(name: str, data: np.ndarray, **profile: Any) -> Path:
        profile.setdefault("crs", "EPSG:32633")
        profile.setdefault("transform", UTM_TRANSFORM)
        return _write(tmp_path / name, data, **profile)

    return make
