"""Switchable normalisation (Luo, Ren, Peng, Zhang & Li 2019, ICLR, arXiv:1806.10779), as GAN-STFM uses it.

The mean and variance are softmax-weighted mixtures of the instance, layer and batch statistics,
with learned mixing weights, a per-channel affine and moving averages (momentum 0.9 in the
GAN-STFM code, i.e. 10 % new). Deliberate difference at inference: the instance and layer
statistics are replaced by moving averages too, so the network is a fixed per-pixel map in
evaluation mode. With per-image statistics a prediction would depend on the tile it is computed
in, and tiled inference could not equal whole-image inference (docs/methods/deep.md).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class SwitchNorm2d(nn.Module):
    """Switchable normalisation of (N, C, H, W) tensors; see the module docstring."""

    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.mean_weight = nn.Parameter(torch.ones(3))
        self.var_weight = nn.Parameter(torch.ones(3))
        for kind in ("in", "ln", "bn"):
            self.register_buffer(f"{kind}_mean", torch.zeros(1, channels, 1, 1))
            self.register_buffer(f"{kind}_var", torch.ones(1, channels, 1, 1))

    def _update(self, kind: str, mean: Tensor, var: Tensor) -> None:
        with torch.no_grad():
            m, v = getattr(self, f"{kind}_mean"), getattr(self, f"{kind}_var")
            m.mul_(1 - self.momentum).add_(self.momentum * mean.mean(0, keepdim=True).expand_as(m))
            v.mul_(1 - self.momentum).add_(self.momentum * var.mean(0, keepdim=True).expand_as(v))

    def forward(self, x: Tensor) -> Tensor:
        wm = torch.softmax(self.mean_weight, 0)
        wv = torch.softmax(self.var_weight, 0)
        if self.training:
            mean_in = x.mean((2, 3), keepdim=True)
            var_in = x.var((2, 3), keepdim=True, unbiased=False)
            mean_ln = mean_in.mean(1, keepdim=True)
            var_ln = (var_in + mean_in**2).mean(1, keepdim=True) - mean_ln**2
            mean_bn = mean_in.mean(0, keepdim=True)
            var_bn = (var_in + mean_in**2).mean(0, keepdim=True) - mean_bn**2
            for kind, m, v in (("in", mean_in, var_in), ("ln", mean_ln, var_ln), ("bn", mean_bn, var_bn)):
                self._update(kind, m, v)
        else:
            mean_in, var_in = self.in_mean, self.in_var
            mean_ln, var_ln = self.ln_mean, self.ln_var
            mean_bn, var_bn = self.bn_mean, self.bn_var
        mean = wm[0] * mean_in + wm[1] * mean_ln + wm[2] * mean_bn
        var = wv[0] * var_in + wv[1] * var_ln + wv[2] * var_bn
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
