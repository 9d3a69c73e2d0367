"""`Block`: the NumPy arrays a block kernel sees, cut from a `FusionTask` (with its halo).

Classical methods split into ``stats(task, params)`` (image-wide statistics, computed once) and
``predict_block(block, stats, params) -> (data, mask)``, a pure function of the arrays of one
block (halo included). Runners cut blocks, call the kernel and keep the block's interior, so
tiled output equals in-memory output.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from .task import FusionTask


@dataclass(frozen=True)
class Block:
    """Arrays of one block. Shapes: ``fine``/``coarse`` (pairs, bands, rows, cols) float32,
    ``fine_mask``/``coarse_mask`` (pairs, rows, cols) bool, ``target`` (bands, rows, cols),
    ``target_mask`` (rows, cols). ``pair_days`` is each pair's date minus the target date in days
    (None when dates are unknown). ``origin`` is the (row, col) of the block's first pixel in the scene.
    """

    fine: np.ndarray
    fine_mask: np.ndarray
    coarse: np.ndarray
    coarse_mask: np.ndarray
    target: np.ndarray
    target_mask: np.ndarray
    pair_days: tuple[int, ...] | None = None
    origin: tuple[int, int] = (0, 0)

    @classmethod
    def from_task(cls, task: FusionTask) -> "Block":
        """The whole task as one block (coarse images must be on the fine grid)."""
        task.require_fine_grid("a block kernel")
        return cls(
            fine=np.stack([np.asarray(p.fine.data, np.float32) for p in task.pairs]),
            fine_mask=np.stack([np.asarray(p.fine.mask) for p in task.pairs]),
            coarse=np.stack([np.asarray(p.coarse.data, np.float32) for p in task.pairs]),
            coarse_mask=np.stack([np.asarray(p.coarse.mask) for p in task.pairs]),
            target=np.asarray(task.target.data, np.float32),
            target_mask=np.asarray(task.target.mask),
            pair_days=pair_days(task),
        )

    def window(self, rows: slice, cols: slice) -> "Block":
        """The sub-block ``[rows, cols]`` (used by runners and tests)."""
        r0 = self.origin[0] + (rows.start or 0)
        c0 = self.origin[1] + (cols.start or 0)
        return Block(
            fine=self.fine[..., rows, cols],
            fine_mask=self.fine_mask[:, rows, cols],
            coarse=self.coarse[..., rows, cols],
            coarse_mask=self.coarse_mask[:, rows, cols],
            target=self.target[:, rows, cols],
            target_mask=self.target_mask[rows, cols],
            pair_days=self.pair_days,
            origin=(r0, c0),
        )


def pair_days(task: FusionTask) -> tuple[int, ...] | None:
    """Each pair's date minus the target's date in days, or None if any date is missing."""
    t: _dt.date | None = task.target.date
    dates = [p.date for p in task.pairs]
    if t is None or any(d is None for d in dates):
        return None
    return tuple((d - t).days for d in dates)  # type: ignore[operator]
