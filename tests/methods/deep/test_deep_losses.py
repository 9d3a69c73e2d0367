"""The MS-SSIM training loss (`nets.losses.ms_ssim`): no second basin for a band biased below zero."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stfusion.methods.deep.nets.losses import ms_ssim  # noqa: E402

DARK_BAND = 1


def _patches() -> torch.Tensor:
    """Eight 64-pixel textured patches of six bands; band 1 is dark (mean about 0.045, as Landsat green)."""
    rng = np.random.default_rng(0)
    base = rng.random((8, 1, 16, 16)).repeat(4, axis=2).repeat(4, axis=3) + 0.3 * rng.random((8, 1, 64, 64))
    levels = np.array([0.04, 0.045, 0.04, 0.05, 0.16, 0.12])[None, :, None, None]
    return torch.tensor((levels * (0.5 + base)).astype(np.float32))


def _edcstfn_loss(t: torch.Tensor, delta: float) -> tuple[float, float]:
    """EDCSTFN's MSE + 0.8 (1 - MS-SSIM) (no feature term) with the dark band biased by ``delta``,
    and its derivative with respect to the bias."""
    d = torch.tensor(delta, requires_grad=True)
    p = t.clone()
    p[:, DARK_BAND] = p[:, DARK_BAND] + d
    loss = ((p - t) ** 2).mean() + 0.8 * (1 - ms_ssim(p, t))
    loss.backward()
    return float(loss), float(d.grad)


def test_ms_ssim_is_one_for_identical_images_and_lower_otherwise():
    t = _patches()
    assert float(ms_ssim(t, t)) == pytest.approx(1.0, abs=1e-6)
    assert float(ms_ssim(t + 0.02, t)) < 1.0


def test_a_negative_bias_of_a_dark_band_is_always_pulled_back_to_zero():
    """Unclamped, the luminance term rewards a band whose mean is below minus the target's for
    going further negative: with the MSE term the loss had a local minimum near a bias of -0.22
    (EDCSTFN's divergence on estarfm_3date). Clamped, the loss falls all the way to zero bias."""
    t = _patches()
    deltas = np.arange(-0.4, 0.0, 0.025)
    losses, grads = zip(*(_edcstfn_loss(t, float(d)) for d in deltas))
    assert all(g < 0 for g in grads), dict(zip(np.round(deltas, 3), np.round(grads, 4)))
    assert all(a > b for a, b in zip(losses, losses[1:]))


def test_negative_predictions_get_no_ms_ssim_gradient():
    t = _patches()
    p = (t - 1.0).requires_grad_(True)
    (1 - ms_ssim(p, t)).backward()
    assert p.grad is not None and float(p.grad.abs().max()) == 0.0
