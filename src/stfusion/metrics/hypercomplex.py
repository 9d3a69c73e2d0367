"""Q2ⁿ, the hypercomplex quality index (Alparone et al. 2004 Q4; Garzelli & Nencini 2009 Q2ⁿ).

Each pixel's bands, zero-padded to a power of two, form a hypercomplex number (Cayley–Dickson:
complex, quaternion, octonion, ...). The index is computed on non-overlapping blocks and
averaged, following the pansharpening toolbox (Vivone et al.) ``q2n.m`` on float data.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.errors import InvalidParameterError, NoDataError
from .inputs import prepare


def conjugate(x: np.ndarray) -> np.ndarray:
    """Hypercomplex conjugate: the real part (component 0) kept, the others negated (last axis)."""
    out = -x
    out[..., 0] = x[..., 0]
    return out


def cayley_dickson_product(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Product of hypercomplex numbers stored on the last axis (length a power of two).

    With x = (a, b) and y = (c, d) split into halves, x·y = (a·c − d̄·b, ā·d̄ + c·b̄), the sign
    convention of the toolbox's ``onion_mult`` (on reals and complex numbers it is the usual product).
    """
    n = x.shape[-1]
    if n == 1:
        return x * y
    h = n // 2
    a, b, c, d = x[..., :h], x[..., h:], y[..., :h], y[..., h:]
    if n == 2:
        return np.concatenate([a * c - d * b, a * d + c * b], axis=-1)
    first = cayley_dickson_product(a, c) - cayley_dickson_product(conjugate(d), b)
    second = cayley_dickson_product(conjugate(a), conjugate(d)) + cayley_dickson_product(c, conjugate(b))
    return np.concatenate([first, second], axis=-1)


def _blocks(x: np.ndarray, block: int) -> np.ndarray:
    """(bands, R·block, C·block) -> (R·C, block², bands)."""
    bands, rows, cols = x.shape
    x = x.reshape(bands, rows // block, block, cols // block, block)
    return x.transpose(1, 3, 2, 4, 0).reshape(-1, block * block, bands)


def _standardise(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blocks (K, pixels, bands) standardised with the reference block's mean and std (ddof=1), plus 1.

    As the toolbox's ``norm_blocco``; a constant reference band gets std = eps.
    """
    constant = np.ptp(t, axis=1, keepdims=True) == 0
    mean = np.where(constant, t[:, :1], t.mean(axis=1, keepdims=True))
    std = np.where(constant, np.finfo(np.float64).eps, t.std(axis=1, ddof=1, keepdims=True))
    return (t - mean) / std + 1.0, (p - mean) / std + 1.0


def q2n(truth: Any, pred: Any, *, mask: Any = None, block: int = 32) -> float:
    """Q2ⁿ (Q4 for four bands) on ``block``×``block`` non-overlapping blocks, averaged over blocks.

    The image is mirror-padded at the bottom and right so blocks tile it, bands are zero-padded to
    a power of two, and per block Q = |σ_zẑ|/(σ_z·σ_ẑ) · 2σ_z·σ_ẑ/(σ_z² + σ_ẑ²) · 2|z̄||ẑ̄|/(|z̄|² + |ẑ̄|²)
    with unbiased (M/(M−1)) moments. With a mask, only blocks whose pixels are all valid count.
    """
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 2:
        raise InvalidParameterError(f"block must be an integer >= 2, got {block!r}; the usual Q2n block is 32")
    block = int(block)
    t, p, valid = prepare(truth, pred, mask)
    bands, rows, cols = t.shape
    pad = ((0, -rows % block), (0, -cols % block))
    n = 2 ** math.ceil(math.log2(bands))
    bands_pad = ((0, n - bands), (0, 0), (0, 0))
    t = np.pad(np.pad(t, ((0, 0),) + pad, mode="symmetric"), bands_pad)
    p = np.pad(np.pad(p, ((0, 0),) + pad, mode="symmetric"), bands_pad)
    ok = _blocks(np.pad(valid, pad, mode="symmetric")[None], block)[..., 0].all(axis=1)
    if not ok.any():
        raise NoDataError(f"no {block}x{block} block is entirely valid, so Q2n is undefined; use fewer masked pixels")
    z, w = _standardise(_blocks(t, block)[ok], _blocks(p, block)[ok])
    w = conjugate(w)
    unbiased = block * block / (block * block - 1)
    mz, mw = z.mean(axis=1), w.mean(axis=1)
    energy_z, energy_w = np.sum(mz**2, axis=1), np.sum(mw**2, axis=1)
    mean_bias = 2 * np.sqrt(energy_z * energy_w) / (energy_z + energy_w)
    variance = unbiased * (np.sum(z**2, axis=2).mean(axis=1) + np.sum(w**2, axis=2).mean(axis=1) - energy_z - energy_w)
    covariance = unbiased * (cayley_dickson_product(z, w).mean(axis=1) - cayley_dickson_product(mz, mw))
    flat = variance == 0
    q = covariance * (2 * mean_bias / np.where(flat, 1.0, variance))[:, None]
    q[flat] = 0.0
    q[flat, -1] = mean_bias[flat]
    return float(np.mean(np.sqrt(np.sum(q**2, axis=1))))
