"""GAN-STFM: a conditional GAN for spatiotemporal fusion from one fine reference of any date (Tan,
Gao, Li & Jiang 2022, IEEE TGRS 60:1-13, doi:10.1109/TGRS.2021.3050551).

The generator takes only the coarse image at the target date and one fine reference, at full
resolution (replication padding, LeakyReLU 0.01):

- encoder: four two-stream blocks, C -> 16 -> 32 -> 64 -> 128 channels, each with an inner width of
  ``min(in, out)`` (578,130 generator and 3,665,959 discriminator parameters for 6 bands, as the
  official model). The coarse stream is
  ``lateral = LReLU(Conv1(Conv3(c)))``; the fine stream is the residual
  ``trunk = Conv1(LReLU(SN(Conv3(LReLU(SN(f)))))) + lateral`` (SN = switchable normalisation);
- decoder on ``cat(lateral, trunk)`` (256 channels): residual blocks
  ``Conv1(LReLU(Conv3(x))) + Conv1(x)`` 256 -> 128 -> 64 -> 32 -> 16, then a 1x1 head to C bands.

The discriminator is conditional (``cat(image, coarse)``) and multi-scale: three chains of
spectral-norm residual blocks on the image at full, half and quarter size (the paper's channel
lists), each ending in a spectral-norm 1x1 convolution; the outputs are averaged. Deliberate
difference: each chain's map is averaged over space, so patches of any size work (the original
stacking reaches 1x1 only for 256-pixel patches).

Losses: generator ``L_rec + adv_weight * 0.5 E[(D(fake) - 1)^2]`` with ``L_rec`` the feature MSE,
``1 - cosine similarity`` of the features of a frozen pretrained autoencoder (its four encoder
layers) and ``1 - MS-SSIM``; discriminator LSGAN ``0.5 E[(D(real) - 1)^2] + 0.5 E[D(fake)^2]``.
Each step updates D on the detached prediction, then G, as the authors' loop does.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from stfusion.core.errors import ShapeMismatchError

from .base import Batch, NetInfo, Precision, masked_mse
from .losses import FeatureAutoEncoder, FeatureLossNet, fill_invalid, freeze, ms_ssim
from .switchnorm import SwitchNorm2d

SLOPE = 0.01
D_CHANNELS = ((32, 32, 64, 64, 128, 128, 256, 256), (32, 64, 64, 128, 128, 256, 256), (32, 64, 128, 128, 256, 256))


def _conv3(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ReplicationPad2d(1), nn.Conv2d(cin, cout, 3))


class TwoStreamBlock(nn.Module):
    """One encoder block: the coarse (lateral) and fine (trunk) streams."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        mid = min(cin, cout)
        self.residual = nn.Sequential(SwitchNorm2d(cin), nn.LeakyReLU(SLOPE), _conv3(cin, mid), SwitchNorm2d(mid),
                                      nn.LeakyReLU(SLOPE), nn.Conv2d(mid, cout, 1))
        self.transform = nn.Sequential(_conv3(cin, mid), nn.Conv2d(mid, cout, 1), nn.LeakyReLU(SLOPE))

    def forward(self, x: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        coarse, fine = x
        lateral = self.transform(coarse)
        return lateral, self.residual(fine) + lateral


class ResidualBlock(nn.Module):
    """``Conv1(LReLU(Conv3(x))) + Conv1(x)`` of the decoder."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv3(cin, cout), nn.LeakyReLU(SLOPE), nn.Conv2d(cout, cout, 1))
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + self.shortcut(x)


class Generator(nn.Module):
    def __init__(self, bands: int) -> None:
        super().__init__()
        ch = (bands, 16, 32, 64, 128)
        self.encoder = nn.Sequential(*[TwoStreamBlock(a, b) for a, b in zip(ch[:-1], ch[1:])])
        dec = (256, 128, 64, 32, 16)
        self.decoder = nn.Sequential(*[ResidualBlock(a, b) for a, b in zip(dec[:-1], dec[1:])], nn.Conv2d(16, bands, 1))

    def forward(self, coarse: Tensor, fine: Tensor) -> Tensor:
        lateral, trunk = self.encoder((coarse, fine))
        return self.decoder(torch.cat([lateral, trunk], 1))


class _DBlock(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        mid = min(cin, cout)
        self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.LeakyReLU(SLOPE),
                                  spectral_norm(nn.Conv2d(cin, mid, 3, 2, 1)), nn.BatchNorm2d(mid),
                                  nn.LeakyReLU(SLOPE), spectral_norm(nn.Conv2d(mid, cout, 1)))
        self.shortcut = spectral_norm(nn.Conv2d(cin, cout, 1, 2))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + self.shortcut(x)


class Discriminator(nn.Module):
    """The three-scale conditional discriminator; ``forward`` gives one score per image."""

    def __init__(self, bands: int) -> None:
        super().__init__()
        chains = []
        for channels in D_CHANNELS:
            ch = (2 * bands,) + channels
            blocks: list[nn.Module] = [_DBlock(a, b) for a, b in zip(ch[:-1], ch[1:])]
            chains.append(nn.Sequential(*blocks, spectral_norm(nn.Conv2d(ch[-1], 1, 1))))
        self.chains = nn.ModuleList(chains)

    def forward(self, image: Tensor, coarse: Tensor) -> Tensor:
        x = torch.cat([image, coarse], 1)
        scores = []
        for i, chain in enumerate(self.chains):
            xi = x if i == 0 else F.interpolate(x, scale_factor=0.5**i, mode="bilinear", align_corners=False)
            scores.append(chain(xi).mean((1, 2, 3)))
        return torch.stack(scores).mean(0)


class Ganstfm(FeatureLossNet):
    """See the module docstring; build with `ganstfm`."""

    name = "ganstfm"

    def __init__(self, bands: int, adv_weight: float = 1e-3) -> None:
        super().__init__(bands=bands, adv_weight=adv_weight)
        self.info = NetInfo(refs=(1,), coarse_refs=False, halo=16, multiple=1, random_reference=True)
        self.adv_weight = adv_weight
        self.generator = Generator(bands)
        self.discriminator = Discriminator(bands)
        self.feature_net = FeatureAutoEncoder(bands)
        freeze(self.feature_net)

    def forward(self, coarse: Tensor, fine_refs: Sequence[Tensor], coarse_refs: Sequence[Tensor] = ()) -> Tensor:
        if len(fine_refs) != 1:
            raise ShapeMismatchError(f"ganstfm takes one fine reference, got {len(fine_refs)}")
        return self.generator(coarse, fine_refs[0])

    def _reconstruction(self, pred: Tensor, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        p = fill_invalid(pred, batch.fine, batch.mask)
        fp, ft = self.feature_net.features(p), self.feature_net.features(batch.fine)
        feat = sum(torch.mean((a - b) ** 2) for a, b in zip(fp, ft)) / len(fp)
        cos = sum(F.cosine_similarity(a, b, dim=1).mean() for a, b in zip(fp, ft)) / len(fp)
        ssim = ms_ssim(p, batch.fine)
        rec = feat + (1 - cos) + (1 - ssim)
        return rec, {"feature": float(feat.detach()), "cosine": float(cos.detach()), "ms_ssim": float(ssim.detach()),
                     "mse": float(masked_mse(pred, batch.fine, batch.mask).detach())}

    def loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        """The reconstruction part of the generator loss (what validation and tests follow)."""
        return self._reconstruction(self(batch.coarse, batch.fine_refs), batch)

    def optimisers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"net": torch.optim.Adam(self.generator.parameters(), lr=lr),
                "disc": torch.optim.Adam(self.discriminator.parameters(), lr=lr)}

    def training_step(self, batch: Batch, opts: dict[str, torch.optim.Optimizer], precision: Precision) -> dict[str, float]:
        """A discriminator step on the detached prediction, then a generator step."""
        with precision.autocast():
            pred = self(batch.coarse, batch.fine_refs)
            real = fill_invalid(batch.fine, pred.detach(), batch.mask)
            d_loss = 0.5 * ((self.discriminator(real, batch.coarse) - 1) ** 2).mean() \
                + 0.5 * (self.discriminator(pred.detach(), batch.coarse) ** 2).mean()
        opts["disc"].zero_grad(set_to_none=True)
        precision.step(d_loss, opts["disc"])
        with precision.autocast():
            rec, parts = self._reconstruction(pred, batch)
            g_adv = 0.5 * ((self.discriminator(pred, batch.coarse) - 1) ** 2).mean()
            g_loss = rec + self.adv_weight * g_adv
        opts["net"].zero_grad(set_to_none=True)
        precision.step(g_loss, opts["net"])
        return {**parts, "d_loss": float(d_loss.detach()), "g_adv": float(g_adv.detach())}

    def frozen_modules(self) -> list[nn.Module]:
        return [self.feature_net, self.discriminator]


def ganstfm(bands: int, *, adv_weight: float = 1e-3) -> Ganstfm:
    """GAN-STFM for ``bands`` bands; ``adv_weight`` weighs the adversarial generator loss (1e-3)."""
    return Ganstfm(bands, adv_weight)
