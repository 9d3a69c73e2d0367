"""The block layout every runner shares: a grid cut into blocks, each read with a halo.

A `BlockWindow` is one block of a ``(rows, cols)`` grid: its interior (what it writes) and its
outer window (the interior plus ``halo`` pixels on each side, clipped at the grid's border). A
runner reads the outer window, runs the block kernel and keeps the interior, so tiled output
equals in-memory output whenever the halo covers the kernel's reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidParameterError


@dataclass(frozen=True)
class BlockWindow:
    """Block ``(row, col)`` of side ``size`` (clipped at the border) of a ``shape`` grid, with ``halo``."""

    row: int
    col: int
    size: int
    halo: int
    shape: tuple[int, int]

    @property
    def rows(self) -> slice:
        """The interior rows in grid coordinates."""
        return slice(self.row, min(self.shape[0], self.row + self.size))

    @property
    def cols(self) -> slice:
        """The interior columns in grid coordinates."""
        return slice(self.col, min(self.shape[1], self.col + self.size))

    @property
    def outer_rows(self) -> slice:
        """The rows read: the interior with the halo, clipped to the grid."""
        return slice(max(0, self.row - self.halo), min(self.shape[0], self.row + self.size + self.halo))

    @property
    def outer_cols(self) -> slice:
        """The columns read: the interior with the halo, clipped to the grid."""
        return slice(max(0, self.col - self.halo), min(self.shape[1], self.col + self.size + self.halo))

    @property
    def inner(self) -> tuple[slice, slice]:
        """The interior relative to the outer window (what a runner keeps of the kernel's output)."""
        r0, c0 = self.outer_rows.start, self.outer_cols.start
        return (slice(self.row - r0, self.rows.stop - r0), slice(self.col - c0, self.cols.stop - c0))

    @property
    def key(self) -> tuple[int, int]:
        """The block's first interior pixel, which names it (in journals)."""
        return self.row, self.col


def block_windows(shape: tuple[int, int], size: int, halo: int = 0) -> list[BlockWindow]:
    """The blocks of side ``size`` covering a ``shape`` grid, row by row, each with ``halo``."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidParameterError(f"block size must be a positive number of pixels, got {size!r}; e.g. 1024")
    if halo < 0:
        raise InvalidParameterError(f"halo must be >= 0 pixels, got {halo}")
    rows, cols = shape
    return [BlockWindow(r, c, size, halo, (rows, cols)) for r in range(0, rows, size) for c in range(0, cols, size)]
