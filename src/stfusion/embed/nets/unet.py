"""A small UNet head for dense regression on an embedding map (as TESSERA's BioMassters head, smaller).

`UNetRegressor.fit(emb, target, mask)` trains on random ``patch`` x ``patch`` crops of the
embedding map (rows, cols, D), each placed over a labelled pixel, with a masked MSE or L1 loss:
only pixels where ``mask`` is True and the label is finite count, so unlabelled pixels are seen
as context (inputs) but their labels never are. Inputs are standardised per channel with the
fit map's statistics (over pixels with finite embeddings; no-data pixels become 0, the mean),
targets with the labelled pixels' statistics. AdamW with a cosine-decayed rate, random flips,
seeded initialisation and crops. `predict(emb)` predicts the map reflect-padded to a multiple of 4,
tile by tile with a halo; pixels with a non-finite embedding get NaN.

The net: two levels down and two up, (Conv3x3-BN-ReLU) x 2 per level at widths w, 2w, 4w,
max-pool down, transposed convolutions up with skip connections, a 1x1 output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from stfusion.core.errors import (
    InvalidParameterError,
    MissingWeightsError,
    NoDataError,
    ShapeMismatchError,
    UnknownParameterError,
)

LOSSES = ("mse", "l1")
HALO = 32  # > the receptive-field radius of `UNet` (about 22 pixels); a multiple of 4


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """``forward((B, cin, H, W)) -> (B, cout, H, W)``; H and W must be multiples of 4."""

    def __init__(self, cin: int, cout: int, width: int = 16) -> None:
        super().__init__()
        w = width
        self.enc0, self.enc1, self.mid = _double_conv(cin, w), _double_conv(w, 2 * w), _double_conv(2 * w, 4 * w)
        self.up1, self.dec1 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), _double_conv(4 * w, 2 * w)
        self.up0, self.dec0 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), _double_conv(2 * w, w)
        self.head = nn.Conv2d(w, cout, 1)

    def forward(self, x: Tensor) -> Tensor:
        e0 = self.enc0(x)
        e1 = self.enc1(nn.functional.max_pool2d(e0, 2))
        m = self.mid(nn.functional.max_pool2d(e1, 2))
        d1 = self.dec1(torch.cat([self.up1(m), e1], dim=1))
        return self.head(self.dec0(torch.cat([self.up0(d1), e0], dim=1)))


def _reflect_frame(n: int) -> tuple[int, np.ndarray]:
    """The rows (or columns) of a length-``n`` axis reflect-padded to a multiple of 4: the offset of
    the first real one and the source index of each."""
    top = -n % 4 // 2
    return top, np.pad(np.arange(n), (top, -n % 4 - top), mode="reflect")


def _down4(i: int) -> int:
    return i // 4 * 4


def _up4(i: int) -> int:
    return -(-i // 4) * 4


@dataclass
class UNetRegressor:
    """Dense regression head; see the module docstring. ``history`` holds the training losses."""

    width: int = 16
    patch: int = 32
    steps: int = 300
    batch: int = 8
    lr: float = 2e-3
    weight_decay: float = 1e-2
    loss: str = "mse"
    augment: bool = True
    seed: int = 0
    device: str = "cpu"
    history: list[float] = field(default_factory=list)
    _net: Any = None
    _stats: tuple[np.ndarray, ...] = ()
    _squeeze: bool = False

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise UnknownParameterError(f"unknown UNet loss {self.loss!r}; use one of: {', '.join(LOSSES)}")
        for name in ("width", "patch", "steps", "batch"):
            if getattr(self, name) < 1:
                raise InvalidParameterError(f"UNet {name} must be >= 1, got {getattr(self, name)}")

    def _inputs(self, emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Standardised (rows, cols, D) float32 inputs with no-data at 0, and the finite-pixel mask."""
        ok = np.isfinite(emb).all(axis=-1)
        x = (emb - self._stats[0]) / self._stats[1]
        return np.where(ok[..., None], x, 0.0).astype(np.float32), ok

    def fit(self, emb: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> "UNetRegressor":
        """Train on ``emb`` (rows, cols, D) against ``target`` (rows, cols) or (rows, cols, K) where
        ``mask`` (rows, cols) is True (default: everywhere) and the label is finite."""
        emb = np.asarray(emb, dtype=np.float32)
        if emb.ndim != 3:
            raise ShapeMismatchError(f"the embedding map has shape {emb.shape}; expected (rows, cols, channels)")
        rows, cols, _ = emb.shape
        target = np.asarray(target, dtype=np.float64)
        if target.shape[:2] != (rows, cols) or target.ndim not in (2, 3):
            raise ShapeMismatchError(f"the target has shape {target.shape}; expected ({rows}, {cols}) or "
                                     f"({rows}, {cols}, K) like the embedding map")
        mask = np.ones((rows, cols), bool) if mask is None else np.asarray(mask, dtype=bool)
        if mask.shape != (rows, cols):
            raise ShapeMismatchError(f"the label mask has shape {mask.shape}; expected ({rows}, {cols})")
        self._squeeze = target.ndim == 2
        t = target.reshape(rows, cols, -1)
        ok = np.isfinite(emb).all(axis=-1)
        if not ok.any():
            raise NoDataError("the embedding map has no finite pixel; embed the scene again")
        lab = mask[..., None] & ok[..., None] & np.isfinite(t)
        if not lab.any():
            raise NoDataError("no pixel is labelled (mask True, finite label, finite embedding); give some labels")
        e = emb[ok].astype(np.float64)
        counts = np.maximum(lab.sum(axis=(0, 1)), 1)
        tmean = np.where(lab, t, 0.0).sum(axis=(0, 1)) / counts
        tstd = np.sqrt(np.where(lab, (t - tmean) ** 2, 0.0).sum(axis=(0, 1)) / counts)
        self._stats = (e.mean(0), np.maximum(e.std(0), 1e-6), tmean, np.maximum(tstd, 1e-12))
        x, _ = self._inputs(emb)
        y = np.where(lab, (t - tmean) / self._stats[3], 0.0).astype(np.float32)
        p = max(4, min(self.patch, rows, cols) // 4 * 4)
        pr, pc = max(0, p - rows), max(0, p - cols)  # maps smaller than 4 px: pad (no labels there)
        if pr or pc:
            x = np.pad(x, ((0, pr), (0, pc), (0, 0)), mode="edge")
            y, lab = (np.pad(a, ((0, pr), (0, pc), (0, 0))) for a in (y, lab))
        dev = torch.device(self.device)
        xt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 0))).to(dev)
        yt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(y, -1, 0))).to(dev)
        wt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(lab, -1, 0)).astype(np.float32)).to(dev)
        lr_, lc_ = np.nonzero(lab.any(axis=-1))
        rng = np.random.default_rng(self.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = UNet(x.shape[-1], t.shape[-1], self.width).to(dev)
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, self.steps)
        span = torch.arange(p, device=dev)
        self.history = []
        net.train()
        for _ in range(self.steps):
            pick = rng.integers(0, lr_.size, self.batch)
            top = np.clip(lr_[pick] - rng.integers(0, p, self.batch), 0, x.shape[0] - p)
            left = np.clip(lc_[pick] - rng.integers(0, p, self.batch), 0, x.shape[1] - p)
            ri = (torch.from_numpy(top).to(dev)[:, None] + span)[:, :, None]  # (B, p, 1)
            ci = (torch.from_numpy(left).to(dev)[:, None] + span)[:, None, :]  # (B, 1, p)
            xb, yb, wb = (a[:, ri, ci].transpose(0, 1) for a in (xt, yt, wt))  # (B, C, p, p)
            if self.augment:
                for dim in (2, 3):
                    if rng.random() < 0.5:
                        xb, yb, wb = (a.flip(dim) for a in (xb, yb, wb))
            err = net(xb) - yb
            err = err.pow(2) if self.loss == "mse" else err.abs()
            loss = (err * wb).sum() / wb.sum().clamp_min(1.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            self.history.append(float(loss.detach()))
        self._net = net.eval()
        return self

    @torch.no_grad()
    def predict(self, emb: np.ndarray, tile: int = 512) -> np.ndarray:
        """(rows, cols) or (rows, cols, K) float32 predictions for the map ``emb``; NaN where the
        embedding is not finite. The net runs on ``tile`` x ``tile`` windows with a 32-pixel halo
        (more than its receptive field), so the network's memory follows the tile, and the result
        is the whole-map one (same reflect padding, pooling grid and borders; float rounding aside)."""
        if self._net is None:
            raise MissingWeightsError("the UNet head is not trained; call fit(emb, target, mask) first")
        if emb.ndim != 3 or emb.shape[-1] != self._stats[0].size:
            raise ShapeMismatchError(f"the embedding map has shape {emb.shape}; expected (rows, cols, "
                                     f"{self._stats[0].size}) like the one the head was fitted on")
        if tile < 4:
            raise InvalidParameterError(f"UNet prediction tile must be >= 4 pixels, got {tile}")
        rows, cols, _ = emb.shape
        (top, ridx), (left, cidx) = (_reflect_frame(n) for n in (rows, cols))
        step = tile // 4 * 4
        out = np.full((rows, cols, self._stats[2].size), np.nan, np.float32)
        dev = next(self._net.parameters()).device
        for r0 in range(0, rows, step):
            for c0 in range(0, cols, step):  # the tile [r0, r1) x [c0, c1) of the map, in frame coordinates
                r1, c1 = min(r0 + step, rows) + top, min(c0 + step, cols) + left
                a0, b0 = _down4(max(0, r0 + top - HALO)), _down4(max(0, c0 + left - HALO))
                a1, b1 = min(ridx.size, r1 + HALO), min(cidx.size, c1 + HALO)
                a1, b1 = a0 + _up4(a1 - a0), b0 + _up4(b1 - b0)  # frame sizes are multiples of 4
                x, ok = self._inputs(np.asarray(emb[ridx[a0:a1]][:, cidx[b0:b1]], dtype=np.float32))
                y = self._net(torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 0)))[None].to(dev))[0]
                y = np.moveaxis(y.cpu().numpy(), 0, -1).astype(np.float64) * self._stats[3] + self._stats[2]
                out[r0:r1 - top, c0:c1 - left] = np.where(ok[..., None], y, np.nan)[r0 + top - a0:r1 - a0,
                                                                                    c0 + left - b0:c1 - b0]
        return out[..., 0] if self._squeeze else out
