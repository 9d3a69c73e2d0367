"""A tiny simulated STSF task (smooth synthetic HS cube, Sentinel-2 10 m bands, ratio 3)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from stfusion.core.scene import Scene
from stfusion.data.stsf_sim import SimulatedSTSF, simulate_stsf


def tiny_cube(size: int = 36, bands: int = 16, seed: int = 0) -> Scene:
    """A smooth cube of three materials over 450-900 nm (vegetation, soil, water)."""
    rng = np.random.default_rng(seed)
    wl = np.linspace(450.0, 900.0, bands)
    veg = 0.05 + 0.4 / (1 + np.exp(-(wl - 715) / 12))
    soil = 0.1 + 0.25 * (wl - 450) / 450
    water = 0.08 * np.exp(-(wl - 450) / 150)
    fields = gaussian_filter(rng.random((3, size, size)), (0, 3, 3))
    ab = np.exp(8 * fields) / np.exp(8 * fields).sum(0)
    cube = np.einsum("mb,mrc->brc", np.stack([veg, soil, water]), ab)
    return Scene(data=cube.astype(np.float32), bands=tuple(f"{w:g}" for w in wl), name="tiny")


def tiny_stsf(seed: int = 0) -> SimulatedSTSF:
    return simulate_stsf(tiny_cube(seed=seed), ratio=3, seed=seed)
