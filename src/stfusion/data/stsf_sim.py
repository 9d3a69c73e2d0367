"""Simulate a spatial-temporal-spectral fusion (STSF) task from one real hyperspectral cube.

A multispectral (MS) sensor is simulated with spectral response functions (SRF, `stfusion.data.srf`),
a coarse hyperspectral (HS) sensor by a Gaussian PSF and decimation (`stfusion.core.observation`),
and the second date by a documented change model (`simulate_change`). The second date is SIMULATED: say so wherever results are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter

from stfusion.core.errors import (
    BandMismatchError,
    InvalidParameterError,
    RatioError,
    ShapeMismatchError,
    UnknownParameterError,
)
from stfusion.core.observation import psf_kernel, spatial_degrade, spectral_degrade
from stfusion.core.scene import Scene
from stfusion.core.task import STSFTask

from .srf import srf_matrix

TEN_METRE_BANDS = ("blue", "green", "red", "nir")
"""Sentinel-2's 10 m bands B2, B3, B4, B8: the MS input of DC-STSF (Meng et al. 2025)."""

CHANGES = ("senescence", "greening", "none")

def wavelengths(scene: Scene) -> np.ndarray:
    """Band-centre wavelengths (nm) from a cube's band names, or `BandMismatchError`."""
    try:
        return np.array([float(b) for b in scene.bands or ()], dtype=np.float64).reshape(scene.count)
    except ValueError as exc:
        raise BandMismatchError(
            f"cube {scene.label} has no numeric band wavelengths; read it with read_cube(..., wavelengths=[...nm])"
        ) from exc


def _srf(srf: str | np.ndarray, wl: np.ndarray, bands: Sequence[str] | None) -> tuple[tuple[str, ...], np.ndarray]:
    if isinstance(srf, str):
        names, matrix = srf_matrix(wl, srf)
        if bands is None:
            return names, matrix
        missing = [b for b in bands if b not in names]
        if missing:
            raise BandMismatchError(
                f"{srf} bands {', '.join(missing)} do not fit inside the cube's {wl.min():.0f}-{wl.max():.0f} nm; "
                f"choose from {', '.join(names)}"
            )
        return tuple(bands), matrix[[names.index(b) for b in bands]]
    matrix = np.asarray(srf, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != wl.size or matrix.shape[0] >= wl.size:
        raise ShapeMismatchError(
            f"srf matrix has shape {matrix.shape}; expected (ms bands, {wl.size}) with fewer MS than HS bands"
        )
    return tuple(f"ms{k + 1}" for k in range(matrix.shape[0])), matrix


def _band_mean(cube: np.ndarray, wl: np.ndarray, lo: float, hi: float) -> np.ndarray:
    sel = (wl >= lo) & (wl <= hi)
    if not sel.any():
        raise BandMismatchError(f"the cube has no band in {lo:g}-{hi:g} nm, needed for NDVI; give a VNIR cube")
    return cube[sel].mean(axis=0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def senescence_factor(wl: np.ndarray) -> np.ndarray:
    """Relative reflectance change A(λ) of full vegetation cover at senescence.

    Chlorophyll loss fills the red absorption (+60 % at 675 nm) and raises green (+15 % at
    550 nm); canopy thinning lowers the NIR plateau (-30 % from the red edge at 715 nm to
    1300 nm); drying raises the SWIR (+20 % beyond 1300 nm). All terms are smooth in λ.
    """
    swir = _sigmoid((wl - 1300.0) / 60.0)
    nir = _sigmoid((wl - 715.0) / 12.0) * (1.0 - swir)
    red = np.exp(-0.5 * ((wl - 675.0) / 30.0) ** 2)
    green = np.exp(-0.5 * ((wl - 550.0) / 35.0) ** 2)
    return 0.6 * red + 0.15 * green - 0.3 * nir + 0.2 * swir


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-filtered noise scaled to 0-1."""
    field = gaussian_filter(rng.standard_normal(shape), sigma, mode="reflect")
    return (field - field.min()) / (np.ptp(field) or 1.0)


def moisture_factor(wl: np.ndarray) -> np.ndarray:
    """Relative reflectance change of wetted bare surfaces: -10 % in the VNIR, -20 % beyond 1300 nm."""
    return -0.1 - 0.1 * _sigmoid((wl - 1300.0) / 60.0)


def _ndvi(cube: np.ndarray, wl: np.ndarray) -> np.ndarray:
    red, nir = _band_mean(cube, wl, 640.0, 680.0), _band_mean(cube, wl, 820.0, 880.0)
    return (nir - red) / np.maximum(nir + red, 1e-6)


def land_cover_classes(cube: np.ndarray, n: int, seed: int) -> np.ndarray:
    """(rows, cols) k-means classes of the pixel spectra (seeded; at most 20000 pixels fit the centres)."""
    from sklearn.cluster import KMeans

    x = cube.reshape(cube.shape[0], -1).T
    rng = np.random.default_rng(seed)
    fit_on = x if x.shape[0] <= 20000 else x[rng.choice(x.shape[0], 20000, replace=False)]
    km = KMeans(n_clusters=n, n_init=4, random_state=seed).fit(fit_on)
    return km.predict(x).reshape(cube.shape[1:])


def simulate_change(
    cube: np.ndarray, wl: np.ndarray, *, change: str = "senescence", classes: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The cube at a SIMULATED second date, and the (rows, cols) mask of the abrupt patch.

    1. Per-class spectral change: the pixels are split into ``classes`` k-means classes; class c
       is multiplied by ``1 + a_c (v_c A(λ) + (1 - v_c) W(λ))`` with a_c drawn in 0.5-1, v_c =
       clip((NDVI_c - 0.3) / 0.4, 0, 1) the vegetation weight of the class mean spectrum,
       A = `senescence_factor` and W = `moisture_factor` (bare surfaces get wetter and darker).
       "greening" divides by the same factor.
    2. A smooth illumination change: a spectrally flat factor 0.95-1.05 that varies smoothly in
       space (Gaussian-filtered noise, sigma = 1/4 of the image side).
    3. An abrupt change: a square patch (1/5 of the shorter side) at a random place takes the mean
       spectrum of the 5 % lowest-NDVI pixels (water in Samson and Jasper: a flood), with 2 %
       pixel noise.
    Reflectance is clipped to 0 .. max(1, cube maximum). ``change="none"`` returns the cube unchanged.
    """
    if change not in CHANGES:
        raise UnknownParameterError(f"unknown change model '{change}'; use one of: {', '.join(CHANGES)}")
    rows, cols = cube.shape[1:]
    patch = np.zeros((rows, cols), dtype=bool)
    if change == "none":
        return cube.copy(), patch
    rng = np.random.default_rng(seed)
    ndvi = _ndvi(cube, wl)
    labels = land_cover_classes(cube, classes, seed)
    factors = np.empty((classes, wl.size))
    for c in range(classes):
        members = labels == c
        mean = cube[:, members].mean(axis=1)[:, None, None] if members.any() else cube.mean(axis=(1, 2))[:, None, None]
        v = float(np.clip((_ndvi(mean, wl)[0, 0] - 0.3) / 0.4, 0.0, 1.0))
        factors[c] = 1.0 + rng.uniform(0.5, 1.0) * (v * senescence_factor(wl) + (1 - v) * moisture_factor(wl))
    factor = np.moveaxis(factors[labels], -1, 0)
    out = cube * factor if change == "senescence" else cube / factor
    out *= (0.95 + 0.1 * _smooth_field(rng, (rows, cols), max(rows, cols) / 4.0))[None]
    side = max(2, min(rows, cols) // 5)
    r0, c0 = int(rng.integers(0, rows - side + 1)), int(rng.integers(0, cols - side + 1))
    patch[r0:r0 + side, c0:c0 + side] = True
    spectrum = cube[:, ndvi <= np.quantile(ndvi, 0.05)].mean(axis=1)
    noise = 1.0 + 0.02 * rng.standard_normal((side, side))
    out[:, r0:r0 + side, c0:c0 + side] = spectrum[:, None, None] * noise[None]
    return np.clip(out, 0.0, max(1.0, float(cube.max()))), patch


@dataclass(frozen=True)
class SimulatedSTSF:
    """A simulated STSF experiment: ``task`` (HS t1, MS t1, MS t2), the fine HS truths ``t1`` and
    ``t2`` (t2 SIMULATED), and ``patch``, the abrupt-change mask."""

    task: STSFTask
    t1: Scene
    t2: Scene
    patch: np.ndarray

    @property
    def task_t1(self) -> STSFTask:
        """The same task without the second date: methods then return the fine HS image at t1."""
        return replace(self.task, ms_target=None)


def simulate_stsf(
    cube: Scene,
    *,
    ratio: int = 3,
    srf: str | np.ndarray = "sentinel2",
    bands: Sequence[str] | None = TEN_METRE_BANDS,
    change: str = "senescence",
    seed: int = 0,
    psf_fwhm: float | None = None,
) -> SimulatedSTSF:
    """A simulated STSF experiment from one fine HS cube; the second date (t2) is SIMULATED.

    The cube is cropped (top-left) to a multiple of ``ratio``. The coarse HS at t1 is
    `~stfusion.core.observation.spatial_degrade` of it: a Gaussian PSF of FWHM ``psf_fwhm`` fine
    pixels (default ``ratio``), then decimation by ``ratio``. The MS images are ``R Z`` at t1 and
    t2, with R the `~stfusion.data.srf.srf_matrix` of ``srf`` ("sentinel2", "landsat8", their
    "-gaussian" variants, or a (ms bands, hs bands) matrix) restricted to ``bands`` (default the
    four 10 m Sentinel-2 bands of DC-STSF; None keeps every band inside the cube's range). t2 is
    `simulate_change` of t1 with ``change`` and ``seed``.
    """
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 2:
        raise RatioError(f"ratio must be an integer >= 2, got {ratio!r}; e.g. ratio=3")
    if min(cube.height, cube.width) < 2 * ratio:
        raise RatioError(
            f"cube {cube.label} ({cube.height}x{cube.width}) is too small for ratio {ratio}; use a smaller ratio"
        )
    if psf_fwhm is not None and not psf_fwhm >= 0:
        raise InvalidParameterError(f"psf_fwhm must be >= 0 fine pixels, got {psf_fwhm!r}; e.g. psf_fwhm=3")
    wl = wavelengths(cube)
    names, matrix = _srf(srf, wl, None if not isinstance(srf, str) else bands)
    rows, cols = cube.height - cube.height % ratio, cube.width - cube.width % ratio
    fine = cube.replace(data=np.asarray(cube.data)[:, :rows, :cols], mask=np.asarray(cube.mask)[:rows, :cols])
    t1 = np.asarray(fine.masked(0.0), dtype=np.float64)
    t2, patch = simulate_change(t1, wl, change=change, seed=seed)
    coarse = spatial_degrade(t1, int(ratio), psf_kernel(int(ratio), psf_fwhm))
    a, b, c, d, e, f = fine.transform
    hs = fine.replace(data=coarse, mask=None, transform=(a * ratio, b * ratio, c, d * ratio, e * ratio, f),
                      resolution=None if fine.resolution is None else fine.resolution * ratio,
                      name=f"{cube.name} HS t1 (coarse)")

    def ms(data: np.ndarray, label: str) -> Scene:
        return fine.replace(data=spectral_degrade(data, matrix).astype(np.float32), bands=names,
                            name=f"{cube.name} MS {label}")

    task = STSFTask(hs=hs, ms=ms(t1, "t1"), ms_target=ms(t2, "t2 (simulated)"), ratio=float(ratio), srf=matrix)
    return SimulatedSTSF(task=task, t1=fine.replace(data=t1.astype(np.float32), name=f"{cube.name} HS t1"),
                         t2=fine.replace(data=t2.astype(np.float32), name=f"{cube.name} HS t2 (simulated)"),
                         patch=patch)

