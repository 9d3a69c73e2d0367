"""STFDCNN: spatiotemporal fusion by two super-resolution CNN stages (Song, Liu, Wang, Hang & Huang
2018, IEEE JSTARS 11(3):821-829, doi:10.1109/JSTARS.2018.2797894).

Both stages are the paper's residual SRCNN, ``x + Conv5(32->C)(ReLU(Conv5(64->32)(ReLU(Conv9(C->64)(x)))))``
with 'same' padding. Stage 1 maps the coarse image to a low-spatial-resolution (LSR) fine image,
stage 2 the LSR image to the fine image. The LSR image is the fine image averaged over
``lsr_factor`` x ``lsr_factor`` blocks (valid pixels only) and replicated back, so every stage
runs on the fine grid. Prediction runs the paper's high-pass fusion twice, after each stage:
``X21 = X1 + (T2 - T1)``, ``X23 = X3 + (T2 - T3)``, ``X2 = w X21 + (1 - w) X23`` with
``w = (1/|T2-T1|) / (1/|T2-T1| + 1/|T2-T3|)``, where T are the stage outputs; one reference
gives ``X2 = X1 + (T2 - T1)``.

Differences from the paper (docs/methods/deep.md): the two stages train at the same time, on
the sum of their (independent) MSE losses, with Adam instead of SGD; they share no weights,
so this equals training them one after the other with the same optimiser.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stfusion.core.errors import InvalidParameterError, ShapeMismatchError

from .base import Batch, FusionNet, NetInfo, masked_mse

EPS = 1e-6


class Srcnn(nn.Module):
    """The residual three-layer SRCNN of both stages (9-5-5 kernels, 64 and 32 channels)."""

    def __init__(self, bands: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(bands, 64, 9, padding=4), nn.ReLU(True),
                                  nn.Conv2d(64, 32, 5, padding=2), nn.ReLU(True),
                                  nn.Conv2d(32, bands, 5, padding=2))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def block_mean(x: Tensor, factor: int, valid: Tensor | None = None) -> Tensor:
    """``x`` averaged over ``factor``-pixel blocks (from the top-left corner) and replicated back;
    with ``valid`` (N, 1, H, W), over the valid pixels only. Sides must be multiples of ``factor``."""
    if factor == 1:
        return x
    if valid is None:
        valid = torch.ones_like(x[:, :1])
    num = F.avg_pool2d(x * valid, factor)
    den = F.avg_pool2d(valid, factor)
    mean = num / den.clamp_min(1e-6)
    return F.interpolate(mean, scale_factor=factor, mode="nearest")


def high_pass_fusion(refs: Sequence[Tensor], trans_refs: Sequence[Tensor], trans_target: Tensor) -> Tensor:
    """The paper's temporal fusion of one or two references through the transitional images."""
    preds = [r + (trans_target - t) for r, t in zip(refs, trans_refs)]
    if len(preds) == 1:
        return preds[0]
    inv1 = 1 / ((trans_target - trans_refs[0]).abs() + EPS)
    inv2 = 1 / ((trans_target - trans_refs[1]).abs() + EPS)
    w = inv1 / (inv1 + inv2)
    return w * preds[0] + (1 - w) * preds[1]


class Stfdcnn(FusionNet):
    """See the module docstring; build with `stfdcnn`."""

    name = "stfdcnn"

    def __init__(self, bands: int, lsr_factor: int = 8) -> None:
        super().__init__(bands=bands, lsr_factor=lsr_factor)
        if lsr_factor < 1:
            raise InvalidParameterError(f"lsr_factor={lsr_factor} must be >= 1")
        self.lsr_factor = lsr_factor
        # receptive radius 8 per stage, plus one LSR block
        self.info = NetInfo(refs=(1, 2), coarse_refs=True, halo=16 + lsr_factor, multiple=lsr_factor)
        self.mapping = Srcnn(bands)
        self.superres = Srcnn(bands)

    def forward(self, coarse: Tensor, fine_refs: Sequence[Tensor], coarse_refs: Sequence[Tensor]) -> Tensor:
        if len(fine_refs) not in (1, 2) or len(coarse_refs) != len(fine_refs):
            raise ShapeMismatchError(f"stfdcnn takes one or two reference pairs, got {len(fine_refs)} fine, "
                                     f"{len(coarse_refs)} coarse")
        lsr_refs = [block_mean(f, self.lsr_factor) for f in fine_refs]
        lsr = high_pass_fusion(lsr_refs, [self.mapping(c) for c in coarse_refs], self.mapping(coarse))
        return high_pass_fusion(fine_refs, [self.superres(x) for x in lsr_refs], self.superres(lsr))

    def loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        """Stage 1 (coarse -> LSR) plus stage 2 (LSR -> fine) MSE, on the target and reference dates."""
        valid = batch.mask
        fines = [batch.fine] + list(batch.fine_refs)
        coarses = [batch.coarse] + list(batch.coarse_refs)
        s1 = s2 = torch.zeros((), device=batch.fine.device)
        for f, c in zip(fines, coarses):
            lsr = block_mean(f, self.lsr_factor, valid)
            s1 = s1 + masked_mse(self.mapping(c), lsr, valid)
            s2 = s2 + masked_mse(self.superres(lsr), f, valid)
        s1, s2 = s1 / len(fines), s2 / len(fines)
        return s1 + s2, {"stage1": float(s1.detach()), "stage2": float(s2.detach())}


def stfdcnn(bands: int, *, lsr_factor: int = 8) -> Stfdcnn:
    """STFDCNN for ``bands`` bands; ``lsr_factor`` is the LSR block size in fine pixels (about half
    the coarse/fine ratio: the reimplementation's 256 -> 64 from 16x MODIS is a quarter)."""
    return Stfdcnn(bands, lsr_factor)
