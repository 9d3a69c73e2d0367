"""Tiny generated GeoTIFFs for the io tests (a helper module, not a conftest, so it cannot shadow tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from rasterio.transform import Affine
from tif_helpers import write_tif

UTM_TRANSFORM = Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0)


@pytest.fixture
def make_tif(tmp_path: Path) -> Callable[..., Path]:
    """``make_tif(name, data, **profile)`` writes a GeoTIFF in ``tmp_path`` (EPSG:32633, 30 m unless told)."""

    def make(name: str, data: np.ndarray, **profile: Any) -> Path:
        profile.setdefault("crs", "EPSG:32633")
        profile.setdefault("transform", UTM_TRANSFORM)
        return write_tif(tmp_path / name, data, **profile)

    return make
