"""DCSTFN: the deep convolutional spatiotemporal fusion network (Tan, Yue, Di & Tang 2018, Remote
Sensing 10(7):1066, doi:10.3390/rs10071066).

One reference pair: ``decoder(fine_net(F1) - coarse_net(C1) + coarse_net(C2))``. Layer sizes are
the paper's, per band (the paper trains one single-band model per band; here the bands run side by
side as convolution groups, which is the same set of independent models in one module):

- coarse net, shared by C1 and C2: Conv3 (1->32), Conv3 (32->64), three stride-2 transposed
  Conv3 (64->64, x8), Conv3 (64->128), ReLU after each (the authors' PyTorch branch);
- fine net: Conv3 (1->32), Conv3 (32->64), max-pool 2, Conv3 (64->64), Conv3 (64->128), ReLU;
- decoder: stride-2 transposed Conv3 (128->64, ReLU), then the per-pixel dense layers as 1x1
  convolutions (64->32, ReLU; 32->1). He-normal initialisation.

The coarse net takes the coarse image at 1/16 of the fine grid, as the paper's MOD09A1/Landsat
patches (500 m vs 30 m): our coarse images come on the fine grid, so they are averaged over
16 x 16 blocks first. Input sides must therefore be multiples of 16 (the tiler pads).
"""

from __future__ import annotations

from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from stfusion.core.errors import ShapeMismatchError

from .base import FusionNet, NetInfo

COARSE_FACTOR = 16


def _conv(cin: int, cout: int, g: int) -> nn.Conv2d:
    return nn.Conv2d(cin * g, cout * g, 3, padding=1, groups=g)


def _up(cin: int, cout: int, g: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin * g, cout * g, 3, stride=2, padding=1, output_padding=1, groups=g)


class Dcstfn(FusionNet):
    """See the module docstring; build with `dcstfn`."""

    name = "dcstfn"

    def __init__(self, bands: int) -> None:
        super().__init__(bands=bands)
        g = bands
        self.info = NetInfo(refs=(1,), coarse_refs=True, halo=4 * COARSE_FACTOR, multiple=COARSE_FACTOR)
        relu = nn.ReLU
        self.coarse_net = nn.Sequential(_conv(1, 32, g), relu(True), _conv(32, 64, g), relu(True),
                                        _up(64, 64, g), relu(True), _up(64, 64, g), relu(True),
                                        _up(64, 64, g), relu(True), _conv(64, 128, g), relu(True))
        self.fine_net = nn.Sequential(_conv(1, 32, g), relu(True), _conv(32, 64, g), relu(True), nn.MaxPool2d(2),
                                      _conv(64, 64, g), relu(True), _conv(64, 128, g), relu(True))
        self.decoder = nn.Sequential(_up(128, 64, g), relu(True), nn.Conv2d(64 * g, 32 * g, 1, groups=g), relu(True),
                                     nn.Conv2d(32 * g, g, 1, groups=g))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, coarse: Tensor, fine_refs: Sequence[Tensor], coarse_refs: Sequence[Tensor]) -> Tensor:
        if len(fine_refs) != 1 or len(coarse_refs) != 1:
            raise ShapeMismatchError(f"dcstfn takes one reference pair, got {len(fine_refs)} fine, "
                                     f"{len(coarse_refs)} coarse")
        h, w = coarse.shape[-2:]
        if h % COARSE_FACTOR or w % COARSE_FACTOR:
            raise ShapeMismatchError(f"dcstfn needs sides that are multiples of {COARSE_FACTOR}, got {h}x{w}")
        c1 = self.coarse_net(F.avg_pool2d(coarse_refs[0], COARSE_FACTOR))
        c2 = self.coarse_net(F.avg_pool2d(coarse, COARSE_FACTOR))
        return self.decoder(self.fine_net(fine_refs[0]) - c1 + c2)


def dcstfn(bands: int) -> Dcstfn:
    """DCSTFN for ``bands`` bands (one independent single-band network per band)."""
    return Dcstfn(bands)
