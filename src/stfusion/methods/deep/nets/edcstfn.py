"""EDCSTFN: the enhanced deep convolutional spatiotemporal fusion network (Tan, Di, Zhang, Guo & Gao 2019,
Remote Sensing 11(24):2898, doi:10.3390/rs11242898).

Layer sizes are the paper's: a fine encoder F1 -> 32, 64, 128 channels; a residual encoder of
(C1, F1, C2) -> 32, 64, 128 (no final activation); a decoder 128 -> 64 -> 32 -> C (1x1 head);
the prediction is ``decoder(FEncoder(F1) + REncoder(C1, F1, C2))``; 3x3 convolutions with
replication padding. Coarse images come on the fine grid, as in the authors' 6-band CIA/LGC
variant, so no internal upsampling. Two references: each gives its own residual features; at
training the loss is the mean of the two one-reference losses, at prediction the features are
blended with the inverse-change weights of the paper, ``w1 = (1/|d1|) / (1/|d1| + 1/|d2|)``
where d is the residual encoder's output.

The compound loss is ``MSE + MSE(E(p), E(t)) + alpha (1 - MS-SSIM)`` with alpha = 0.8; E is the
frozen encoder of a feature autoencoder that `pretrain` trains on the training fine patches (the
authors pretrain theirs the same way; we use GAN-STFM's hourglass autoencoder, 16/32/64/128
channels, and take its deepest features). MS-SSIM is `losses.ms_ssim`.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from stfusion.core.errors import ShapeMismatchError

from .base import Batch, NetInfo, masked_mse
from .losses import FeatureAutoEncoder, FeatureLossNet, fill_invalid, freeze, ms_ssim


def _conv3(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ReplicationPad2d(1), nn.Conv2d(cin, cout, 3))


class Edcstfn(FeatureLossNet):
    """See the module docstring; build with `edcstfn`."""

    name = "edcstfn"

    def __init__(self, bands: int, alpha: float = 0.8) -> None:
        super().__init__(bands=bands, alpha=alpha)
        self.info = NetInfo(refs=(1, 2), coarse_refs=True, halo=8, multiple=1)
        self.alpha = alpha
        c = bands
        self.f_encoder = nn.Sequential(_conv3(c, 32), nn.ReLU(True), _conv3(32, 64), nn.ReLU(True),
                                       _conv3(64, 128), nn.ReLU(True))
        self.r_encoder = nn.Sequential(_conv3(3 * c, 32), nn.ReLU(True), _conv3(32, 64), nn.ReLU(True),
                                       _conv3(64, 128))
        self.decoder = nn.Sequential(_conv3(128, 64), nn.ReLU(True), _conv3(64, 32), nn.ReLU(True),
                                     nn.Conv2d(32, c, 1))
        self.feature_net = FeatureAutoEncoder(bands)
        freeze(self.feature_net)

    def _features(self, coarse: Tensor, fine: Tensor, coarse_ref: Tensor) -> tuple[Tensor, Tensor]:
        return self.f_encoder(fine), self.r_encoder(torch.cat([coarse_ref, fine, coarse], 1))

    def forward(self, coarse: Tensor, fine_refs: Sequence[Tensor], coarse_refs: Sequence[Tensor]) -> Tensor:
        if len(fine_refs) not in (1, 2) or len(coarse_refs) != len(fine_refs):
            raise ShapeMismatchError(f"edcstfn takes one or two reference pairs, got {len(fine_refs)} fine, "
                                     f"{len(coarse_refs)} coarse")
        feats = [self._features(coarse, f, c) for f, c in zip(fine_refs, coarse_refs)]
        if len(feats) == 1:
            f, r = feats[0]
            return self.decoder(f + r)
        (f1, r1), (f2, r2) = feats
        inv1, inv2 = 1 / (r1.abs() + 1e-8), 1 / (r2.abs() + 1e-8)
        w = inv1 / (inv1 + inv2)
        return self.decoder(w * (f1 + r1) + (1 - w) * (f2 + r2))

    def _compound(self, pred: Tensor, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        mse = masked_mse(pred, batch.fine, batch.mask)
        p = fill_invalid(pred, batch.fine, batch.mask)
        feat = torch.mean((self.feature_net.features(p)[-1] - self.feature_net.features(batch.fine)[-1]) ** 2)
        ssim = ms_ssim(p, batch.fine)
        loss = mse + feat + self.alpha * (1 - ssim)
        return loss, {"mse": float(mse.detach()), "feature": float(feat.detach()), "ms_ssim": float(ssim.detach())}

    def loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        """The compound loss; with two references, the mean of the two one-reference losses."""
        total, parts = None, {}
        for f, c in zip(batch.fine_refs, batch.coarse_refs):
            loss, p = self._compound(self(batch.coarse, [f], [c]), batch)
            total = loss if total is None else total + loss
            parts = {k: parts.get(k, 0.0) + v for k, v in p.items()}
        n = len(batch.fine_refs)
        return total / n, {k: v / n for k, v in parts.items()}



def edcstfn(bands: int, *, alpha: float = 0.8) -> Edcstfn:
    """EDCSTFN for ``bands`` bands; ``alpha`` weighs the MS-SSIM loss term (0.8, official code)."""
    return Edcstfn(bands, alpha)
