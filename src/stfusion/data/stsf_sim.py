"""Simulate a spatial-temporal-spectral fusion (STSF) task from one real hyperspectral cube.

A multispectral (MS) sensor is simulated with Gaussian spectral response functions (SRF), a
coarse hyperspectral (HS) sensor by Gaussian blur and block averaging, and the second date by a
documented change model. The second date is SIMULATED: say so wherever results are reported.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from stfusion.core.errors import BandMismatchError, RatioError, ShapeMismatchError, UnknownParameterError
from stfusion.core.scene import Scene
from stfusion.core.task import STSFTask
from stfusion.io import degrade

SENTINEL2_BANDS: dict[str, tuple[float, float]] = {
    "blue": (492.4, 66.0),
    "green": (559.8, 36.0),
    "red": (664.6, 31.0),
    "rededge1": (704.1, 15.0),
    "rededge2": (740.5, 15.0),
    "rededge3": (782.8, 20.0),
    "nir": (832.8, 106.0),
    "nir08": (864.7, 21.0),
    "swir1": (1613.7, 91.0),
    "swir2": (2202.4, 175.0),
}
"""Sentinel-2A MSI bands B2-B8, B8A, B11, B12: (centre, FWHM) in nm (ESA MSI technical guide)."""

LANDSAT8_BANDS: dict[str, tuple[float, float]] = {
    "coastal": (443.0, 16.0),
    "blue": (482.0, 60.0),
    "green": (561.4, 57.0),
    "red": (654.6, 37.0),
    "nir": (864.7, 28.0),
    "swir1": (1608.9, 85.0),
    "swir2": (2200.7, 187.0),
}
"""Landsat-8 OLI reflective bands 1-7: (centre, FWHM) in nm."""

SRF_SENSORS = {"sentinel2": SENTINEL2_BANDS, "landsat8": LANDSAT8_BANDS}
CHANGES = ("senescence", "greening", "none")

_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def wavelengths(scene: Scene) -> np.ndarray:
    """Band-centre wavelengths (nm) from a cube's band names, or `BandMismatchError`."""
    try:
        return np.array([float(b) for b in scene.bands or ()], dtype=np.float64).reshape(scene.count)
    except ValueError as exc:
        raise BandMismatchError(
            f"cube {scene.label} has no numeric band wavelengths; read it with read_cube(..., wavelengths=[...nm])"
        ) from exc


def gaussian_srf(wl: np.ndarray, bands: dict[str, tuple[float, float]]) -> tuple[tuple[str, ...], np.ndarray]:
    """(names, matrix (ms bands, hs bands)) of Gaussian SRFs, each row summing to 1.

    Only bands whose full width at half maximum lies inside the cube's wavelength range and holds
    at least one cube band are kept (e.g. Samson, 401-889 nm, keeps Sentinel-2 B2-B8A).
    """
    names, rows = [], []
    for name, (centre, fwhm) in bands.items():
        lo, hi = centre - fwhm / 2, centre + fwhm / 2
        if lo < wl.min() or hi > wl.max() or not np.any((wl >= lo) & (wl <= hi)):
            continue
        response = np.exp(-0.5 * ((wl - centre) / (fwhm * _FWHM_TO_SIGMA)) ** 2)
        names.append(name)
        rows.append(response / response.sum())
    if not names:
        raise BandMismatchError(
            f"no band of the multispectral sensor falls inside the cube's {wl.min():.0f}-{wl.max():.0f} nm; "
            "use another srf"
        )
    return tuple(names), np.array(rows)


def _srf(srf: str | np.ndarray, wl: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    if isinstance(srf, str):
        if srf not in SRF_SENSORS:
            raise UnknownParameterError(f"unknown srf '{srf}'; use one of: {', '.join(SRF_SENSORS)} or a matrix")
        return gaussian_srf(wl, SRF_SENSORS[srf])
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


def simulate_change(
    cube: np.ndarray, wl: np.ndarray, *, change: str = "senescence", seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The cube at a SIMULATED second date, and the (rows, cols) mask of the abrupt patch.

    1. Gradual change on vegetation: reflectance × (1 + s·v·g·A(λ)) with A = `senescence_factor`,
       v = clip((NDVI − 0.3) / 0.4, 0, 1) the vegetation weight (NDVI from the 640-680 and
       820-880 nm means), g = 0.5-1.5 a smooth random field (sigma = 1/8 of the image side)
       making the change uneven, s = 1 for "senescence"; "greening" divides by the same factor.
    2. Abrupt change: a square patch (1/5 of the shorter side) at a random place is converted to
       the mean spectrum of the 5 % lowest-NDVI pixels (water in Samson and Jasper: a flood),
       with 2 % pixel noise.
    Reflectance is clipped to 0 .. max(1, cube maximum). ``change="none"`` returns the cube unchanged.
    """
    if change not in CHANGES:
        raise UnknownParameterError(f"unknown change model '{change}'; use one of: {', '.join(CHANGES)}")
    rows, cols = cube.shape[1:]
    patch = np.zeros((rows, cols), dtype=bool)
    if change == "none":
        return cube.copy(), patch
    rng = np.random.default_rng(seed)
    red, nir = _band_mean(cube, wl, 640.0, 680.0), _band_mean(cube, wl, 820.0, 880.0)
    ndvi = (nir - red) / np.maximum(nir + red, 1e-6)
    veg = np.clip((ndvi - 0.3) / 0.4, 0.0, 1.0)
    uneven = 0.5 + _smooth_field(rng, (rows, cols), max(rows, cols) / 8.0)
    factor = 1.0 + (veg * uneven)[None] * senescence_factor(wl)[:, None, None]
    out = cube * factor if change == "senescence" else cube / factor
    side = max(2, min(rows, cols) // 5)
    r0, c0 = int(rng.integers(0, rows - side + 1)), int(rng.integers(0, cols - side + 1))
    patch[r0:r0 + side, c0:c0 + side] = True
    low = ndvi <= np.quantile(ndvi, 0.05)
    spectrum = cube[:, low].mean(axis=1)
    noise = 1.0 + 0.02 * rng.standard_normal((side, side))
    out[:, r0:r0 + side, c0:c0 + side] = spectrum[:, None, None] * noise[None]
    return np.clip(out, 0.0, max(1.0, float(cube.max()))), patch


def simulate_stsf(
    cube: Scene,
    *,
    ratio: int = 4,
    srf: str | np.ndarray = "sentinel2",
    change: str = "senescence",
    seed: int = 0,
    psf_fwhm: float | None = None,
) -> tuple[STSFTask, Scene]:
    """An STSF task and its truth from one fine HS cube; the second date (t2) is SIMULATED.

    The cube is cropped (top-left) to a multiple of ``ratio``. Returns ``(task, truth)``:
    ``task.hs`` the coarse HS at t1 (Gaussian blur of FWHM ``psf_fwhm`` fine pixels, default
    ``ratio``, then ``ratio`` x ``ratio`` block means), ``task.ms`` = SRF · cube at t1,
    ``task.ms_target`` = SRF · cube at t2, ``task.srf`` the (ms bands, hs bands) matrix; ``truth``
    is the fine HS cube at t2 (`simulate_change`). ``srf`` is "sentinel2", "landsat8" (Gaussian
    SRFs of the bands inside the cube's range) or a matrix.
    """
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 2:
        raise RatioError(f"ratio must be an integer >= 2, got {ratio!r}; e.g. ratio=4")
    if min(cube.height, cube.width) < 2 * ratio:
        raise RatioError(
            f"cube {cube.label} ({cube.height}x{cube.width}) is too small for ratio {ratio}; use a smaller ratio"
        )
    if psf_fwhm is not None and not psf_fwhm >= 0:
        raise UnknownParameterError(f"psf_fwhm must be >= 0 fine pixels, got {psf_fwhm!r}; e.g. psf_fwhm=4")
    wl = wavelengths(cube)
    names, matrix = _srf(srf, wl)
    rows, cols = cube.height - cube.height % ratio, cube.width - cube.width % ratio
    fine = cube.replace(data=np.asarray(cube.data)[:, :rows, :cols], mask=np.asarray(cube.mask)[:rows, :cols])
    t1 = np.asarray(fine.masked(0.0), dtype=np.float64)
    t2, _ = simulate_change(t1, wl, change=change, seed=seed)
    sigma = (ratio if psf_fwhm is None else psf_fwhm) * _FWHM_TO_SIGMA
    blurred = fine.replace(data=gaussian_filter(t1, (0.0, sigma, sigma), mode="reflect"))
    hs = degrade(blurred, int(ratio)).replace(name=f"{cube.name} HS t1 (coarse)")

    def ms(data: np.ndarray, label: str) -> Scene:
        return fine.replace(data=np.einsum("kb,brc->krc", matrix, data), bands=names, name=f"{cube.name} MS {label}")

    task = STSFTask(hs=hs, ms=ms(t1, "t1"), ms_target=ms(t2, "t2 (simulated)"), ratio=float(ratio), srf=matrix)
    return task, fine.replace(data=t2, name=f"{cube.name} HS t2 (simulated)")
