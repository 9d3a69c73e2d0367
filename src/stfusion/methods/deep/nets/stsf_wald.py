"""Training samples for DC-STSF from one STSF task by Wald's reduced-scale protocol.

Both inputs are degraded by the observation model (PSF and decimation by the ratio): the HS
image becomes ``D(H1)`` and the MS image ``D(M1)``, on the HS image's grid, and the network learns
to recover ``H1`` itself (Wald, Ranchin & Mangolini 1997). No HS image of t2 exists, so the t2
samples are simulated on the fly: ``Z2 = random_change(H1)`` and ``M2 = D(M1) + R (Z2 - H1)``.
`random_change` is a generic prior, deliberately unlike the evaluation's change model
(`stfusion.data.stsf_sim.simulate_change`): spectral-similarity classes with random smooth
spectral factors, a smooth illumination field, and patches that take another pixel's spectrum.
Patches are cut on whole coarse blocks, with random flips and quarter turns, from all but the
last quarter of the rows; those rows are held out for validation, where the network competes with
the classical estimate of the same reduced pair (GSA at t1, the cascade at t2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from stfusion.core.errors import InputError

from ...classical.gsa import hypersharpen
from ...classical.stsf_ops import Inputs, regress_bands
from .dcstsf import StsfBatch


def _smooth_curve(n: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth random curve over ``n`` bands, scaled to max |value| = 1."""
    x = np.arange(n)
    curve = np.zeros(n)
    for _ in range(3):
        centre, width = rng.uniform(0, n), rng.uniform(n / 10, n / 3)
        curve += rng.standard_normal() * np.exp(-0.5 * ((x - centre) / width) ** 2)
    return curve / (np.abs(curve).max() or 1.0)


def _smooth_field(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth random field in [-1, 1]: bilinear interpolation of a 3 x 3 random grid."""
    grid = rng.uniform(-1, 1, (3, 3))
    r = np.linspace(0, 2, shape[0])
    c = np.linspace(0, 2, shape[1])
    r0, c0 = np.minimum(r.astype(int), 1), np.minimum(c.astype(int), 1)
    fr, fc = (r - r0)[:, None], (c - c0)[None]
    g = grid
    return ((1 - fr) * (1 - fc) * g[r0][:, c0] + fr * (1 - fc) * g[r0 + 1][:, c0]
            + (1 - fr) * fc * g[r0][:, c0 + 1] + fr * fc * g[r0 + 1][:, c0 + 1])


def random_change(z: np.ndarray, rng: np.random.Generator, pool: np.ndarray) -> np.ndarray:
    """A randomly changed copy of the (bands, rows, cols) cube ``z``; ``pool`` (bands, n) holds
    the spectra an abrupt patch may take."""
    bands, rows, cols = z.shape
    flat = z.reshape(bands, -1)
    anchors = flat[:, rng.choice(flat.shape[1], int(rng.integers(2, 6)), replace=False)]
    unit = flat / (np.linalg.norm(flat, axis=0, keepdims=True) + 1e-9)
    labels = np.argmax((anchors / (np.linalg.norm(anchors, axis=0, keepdims=True) + 1e-9)).T @ unit, axis=0)
    factors = np.stack([1 + rng.uniform(0, 0.4) * _smooth_curve(bands, rng) for _ in range(anchors.shape[1])])
    out = flat * factors[labels].T
    out = out.reshape(z.shape) * (1 + rng.uniform(-0.1, 0.1) * _smooth_field((rows, cols), rng))[None]
    if rng.random() < 0.7:
        side = int(rng.integers(max(1, min(rows, cols) // 6), max(2, min(rows, cols) // 3) + 1))
        r0, c0 = int(rng.integers(0, rows - side + 1)), int(rng.integers(0, cols - side + 1))
        spectrum = pool[:, rng.integers(pool.shape[1])]
        out[:, r0:r0 + side, c0:c0 + side] = spectrum[:, None, None] * (1 + 0.02 * rng.standard_normal((side, side)))
    return np.clip(out, 0.0, None)


@dataclass
class WaldSet:
    """The reduced-scale images: ``hs`` = D(H1), ``ms`` = D(M1) on H1's grid, ``z1`` = H1; ``srf`` R;
    ``gsa`` the GSA fusion of the reduced pair (the classical t1 estimate) and ``change`` the
    cascade's regression C of the full-scale pair (the classical t2 estimate is ``gsa + C dM``;
    the network's TVE starts from the same C, so validation compares what training adds); ``start`` the SSJE start
    (``gsa``, or None for bicubic). Rows from ``split`` on (whole coarse rows) are held out for
    validation; ``split == rows`` when the image is too small to hold any out."""

    hs: np.ndarray
    ms: np.ndarray
    z1: np.ndarray
    srf: np.ndarray
    ratio: int
    gsa: np.ndarray
    change: np.ndarray
    start: np.ndarray | None
    split: int

    @classmethod
    def from_inputs(cls, x: Inputs, srf: np.ndarray, *, start: str = "gsa", holdout: float = 0.25) -> "WaldSet":
        r = x.ratio
        rows, cols = (x.hs.shape[1] // r) * r, (x.hs.shape[2] // r) * r
        if rows < 2 * r or cols < 2 * r:
            raise InputError(f"the HS image ({x.hs.shape[1]}x{x.hs.shape[2]}) is too small for Wald's protocol at "
                             f"ratio {r}: it needs at least {2 * r}x{2 * r} HS pixels; train on a larger scene")
        z1 = x.hs[:, :rows, :cols]
        ms = x.degrade(x.ms)[:, :rows, :cols]
        reduced = replace(x, hs=x.degrade(z1), ms=ms, ms_target=None, mask=np.ones((rows, cols), bool))
        gsa = hypersharpen(reduced, ms)
        change = regress_bands(z1, ms)  # the cascade's C of the full-scale pair, which TVE starts from
        held = max(1, int(round(rows // r * holdout))) * r
        split = rows - held if rows - held >= 2 * r else rows
        return cls(hs=reduced.hs, ms=ms, z1=z1, srf=srf, ratio=r, gsa=gsa, change=change,
                   start=gsa if start == "gsa" else None, split=split)

    def sample(self, n: int, patch: int, rng: np.random.Generator) -> StsfBatch:
        """``n`` patches of ``patch`` x ``patch`` pixels of H1's grid (whole coarse blocks, above the
        held-out rows), each with its own simulated second date, flips and quarter turns."""
        r = self.ratio
        rows, cols = self.split, self.z1.shape[2]
        p = max(r, min(patch, rows, cols) // r * r)
        pool = self.z1[:, :rows].reshape(self.z1.shape[0], -1)
        out: list[list[np.ndarray]] = [[], [], [], [], [], []]
        for _ in range(n):
            i, j = int(rng.integers(0, (rows - p) // r + 1)) * r, int(rng.integers(0, (cols - p) // r + 1)) * r
            z1 = self.z1[:, i:i + p, j:j + p]
            hs = self.hs[:, i // r:(i + p) // r, j // r:(j + p) // r]
            ms1 = self.ms[:, i:i + p, j:j + p]
            z2 = random_change(z1, rng, pool)
            ms2 = ms1 + np.einsum("kb,brc->krc", self.srf, z2 - z1)
            z0 = z1 if self.start is None else self.start[:, i:i + p, j:j + p]
            k, flip = int(rng.integers(4)), bool(rng.integers(2))
            for slot, a in zip(out, (hs, ms1, ms2, z1, z2, z0)):
                a = np.rot90(a, k, axes=(1, 2))
                slot.append(np.ascontiguousarray(a[:, :, ::-1] if flip else a))
        tensors = [torch.from_numpy(np.stack(s).astype(np.float32)) for s in out]
        return StsfBatch(*tensors[:5], z0=None if self.start is None else tensors[5])

    def validation(self, n: int, seed: int) -> tuple[StsfBatch, torch.Tensor, torch.Tensor]:
        """``n`` fixed samples of the held-out rows (the whole image when none are held out), each
        with its own seeded change and no flips; with the classical estimates of their z1 and z2."""
        rng = np.random.default_rng(seed)
        r, i = self.ratio, (0 if self.split == self.z1.shape[1] else self.split)
        z1, ms1, hs = self.z1[:, i:], self.ms[:, i:], self.hs[:, i // r:]
        pool = self.z1.reshape(self.z1.shape[0], -1)
        z2 = np.stack([random_change(z1, rng, pool) for _ in range(n)])
        ms2 = ms1[None] + np.einsum("kb,nbrc->nkrc", self.srf, z2 - z1[None])
        gsa = self.gsa[:, i:]
        classical_z2 = gsa[None] + np.einsum("kb,nbrc->nkrc", self.change[:, :-1], ms2 - ms1[None])

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

        rep = lambda a: np.repeat(a[None], n, axis=0)  # noqa: E731
        batch = StsfBatch(t(rep(hs)), t(rep(ms1)), t(ms2), t(rep(z1)), t(z2),
                          None if self.start is None else t(rep(self.start[:, i:])))
        return batch, t(rep(gsa)), t(classical_z2)
