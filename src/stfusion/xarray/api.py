"""`predict`: one fine image from DataArrays, in memory or lazily on Dask."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..core.errors import DateError, InputError, ShapeMismatchError, UnknownParameterError
from ..core.registry import MethodSpec, get_spec, list_methods
from ..core.run import check_classes
from ..core.run import predict as predict_scene
from ..core.scene import Scene
from ..core.task import FusionTask, Pair
from ..io.align import align_to_fine
from ..io.blockwrite import output_encoding
from ..io.write import encode
from .convert import Raster, to_dataarray
from .lazy import align_lazy, predict_lazy

DEFAULT_CHUNK = 512
"""Block side (fine pixels) of a lazy run whose fine argument is not chunked."""

_ARGUMENTS = (("chunk=N", "Dask chunks"),)
"""Arguments of the file and in-memory API named in the library's messages, and what stands for them here."""


@contextlib.contextmanager
def python_arguments() -> Iterator[None]:
    """Re-raise an `InputError` whose message names an argument this API lacks with what stands for it here."""
    try:
        yield
    except InputError as exc:
        text = str(exc)
        for flag, argument in _ARGUMENTS:
            text = text.replace(flag, argument)
        if text == str(exc):
            raise
        raise type(exc)(text) from exc


def stf_spec(method: str, params: dict[str, Any]) -> tuple[MethodSpec, Any]:
    """The spec of STF method ``method`` and its parsed ``params`` (typed errors for anything unknown)."""
    spec = get_spec(method)
    if spec.task != "stf":
        names = ", ".join(s.name for s in list_methods("stf"))
        raise UnknownParameterError(f"method={spec.name!r} is an STSF method; give a spatiotemporal one: {names}")
    return spec, spec.make_params(params)


def chunked(rasters: Sequence[Raster], size: int) -> list[Raster]:
    """The rasters with NumPy arrays wrapped as Dask arrays of ``size`` x ``size`` pixel chunks."""
    chunks = {"time": 1, "band": -1, "y": size, "x": size}
    return [r if r.lazy else dataclasses.replace(r, array=r.array.chunk(chunks)) for r in rasters]


def block_size(fine: Raster) -> int:
    """The side of a lazy run's blocks: the fine argument's first chunk along y."""
    return int(fine.array.chunks[2][0]) if fine.lazy else DEFAULT_CHUNK


def on_fine_grid(task: FusionTask, resample: str, size: int | None) -> FusionTask:
    """``task`` with coarse images on their own grid resampled onto the fine grid (lazily when ``size``)."""
    if task.coarse_on_fine_grid:
        return task
    grid = task.fine_grid

    def align(s: Scene) -> Scene:
        return align_to_fine(s, grid, method=resample) if size is None else align_lazy(s, grid, resample, size)

    return FusionTask([Pair(p.fine, align(p.coarse)) for p in task.pairs], align(task.target), ratio=task.ratio)


def _single(target: Raster) -> None:
    if len(target.dates) != 1:
        raise ShapeMismatchError(
            f"target holds {len(target.dates)} images along time; give one coarse image (band, y, x), "
            "or use fuse_cube for several dates"
        )


def _paired(fine: Raster, coarse: Raster, spec: MethodSpec) -> None:
    n = len(fine.dates)
    if len(coarse.dates) != n:
        raise ShapeMismatchError(
            f"fine holds {n} image(s) along time but coarse {len(coarse.dates)}; give one coarse image per fine image"
        )
    known = [(f, c) for f, c in zip(fine.dates, coarse.dates) if f is not None and c is not None]
    if any(f != c for f, c in known):
        raise DateError(
            f"fine and coarse times differ ({', '.join(f'{f}/{c}' for f, c in known if f != c)}); pair images of the "
            "same date, e.g. coarse.sel(time=fine.time)"
        )
    if n < spec.min_pairs or (spec.max_pairs is not None and n > spec.max_pairs):
        raise ShapeMismatchError(
            f"{spec.name} takes {spec.pairs_text()} pair(s) but fine holds {n} along time; select them, "
            "e.g. fine.isel(time=[0])"
        )


def predict(method: str, fine: xr.DataArray, coarse: xr.DataArray, target: xr.DataArray, *,
            ratio: float | None = None, resample: str = "average", classes: Any = None,
            **params: Any) -> xr.DataArray:
    """The fine image at ``target``'s date by ``method`` (see `stfusion.core.list_methods`), on ``fine``'s grid.

    ``fine`` and ``coarse`` are one pair (band, y, x) or several pairs (time, band, y, x) of the same
    dates; ``target`` is the coarse image (band, y, x) at the prediction date. Coarse images are
    on the fine grid (give ``ratio``, the coarse/fine pixel-size ratio, when the method needs it)
    or on their own coarser grid (resampled onto the fine grid with ``resample``: average,
    bilinear or nearest). ``classes`` is a (y, x) class map for the methods that take one;
    ``params`` are the method's parameters.

    The result keeps ``fine``'s coordinates (CRS and transform), attributes, dtype, scale and
    nodata, with a scalar ``time`` coordinate at the target date. When any argument is
    Dask-backed, so is the result: only the validity check (the valid fraction of each image)
    and the method's image-wide statistics are computed now; the blocks run, with the method's
    halo, when the result is computed.
    """
    with python_arguments():
        spec, p = stf_spec(method, params)
        rasters = [Raster.of(fine, "fine"), Raster.of(coarse, "coarse"), Raster.of(target, "target")]
        f, c, t = rasters
        _single(t)
        _paired(f, c, spec)
        f.same_crs(c)
        f.same_crs(t)
        lazy = any(r.lazy for r in rasters)
        size = block_size(f) if lazy else None
        if size is not None:
            f, c, t = chunked(rasters, size)
        pairs = [Pair(f.scene(i), c.scene(i)) for i in range(len(f.dates))]
        task = on_fine_grid(FusionTask(pairs, t.scene(0), ratio=ratio), resample, size)
        class_map = None if classes is None else np.asarray(classes)
        check_classes(spec, class_map)
        enc = output_encoding(f.encoding, True)
        if size is None:
            scene = predict_scene(spec.name, task, classes=class_map, **params)
            values = encode(scene.data, scene.mask, enc)[0]
        else:
            values = predict_lazy(spec.name, task, p, enc, size, class_map)
        return to_dataarray(values, f.static(), enc, t.dates[0])
