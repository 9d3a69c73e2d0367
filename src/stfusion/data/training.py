"""Training stacks for the deep methods: from a dated folder, from the shared test sets, and from
the synthetic scene generator (unlimited, for pretraining).

Shared-set protocols (issue 6, the data README):

- ``estarfm_3date``: learn from the 2001-05-24 and 2001-08-12 pairs (each predicts the other);
  the 2001-07-11 image is the test target and is never seen.
- ``cia_2date``: one real pair (2001-11-25) plus a simulated change
  (`stfusion.core.training.simulate_change`); pretrain on synthetic scenes first. The test target
  2002-01-12 is never seen.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from stfusion.core.errors import BandMismatchError, MissingInputError, UnknownParameterError
from stfusion.core.task import Pair
from stfusion.core.training import DatedStack, simulate_change, stack_from_pairs

from .catalog import load_case
from .synthetic import make_series
from .synthetic_spectra import BANDS as SYNTHETIC_BANDS

TRAINING_SETS = ("estarfm_3date", "cia_2date")


def stack_from_folder(fine_dir: str | os.PathLike[str], coarse_dir: str | os.PathLike[str] | None = None, *,
                      fine_pattern: str | None = None, coarse_pattern: str | None = None,
                      ratio: float | None = None, resample: str = "average") -> DatedStack:
    """The fine/coarse pairs of a dated folder (or a fine and a coarse folder) as one training stack.

    Dates are read from the file names (`stfusion.io.dates.parse_date`); only dates with both
    images are used. Coarse images on their own grid are resampled onto the fine grid.
    """
    from stfusion.core.task import FusionTask
    from stfusion.io import align_to_fine
    from stfusion.io.folder import load_series

    series = load_series(fine_dir, coarse_dir or fine_dir, fine_pattern=fine_pattern, coarse_pattern=coarse_pattern)
    if not series.pairs:
        raise MissingInputError(f"no date in {fine_dir} has both a fine and a coarse image; name files with "
                                "their dates (e.g. L8_20200101.tif, MOD_20200101.tif) and give the patterns")
    task = FusionTask(series.pairs, series.pairs[0].coarse, ratio=ratio)
    pairs = list(task.pairs)
    if not task.coarse_on_fine_grid:
        grid = task.fine_grid
        pairs = [Pair(p.fine, align_to_fine(p.coarse, grid, method=resample)) for p in pairs]
    return stack_from_pairs(pairs, ratio=task.ratio, name=Path(fine_dir).name)


def shared_training_set(name: str, root: str | os.PathLike[str] | None = None, *, seed: int = 0) -> list[DatedStack]:
    """The training stacks of a shared set, by the protocol in the module docstring."""
    if name not in TRAINING_SETS:
        raise UnknownParameterError(f"no training protocol for data set {name!r}; use one of: {', '.join(TRAINING_SETS)}")
    case = load_case(name, root)
    stack = stack_from_pairs(case.task.pairs, ratio=case.ratio, name=name)
    return [stack if len(case.task.pairs) >= 2 else simulate_change(stack, seed=seed)]


def synthetic_stacks(bands: tuple[str, ...] | None, n_bands: int, *, ratio: float | None, scenes: int = 2,
                     seed: int = 0, size: int = 240) -> list[DatedStack]:
    """``scenes`` synthetic series (all their dates) with the given bands, for pretraining.

    The synthetic sensor has the six Landsat reflective bands; ``bands`` must be among them (unnamed
    six-band input is taken as those six). The coarse/fine ratio is ``ratio`` rounded (16 if unknown).
    """
    if bands is None and n_bands == len(SYNTHETIC_BANDS):
        bands = SYNTHETIC_BANDS
    if bands is None or any(b not in SYNTHETIC_BANDS for b in bands):
        raise BandMismatchError(
            f"synthetic pretraining needs bands among {', '.join(SYNTHETIC_BANDS)}, got "
            f"{', '.join(bands) if bands else f'{n_bands} unnamed bands'}; name the bands or skip synthetic pretraining"
        )
    index = [SYNTHETIC_BANDS.index(b) for b in bands]
    r = max(2, round(ratio or 16))
    side = -(-size // r) * r
    out = []
    for k in range(scenes):
        s = make_series(seed=seed + k, ratio=r, size=(side, side))
        fine = np.stack([np.asarray(x.data)[index] for x in s.fine]).astype(np.float32)
        coarse = np.stack([np.asarray(x.data)[index] for x in s.coarse_on_fine]).astype(np.float32)
        mask = np.stack([np.asarray(f.mask) & np.asarray(c.mask) for f, c in zip(s.fine, s.coarse_on_fine)])
        out.append(DatedStack(fine, coarse, mask, s.dates, tuple(bands), float(r), 1e-4, f"synthetic-{seed + k}"))
    return out
