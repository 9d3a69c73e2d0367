"""The Samson and Jasper Ridge hyperspectral cubes (standard unmixing benchmarks; Zhu 2017).

Both are single-date cubes with no multispectral partner: pair them with `simulate_stsf` to get
an STSF task whose second date is simulated. Band names are the band-centre wavelengths in nm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from stfusion.core.errors import FileFormatError
from stfusion.core.scene import Scene
from stfusion.io import read_cube

from .data_root import dataset_dir, dataset_file
from .stsf_blind import simulate_blind_stsf
from .stsf_sim import SimulatedSTSF, simulate_stsf

HS_CITATION = (
    "Zhu, F. (2017). Hyperspectral unmixing: ground truth labeling, datasets, benchmark performances and "
    "survey. arXiv:1708.05125. Files: ricardoborsoi/MUA_SparseUnmixing."
)

SAMSON_WAVELENGTHS = np.linspace(401.0, 889.0, 156)
"""Samson: 156 bands evenly spaced over 401-889 nm (3.1 nm apart)."""

AVIRIS_WAVELENGTHS = np.linspace(370.0, 2510.0, 224)
"""Approximate AVIRIS band centres: 224 bands evenly over 370-2510 nm (9.6 nm apart). The real
centres differ by up to about 10 nm where AVIRIS's four spectrometers overlap; this is close
enough for Gaussian response functions tens of nm wide."""


def load_hs_samson(root: Path) -> Scene:
    """Samson: 95 x 95 pixels x 156 bands (401-889 nm), reflectance 0-1 (``V`` column-major)."""
    path = dataset_file(dataset_dir(root, "hs_samson_jasper"), "samson_1.mat")
    return read_cube(path, key="V", shape=(95, 95), wavelengths=SAMSON_WAVELENGTHS, name="samson")


def jasper_wavelengths(path: Path) -> np.ndarray:
    """Centres of the 198 AVIRIS bands kept in Jasper Ridge (``SlectBands``, 1-based) from `AVIRIS_WAVELENGTHS`."""
    try:
        selected = scipy.io.loadmat(path, variable_names=["SlectBands"])["SlectBands"].ravel().astype(int)
    except (KeyError, ValueError, OSError) as exc:
        raise FileFormatError(f"cannot read SlectBands from {path}: {exc}; restore jasperRidge2_R198.mat") from exc
    if selected.min() < 1 or selected.max() > AVIRIS_WAVELENGTHS.size:
        raise FileFormatError(f"SlectBands of {path} is outside 1-{AVIRIS_WAVELENGTHS.size}; restore the file")
    return AVIRIS_WAVELENGTHS[selected - 1]


def load_hs_jasper(root: Path) -> Scene:
    """Jasper Ridge (AVIRIS): 100 x 100 pixels x 198 bands (~400-2460 nm; water-vapour bands
    removed), reflectance = ``Y / maxValue`` (5000)."""
    path = dataset_file(dataset_dir(root, "hs_samson_jasper"), "jasperRidge2_R198.mat")
    return read_cube(path, key="Y", shape=(100, 100), wavelengths=jasper_wavelengths(path), name="jasper")


def load_stsf_samson(root: Path) -> SimulatedSTSF:
    """The Samson STSF experiment: `simulate_stsf` defaults (ratio 3, Sentinel-2 10 m bands); t2 SIMULATED."""
    return simulate_stsf(load_hs_samson(root))


def load_stsf_jasper(root: Path) -> SimulatedSTSF:
    """The Jasper Ridge STSF experiment: `simulate_stsf` defaults (ratio 3, Sentinel-2 10 m bands); t2 SIMULATED."""
    return simulate_stsf(load_hs_jasper(root))


def load_stsf_samson_blind(root: Path) -> SimulatedSTSF:
    """Samson with a sensor pair the methods are not told (`simulate_blind_stsf`); t2 SIMULATED."""
    return simulate_blind_stsf(load_hs_samson(root))


def load_stsf_jasper_blind(root: Path) -> SimulatedSTSF:
    """Jasper Ridge with a sensor pair the methods are not told (`simulate_blind_stsf`); t2 SIMULATED."""
    return simulate_blind_stsf(load_hs_jasper(root))
