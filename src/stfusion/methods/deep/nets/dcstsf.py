"""DC-STSF: the dual-task cascaded network for spatial-temporal-spectral fusion (Meng, Chen, Zhang,
Shao, Yang, Sun & Chen 2025, IEEE TGRS 63, doi:10.1109/TGRS.2025.3565637).

The paper's code is not public; its abstract fixes the structure, and the design below fills in
what it leaves open (docs/methods/stsf.md lists each choice and its ablation). Inputs: the coarse
HS image ``hs`` at t1 (B bands), the fine MS images ``ms1`` at t1 and ``ms2`` at t2 (b bands),
ratio r. Outputs: the fine HS image at t1 (the latent image of task 1) and at t2.

* SSJE, spatial-spectral joint enhancement: ``Z0 = bicubic(hs)`` (the paper; stfusion's default
  starts from the GSA fusion instead, see `stsf_run`), then K stages of alternating
  projection between the two observation scales. The spatial enhancement unit (SEU) corrects Z
  from the MS-domain residual ``e_M = ms1 - R Z`` (R a learned spectral response, initialised
  with the sensor's SRF): a learned back-projection b -> B (initialised with R's pseudo-inverse)
  plus a residual CNN on (Z, e_M). The error correction unit (ECU) corrects Z from the HS-domain
  residual ``e_H = hs - D Z`` (D a learned separable blur, initialised with the (estimated) PSF of each axis, then
  decimation by r): the residual is upsampled (bicubic, a learned step) and refined by a
  residual CNN on (up(e_H), Z). The CNN heads start at zero, so an untrained SSJE is classical
  alternating back-projection.
* TVE, temporal variation estimation: the MS change ``dM = ms2 - ms1`` is mapped to the HS bands
  (a learned b -> B map S, initialised with the least-squares regression of the HS image on the
  MS image), ``Z2 = Z1 + S dM``; the spectral fine-tuning network (SFTN, residual blocks with
  channel attention on (Z2, dM), zero-initialised head) revises the spectra; the difference-image
  insertion blends in a spectral super-resolution of ms2 (a b -> B map G) where a change-attention
  map ``A = sigmoid(CNN(dM, |dM|))`` flags abrupt change: ``Z2 = A G(ms2) + (1 - A) SFTN(Z2)``.
* Loss: ``L1(Z2) + lambda_t1 L1(Z1) + lambda_sam SAM(Z2) + lambda_ms |R Z2 - ms2|_1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stfusion.core.errors import ShapeMismatchError

from .base import TrainableNet


@dataclass
class StsfBatch:
    """Training samples: ``hs`` (N, B, h, w), ``ms1``/``ms2`` (N, b, H, W), truths ``z1``/``z2`` (N, B, H, W),
    and the SSJE start ``z0`` (N, B, H, W; None: bicubic)."""

    hs: Tensor
    ms1: Tensor
    ms2: Tensor
    z1: Tensor
    z2: Tensor
    z0: Tensor | None = None

    def to(self, device: torch.device | str) -> "StsfBatch":
        return StsfBatch(*(None if t is None else t.to(device)
                           for t in (self.hs, self.ms1, self.ms2, self.z1, self.z2, self.z0)))


def _conv(cin: int, cout: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2, padding_mode="replicate")


def _zero_head(cin: int, cout: int) -> nn.Conv2d:
    head = nn.Conv2d(cin, cout, 1)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    return head


class ResBlock(nn.Module):
    """Conv3x3-ReLU-Conv3x3 with a skip; optional squeeze-and-excitation channel attention."""

    def __init__(self, width: int, attention: bool = False) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(width, width), nn.ReLU(True), _conv(width, width))
        self.attention = (nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(width, max(width // 4, 4), 1), nn.ReLU(True),
                                        nn.Conv2d(max(width // 4, 4), width, 1), nn.Sigmoid()) if attention else None)

    def forward(self, x: Tensor) -> Tensor:
        y = self.body(x)
        return x + (y * self.attention(y) if self.attention is not None else y)


def _refiner(cin: int, cout: int, width: int, blocks: int, attention: bool = False) -> nn.Sequential:
    """1x1 projection of the (many) input bands to ``width`` features, residual blocks, and a
    zero-initialised 1x1 head back to the bands: the 3x3 convolutions run on ``width`` channels only."""
    return nn.Sequential(nn.Conv2d(cin, width, 1), nn.ReLU(True), *[ResBlock(width, attention) for _ in range(blocks)],
                         _zero_head(width, cout))


class SEU(nn.Module):
    """Spatial enhancement unit: Z + P e_M + CNN(Z, e_M), with e_M = ms - R Z."""

    def __init__(self, hs_bands: int, ms_bands: int, width: int, blocks: int) -> None:
        super().__init__()
        self.back = nn.Conv2d(ms_bands, hs_bands, 1, bias=False)
        self.refine = _refiner(hs_bands + ms_bands, hs_bands, width, blocks)

    def forward(self, z: Tensor, e_ms: Tensor) -> Tensor:
        return z + self.back(e_ms) + self.refine(torch.cat([z, e_ms], 1))


class ECU(nn.Module):
    """Error correction unit: Z + s up(e_H) + CNN(up(e_H), Z), with e_H = hs - D Z."""

    def __init__(self, hs_bands: int, width: int, blocks: int) -> None:
        super().__init__()
        self.step = nn.Parameter(torch.ones(1))
        self.refine = _refiner(2 * hs_bands, hs_bands, width, blocks)

    def forward(self, z: Tensor, up_err: Tensor) -> Tensor:
        return z + self.step * up_err + self.refine(torch.cat([up_err, z], 1))


class Dcstsf(TrainableNet):
    """See the module docstring; build with `dcstsf`."""

    name = "dcstsf"

    def __init__(self, hs_bands: int, ms_bands: int, ratio: int, psf_size: int, *, stages: int = 3, width: int = 32,
                 blocks: int = 2, seu: bool = True, ecu: bool = True, sftn: bool = True, insertion: bool = True,
                 lambda_t1: float = 0.5, lambda_sam: float = 0.1, lambda_ms: float = 0.1) -> None:
        super().__init__(hs_bands=hs_bands, ms_bands=ms_bands, ratio=ratio, psf_size=psf_size, stages=stages,
                         width=width, blocks=blocks, seu=seu, ecu=ecu, sftn=sftn, insertion=insertion,
                         lambda_t1=lambda_t1, lambda_sam=lambda_sam, lambda_ms=lambda_ms)
        self.ratio, self.lambdas = ratio, (lambda_t1, lambda_sam, lambda_ms)
        self.srf = nn.Parameter(torch.full((ms_bands, hs_bands), 1.0 / hs_bands))
        self.psf = nn.Parameter(torch.ones(2, psf_size) / psf_size)  # rows, columns
        self.ms_offset = nn.Parameter(torch.zeros(ms_bands))
        self.seus = nn.ModuleList([SEU(hs_bands, ms_bands, width, blocks) for _ in range(stages)]) if seu else None
        self.ecus = nn.ModuleList([ECU(hs_bands, width, blocks) for _ in range(stages)]) if ecu else None
        self.stages = stages
        self.change = nn.Conv2d(ms_bands, hs_bands, 1, bias=False)
        self.sftn = _refiner(hs_bands + ms_bands, hs_bands, width, blocks, attention=True) if sftn else None
        if insertion:
            self.spectral_sr = nn.Conv2d(ms_bands, hs_bands, 1)
            self.attention = nn.Sequential(_conv(2 * ms_bands, 16), nn.ReLU(True), _conv(16, 1))
            nn.init.constant_(self.attention[-1].bias, -3.0)
        else:
            self.spectral_sr = self.attention = None

    @torch.no_grad()
    def initialise(self, srf: np.ndarray, psf: tuple[np.ndarray, np.ndarray], change: np.ndarray,
                   offset: np.ndarray | None = None, *, back_projection: bool = True) -> None:
        """Physics-based starting values: the SRF (ms x hs) and MS offsets, the (rows, columns) 1-D
        PSF kernels (centred, zero-padded to the net's size), and the (hs x ms + 1) regression of the
        HS image on the MS image (its slopes start S and G, its intercept G's bias). Without
        ``back_projection`` the SEU's P and the ECU's step start at zero, so that an untrained SSJE
        returns its start unchanged (for a start that is already a fusion, such as GSA)."""
        self.srf.copy_(torch.as_tensor(srf, dtype=torch.float32))
        size = self.psf.shape[1]
        for axis, k in enumerate(psf):
            pad = (size - k.size) // 2
            self.psf[axis].copy_(torch.as_tensor(np.pad(k, (pad, size - k.size - pad)), dtype=torch.float32))
        if offset is not None:
            self.ms_offset.copy_(torch.as_tensor(offset, dtype=torch.float32))
        pinv = torch.linalg.pinv(self.srf) if back_projection else torch.zeros_like(self.srf.T)
        for unit in self.seus or []:
            unit.back.weight.copy_(pinv[:, :, None, None])
        for unit in self.ecus or []:
            unit.step.fill_(1.0 if back_projection else 0.0)
        slopes = torch.as_tensor(change[:, :-1], dtype=torch.float32)
        self.change.weight.copy_(slopes[:, :, None, None])
        if self.spectral_sr is not None:
            self.spectral_sr.weight.copy_(slopes[:, :, None, None])
            self.spectral_sr.bias.copy_(torch.as_tensor(change[:, -1], dtype=torch.float32))

    def spectral(self, z: Tensor) -> Tensor:
        """R Z + o: the fine MS image a fine HS image gives."""
        return torch.einsum("kb,nbhw->nkhw", self.srf, z) + self.ms_offset[None, :, None, None]

    def degrade(self, z: Tensor) -> Tensor:
        """D Z: separable blur with the learned PSF (symmetric borders, as `stfusion.core.observation`),
        then decimation by the ratio."""
        n, b, h, w = z.shape
        kr, kc = self.psf[0] / self.psf[0].sum(), self.psf[1] / self.psf[1].sum()
        size, half = kr.numel(), kr.numel() // 2
        x = z[:, :, _symmetric(h, half, z.device)]
        x = sum(kr[t] * x[:, :, t:t + h] for t in range(size))
        x = x[:, :, :, _symmetric(w, half, z.device)]
        x = sum(kc[t] * x[:, :, :, t:t + w] for t in range(size))
        o = self.ratio // 2
        return x[:, :, o::self.ratio, o::self.ratio]

    def upsample(self, x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=self.ratio, mode="bicubic", align_corners=False)

    def ssje(self, hs: Tensor, ms1: Tensor, z0: Tensor | None = None) -> Tensor:
        """Task 1: the latent fine HS image at t1, from ``z0`` (default: the paper's bicubic start)."""
        z = self.upsample(hs) if z0 is None else z0
        for k in range(self.stages):
            if self.seus is not None:
                z = self.seus[k](z, ms1 - self.spectral(z))
            if self.ecus is not None:
                z = self.ecus[k](z, self.upsample(hs - self.degrade(z)))
        return z

    def tve(self, z1: Tensor, ms1: Tensor, ms2: Tensor) -> Tensor:
        """Task 2: the fine HS image at t2 from the t1 estimate and the MS change."""
        dm = ms2 - ms1
        z2 = z1 + self.change(dm)
        if self.sftn is not None:
            z2 = z2 + self.sftn(torch.cat([z2, dm], 1))
        if self.attention is not None:
            a = torch.sigmoid(self.attention(torch.cat([dm, dm.abs()], 1)))
            z2 = a * self.spectral_sr(ms2) + (1 - a) * z2
        return z2

    def forward(self, hs: Tensor, ms1: Tensor, ms2: Tensor | None = None,
                z0: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        if tuple(ms1.shape[-2:]) != (hs.shape[-2] * self.ratio, hs.shape[-1] * self.ratio):
            raise ShapeMismatchError(f"dcstsf: ms1 {tuple(ms1.shape[-2:])} must be hs {tuple(hs.shape[-2:])} "
                                     f"x {self.ratio}")
        z1 = self.ssje(hs, ms1, z0)
        return z1, (self.tve(z1, ms1, ms2) if ms2 is not None else None)

    def loss(self, batch: StsfBatch) -> tuple[Tensor, dict[str, float]]:
        z1, z2 = self(batch.hs, batch.ms1, batch.ms2, batch.z0)
        l_t1, l_sam, l_ms = self.lambdas
        l1_t2, l1_t1 = F.l1_loss(z2, batch.z2), F.l1_loss(z1, batch.z1)
        sam = spectral_angle(z2, batch.z2)
        ms = F.l1_loss(self.spectral(z2), batch.ms2)
        loss = l1_t2 + l_t1 * l1_t1 + l_sam * sam + l_ms * ms
        mse = F.mse_loss(z2, batch.z2)
        return loss, {"loss": float(loss.detach()), "l1_t2": float(l1_t2.detach()), "l1_t1": float(l1_t1.detach()),
                      "sam": float(sam.detach()), "mse": float(mse.detach())}


def _symmetric(n: int, half: int, device: torch.device) -> Tensor:
    idx = torch.remainder(torch.arange(-half, n + half, device=device), 2 * n)
    return torch.where(idx >= n, 2 * n - 1 - idx, idx)


def spectral_angle(x: Tensor, y: Tensor, eps: float = 1e-8) -> Tensor:
    """Mean spectral angle (radians) between two (N, B, H, W) batches."""
    cos = (x * y).sum(1) / (x.norm(dim=1) * y.norm(dim=1) + eps)
    return torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6)).mean()


class DcstsfEnsemble(nn.Module):
    """The mean of DC-STSF networks trained from different SSJE ``starts`` ("gsa": the member
    starts from ``z0``; "bicubic": from the upsampled HS image). Inference only: each member is
    trained on its own; ``name`` and ``config`` let a checkpoint rebuild it with `dcstsf`."""

    name = "dcstsf"

    def __init__(self, members: list[Dcstsf], starts: list[str]) -> None:
        super().__init__()
        self.members, self.starts = nn.ModuleList(members), list(starts)
        self.config = {**members[0].config, "starts": self.starts}

    def forward(self, hs: Tensor, ms1: Tensor, ms2: Tensor | None = None,
                z0: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        outs = [m(hs, ms1, ms2, z0 if s == "gsa" else None) for m, s in zip(self.members, self.starts)]
        z1 = torch.stack([o[0] for o in outs]).mean(0)
        return z1, None if ms2 is None else torch.stack([o[1] for o in outs]).mean(0)


def dcstsf(hs_bands: int, ms_bands: int, ratio: int, psf_size: int, *, starts: list[str] | None = None,
           **options: object) -> Dcstsf | DcstsfEnsemble:
    """DC-STSF for ``hs_bands`` HS and ``ms_bands`` MS bands at integer ``ratio``; ``options`` as
    `Dcstsf`. With ``starts``, the (untrained) ensemble of one network per start."""
    if starts:
        return DcstsfEnsemble([Dcstsf(hs_bands, ms_bands, ratio, psf_size, **options) for _ in starts], starts)
    return Dcstsf(hs_bands, ms_bands, ratio, psf_size, **options)
