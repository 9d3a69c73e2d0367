"""Losses of the deep STF networks: MS-SSIM, and the frozen feature autoencoder of the perceptual terms.

MS-SSIM follows Wang, Simoncelli & Bovik (2003): an 11-pixel Gaussian window (sigma 1.5, valid
convolution), contrast-structure terms at the finer scales and the full SSIM at the coarsest,
weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333). Two deliberate differences from the code the
EDCSTFN and GAN-STFM authors ship (documented in docs/methods/deep.md): the scales are cut to
those the patch holds (64-pixel patches give 3 scales, weights renormalised), and the product is
the paper's, not the shipped one that repeats the coarsest-scale term at every scale. As in their
``normalize=True``, each term is mapped to (x + 1) / 2 so that negative values cannot break the
fractional powers. The data range is 1 (reflectance).

Both images are clamped at 0 (reflectance is non-negative) before MS-SSIM is taken. Without the
clamp, SSIM's luminance term ``(2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1)`` has a second basin
for dark bands: once a band's predicted mean falls below minus the target's, the term improves
as the prediction goes further negative, and with the MSE term this makes a stable minimum at a
bias of about -5 times the band mean. That is what made EDCSTFN "diverge" in one band on
``estarfm_3date`` (green biased by -0.22 where its mean is 0.045; `tests/methods/deep/test_deep_losses.py`
checks the loss landscape). With the clamp a negative prediction gets no SSIM gradient, and the
MSE term alone pulls it back.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stfusion.core.errors import ShapeMismatchError

from .base import FusionNet

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW = 11


def _gauss(size: int = WINDOW, sigma: float = 1.5, *, device: torch.device, dtype: torch.dtype) -> Tensor:
    x = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _ssim_terms(x: Tensor, y: Tensor, data_range: float) -> tuple[Tensor, Tensor]:
    """Mean SSIM and mean contrast-structure term per image, channels averaged (valid convolution)."""
    c = x.shape[1]
    g = _gauss(device=x.device, dtype=x.dtype)
    gx = g.view(1, 1, 1, -1).expand(c, 1, 1, -1)
    gy = g.view(1, 1, -1, 1).expand(c, 1, -1, 1)

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(F.conv2d(t, gx, groups=c), gy, groups=c)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
    return ssim.mean(dim=(1, 2, 3)), cs.mean(dim=(1, 2, 3))


def ms_ssim_scales(size: int) -> int:
    """How many MS-SSIM scales a patch of ``size`` pixels holds (the coarsest at least one window wide)."""
    k = 1
    while k < len(MS_SSIM_WEIGHTS) and size // 2**k >= WINDOW:
        k += 1
    return k


def ms_ssim(x: Tensor, y: Tensor, data_range: float = 1.0) -> Tensor:
    """Multi-scale SSIM of two (N, C, H, W) reflectance batches (clamped at 0), averaged over the batch."""
    k = ms_ssim_scales(min(x.shape[-2:]))
    if min(x.shape[-2:]) < WINDOW:
        raise ShapeMismatchError(f"MS-SSIM needs images of at least {WINDOW} pixels, got {tuple(x.shape[-2:])}")
    w = torch.tensor(MS_SSIM_WEIGHTS[:k], device=x.device, dtype=x.dtype)
    w = w / w.sum()
    x, y = x.clamp_min(0), y.clamp_min(0)
    value = torch.ones(x.shape[0], device=x.device, dtype=x.dtype)
    for i in range(k):
        ssim, cs = _ssim_terms(x, y, data_range)
        term = ((ssim if i == k - 1 else cs) + 1) / 2
        value = value * term.clamp_min(1e-6) ** w[i]
        if i < k - 1:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return value.mean()


def fill_invalid(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """``pred`` with the invalid pixels replaced by the target, so they add nothing to any loss term."""
    return torch.where(mask.expand_as(pred) > 0, pred, target)


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.ReplicationPad2d(1), nn.Conv2d(cin, cout, 3, stride), nn.LeakyReLU(0.01))


class FeatureAutoEncoder(nn.Module):
    """The hourglass autoencoder whose frozen encoder gives the perceptual loss features.

    GAN-STFM's autoencoder (Tan et al. 2022, ``autoencoder`` branch): encoder convs of 16, 32, 64
    and 128 channels, the last three with stride 2 (1/8 resolution); decoder by nearest
    upsampling and convolutions with skip concatenation. Pretrained with SmoothL1 + 0.84 (1 - MS-SSIM).
    """

    channels = (16, 32, 64, 128)

    def __init__(self, bands: int) -> None:
        super().__init__()
        c1, c2, c3, c4 = self.channels
        self.encoder = nn.ModuleList([_block(bands, c1), _block(c1, c2, 2), _block(c2, c3, 2), _block(c3, c4, 2)])
        self.decoder = nn.ModuleList([_block(c4, c3), _block(2 * c3, c2), _block(2 * c2, c1)])
        self.head = nn.Sequential(nn.ReplicationPad2d(1), nn.Conv2d(2 * c1, bands, 3))

    def features(self, x: Tensor) -> list[Tensor]:
        out = []
        for layer in self.encoder:
            x = layer(x)
            out.append(x)
        return out

    def forward(self, x: Tensor) -> Tensor:
        size = x.shape[-2:]
        f1, f2, f3, f4 = self.features(x)
        y = f4
        for layer, skip in zip(self.decoder, (f3, f2, f1)):
            y = layer(F.interpolate(y, size=skip.shape[-2:], mode="nearest"))
            y = torch.cat([y, skip], 1)
        return self.head(F.interpolate(y, size=size, mode="nearest"))


def pretrain_autoencoder(ae: FeatureAutoEncoder, sample: Callable[[int], tuple[Tensor, Tensor]], steps: int, *,
                         batch: int = 8, lr: float = 1e-3, progress: bool = False) -> list[float]:
    """Train ``ae`` to reconstruct fine patches from ``sample(batch)``; then freeze it. Returns the losses."""
    from tqdm.auto import tqdm

    opt = torch.optim.Adam(ae.parameters(), lr=lr, weight_decay=1e-6)
    ae.train()
    losses = []
    for _ in tqdm(range(steps), desc="feature autoencoder", disable=not progress, leave=False):
        x, mask = sample(batch)
        rec = fill_invalid(ae(x), x, mask)
        loss = F.smooth_l1_loss(rec, x) + 0.84 * (1 - ms_ssim(rec, x))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    freeze(ae)
    return losses


def freeze(module: nn.Module) -> None:
    """Evaluation mode and no gradients, for a loss network."""
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)


class FeatureLossNet(FusionNet):
    """A fusion net whose loss uses the frozen encoder of ``self.feature_net`` (a `FeatureAutoEncoder`):
    `pretrain` trains the autoencoder on fine patches and freezes it; it stays in evaluation mode."""

    feature_net: FeatureAutoEncoder

    def pretrain(self, sample: Callable[[int], tuple[Tensor, Tensor]], steps: int, *, seed: int, progress: bool) -> None:
        """Train the feature autoencoder on fine patches, then freeze it."""
        torch.manual_seed(seed)
        for p in self.feature_net.parameters():
            p.requires_grad_(True)
        pretrain_autoencoder(self.feature_net, sample, steps, progress=progress)

    def frozen_modules(self) -> list[nn.Module]:
        return [self.feature_net]

    def train(self, mode: bool = True) -> "FeatureLossNet":
        super().train(mode)
        self.feature_net.eval()
        return self
