"""Training and validation patches from dated fine/coarse stacks.

Examples are (target date, reference dates) of one stack. A network taking one reference learns
from every ordered pair of dates, so both time directions are seen: the random swap of time order
of the DCSTFN/EDCSTFN training code. GAN-STFM draws its reference uniformly from the other dates
at every patch, as the paper does. Two-reference networks (STFDCNN, EDCSTFN) train on single
references; their losses are per-reference (see each network's docstring).

Validation is held out before any patch is drawn: a stack with three or more dates gives its
last date as a validation target (never a training target or reference); a stack with two
dates gives a strip of rows at the bottom (15 %, at least one patch high). A stack too small for
a strip is used for validation as it is, and the card says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from stfusion.core.errors import DateError, ShapeMismatchError
from stfusion.core.training import DatedStack

from .base import Batch, NetInfo

MIN_VALID = 0.5
VAL_FRACTION = 0.15
MAX_VAL_PATCHES = 32


@dataclass(frozen=True)
class Region:
    """The part of one stack a sampler draws from: dates usable as targets and references, rows."""

    stack: int
    targets: tuple[int, ...]
    refs: tuple[int, ...]
    rows: tuple[int, int]


@dataclass(frozen=True)
class Split:
    train: tuple[Region, ...]
    val: tuple[Region, ...]
    how: str


def split_stacks(stacks: Sequence[DatedStack], patch: int) -> Split:
    """Training and validation regions, as described in the module docstring."""
    train, val, how = [], [], set()
    for i, s in enumerate(stacks):
        rows, cols = s.shape
        if rows < patch or cols < patch:
            raise ShapeMismatchError(
                f"training scene {s.name!r} is {rows}x{cols} pixels, smaller than the {patch}-pixel patch; "
                "give a larger scene or a smaller patch (e.g. patch=32)"
            )
        n = len(s.dates)
        if n < 2:
            raise DateError(f"training scene {s.name!r} has one date; training needs pairs at two or more dates "
                            "(stfusion.core.training.simulate_change adds a simulated one)")
        if n >= 3:
            train.append(Region(i, tuple(range(n - 1)), tuple(range(n - 1)), (0, rows)))
            val.append(Region(i, (n - 1,), tuple(range(n - 1)), (0, rows)))
            how.add("held-out date")
            continue
        strip = max(patch, int(round(VAL_FRACTION * rows)))
        if rows - strip >= patch:
            train.append(Region(i, (0, 1), (0, 1), (0, rows - strip)))
            val.append(Region(i, (0, 1), (0, 1), (rows - strip, rows)))
            how.add("held-out rows")
        else:
            train.append(Region(i, (0, 1), (0, 1), (0, rows)))
            val.append(Region(i, (0, 1), (0, 1), (0, rows)))
            how.add("training data (scene too small to hold out)")
    return Split(tuple(train), tuple(val), ", ".join(sorted(how)))


def _augment(x: np.ndarray, k: int, flip: bool) -> np.ndarray:
    x = np.rot90(x, k, axes=(-2, -1))
    return np.ascontiguousarray(x[..., ::-1] if flip else x)


class PatchSampler:
    """Random patches for one network; ``draw(n)`` gives a `Batch`, ``fine(n)`` fine patches only."""

    def __init__(self, stacks: Sequence[DatedStack], regions: Sequence[Region], info: NetInfo, patch: int,
                 seed: int) -> None:
        self.stacks, self.regions, self.info, self.patch = list(stacks), list(regions), info, patch
        self.rng = np.random.default_rng(seed)
        area = np.array([(r.rows[1] - r.rows[0]) * stacks[r.stack].shape[1] for r in regions], float)
        self.weights = area / area.sum()

    def _example(self) -> tuple[Region, int, int]:
        region = self.regions[int(self.rng.choice(len(self.regions), p=self.weights))]
        t = int(self.rng.choice(region.targets))
        others = [r for r in region.refs if r != t]
        return region, t, int(self.rng.choice(others))

    def _corner(self, region: Region, dates: list[int]) -> tuple[int, int]:
        s, p = self.stacks[region.stack], self.patch
        lo, hi = region.rows
        best, best_valid = (lo, 0), -1.0
        for _ in range(20):
            r = int(self.rng.integers(lo, hi - p + 1))
            c = int(self.rng.integers(0, s.shape[1] - p + 1))
            valid = float(s.mask[dates, r:r + p, c:c + p].all(0).mean())
            if valid >= MIN_VALID:
                return r, c
            if valid > best_valid:
                best, best_valid = (r, c), valid
        return best

    def draw(self, n: int) -> Batch:
        items = []
        for _ in range(n):
            region, t, ref = self._example()
            r, c = self._corner(region, [t, ref])
            items.append(cut(self.stacks[region.stack], t, ref, r, c, self.patch,
                             int(self.rng.integers(4)), bool(self.rng.integers(2))))
        return stack_items(items)

    def fine(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Fine patches of any training date and their masks, for pretraining a loss network."""
        batch = self.draw(n)
        return batch.fine, batch.mask


def cut(s: DatedStack, t: int, ref: int, r: int, c: int, p: int, k: int = 0,
        flip: bool = False) -> tuple[np.ndarray, ...]:
    """(coarse_t, fine_t, fine_ref, coarse_ref, mask) of one patch, rotated ``k`` quarter turns."""
    win = (slice(r, r + p), slice(c, c + p))
    mask = (s.mask[t][win] & s.mask[ref][win])[None].astype(np.float32)
    parts = (s.coarse[t][(slice(None),) + win], s.fine[t][(slice(None),) + win],
             s.fine[ref][(slice(None),) + win], s.coarse[ref][(slice(None),) + win], mask)
    return tuple(_augment(x, k, flip) for x in parts)


def stack_items(items: Sequence[tuple[np.ndarray, ...]]) -> Batch:
    coarse, fine, fref, cref, mask = (torch.from_numpy(np.stack(x)) for x in zip(*items))
    return Batch(coarse, fine, [fref], [cref], mask)


def validation_batches(stacks: Sequence[DatedStack], regions: Sequence[Region], patch: int,
                       batch: int) -> list[Batch]:
    """Fixed validation patches: a grid of patches over each region, every (target, reference)."""
    items = []
    for region in regions:
        s = stacks[region.stack]
        lo, hi = region.rows
        corners = [(r, c) for r in range(lo, hi - patch + 1, patch) for c in range(0, s.shape[1] - patch + 1, patch)]
        for t in region.targets:
            for ref in (x for x in region.refs if x != t):
                for r, c in corners:
                    if s.mask[[t, ref], r:r + patch, c:c + patch].all(0).mean() >= MIN_VALID:
                        items.append(cut(s, t, ref, r, c, patch))
    if len(items) > MAX_VAL_PATCHES:
        keep = np.linspace(0, len(items) - 1, MAX_VAL_PATCHES).round().astype(int)
        items = [items[i] for i in keep]
    return [stack_items(items[i:i + batch]) for i in range(0, len(items), batch)]
