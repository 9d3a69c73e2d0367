"""The STSF observation model: PSF, decimation, and the exact adjoint."""

from __future__ import annotations

import numpy as np
import pytest

from stfusion.core.errors import RatioError, ShapeMismatchError
from stfusion.core.observation import psf_kernel, spatial_adjoint, spatial_degrade, spectral_degrade


@pytest.mark.parametrize("ratio, fwhm", [(3, None), (4, None), (3, 0.0), (2, 5.0)])
def test_degradation_then_adjoint_is_the_transpose(ratio, fwhm):
    rng = np.random.default_rng(ratio)
    k = psf_kernel(ratio, fwhm)
    x = rng.random((3, 6 * ratio, 4 * ratio))
    y = rng.random((3, 6, 4))
    assert np.vdot(spatial_degrade(x, ratio, k), y) == pytest.approx(np.vdot(x, spatial_adjoint(y, ratio, k)), rel=1e-12)


def test_psf_and_decimation():
    k = psf_kernel(3)
    assert k.sum() == pytest.approx(1.0) and np.argmax(k) == k.size // 2
    half = k[k >= k.max() / 2]
    assert half.size == 3  # FWHM of 3 pixels
    flat = np.full((2, 9, 9), 0.4)
    assert np.allclose(spatial_degrade(flat, 3, k), 0.4)  # a constant stays constant, borders included
    x = np.arange(81, dtype=float).reshape(1, 9, 9)
    assert np.array_equal(spatial_degrade(x, 3, psf_kernel(3, 0.0))[0], x[0, 1::3, 1::3])  # block centres


def test_spectral_degradation_and_errors():
    srf = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    cube = np.stack([np.full((3, 3), v) for v in (0.2, 0.4, 0.8)])
    assert np.allclose(spectral_degrade(cube, srf)[:, 0, 0], [0.3, 0.8])
    with pytest.raises(ShapeMismatchError, match="does not fit"):
        spectral_degrade(cube, srf[:, :2])
    with pytest.raises(ShapeMismatchError, match="multiples of 3"):
        spatial_degrade(np.zeros((1, 10, 9)), 3, psf_kernel(3))
    with pytest.raises(RatioError, match="positive integer"):
        psf_kernel(0)
