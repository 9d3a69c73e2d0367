"""File-to-file prediction: read the inputs, build the task, run the method, write atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..core.errors import BandMismatchError, DTypeError, OutputExistsError, ShapeMismatchError, UnknownParameterError
from ..core.registry import get_spec
from ..core.run import check_classes, predict
from ..core.scene import Scene
from ..core.task import FusionTask, Pair


def _read(path: str | Path, name: str) -> Scene:
    from ..io import read_scene

    return read_scene(path, name=Path(path).name)


def build_task(
    pairs: Sequence[tuple[str | Path, str | Path]],
    target: str | Path,
    *,
    ratio: float | None = None,
    resample: str = "average",
) -> FusionTask:
    """Read fine/coarse pairs and the target coarse image into a `FusionTask` on the fine grid.

    Coarse images on their own grid are resampled to the fine grid (``resample``: average,
    bilinear or nearest); the ratio is then inferred from the transforms. Coarse products in another
    CRS (MODIS sinusoidal) are first area-averaged into the fine CRS (`stfusion.io.products.to_fine_crs`).
    """
    from ..io import align_to_fine
    from ..io.products import to_fine_crs

    fines = [_read(f, "fine") for f, _ in pairs]
    scenes = [(f, to_fine_crs(c, _read(c, "coarse"), fines[0])) for f, (_, c) in zip(fines, pairs)]
    target_scene = to_fine_crs(target, _read(target, "target"), fines[0])
    task = FusionTask([Pair(f, c) for f, c in scenes], target_scene, ratio=ratio)
    if task.coarse_on_fine_grid:
        return task
    fine0 = task.fine_grid
    aligned = [Pair(f, align_to_fine(c, fine0, method=resample)) for f, c in scenes]
    return FusionTask(aligned, align_to_fine(target_scene, fine0, method=resample), ratio=task.ratio)


def read_classes(path: str | Path, grid: Scene) -> np.ndarray:
    """A single-band integer class map on the fine grid, as a (rows, cols) int32 array."""
    from ..io import read_array

    values, meta = read_array(path)
    if values.shape[0] != 1:
        raise BandMismatchError(f"class map {path} has {values.shape[0]} bands; give a single-band class raster")
    if values.dtype.kind not in "iu":
        raise DTypeError(f"class map {path} is {values.dtype}; give integer class labels (e.g. uint8)")
    if values.shape[1:] != grid.data.shape[1:]:
        raise ShapeMismatchError(
            f"class map {path} is {values.shape[1]}x{values.shape[2]} pixels but the fine grid is "
            f"{grid.height}x{grid.width}; give a class map on the fine image's grid"
        )
    return values[0].astype(np.int32)


def predict_files(
    method: str,
    pairs: Sequence[tuple[str | Path, str | Path]],
    target: str | Path,
    out: str | Path,
    *,
    params: Mapping[str, Any] | None = None,
    ratio: float | None = None,
    overwrite: bool = False,
    driver: str = "GTiff",
    resample: str = "average",
    classes: str | Path | None = None,
    chunk: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> Path:
    """Predict the fine image at ``target``'s date and write it to ``out`` with the fine input's encoding.

    ``classes`` is a class-map raster on the fine grid (methods that take one). With ``chunk``
    alone the run streams ``chunk``-pixel blocks from the files to the output on ``workers``
    threads, resumably (`stream_predict`); with ``scheduler`` it runs tiled with Dask
    (``chunk`` pixels, default 512; threads, processes or a dask.distributed address). The
    output is the same in every case.
    Everything that can be checked cheaply (method, parameters, output) is checked before any
    file is read; the output is written atomically, so a failed run leaves nothing behind.
    """
    from ..io import write_scene

    out = Path(out)
    spec = get_spec(method)
    parsed = spec.make_params(params)
    if spec.task != "stf":
        raise UnknownParameterError(f"{spec.name} is not a spatiotemporal method; use `stfusion {spec.task}`")
    if classes is not None:
        check_classes(spec, classes)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"output {out} exists; pass overwrite=True to replace it")
    if chunk is not None and scheduler is None:
        from ..io.products import refuse_streaming
        from .stream import stream_predict

        refuse_streaming([*(p for pair in pairs for p in pair), target])
        return stream_predict(spec.name, pairs, target, out, params=params, ratio=ratio, block=chunk,
                              workers=workers, driver=driver, resample=resample, classes=classes, overwrite=overwrite)
    task = build_task(pairs, target, ratio=ratio, resample=resample)
    class_map = None if classes is None else read_classes(classes, task.fine_grid)
    given = {k: getattr(parsed, k) for k in (params or {})}
    if chunk is None and scheduler is None:
        result = predict(spec.name, task, classes=class_map, **given)
    else:
        from .overlap import predict_tiled

        result = predict_tiled(spec.name, task, chunk=512 if chunk is None else chunk,
                               scheduler=scheduler or "threads", params=given, classes=class_map)
    return write_scene(result, out, like=task.fine_grid, driver=driver, overwrite=overwrite)
