"""Training data for the deep methods: dated fine/coarse images of one scene, as NumPy arrays.

A `DatedStack` is what `stfusion.methods.deep` learns from. It is built from a `FusionTask`'s
pairs (`stack_from_pairs`), or by `stfusion.data.training` from a dated folder, a shared test set,
or the synthetic generator. Coarse images are on the fine grid.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .errors import DateError, ShapeMismatchError
from .task import Pair


@dataclass(frozen=True, eq=False)
class DatedStack:
    """Co-registered images of one scene at ``len(dates)`` dates.

    ``fine`` and ``coarse`` are (dates, bands, rows, cols) float32 reflectance, the coarse images
    replicated or resampled onto the fine grid; ``mask`` is (dates, rows, cols) bool, True where
    both the fine and the coarse pixel are valid. ``ratio`` is the native coarse/fine pixel-size
    ratio, ``scale`` the stored-value scale of the fine files (e.g. 1e-4), ``name`` the scene.
    """

    fine: np.ndarray
    coarse: np.ndarray
    mask: np.ndarray
    dates: tuple[_dt.date | None, ...]
    bands: tuple[str, ...] | None
    ratio: float | None
    scale: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.fine.ndim != 4 or self.fine.shape != self.coarse.shape:
            raise ShapeMismatchError(
                f"training stack {self.name!r}: fine {self.fine.shape} and coarse {self.coarse.shape} must both be "
                "(dates, bands, rows, cols); put the coarse images on the fine grid"
            )
        if self.mask.shape != (self.fine.shape[0],) + self.fine.shape[2:]:
            raise ShapeMismatchError(f"training stack {self.name!r}: mask {self.mask.shape} must be (dates, rows, cols)")
        if len(self.dates) != self.fine.shape[0]:
            raise DateError(f"training stack {self.name!r}: {len(self.dates)} dates for {self.fine.shape[0]} images")
        if not self.dates:
            raise DateError(f"training stack {self.name!r} has no dates")

    @property
    def n_bands(self) -> int:
        return int(self.fine.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.fine.shape[2]), int(self.fine.shape[3])

    def describe(self) -> dict[str, object]:
        """A JSON-ready summary for a checkpoint card."""
        return {
            "name": self.name,
            "dates": [d.isoformat() if d is not None else None for d in self.dates],
            "rows": self.shape[0],
            "cols": self.shape[1],
        }


def stack_from_pairs(pairs: Sequence[Pair], *, ratio: float | None, name: str = "") -> DatedStack:
    """The pairs of a task as a training stack (coarse images must be on the fine grid)."""
    for p in pairs:
        if p.coarse.shape != p.fine.shape:
            raise ShapeMismatchError(
                "deep methods need the coarse images on the fine grid; align them first with "
                "stfusion.io.align_to_fine (the CLI does this)"
            )
    fine = np.stack([np.where(p.fine.mask, p.fine.data, 0) for p in pairs]).astype(np.float32)
    coarse = np.stack([np.where(p.coarse.mask, p.coarse.data, 0) for p in pairs]).astype(np.float32)
    mask = np.stack([p.fine.mask & p.coarse.mask for p in pairs])
    first = pairs[0].fine
    return DatedStack(fine, coarse, mask, tuple(p.date for p in pairs), first.bands, ratio,
                      first.encoding.scale, name or first.name)


def _bilinear(h: int, n: int) -> np.ndarray:
    """(h, n) matrix interpolating n evenly spaced nodes onto h pixels."""
    pos = np.linspace(0, n - 1, h)
    lo = np.clip(np.floor(pos).astype(int), 0, n - 2)
    frac = pos - lo
    m = np.zeros((h, n))
    m[np.arange(h), lo] = 1 - frac
    m[np.arange(h), lo + 1] = frac
    return m


def _block_change(delta: np.ndarray, ratio: int) -> np.ndarray:
    """``delta`` (bands, rows, cols) averaged over ratio x ratio blocks and replicated back."""
    b, h, w = delta.shape
    hh, ww = -(-h // ratio) * ratio, -(-w // ratio) * ratio
    padded = np.pad(delta, ((0, 0), (0, hh - h), (0, ww - w)), mode="edge")
    means = padded.reshape(b, hh // ratio, ratio, ww // ratio, ratio).mean((2, 4))
    return np.repeat(np.repeat(means, ratio, 1), ratio, 2)[:, :h, :w]


def simulate_change(stack: DatedStack, *, seed: int = 0, gain: float = 0.15, patches: int = 8) -> DatedStack:
    """``stack`` (its first date) plus a simulated second date, for training from one real pair.

    The simulated fine image is the real one times a smooth per-band gain field (relative
    amplitude ``gain``, nodes every 32 pixels), with ``patches`` discs of 5-25 pixels replaced by
    the content of other places (land-cover change). Its coarse image is the real coarse image
    plus the fine change averaged over coarse cells (round(ratio), 16 when unknown), so the
    coarse sensor's own differences from the fine one are kept. Deterministic in ``seed``.
    """
    rng = np.random.default_rng(seed)
    f1, c1, m1 = stack.fine[0].astype(np.float64), stack.coarse[0].astype(np.float64), stack.mask[0]
    bands, h, w = f1.shape
    ny, nx = max(2, h // 32 + 1), max(2, w // 32 + 1)
    ry, rx = _bilinear(h, ny), _bilinear(w, nx)
    field = np.stack([ry @ rng.uniform(1 - gain, 1 + gain, (ny, nx)) @ rx.T for _ in range(bands)])
    f2 = f1 * field
    yy, xx = np.mgrid[0:h, 0:w]
    mask = m1.copy()
    for _ in range(patches):
        r = rng.uniform(5, 25)
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        sy, sx = int(rng.integers(-h // 2, h // 2)), int(rng.integers(-w // 2, w // 2))
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        src_y, src_x = np.clip(yy[disc] + sy, 0, h - 1), np.clip(xx[disc] + sx, 0, w - 1)
        f2[:, disc] = f1[:, src_y, src_x]
        mask[disc] &= m1[src_y, src_x]
    ratio = int(round(stack.ratio)) if stack.ratio else 16
    c2 = c1 + _block_change(np.where(m1, f2 - f1, 0.0), max(ratio, 1))
    first = stack.dates[0]
    later = first + _dt.timedelta(days=16) if first is not None else None
    return DatedStack(np.stack([f1, f2]).astype(np.float32), np.stack([c1, c2]).astype(np.float32),
                      np.stack([m1, mask]), (first, later), stack.bands, stack.ratio, stack.scale,
                      f"{stack.name} + simulated change")
