"""The demo's built-in hyperspectral scene: the synthetic landscape of `stfusion.data.make_series`
seen by a VNIR imaging spectrometer, made without any file.

Each fine pixel's blue, green, red and NIR reflectance is unmixed (non-negative least squares)
into three smooth endmember spectra (green vegetation with its red edge, bare soil, water), and
the hyperspectral cube is the same mixture sampled at every band. `stsf_task` then simulates the
coarse HS image, the Sentinel-2 10 m MS images and a SIMULATED second date with
`stfusion.data.simulate_stsf`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from ..core.scene import Scene
from ..core.sensor_bands import SENTINEL2_BANDS
from ..data import SimulatedSTSF, make_series, simulate_stsf
from ..data.stsf_sim import TEN_METRE_BANDS

WAVELENGTHS_NM = (410.0, 940.0)
"""First and last band centre of the cube: the VNIR range, which holds Sentinel-2 B2, B3, B4 and B8."""
HS_RATIO = 3
DATE_INDEX = 2
"""The synthetic series' date the cube shows (2024-07-05: crops green, before the flood and the harvest)."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def endmembers(wl: np.ndarray) -> np.ndarray:
    """(3, bands) reflectance of green vegetation (green peak at 550 nm, red edge at 718 nm, NIR
    plateau), bare soil (rising smoothly with wavelength) and water (decaying from the blue)."""
    vegetation = 0.03 + 0.06 * np.exp(-0.5 * ((wl - 550.0) / 35.0) ** 2) + 0.42 * _sigmoid((wl - 718.0) / 13.0)
    soil = 0.05 + 0.30 * (1.0 - np.exp(-(wl - 400.0) / 400.0))
    water = 0.005 + 0.07 * np.exp(-(wl - 400.0) / 130.0)
    return np.stack([vegetation, soil, water])


def hs_scene(size: int = 96, bands: int = 48, seed: int = 0) -> Scene:
    """A ``bands``-band cube of the synthetic landscape (``size`` x ``size`` 30 m pixels, ``size`` a
    multiple of `HS_RATIO`, seed ``seed``) at `DATE_INDEX`; band names are the band centres in nm."""
    series = make_series(size=(size, size), ratio=HS_RATIO, seed=seed)
    fine = series.truth[DATE_INDEX]
    wl = np.linspace(*WAVELENGTHS_NM, bands)
    spectra = endmembers(wl)
    names = list(fine.bands or ())
    centres = [SENTINEL2_BANDS[b][1] for b in TEN_METRE_BANDS]
    design = np.stack([np.interp(centres, wl, e) for e in spectra], axis=1)  # (4 MS bands, 3 endmembers)
    pixels = np.asarray(fine.data, np.float64)[[names.index(b) for b in TEN_METRE_BANDS]].reshape(len(centres), -1)
    abundances = np.array([nnls(design, x)[0] for x in pixels.T]).T
    cube = (spectra.T @ abundances).reshape(bands, size, size)
    return fine.replace(data=cube.astype(np.float32), bands=tuple(f"{w:.1f}" for w in wl), name="demo hyperspectral")


def stsf_task(size: int = 96, bands: int = 48, seed: int = 0) -> SimulatedSTSF:
    """The demo's STSF experiment on `hs_scene`: ratio 3, Sentinel-2 10 m MS bands, senescence at t2 (SIMULATED).

    The MS bands use the Gaussian Sentinel-2 responses, so the demo gives the same numbers with or
    without the optional pyrsr (``stfusion[srf]``, the measured responses)."""
    return simulate_stsf(hs_scene(size, bands, seed), ratio=HS_RATIO, srf="sentinel2-gaussian", seed=seed)
