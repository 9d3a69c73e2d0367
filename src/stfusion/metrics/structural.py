"""Windowed structural metrics per band: SSIM (Wang et al. 2004) and UIQI (Wang & Bovik 2002).

Local statistics come from separable filters (scipy.ndimage) evaluated only at 'valid'
positions, where the whole window lies inside the image. With a mask, the map is averaged
over the positions whose whole window is valid (the mask eroded by the window).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from ..core.errors import InvalidParameterError
from .inputs import check_data_range, prepare, window_valid

SSIM_SIZE = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
ZERO_VARIANCE = 1e-12
"""UIQI treats a window's variance sum as zero below this fraction of its mean energy (rounding noise)."""


def _local_mean(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Weighted mean of x (bands, rows, cols) over every window that lies inside the image."""
    size = kernel.size
    start = size // 2
    for axis in (1, 2):
        x = ndimage.correlate1d(x, kernel, axis=axis, mode="constant")
    rows, cols = x.shape[1:]
    return x[:, start : start + rows - size + 1, start : start + cols - size + 1]


def _window_moments(t: np.ndarray, p: np.ndarray, kernel: np.ndarray):
    """Local means, variances and covariance (population form) of t and p."""
    mt, mp = _local_mean(t, kernel), _local_mean(p, kernel)
    vt = _local_mean(t * t, kernel) - mt**2
    vp = _local_mean(p * p, kernel) - mp**2
    cov = _local_mean(t * p, kernel) - mt * mp
    return mt, mp, vt, vp, cov


def gaussian_window(size: int = SSIM_SIZE, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """The 1-D Gaussian window, normalised to sum 1 (its outer product is the 2-D window)."""
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(truth: Any, pred: Any, *, data_range: float, mask: Any = None) -> np.ndarray:
    """Mean SSIM per band (Wang, Bovik, Sheikh & Simoncelli 2004, IEEE TIP 13:600).

    11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, population covariance, mean over the
    map without its 5-pixel border; ``data_range`` is L (1.0 for reflectance). This equals
    scikit-image ``structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=L)``. With a mask, the map is averaged over the
    positions whose whole 11×11 window is valid.
    """
    peak = check_data_range(data_range)
    t, p, valid = prepare(truth, pred, mask)
    ok = window_valid(valid, SSIM_SIZE, "SSIM")
    c1, c2 = (SSIM_K1 * peak) ** 2, (SSIM_K2 * peak) ** 2
    mt, mp, vt, vp, cov = _window_moments(t, p, gaussian_window())
    smap = ((2 * mt * mp + c1) * (2 * cov + c2)) / ((mt**2 + mp**2 + c1) * (vt + vp + c2))
    return smap[:, ok].mean(axis=1)


def uiqi(truth: Any, pred: Any, *, mask: Any = None, block: int = 8) -> np.ndarray:
    """Universal image quality index Q per band (Wang & Bovik 2002, IEEE SPL 9:81).

    Q = 4·σxy·μx·μy / ((σx² + σy²)(μx² + μy²)) on a ``block``×``block`` uniform window sliding by
    one pixel, averaged over 'valid' positions, as in Wang's ``img_qi.m``. Where σx² + σy² = 0,
    Q = 2·μx·μy / (μx² + μy²); where μx² + μy² = 0 too, Q = 1 (a variance sum below 1e-12 of
    μx² + μy² counts as 0). With a mask, only positions whose whole window is valid count.
    """
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 2:
        raise InvalidParameterError(f"block must be an integer >= 2, got {block!r}; the usual UIQI block is 8")
    t, p, valid = prepare(truth, pred, mask)
    ok = window_valid(valid, int(block), "UIQI")
    mt, mp, vt, vp, cov = _window_moments(t, p, np.full(int(block), 1.0 / block))
    energy = mt**2 + mp**2
    spread = vt + vp
    flat = spread <= ZERO_VARIANCE * energy
    qmap = np.ones_like(energy)
    general = ~flat & (energy > 0)
    qmap[general] = (4 * cov * mt * mp)[general] / (spread * energy)[general]
    both_flat = flat & (energy > 0)
    qmap[both_flat] = (2 * mt * mp)[both_flat] / energy[both_flat]
    return qmap[:, ok].mean(axis=1)
