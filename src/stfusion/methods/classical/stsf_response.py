"""The spectral and spatial responses between an HS and an MS image, estimated from the pair.

A real pair comes without a measured spectral response (SRF) or point-spread function (PSF), with
radiometric gains between the sensors and some misregistration. The model is

    D_theta(M)_k = sum_j R_kj H_j + o_k      (on the HS grid, for every MS band k)

with D_theta the observation model of `stfusion.core.observation` (separable Gaussian PSF of FWHM
``fwhm`` shifted by ``(dy, dx)`` fine pixels, then decimation), R the (MS, HS) response whose row
sums are the sensor gains, and o the offsets. Estimated in two steps, as HySure-style methods do
(Simoes, Bioucas-Dias, Almeida & Chanussot 2015, IEEE TGRS 53(6), sec. IV), but parametric:

1. **PSF** (`estimate_psf`): theta minimises the mean unexplained variance ``1 - R^2`` of the MS
   bands degraded by D_theta and regressed (least squares, with an intercept) on the leading
   principal components of the HS image; two coarse pixels at the borders are left out. A grid
   over the width (0.5-2 ratio), then over the shifts (+-0.5 ratio), then Nelder-Mead on all three.
   The true theta makes the relation exactly linear, so the criterion is lowest there.
2. **SRF** (`estimate_srf`): per MS band, non-negative least squares on centred pixels (so the
   offset is free) with a second-difference smoothness penalty of weight lambda, limited to the HS
   bands near the MS band when its centre is known (`band_window`). lambda is chosen on a held-out
   quarter of the pixels, then the band is refitted on all of them. R^2 per band is reported, and a
   band with ``R^2 < POOR_FIT`` gets a one-line `ResponseWarning`: the HS cube cannot explain it
   (outside the HS range, misregistered, or clouds in one image).

This replaces the earlier estimate (NNLS per band with rows forced to sum to one), which dropped
the gains and offsets between the sensors and broke CNMF on real pairs.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import minimize, nnls

from stfusion.core.errors import ResponseWarning
from stfusion.core.observation import psf_kernel, spatial_degrade
from stfusion.core.sensor_bands import LANDSAT8_BANDS, SENTINEL2_BANDS

POOR_FIT = 0.9
"""MS bands whose R^2 on the HS cube is below this get a warning."""

LAMBDAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
"""Smoothness weights tried (times the mean diagonal of the HS Gram matrix)."""

MARGIN_NM = 30.0
"""Slack (nm) around a known MS band: the window is centre +- (FWHM + MARGIN_NM)."""


@dataclass(frozen=True)
class Psf:
    """A separable Gaussian PSF: ``fwhm`` and the shift ``(dy, dx)``, in fine pixels."""

    fwhm: float
    dy: float = 0.0
    dx: float = 0.0

    def kernels(self, ratio: int) -> tuple[np.ndarray, np.ndarray]:
        """The (rows, columns) 1-D kernels of `stfusion.core.observation.spatial_degrade`."""
        return psf_kernel(ratio, self.fwhm, self.dy), psf_kernel(ratio, self.fwhm, self.dx)


@dataclass(frozen=True)
class SpectralResponse:
    """``M ≈ srf H + offset`` per MS band; ``r2`` per band (NaN when given, not fitted)."""

    srf: np.ndarray  # (ms bands, hs bands); row sums are the gains
    offset: np.ndarray  # (ms bands,)
    r2: np.ndarray  # (ms bands,)

    @property
    def gain(self) -> np.ndarray:
        return self.srf.sum(axis=1)


def _interior(r: int, c: int, border: int = 2) -> np.ndarray:
    keep = np.zeros((r, c), dtype=bool)
    b = border if min(r, c) > 4 * border + 2 else 0
    keep[b:r - b or None, b:c - b or None] = True
    return keep


def _components(hs: np.ndarray, valid: np.ndarray, q: int) -> np.ndarray:
    """(q + 1, n) leading principal components of the valid HS pixels, with a row of ones."""
    x = hs[:, valid]
    x = x - x.mean(axis=1, keepdims=True)
    u, _, _ = np.linalg.svd(x @ x.T, hermitian=True)
    return np.vstack([u[:, :q].T @ x, np.ones((1, x.shape[1]))])


def unexplained(y: np.ndarray, basis: np.ndarray) -> float:
    """Mean over the rows of y (b, n) of ``1 - R^2`` of their least-squares fit on the columns of
    ``basis`` (n, k), an orthonormal basis of the regressors (`np.linalg.qr` of them, computed once)."""
    res = y - (y @ basis) @ basis.T
    var = y.var(axis=1) * y.shape[1]
    return float(np.mean(np.sum(res**2, axis=1) / np.maximum(var, 1e-30)))


def estimate_psf(hs: np.ndarray, ms: np.ndarray, ratio: int, valid: np.ndarray | None = None) -> Psf:
    """The Gaussian PSF (width and shift) that best explains the MS image on the HS grid (module docstring).

    ``hs`` (B, r, c) and ``ms`` (b, r * ratio, c * ratio); ``valid`` (r, c) marks usable HS pixels.
    """
    r, c = hs.shape[1:]
    keep = _interior(r, c) & (np.ones((r, c), bool) if valid is None else valid)
    q = int(min(hs.shape[0], max(2 * ms.shape[0], 10), max(1, keep.sum() // 10)))
    basis, _ = np.linalg.qr(_components(hs, keep, q).T)

    def cost(theta: np.ndarray) -> float:
        fwhm, dy, dx = float(theta[0]), float(theta[1]), float(theta[2])
        if not 0.0 <= fwhm <= 4.0 * ratio or max(abs(dy), abs(dx)) > ratio:
            return 1e3
        low = spatial_degrade(ms, ratio, Psf(fwhm, dy, dx).kernels(ratio))
        return unexplained(low[:, keep], basis)

    widths = [f * ratio for f in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)]
    best = min(([w, 0.0, 0.0] for w in widths), key=lambda t: cost(np.array(t)))
    shifts = [s * ratio for s in (-0.5, -0.25, 0.0, 0.25, 0.5)]
    best = min(([best[0], dy, dx] for dy in shifts for dx in shifts), key=lambda t: cost(np.array(t)))
    res = minimize(cost, np.array(best, dtype=np.float64), method="Nelder-Mead",
                   options={"xatol": 0.01, "fatol": 1e-7, "maxiter": 200,
                            "initial_simplex": np.array(best) + np.array([[0, 0, 0], [0.25 * ratio, 0, 0],
                                                                          [0, 0.2 * ratio, 0], [0, 0, 0.2 * ratio]])})
    theta = res.x if res.fun <= cost(np.array(best)) else np.array(best)
    return Psf(float(abs(theta[0])), float(theta[1]), float(theta[2]))


_S2_KEYS = {key.lower(): name for name, (key, _, _) in SENTINEL2_BANDS.items()}


def band_window(name: str) -> tuple[float, float] | None:
    """(centre nm, FWHM nm) of an MS band from its name: a Sentinel-2 or Landsat-8 band name
    ("red", "nir", "B04", "B8A"), or a number in nm ("665"); None when unknown."""
    key = name.strip().lower()
    match = re.fullmatch(r"b0?(\d{1,2}a?)", key)
    if match and match.group(1) in _S2_KEYS:
        key = _S2_KEYS[match.group(1)]
    for table in (SENTINEL2_BANDS, LANDSAT8_BANDS):
        if key in table:
            return table[key][1], table[key][2]
    try:
        centre = float(key.removesuffix("nm"))
    except ValueError:
        return None
    return (centre, 50.0) if 300.0 <= centre <= 2600.0 else None


def _support(wl: np.ndarray, window: tuple[float, float] | None) -> np.ndarray:
    """The HS bands an MS band's response may use: those near its known centre, or all."""
    n = wl.size
    if window is None:
        return np.ones(n, dtype=bool)
    centre, fwhm = window
    sel = np.abs(wl - centre) <= fwhm + MARGIN_NM
    if sel.sum() < 3:  # the band lies (mostly) outside the HS range: its nearest HS bands
        sel = np.zeros(n, dtype=bool)
        sel[np.argsort(np.abs(wl - centre))[:3]] = True
    return sel


def _second_difference(n: int) -> np.ndarray:
    d = np.zeros((max(n - 2, 0), n))
    for i in range(n - 2):
        d[i, i:i + 3] = (1.0, -2.0, 1.0)
    return d


def _fit_band(x: np.ndarray, y: np.ndarray, lams: Sequence[float]) -> list[np.ndarray]:
    """Smooth NNLS of centred pixels, ``min ||x^T w - y||^2 + lam ||D2 w||^2, w >= 0``, for each lam.

    The pixels enter through the thin QR factorisation ``x^T = Q R`` (computed once): the problem
    equals ``min ||R w - Q^T y||^2 + lam ||D2 w||^2`` up to a constant, so NNLS works on a few
    dozen rows instead of one per pixel."""
    q, r = np.linalg.qr(x.T)
    qy = q.T @ y
    d = _second_difference(x.shape[0])
    out = []
    for lam in lams:
        a = np.vstack([r, np.sqrt(lam) * d])
        b = np.concatenate([qy, np.zeros(d.shape[0])])
        w, _ = nnls(a, b, maxiter=50 * a.shape[1])
        out.append(w)
    return out


def estimate_srf(hs: np.ndarray, ms_low: np.ndarray, *, wavelengths: np.ndarray | None = None,
                 ms_bands: Sequence[str] = (), valid: np.ndarray | None = None, seed: int = 0,
                 warn: bool = True) -> SpectralResponse:
    """Gain-and-offset spectral response of ``ms_low`` (b, r, c: the MS image on the HS grid) on
    ``hs`` (B, r, c); see the module docstring. ``wavelengths`` (nm) of the HS bands and the MS
    band names limit each band's support when both are known."""
    bands = hs.shape[0]
    keep = np.ones(hs.shape[1:], bool) if valid is None else valid
    x, yall = hs[:, keep], ms_low[:, keep]
    n = x.shape[1]
    xm = x.mean(axis=1, keepdims=True)
    xc = x - xm
    scale = float(np.mean(np.sum(xc**2, axis=1))) or 1.0
    rng = np.random.default_rng(seed)
    held = rng.random(n) < 0.25
    if held.sum() < 5 or (~held).sum() < 5:
        held = np.zeros(n, dtype=bool)
    wl = None if wavelengths is None else np.asarray(wavelengths, dtype=np.float64)
    names = list(ms_bands) + [""] * (ms_low.shape[0] - len(ms_bands))
    srf = np.zeros((ms_low.shape[0], bands))
    offset, r2 = np.zeros(ms_low.shape[0]), np.zeros(ms_low.shape[0])
    for k, y in enumerate(yall):
        sel = _support(wl, band_window(names[k])) if wl is not None and wl.size == bands else np.ones(bands, bool)
        xs, yc = xc[sel], y - y.mean()
        lam = LAMBDAS[len(LAMBDAS) // 2]
        if held.any():
            fits = _fit_band(xs[:, ~held], yc[~held], [lam_try * scale for lam_try in LAMBDAS])
            errors = [float(np.sum((w @ xs[:, held] - yc[held]) ** 2)) for w in fits]
            lam = LAMBDAS[int(np.argmin(errors))]
        (w,) = _fit_band(xs, yc, [lam * scale])
        srf[k, sel] = w
        offset[k] = float(y.mean() - w @ xm[sel, 0])
        total = float(np.sum(yc**2))
        r2[k] = 1.0 - float(np.sum((w @ xs - yc) ** 2)) / total if total > 0 else 0.0
    if warn:
        for k in np.flatnonzero(r2 < POOR_FIT):
            label = names[k] or f"{k + 1}"
            warnings.warn(f"MS band {label} is poorly explained by the HS cube (R² {r2[k]:.2f} < {POOR_FIT}): "
                          "it may lie outside the HS range, or the images are misregistered or cloudy; "
                          "check the pair or give the spectral response (srf)", ResponseWarning, stacklevel=2)
    return SpectralResponse(srf, offset, r2)
