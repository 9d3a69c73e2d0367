"""Sensor models of the synthetic scenes: the coarse sensor (PSF, block mean, gain, bias, noise) and clouds."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .synthetic_config import SyntheticConfig
from .synthetic_landscape import smooth_noise
from .synthetic_spectra import CLOUD

CLOUD_SCALE = 1 / 12  # cloud blob size (Gaussian sigma) as a fraction of the shorter image side


def block_mean(data: np.ndarray, ratio: int) -> np.ndarray:
    """Mean over non-overlapping ``ratio`` x ``ratio`` blocks of (bands, rows, cols)."""
    b, r, c = data.shape
    return data.reshape(b, r // ratio, ratio, c // ratio, ratio).mean(axis=(2, 4))


def replicate(data: np.ndarray, ratio: int) -> np.ndarray:
    """Coarse (bands, rows, cols) onto the fine grid by repeating each pixel ``ratio`` x ``ratio`` times."""
    return np.repeat(np.repeat(data, ratio, axis=1), ratio, axis=2)


def degrade(
    truth: np.ndarray,
    config: SyntheticConfig,
    gain: np.ndarray,
    bias: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The coarse image (bands, rows/ratio, cols/ratio) float32 seen by the coarse sensor.

    Gaussian PSF, shift by ``config.misregistration`` fine pixels, block mean, per-band
    ``gain`` and ``bias``, then Gaussian noise of standard deviation ``config.noise``.
    """
    image = truth
    sigma = config.blur_sigma
    if sigma > 0:
        image = ndimage.gaussian_filter(image, (0.0, sigma, sigma), mode="reflect")
    dy, dx = config.misregistration
    if dy or dx:
        image = ndimage.shift(image, (0.0, dy, dx), order=1, mode="nearest")
    coarse = block_mean(image, config.ratio) * gain[:, None, None] + bias[:, None, None]
    if config.noise > 0:
        coarse += rng.normal(0.0, config.noise, coarse.shape)
    return coarse.astype(np.float32)


def add_clouds(
    truth: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``truth`` with smooth bright cloud blobs over ``fraction`` of the pixels, and the clear-sky mask."""
    shape = truth.shape[1:]
    z = smooth_noise(rng, shape, max(CLOUD_SCALE * min(shape), 1.0))
    threshold = np.quantile(z, 1.0 - fraction)
    cloud = z > threshold
    brightness = 0.9 + 0.05 * np.minimum(z[cloud] - threshold, 2.0)
    out = truth.copy()
    out[:, cloud] = np.asarray(CLOUD, dtype=np.float32)[:, None] * brightness.astype(np.float32)
    return out, ~cloud
