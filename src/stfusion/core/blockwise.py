"""The protocol of block-wise methods, which every runner (in memory, streamed, Dask) serves.

A block-wise method module has two functions:

- ``stats(task, params[, classes])``: image-wide statistics, computed once per run (thresholds,
  classes, regressions, responses). They travel to every block, so tiled output equals
  in-memory output.
- ``predict_block(block, stats, params) -> (data, mask)``: a pure function of one block's arrays
  (halo included): a `stfusion.core.block.Block` for STF methods, a
  `stfusion.core.stsf_block.StsfBlock` for STSF methods. It never touches files.

The registry marks such methods ``blockwise=True`` and gives their halo; `MethodSpec.blockwise_module`
returns the module checked against this protocol. Where the halo is known only once ``stats``
has run (a network's reach), the statistics carry it: ``stats.halo`` (and ``stats.multiple``, the
input multiple blocks are aligned to) override the registry's, and STSF statistics carry
``stats.context`` (coarse pixels of MS context beyond the HS window).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class BlockwiseMethod(Protocol):
    """A method module that runners can cut into blocks."""

    def stats(self, task: Any, params: Any, /, *args: Any) -> Any: ...

    def predict_block(self, block: Any, stats: Any, params: Any, /) -> tuple[np.ndarray, np.ndarray]: ...


def aligned(size: int, halo: int, stats: Any) -> tuple[int, int]:
    """Block ``size`` and ``halo`` for a run with statistics ``stats``: ``stats.halo`` replaces the
    registry's ``halo`` when given, and both are rounded up to ``stats.multiple`` (default 1), so
    every window starts where a network's block-wise layers expect."""
    multiple = int(getattr(stats, "multiple", 1) or 1)
    halo = int(getattr(stats, "halo", halo))
    return -(-size // multiple) * multiple, -(-halo // multiple) * multiple
