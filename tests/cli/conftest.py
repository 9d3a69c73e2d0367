"""Tiny GeoTIFF fixtures for the command-line tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cli_rasters import write_tif


@pytest.fixture
def scenes(tmp_path: Path) -> dict[str, Path]:
    """A one-pair task as int16 reflectance x10000 (coarse on the fine grid) and its truth."""
    rng = np.random.default_rng(0)
    fine1 = rng.integers(200, 4000, (3, 32, 32)).astype(np.int16)
    change = np.array([100, 200, 300], np.int16)[:, None, None]
    blocks = fine1.reshape(3, 8, 4, 8, 4).mean(axis=(2, 4))
    coarse1 = np.repeat(np.repeat(blocks, 4, 1), 4, 2).astype(np.int16)
    fine1[:, 0, 0] = -9999
    return {
        "fine1": write_tif(tmp_path / "L_20200601.tif", fine1),
        "coarse1": write_tif(tmp_path / "M_20200601.tif", coarse1),
        "coarse2": write_tif(tmp_path / "M_20200701.tif", (coarse1 + change).astype(np.int16)),
        "truth": write_tif(tmp_path / "L_20200701.tif", (fine1 + change).astype(np.int16)),
    }
