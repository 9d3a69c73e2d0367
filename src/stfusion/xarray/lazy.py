"""The lazy path: a task of Dask-backed scenes becomes a Dask array of the encoded prediction.

Nothing is computed here except the method's image-wide statistics (``stats``), which run at
call time on the Dask-backed scenes (STARFM and the baselines read them strip by strip; methods
whose statistics are fine-resolution classifications or regressions load those inputs). The
blocks then run with the method's halo (`dask.array.overlap`, map, trim: `map_overlap` with the
output's chunks declared), as in `stfusion.parallel.overlap.predict_tiled` and in the channel
layout its ``_unpack`` reads, so the output equals the in-memory run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.block import pair_days
from ..core.blockwise import aligned
from ..core.errors import ExtentMismatchError
from ..core.registry import get_spec
from ..core.scene import RasterEncoding, Scene, Transform, check_finite
from ..core.task import FusionTask
from ..io.align import align_to_fine
from ..io.write import encode
from ..parallel.overlap import _unpack

MARGIN = 2
"""Coarse pixels read beyond the ones a fine block touches, for the resampling kernel's reach."""


def _coarse_window(fine: Transform, coarse: Scene, rows: slice, cols: slice) -> tuple[slice, slice]:
    """The coarse pixels (north-up grids) covering fine ``[rows, cols]``, plus `MARGIN`."""
    a, _, c, _, e, f = fine
    ca, _, cc, _, ce, cf = coarse.transform
    x0, x1 = sorted((c + a * cols.start, c + a * cols.stop))
    y0, y1 = sorted((f + e * rows.start, f + e * rows.stop))
    c0, c1 = math.floor((x0 - cc) / ca) - MARGIN, math.ceil((x1 - cc) / ca) + MARGIN
    r0, r1 = math.floor((y1 - cf) / ce) - MARGIN, math.ceil((y0 - cf) / ce) + MARGIN
    return slice(max(0, r0), min(coarse.height, r1)), slice(max(0, c0), min(coarse.width, c1))


def _align_window(data: np.ndarray, mask: np.ndarray, coarse: dict[str, Any], grid: dict[str, Any],
                  method: str) -> tuple[np.ndarray, np.ndarray]:
    """One fine block resampled from its coarse window (all invalid where no coarse pixel covers it)."""
    bands, (h, w) = data.shape[0], grid["shape"]
    empty = np.full((bands, h, w), np.nan, np.float32), np.zeros((h, w), bool)
    if not mask.any():
        return empty
    part = Scene(data, mask, **coarse)
    window = Scene(np.zeros((bands, h, w), np.float32), transform=grid["transform"], crs=coarse["crs"])
    try:
        out = align_to_fine(part, window, method=method)
    except ExtentMismatchError:  # no valid coarse pixel covers the block fully (task coverage is checked)
        return empty
    return np.asarray(out.data), np.asarray(out.mask)


def align_lazy(coarse: Scene, fine: Scene, method: str, size: int) -> Scene:
    """``coarse`` (Dask-backed, on its own grid) resampled onto ``fine``'s grid lazily, block by block.

    Each ``size`` x ``size`` fine block reads only the coarse pixels that cover it, so the result
    equals `align_to_fine` of the whole scene (bilinear: to float32 rounding).
    """
    import dask
    import dask.array as da

    a, _, c, _, e, f = fine.transform
    ca, _, cc, _, ce, cf = coarse.transform
    data_rows, mask_rows = [], []
    for r in range(0, fine.height, size):
        data_row, mask_row = [], []
        for col in range(0, fine.width, size):
            rows, cols = slice(r, min(fine.height, r + size)), slice(col, min(fine.width, col + size))
            h, w = rows.stop - rows.start, cols.stop - cols.start
            wr, wc = _coarse_window(fine.transform, coarse, rows, cols)
            grid = {"shape": (h, w), "transform": (a, 0.0, c + a * col, 0.0, e, f + e * r)}
            meta = {"transform": (ca, 0.0, cc + ca * wc.start, 0.0, ce, cf + ce * wr.start), "crs": coarse.crs,
                    "name": coarse.name}
            part = dask.delayed(_align_window, pure=True, nout=2)(coarse.data[:, wr, wc], coarse.mask[wr, wc],
                                                                  meta, grid, method)
            data_row.append(da.from_delayed(part[0], (coarse.count, h, w), dtype=np.float32))
            mask_row.append(da.from_delayed(part[1], (h, w), dtype=bool))
        data_rows.append(da.concatenate(data_row, axis=2))
        mask_rows.append(da.concatenate(mask_row, axis=1))
    return coarse.replace(data=da.concatenate(data_rows, axis=1), mask=da.concatenate(mask_rows, axis=0),
                          transform=fine.transform, crs=fine.crs or coarse.crs, resolution=fine.resolution)


def _packed(task: FusionTask, size: int) -> Any:
    """Every input of ``task`` on one channel axis, lazily, in the layout `_unpack` reads: fine bands
    and masks, coarse bands and masks, target bands and mask, then each pixel's row and column."""
    import dask.array as da

    h, w = task.fine_grid.height, task.fine_grid.width
    rows = da.broadcast_to(da.arange(h, dtype=np.float32, chunks=size)[:, None], (h, w), chunks=(size, size))
    cols = da.broadcast_to(da.arange(w, dtype=np.float32, chunks=size)[None, :], (h, w), chunks=(size, size))
    fine = [p.fine for p in task.pairs]
    coarse = [p.coarse for p in task.pairs]
    parts = [*(s.data for s in fine), *(s.mask[None] for s in fine), *(s.data for s in coarse),
             *(s.mask[None] for s in coarse), task.target.data, task.target.mask[None], rows[None], cols[None]]
    packed = da.concatenate([da.asarray(p).astype(np.float32) for p in parts], axis=0)
    return packed.rechunk((-1, size, size))


def predict_lazy(method: str, task: FusionTask, params: Any, encoding: RasterEncoding, size: int,
                 classes: Any = None) -> Any:
    """The prediction of ``task`` (Dask-backed scenes on the fine grid) as a Dask array (band, y, x)
    stored in ``encoding``, computed in blocks of about ``size`` pixels with the method's halo.

    ``params`` is the method's parameter dataclass; the statistics are computed now.
    """
    from dask.array.overlap import ensure_minimum_chunksize, overlap, trim_internal

    spec = get_spec(method)
    module = spec.blockwise_module()
    stats = module.stats(task, params) if classes is None else module.stats(task, params, classes)
    size, halo = aligned(size, spec.halo(params, task.fine_grid.resolution), stats)
    packed = _packed(task, size)
    if halo:  # map_overlap needs every chunk at least as wide as the halo
        packed = packed.rechunk({a: ensure_minimum_chunksize(halo, packed.chunks[a]) for a in (1, 2)})
    pairs, bands = len(task.pairs), task.fine_grid.count
    days = pair_days(task)
    labels = [p.fine.label for p in task.pairs], [p.coarse.label for p in task.pairs], task.target.label

    def run(x: np.ndarray) -> np.ndarray:
        block = _unpack(x, pairs, bands, days)
        for k in range(pairs):
            check_finite(block.fine[k], block.fine_mask[k], labels[0][k])
            check_finite(block.coarse[k], block.coarse_mask[k], labels[1][k])
        check_finite(block.target, block.target_mask, labels[2])
        data, mask = module.predict_block(block, stats, params)
        return encode(data, mask, encoding)[0]

    depth = {0: 0, 1: halo, 2: halo}
    grown = overlap(packed, depth=depth, boundary="none")
    out = grown.map_blocks(run, chunks=((bands,), *grown.chunks[1:]), dtype=np.dtype(encoding.dtype))
    return trim_internal(out, depth, boundary="none")
