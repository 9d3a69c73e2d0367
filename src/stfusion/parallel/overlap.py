"""Tiled execution with Dask ``map_overlap``: each chunk is computed with the method's halo.

Image-wide statistics are computed once (``stats``) and shared by every chunk, and chunks at
the scene border get no halo on the outer side (``boundary="none"``), exactly like the
in-memory kernel; the output is therefore identical to the in-memory output.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Mapping

import numpy as np

from ..core.block import Block, pair_days
from ..core.blockwise import aligned
from ..core.errors import InvalidParameterError, SchedulerError, UnknownParameterError
from ..core.registry import get_spec
from ..core.run import check_classes, check_pairs
from ..core.scene import Scene
from ..core.task import FusionTask


def _pack(block: Block) -> np.ndarray:
    """All arrays of a block stacked on one channel axis (masks as 0/1) for Dask.

    The last two channels are each pixel's row and column in the scene (exact in float32 up to
    2**24), so a chunk knows its origin; kernels with image-wide statistics index them with it.
    """
    p, b = block.fine.shape[:2]
    rows, cols = np.indices(block.target_mask.shape, dtype=np.float32)
    parts = [
        block.fine.reshape(p * b, *block.fine.shape[2:]),
        block.fine_mask.astype(np.float32),
        block.coarse.reshape(p * b, *block.coarse.shape[2:]),
        block.coarse_mask.astype(np.float32),
        block.target,
        block.target_mask[None].astype(np.float32),
        rows[None],
        cols[None],
    ]
    return np.concatenate(parts, axis=0).astype(np.float32)


def _unpack(x: np.ndarray, pairs: int, bands: int, days: tuple[int, ...] | None) -> Block:
    h, w = x.shape[1:]
    i = 0

    def take(n: int) -> np.ndarray:
        nonlocal i
        out = x[i : i + n]
        i += n
        return out

    fine = take(pairs * bands).reshape(pairs, bands, h, w)
    fine_mask = take(pairs) > 0.5
    coarse = take(pairs * bands).reshape(pairs, bands, h, w)
    coarse_mask = take(pairs) > 0.5
    target = take(bands)
    target_mask = take(1)[0] > 0.5
    origin = (int(x[i, 0, 0]), int(x[i + 1, 0, 0]))
    return Block(fine, fine_mask, coarse, coarse_mask, target, target_mask, pair_days=days, origin=origin)


CONNECT_TIMEOUT = "10s"
"""How long to wait for a dask.distributed scheduler before giving up."""


@contextlib.contextmanager
def _scheduler(scheduler: str) -> Iterator[Any]:
    """What ``dask.compute(scheduler=...)`` takes: a local scheduler's name, or a client of a cluster."""
    if scheduler in ("threads", "processes", "synchronous"):
        yield scheduler
        return
    if "://" in scheduler:
        from ..core.errors import require

        distributed = require("distributed", "distributed")
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise SchedulerError(
                f"cannot reach the dask scheduler at {scheduler} ({exc}); start it or check the address"
            ) from None
        with client:
            yield client
        return
    raise UnknownParameterError(
        f"unknown scheduler {scheduler!r}; use threads, processes or a dask.distributed address like tcp://host:8786"
    )


def predict_tiled(
    method: str,
    task: FusionTask,
    *,
    chunk: int = 512,
    scheduler: str = "threads",
    params: Mapping[str, Any] | None = None,
    classes: np.ndarray | None = None,
) -> Scene:
    """Run a blockwise method over ``chunk``-pixel Dask chunks and return the fine-grid `Scene`.

    ``classes`` is a user class map (rows, cols) for the methods that take one.
    """
    import dask
    import dask.array as da

    spec = get_spec(method)
    if spec.task != "stf":
        raise UnknownParameterError(f"{spec.name} is not a spatiotemporal method; stream it with `stfusion stsf --chunk`")
    check_pairs(spec, task)
    check_classes(spec, classes)
    module = spec.blockwise_module()
    if chunk < 1:
        raise InvalidParameterError(f"chunk must be a positive number of pixels, got {chunk}")
    p = spec.make_params(params)
    stats = module.stats(task, p) if classes is None else module.stats(task, p, classes)
    chunk, halo = aligned(chunk, spec.halo(p, task.fine_grid.resolution), stats)
    block = Block.from_task(task)
    pairs, bands = block.fine.shape[:2]
    days = pair_days(task)
    packed = da.from_array(_pack(block), chunks=(-1, chunk, chunk))
    if halo:
        from dask.array.overlap import ensure_minimum_chunksize

        # map_overlap needs every chunk at least as wide as the halo.
        packed = packed.rechunk({a: ensure_minimum_chunksize(halo, packed.chunks[a]) for a in (1, 2)})

    def run(x: np.ndarray) -> np.ndarray:
        data, mask = module.predict_block(_unpack(x, pairs, bands, days), stats, p)
        return np.concatenate([data.astype(np.float32), mask[None].astype(np.float32)], axis=0)

    out = da.map_overlap(
        run,
        packed,
        depth={0: 0, 1: halo, 2: halo},
        boundary="none",
        trim=True,
        dtype=np.float32,
        chunks=((bands + 1,), packed.chunks[1], packed.chunks[2]),
    )
    with _scheduler(scheduler) as sched:
        (result,) = dask.compute(out, scheduler=sched)
    mask = result[-1] > 0.5
    data = np.where(mask, result[:-1], np.nan).astype(np.float32)
    return task.fine_grid.replace(data=data, mask=mask, date=task.target.date, name="")
