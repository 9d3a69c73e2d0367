"""`StsfSource` and `StsfBlock`: the block source of the STSF methods.

An STSF task is cut on its coarse (HS) grid, cropped to whole coarse blocks of the MS grid
(coarse pixel ``(i, j)`` covers MS pixels ``[i*ratio, (i+1)*ratio) x [j*ratio, (j+1)*ratio)``).
A block is a window of HS pixels with the MS pixels under it plus ``extra`` coarse pixels of MS
context on each side (clipped at the border), so that kernels can degrade the MS image onto the
block's HS pixels. Invalid pixels are filled with the image's band means (computed once, over
fixed tiles, so the fill does not depend on how a runner cuts the scene).

The same source reads an in-memory task (`StsfSource.from_task`) or window readers of files
(`stfusion.io.window.RasterSource`), so in-memory and streamed runs share one code path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

import numpy as np

from .errors import NoDataError
from .moments import Moments
from .scene import Scene
from .task import STSFTask
from .windows import BlockWindow, block_windows

STATS_TILE = 256
"""Side in fine pixels (rounded down to whole coarse pixels) of the fixed tiles over which
image-wide sums are accumulated: memory is set by the tile, and results do not depend on the
runner's blocks."""


class WindowReader(Protocol):
    """Reads ``(data (bands, h, w), valid (h, w))`` windows of one image."""

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]: ...


class SceneReader:
    """Windows of a `Scene` held in memory (or Dask-backed: only the window is computed)."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.scene.data[:, rows, cols]), np.asarray(self.scene.mask[rows, cols])


class ArrayReader:
    """Windows of a (bands, rows, cols) array with a (rows, cols) validity mask."""

    def __init__(self, data: np.ndarray, valid: np.ndarray) -> None:
        self.data, self.valid = data, valid

    def read(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        return self.data[:, rows, cols], self.valid[rows, cols]


@dataclass(frozen=True)
class StsfBlock:
    """The arrays of one STSF block (float64, invalid pixels filled).

    ``hs`` (B, h, w) covers coarse ``rows`` x ``cols``; ``ms`` and ``ms_target`` (b, H, W) cover
    coarse ``ms_rows`` x ``ms_cols`` (a superset) at fine resolution; ``mask`` (H, W) is where an
    output is valid (both MS images and the HS pixel above valid); ``valid`` (h, w) marks HS
    pixels that are valid with every MS pixel under them valid. ``shape`` is the coarse grid.
    ``out_rows`` x ``out_cols`` (coarse) is what a kernel predicts: the block less its halo.
    """

    hs: np.ndarray
    ms: np.ndarray
    ms_target: np.ndarray | None
    mask: np.ndarray
    valid: np.ndarray
    rows: slice
    cols: slice
    ms_rows: slice
    ms_cols: slice
    shape: tuple[int, int]
    ratio: int
    out_rows: slice
    out_cols: slice

    @property
    def fine_shape(self) -> tuple[int, int]:
        """The fine (MS) grid of the whole task, cropped to whole coarse blocks."""
        return self.shape[0] * self.ratio, self.shape[1] * self.ratio

    def fine(self, rows: slice, cols: slice) -> tuple[slice, slice]:
        """Coarse ``rows`` x ``cols`` as slices into this block's MS arrays."""
        r, m0, n0 = self.ratio, self.ms_rows.start, self.ms_cols.start
        return slice((rows.start - m0) * r, (rows.stop - m0) * r), slice((cols.start - n0) * r, (cols.stop - n0) * r)

    def local(self, rows: slice, cols: slice) -> tuple[slice, slice]:
        """Coarse ``rows`` x ``cols`` as slices into this block's HS arrays."""
        return slice(rows.start - self.rows.start, rows.stop - self.rows.start), \
            slice(cols.start - self.cols.start, cols.stop - self.cols.start)


def _filled(data: np.ndarray, valid: np.ndarray, means: np.ndarray | None) -> np.ndarray:
    out = np.array(data, dtype=np.float64)
    if means is not None and not valid.all():
        out[:, ~valid] = means[:, None]
    return out


class StsfSource:
    """Blocks of an STSF task: the HS reader on the coarse grid, the MS readers on the fine grid.

    ``fill`` says whether invalid pixels are replaced by band means (computed here, once); give
    ``fill=False`` for arrays that are already filled. ``task`` is the `STSFTask` read (its band
    names, dates and SRF), when there is one.
    """

    def __init__(self, hs: WindowReader, ms: WindowReader, ms_target: WindowReader | None, *, ratio: int,
                 shape: tuple[int, int], fill: bool = True, task: STSFTask | None = None) -> None:
        self.hs, self.ms, self.ms_target = hs, ms, ms_target
        self.ratio, self.shape, self.task = ratio, shape, task
        self.means = self._band_means() if fill else None

    @classmethod
    def from_task(cls, task: STSFTask, *, readers: tuple[WindowReader, WindowReader, WindowReader | None] | None = None,
                  fill: bool = True) -> "StsfSource":
        """The source of ``task``: its scenes in memory, or the ``readers`` of its files (hs, ms, ms_target)."""
        ratio = int(round(float(task.ratio or 1)))
        shape = (min(task.hs.height, task.ms.height // ratio), min(task.hs.width, task.ms.width // ratio))
        if readers is None:
            target = None if task.ms_target is None else SceneReader(task.ms_target)
            readers = (SceneReader(task.hs), SceneReader(task.ms), target)
        return cls(*readers, ratio=ratio, shape=shape, fill=fill, task=task)

    def tiles(self, halo: int = 0) -> Iterator[BlockWindow]:
        """The fixed tiles of image-wide statistics (about `STATS_TILE` fine pixels), in a fixed order."""
        yield from block_windows(self.shape, max(1, STATS_TILE // self.ratio), halo)

    def _band_means(self) -> dict[str, np.ndarray]:
        r = self.ratio
        images = {"hs": (self.hs, 1), "ms": (self.ms, r)}
        if self.ms_target is not None:
            images["ms_target"] = (self.ms_target, r)
        means = {}
        for key, (reader, scale) in images.items():
            moments: list[Moments] | None = None
            for w in self.tiles():
                data, valid = reader.read(slice(w.row * scale, w.rows.stop * scale),
                                          slice(w.col * scale, w.cols.stop * scale))
                parts = [Moments.of(band[valid]) for band in np.asarray(data)]
                moments = parts if moments is None else [a.merge(b) for a, b in zip(moments, parts)]
            if moments is None or moments[0].n == 0:
                raise NoDataError(f"the {key} image has no valid pixel in the overlap of the images; check its nodata and mask")
            means[key] = np.array([m.mean for m in moments])
        return means

    def read(self, rows: slice, cols: slice, extra: int = 0, interior: tuple[slice, slice] | None = None) -> StsfBlock:
        """HS pixels ``[rows, cols]`` (coarse grid) and the MS pixels under them with ``extra`` coarse
        pixels more on each side; ``interior`` (default: all of it) is what the block predicts."""
        r, (nr, nc) = self.ratio, self.shape
        ms_rows = slice(max(0, rows.start - extra), min(nr, rows.stop + extra))
        ms_cols = slice(max(0, cols.start - extra), min(nc, cols.stop + extra))
        fine = (slice(ms_rows.start * r, ms_rows.stop * r), slice(ms_cols.start * r, ms_cols.stop * r))
        means = self.means or {}
        hs, hs_valid = self.hs.read(rows, cols)
        ms, ms_valid = self.ms.read(*fine)
        ms_valid = np.asarray(ms_valid, dtype=bool)
        mask = ms_valid.copy()
        target = None
        if self.ms_target is not None:
            t, t_valid = self.ms_target.read(*fine)
            target = _filled(t, t_valid, means.get("ms_target"))
            mask &= t_valid
        hs_valid = np.asarray(hs_valid, dtype=bool)
        h, w = hs_valid.shape
        lr, lc = rows.start - ms_rows.start, cols.start - ms_cols.start
        under = ms_valid[lr * r:(lr + h) * r, lc * r:(lc + w) * r]
        valid = hs_valid & under.reshape(h, r, w, r).all(axis=(1, 3))
        covered = np.zeros(mask.shape, dtype=bool)
        covered[lr * r:(lr + h) * r, lc * r:(lc + w) * r] = np.repeat(np.repeat(hs_valid, r, 0), r, 1)
        return StsfBlock(hs=_filled(hs, hs_valid, means.get("hs")), ms=_filled(ms, ms_valid, means.get("ms")),
                         ms_target=target, mask=mask & covered, valid=valid, rows=rows, cols=cols,
                         ms_rows=ms_rows, ms_cols=ms_cols, shape=self.shape, ratio=r,
                         out_rows=(interior or (rows, cols))[0], out_cols=(interior or (rows, cols))[1])

    def read_all(self, extra: int = 0) -> StsfBlock:
        """The whole (cropped) task as one block."""
        return self.read(slice(0, self.shape[0]), slice(0, self.shape[1]), extra)

    def read_window(self, window: BlockWindow, extra: int = 0) -> StsfBlock:
        """The block of a runner's ``window`` (coarse grid): its outer window, predicting its interior."""
        return self.read(window.outer_rows, window.outer_cols, extra, (window.rows, window.cols))
