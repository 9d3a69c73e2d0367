"""The TESSERA-style d-pixel model (Feng, Atzberger et al. 2025; shapes of the released v1 model,
see `stfusion.embed.config`): per-sensor transformer encoders over sampled observations with a
day-of-year encoding and GRU attention pooling, a linear fusion to the embedding, a projector,
and the Barlow Twins loss with the mixing regulariser (Mixed Barlow Twins, Bandara et al. 2023).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from stfusion.core.errors import MissingInputError

from ..config import EmbedConfig

BT_LAMBDA = 5e-3


def doy_encoding(doy: Tensor, d: int) -> Tensor:
    """Sinusoidal encoding of the raw day of year: ``sin(doy w_i)``, ``cos(doy w_i)``, ``w_i = 10000^(-2i/d)``."""
    i = torch.arange(0, d, 2, device=doy.device, dtype=torch.float32)
    w = torch.exp(-math.log(10000.0) * i / d)
    angle = doy.float()[..., None] * w
    pe = torch.zeros(*doy.shape, d, device=doy.device)
    pe[..., 0::2] = torch.sin(angle)
    pe[..., 1::2] = torch.cos(angle[..., : d // 2])
    return pe


class AttentionPool(nn.Module):
    """Weights from a GRU read of the sequence, softmax over time, sum of the transformer outputs."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.gru = nn.GRU(d, d, batch_first=True)
        self.score = nn.Linear(d, 1)

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self.gru(x)
        w = torch.softmax(self.score(h), dim=1)
        return (w * x).sum(dim=1)


class SensorEncoder(nn.Module):
    """One sensor's encoder: band embedding + DOY encoding, transformer layers, attention pooling."""

    def __init__(self, bands: int, cfg: EmbedConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.d = d
        self.embed = nn.Sequential(nn.Linear(bands, d), nn.ReLU(), nn.Linear(d, d))
        layer = nn.TransformerEncoderLayer(d, cfg.heads, cfg.ff, cfg.dropout, activation="relu", batch_first=True)
        self.transformer = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.pool = AttentionPool(d)

    def forward(self, x: Tensor, doy: Tensor) -> Tensor:
        return self.pool(self.transformer(self.embed(x) + doy_encoding(doy, self.d)))


class EmbeddingModel(nn.Module):
    """``forward(views) -> (N, latent)`` for ``views = {sensor: (x (N, T, bands), doy (N, T))}``."""

    name = "tessera"

    def __init__(self, cfg: EmbedConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoders = nn.ModuleDict({s: SensorEncoder(b, cfg) for s, b in cfg.sensors})
        self.fuse = nn.Linear(cfg.d_model * len(cfg.sensors), cfg.latent)
        p = cfg.projector
        layers: list[nn.Module] = [nn.Linear(cfg.latent, p), nn.BatchNorm1d(p), nn.ReLU()]
        for _ in range(cfg.projector_layers - 2):
            layers += [nn.Linear(p, p), nn.BatchNorm1d(p), nn.ReLU()]
        self.projector = nn.Sequential(*layers, nn.Linear(p, p))

    def forward(self, views: dict[str, tuple[Tensor, Tensor]]) -> Tensor:
        missing = [s for s in self.encoders if s not in views]
        if missing:
            raise MissingInputError(f"the model needs the sensors {', '.join(self.encoders)}; "
                                    f"missing {', '.join(missing)}")
        return self.fuse(torch.cat([self.encoders[s](*views[s]) for s in self.encoders], dim=1))


def _standardise(z: Tensor) -> Tensor:
    """Per-dimension z-score over the batch with the population std (as BatchNorm), so that
    identical views give a unit diagonal exactly."""
    return (z - z.mean(0)) / z.std(0, unbiased=False).clamp_min(1e-9)


def cross_correlation(a: Tensor, b: Tensor) -> Tensor:
    """Barlow Twins cross-correlation of two (N, D) batches, standardised per dimension over the batch."""
    return _standardise(a).T @ _standardise(b) / a.shape[0]


def barlow_twins(z1: Tensor, z2: Tensor, lam: float = BT_LAMBDA) -> Tensor:
    """``sum_i (1 - C_ii)^2 + lam sum_{i != j} C_ij^2`` (Zbontar et al. 2021)."""
    c = cross_correlation(z1, z2)
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    return on + lam * off


def mix_regulariser(zm: Tensor, z1: Tensor, z2: Tensor, alpha: float, perm: Tensor, lam: float = BT_LAMBDA) -> Tensor:
    """L_MIX: the mixed view's cross-correlations should be the same mixture of the views' ones."""
    c = cross_correlation
    t1 = alpha * c(z1, z1) + (1 - alpha) * c(z2[perm], z1)
    t2 = alpha * c(z1, z2) + (1 - alpha) * c(z2[perm], z2)
    return lam * ((c(zm, z1) - t1).pow(2).sum() + (c(zm, z2) - t2).pow(2).sum())


def n_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
