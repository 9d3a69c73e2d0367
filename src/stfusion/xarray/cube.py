"""`fuse_cube`: a fine image at every date of a coarse cube, with the pairs `stfusion series` picks."""

from __future__ import annotations

import datetime as _dt
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..core.errors import DateError, InputWarning, InvalidParameterError, NoDataError
from ..core.run import check_classes
from ..core.task import FusionTask, Pair
from ..io.blockwrite import output_encoding
from ..io.write import encode
from ..parallel.series import SeriesTarget, _predict_group, plan_series
from .api import block_size, chunked, on_fine_grid, python_arguments, stf_spec
from .convert import Raster, to_dataarray
from .lazy import predict_lazy

FUSION = ("observed", "predicted", "skipped")
"""Values of the result's ``fusion`` coordinate: the fine image itself, a prediction, or nodata."""


@dataclass(frozen=True)
class _Image:
    """A date of a cube, as `plan_series` sees a dated file: ``date`` and where it lies (``index``)."""

    date: _dt.date
    index: int


def _dated(raster: Raster) -> list[_Image]:
    if any(d is None for d in raster.dates):
        raise DateError(f"{raster.name} has no time coordinate; give datetime64 times along its time dimension")
    if len(set(raster.dates)) != len(raster.dates):
        raise DateError(
            f"{raster.name} has two images of one date; keep one per date, e.g. {raster.name}.groupby('time').first()"
        )
    return [_Image(d, i) for i, d in enumerate(raster.dates)]  # type: ignore[arg-type]


def fuse_cube(method: str, fine_cube: xr.DataArray, coarse_cube: xr.DataArray, *, min_clear: float = 0.5,
              ratio: float | None = None, resample: str = "average", classes: Any = None,
              **params: Any) -> xr.DataArray:
    """A fine cube (time, band, y, x) at every date of ``coarse_cube``, on ``fine_cube``'s grid.

    Each date with a fine image keeps it ("observed"). Every other date is predicted by ``method``
    from the pairs `stfusion series` picks (`stfusion.parallel.series.plan_series`): the nearest
    fine image at least ``min_clear`` valid before the date and the nearest after, with the coarse
    image of their date, cut to what the method takes. A date without usable pairs, or whose
    images hold no valid pixel, is left as nodata ("skipped", with an `InputWarning` saying why).
    The ``fusion`` coordinate says which each date is. ``ratio``, ``resample``, ``classes`` and
    ``params`` are as in `stfusion.xarray.predict`.

    Dask-backed cubes give a Dask-backed result. Computed now: the valid fraction of every image
    (one reduction each) and, per predicted date, the method's image-wide statistics. In memory,
    dates sharing their pairs share the statistics (`stfusion.core.run.predict_series`).
    """
    with python_arguments():
        spec, p = stf_spec(method, params)
        if not 0.0 <= min_clear <= 1.0:
            raise InvalidParameterError(f"min_clear must lie in [0, 1], got {min_clear}; e.g. min_clear=0.5")
        check_classes(spec, classes)
        fine, coarse = Raster.of(fine_cube, "fine_cube"), Raster.of(coarse_cube, "coarse_cube")
        fine.same_crs(coarse)
        fine_images, coarse_images = _dated(fine), _dated(coarse)
        lazy = fine.lazy or coarse.lazy
        size = block_size(fine) if lazy else None
        if size is not None:
            fine, coarse = chunked([fine, coarse], size)
        clear = {f.date: fine.valid[f.index] for f in fine_images}
        plan = plan_series(spec, fine_images, coarse_images, clear, min_clear=min_clear)  # type: ignore[arg-type]
        skipped = dict(plan.skipped)
        enc = output_encoding(fine.encoding, True)
        class_map = None if classes is None else np.asarray(classes)
        run = _Run(fine, coarse, ratio, resample, size, skipped)
        if size is None:
            predicted = run.in_memory(spec.name, plan.targets, class_map, params, enc)
        else:
            predicted = run.lazy(spec.name, plan.targets, class_map, p, enc, size)
        return _assemble(fine, coarse, predicted, skipped, enc)


class _Run:
    """The predictions of a plan's targets, as stored values by date; a date that cannot be predicted
    goes to ``skipped`` with the reason."""

    def __init__(self, fine: Raster, coarse: Raster, ratio: float | None, resample: str, size: int | None,
                 skipped: dict[_dt.date, str]) -> None:
        self.fine, self.coarse, self.ratio, self.resample, self.size = fine, coarse, ratio, resample, size
        self.skipped = skipped

    def task(self, target: SeriesTarget) -> FusionTask:
        """The target's task on the fine grid (coarse images of the pair dates take the fine date)."""
        pairs = [Pair(self.fine.scene(f.index), self.coarse.scene(c.index).replace(date=f.date))
                 for f, c in target.pairs]
        coarse = self.coarse.scene(target.coarse.index).replace(date=target.date)
        return on_fine_grid(FusionTask(pairs, coarse, ratio=self.ratio), self.resample, self.size)

    def in_memory(self, method: str, targets: tuple[SeriesTarget, ...], classes: Any, params: dict[str, Any],
                  enc: Any) -> dict[_dt.date, Any]:
        groups: dict[tuple[int, ...], list[tuple[SeriesTarget, list[Pair], Any]]] = {}
        ratios: dict[tuple[int, ...], float | None] = {}
        for t in targets:
            try:
                task = self.task(t)
            except NoDataError as exc:
                self.skipped[t.date] = str(exc)
                continue
            key = tuple(f.index for f, _ in t.pairs)
            groups.setdefault(key, []).append((t, list(task.pairs), task.target))
            ratios[key] = task.ratio
        out = {}
        for key, group in groups.items():
            found = _predict_group(method, group, ratios[key], classes, params, self.skipped)
            for (t, _, _), scene in zip(group, found):
                if scene is not None:
                    out[t.date] = encode(scene.data, scene.mask, enc)[0]
        return out

    def lazy(self, method: str, targets: tuple[SeriesTarget, ...], classes: Any, params: Any, enc: Any,
             size: int) -> dict[_dt.date, Any]:
        out = {}
        for t in targets:
            try:
                out[t.date] = predict_lazy(method, self.task(t), params, enc, size, classes)
            except NoDataError as exc:
                self.skipped[t.date] = str(exc)
        return out


def _assemble(fine: Raster, coarse: Raster, predicted: dict[_dt.date, Any], skipped: dict[_dt.date, str],
              enc: Any) -> xr.DataArray:
    """The output cube along the coarse dates: observed fine images, predictions, nodata elsewhere."""
    if skipped and not predicted:
        first = min(skipped.items())
        raise NoDataError(f"no date of coarse_cube could be predicted ({first[0].isoformat()}: {first[1]}); "
                          "check min_clear and the cubes' nodata")
    import dask.array as da

    observed = {d: i for i, d in enumerate(fine.dates)}
    like = fine.static()
    layers, kinds = [], []
    for date in coarse.dates:
        if date in observed:
            layers.append(fine.array.data[observed[date]])
            kinds.append(FUSION[0])
        elif date in predicted:
            layers.append(predicted[date])
            kinds.append(FUSION[1])
        else:
            warnings.warn(f"fuse_cube: {date} is left as nodata: {skipped.get(date, 'no usable pairs')}", InputWarning,
                          stacklevel=3)
            layers.append(np.full(like.shape, enc.nodata, dtype=enc.dtype) if not fine.lazy
                          else da.full(like.shape, enc.nodata, dtype=enc.dtype, chunks=fine.array.data.chunks[1:]))
            kinds.append(FUSION[2])
    images = [to_dataarray(layer, like, enc, date) for layer, date in zip(layers, coarse.dates)]
    cube = xr.concat(images, dim="time", coords="minimal", compat="override", combine_attrs="override")
    return cube.assign_coords(fusion=("time", kinds))
