"""Land-cover spectra and phenology of the synthetic scenes.

Each class mixes a "soil" spectrum (no green cover; for constant classes, the only spectrum)
and a "green" spectrum (full cover) with a green fraction that follows a double-logistic curve
over the day of year. Bands: blue, green, red, nir, swir1, swir2; reflectance 0-0.6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BANDS: tuple[str, ...] = ("blue", "green", "red", "nir", "swir1", "swir2")


@dataclass(frozen=True)
class LandCover:
    """One class: spectra, double-logistic phenology (days of year, days) and map weight."""

    name: str
    soil: tuple[float, ...]
    green: tuple[float, ...]
    sos: float = 0.0  # start of season: green-up inflection
    eos: float = 366.0  # end of season: senescence inflection
    rise: float = 1.0  # green-up width
    fall: float = 1.0  # senescence width
    fmin: float = 0.0  # green fraction off season
    fmax: float = 0.0  # green fraction at the peak (== fmin: a constant class)
    weight: float = 0.1  # relative frequency on the map
    crop: bool = False  # can be harvested


def _flat(name: str, spectrum: tuple[float, ...], weight: float) -> LandCover:
    return LandCover(name, spectrum, spectrum, weight=weight)


WATER = (0.060, 0.070, 0.050, 0.030, 0.015, 0.010)
CLOUD = (0.500, 0.480, 0.470, 0.500, 0.380, 0.280)

LIBRARY: tuple[LandCover, ...] = (
    _flat("water", WATER, 0.08),
    LandCover("forest", (0.040, 0.060, 0.070, 0.200, 0.200, 0.120), (0.025, 0.050, 0.030, 0.350, 0.170, 0.080),
              sos=125, eos=285, rise=7, fall=9, fmin=0.0, fmax=1.0, weight=0.25),
    LandCover("crop_a", (0.080, 0.110, 0.140, 0.200, 0.300, 0.240), (0.030, 0.070, 0.040, 0.450, 0.220, 0.100),
              sos=95, eos=185, rise=8, fall=6, fmin=0.1, fmax=0.95, weight=0.2, crop=True),
    LandCover("crop_b", (0.090, 0.120, 0.160, 0.220, 0.320, 0.260), (0.030, 0.080, 0.040, 0.500, 0.240, 0.110),
              sos=165, eos=255, rise=7, fall=7, fmin=0.0, fmax=1.0, weight=0.2, crop=True),
    _flat("urban", (0.100, 0.120, 0.140, 0.200, 0.240, 0.210), 0.1),
    LandCover("grassland", (0.060, 0.090, 0.110, 0.220, 0.280, 0.200), (0.030, 0.070, 0.050, 0.380, 0.220, 0.110),
              sos=110, eos=275, rise=10, fall=12, fmin=0.25, fmax=0.8, weight=0.15),
    LandCover("crop_c", (0.085, 0.115, 0.150, 0.210, 0.310, 0.250), (0.030, 0.075, 0.040, 0.480, 0.230, 0.100),
              sos=140, eos=235, rise=6, fall=8, fmin=0.0, fmax=1.0, weight=0.15, crop=True),
    _flat("bare", (0.120, 0.160, 0.200, 0.250, 0.350, 0.300), 0.05),
)
CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in LIBRARY)

SOIL = np.array([c.soil for c in LIBRARY], dtype=np.float32)  # (classes, bands)
GREEN = np.array([c.green for c in LIBRARY], dtype=np.float32)
_PHENO = np.array([(c.sos, c.eos, c.rise, c.fall, c.fmin, c.fmax) for c in LIBRARY], dtype=np.float64)


def green_fraction(doy: np.ndarray | float, classes: np.ndarray) -> np.ndarray:
    """Green fraction in [0, 1] of ``classes`` at day of year ``doy`` (broadcast together)."""
    sos, eos, rise, fall, fmin, fmax = _PHENO[np.asarray(classes)].T
    up = 1.0 / (1.0 + np.exp(-(doy - sos) / rise))
    down = 1.0 / (1.0 + np.exp((doy - eos) / fall))
    return np.clip(fmin + (fmax - fmin) * (up + down - 1.0), 0.0, 1.0)


def crop_classes(n_classes: int) -> np.ndarray:
    """Indexes of the harvestable classes among the first ``n_classes``."""
    return np.array([i for i, c in enumerate(LIBRARY[:n_classes]) if c.crop], dtype=np.intp)


def class_weights(n_classes: int) -> np.ndarray:
    """Map frequencies of the first ``n_classes`` classes, summing to 1."""
    w = np.array([c.weight for c in LIBRARY[:n_classes]])
    return w / w.sum()
