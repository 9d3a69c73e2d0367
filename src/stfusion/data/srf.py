"""Spectral response functions (SRF) that simulate a multispectral sensor from a hyperspectral cube.

`srf_matrix(wl, "sentinel2")` samples the measured ESA Sentinel-2A MSI responses that the PyPI
package pyrsr ships (1 nm tables, ESA COPE-GSEG-EOPG-TN-15-0007 v3.0; ``pip install 'stfusion[srf]'``)
at the cube's band centres. Without pyrsr, or for ``"sentinel2-gaussian"``, each band is a Gaussian
with the band's centre and full width at half maximum (ESA MSI technical guide), the documented
fallback (a missing pyrsr is warned about). Every row is normalised to sum to 1, so a flat
spectrum stays flat. A band is kept only when its response inside the cube's range holds at least
90 % of its total response (so a band that the cube clips, e.g. Sentinel-2 B8 at Samson's 889 nm
limit, is left out rather than distorted).
"""

from __future__ import annotations

import warnings

import numpy as np

from stfusion.core.errors import BandMismatchError, MissingDependencyError, UnknownParameterError, require
from stfusion.core.sensor_bands import LANDSAT8_BANDS, SENTINEL2_BANDS

SENSORS = {
    "sentinel2": (SENTINEL2_BANDS, ("Sentinel-2A", "MSI")),
    "landsat8": (LANDSAT8_BANDS, ("Landsat-8", "OLI_TIRS")),
}
COVERAGE = 0.9
_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def _band_edges(wl: np.ndarray) -> np.ndarray:
    mid = (wl[1:] + wl[:-1]) / 2
    return np.concatenate([[wl[0] - (mid[0] - wl[0])], mid, [wl[-1] + (wl[-1] - mid[-1])]])


def _measured(sensor: str) -> dict[str, np.ndarray] | None:
    """pyrsr's (wavelength nm, response) tables of ``sensor`` keyed by band, or None without pyrsr."""
    try:
        rsr = require("pyrsr.rsr", "srf")
    except MissingDependencyError:
        return None
    satellite, instrument = SENSORS[sensor][1]
    tables = {}
    for k, v in rsr.RSR_reader(satellite, instrument).items():
        v = np.array(v, dtype=np.float64)
        if v[:, 0].max() < 100:  # some of pyrsr's tables are in micrometres
            v[:, 0] *= 1000.0
        tables[k] = v
    return tables


def _gaussian_curve(centre: float, fwhm: float) -> np.ndarray:
    x = np.arange(np.floor(centre - 2 * fwhm), np.ceil(centre + 2 * fwhm) + 1.0)
    return np.column_stack([x, np.exp(-0.5 * ((x - centre) / (fwhm * _FWHM_TO_SIGMA)) ** 2)])


def _row(curve: np.ndarray, wl: np.ndarray) -> tuple[np.ndarray, float]:
    """The response integrated over each cube band's interval, and the fraction of it inside the cube."""
    x, r = curve[:, 0], np.clip(curve[:, 1], 0.0, None)
    edges = _band_edges(wl)
    fine = np.arange(x.min(), x.max() + 0.25, 0.25)
    fr = np.interp(fine, x, r, left=0.0, right=0.0)
    inside = (fine >= edges[0]) & (fine < edges[-1])
    total = fr.sum()
    which = np.clip(np.searchsorted(edges, fine, side="right") - 1, 0, wl.size - 1)
    row = np.bincount(which[inside], weights=fr[inside], minlength=wl.size)
    return row, (row.sum() / total if total > 0 else 0.0)


def srf_matrix(wl: np.ndarray, sensor: str = "sentinel2") -> tuple[tuple[str, ...], np.ndarray]:
    """(band names, (ms bands, hs bands) matrix with rows summing to 1) for HS band centres ``wl`` (nm).

    ``sensor`` is "sentinel2" or "landsat8" (measured responses from pyrsr, Gaussian without it),
    or "sentinel2-gaussian" / "landsat8-gaussian" (always Gaussian).
    """
    name = sensor.removesuffix("-gaussian")
    if name not in SENSORS:
        choices = ", ".join([*SENSORS, *(f"{s}-gaussian" for s in SENSORS)])
        raise UnknownParameterError(f"unknown srf {sensor!r}; use one of: {choices}, or a matrix")
    wl = np.asarray(wl, dtype=np.float64).ravel()
    if wl.size < 2 or np.any(np.diff(wl) <= 0):
        raise BandMismatchError("hyperspectral band wavelengths must be at least two, strictly increasing; fix the band metadata")
    measured = None if sensor.endswith("-gaussian") else _measured(name)
    if measured is None and not sensor.endswith("-gaussian"):
        warnings.warn(f"pyrsr is not installed; using Gaussian {name} SRFs (pip install 'stfusion[srf]' for the "
                      "measured ones)", stacklevel=2)
    names, rows = [], []
    for band, (key, centre, fwhm) in SENSORS[name][0].items():
        curve = measured[key] if measured is not None and key in measured else _gaussian_curve(centre, fwhm)
        row, coverage = _row(curve, wl)
        if coverage >= COVERAGE and row.sum() > 0:
            names.append(band)
            rows.append(row / row.sum())
    if not names:
        raise BandMismatchError(
            f"no {name} band falls inside the cube's {wl.min():.0f}-{wl.max():.0f} nm; use another srf"
        )
    return tuple(names), np.array(rows)
