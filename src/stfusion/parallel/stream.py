"""The streaming runner: a scene of any size, block by block, from input files to an output file.

1. The inputs are opened for windowed reading (`stfusion.io.window`); a coarse file on its own
   grid is resampled window by window onto the fine grid.
2. The method's image-wide statistics are computed once from Dask-backed scenes read strip by
   strip (for STARFM and the baselines this never holds a whole band; methods whose statistics
   are fine-resolution images hold those).
3. Blocks of ``block`` x ``block`` fine pixels are read with the method's halo, run through the
   block kernel on ``workers`` threads (the Numba kernels release the GIL) and stored in the run
   journal (`RunJournal`); a killed run started again with the same command skips them.
4. The blocks are written into a temporary GeoTIFF or COG with the fine input's encoding, which
   is then renamed onto the output path; the journal is removed.

The output equals the in-memory run bit for bit (bilinear resampling of a coarse file on its own
grid: within float32 rounding). Peak memory is set by ``block`` and ``workers``, not by the scene.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..core.block import Block, pair_days
from ..core.blockwise import aligned
from ..core.errors import (
    InputError,
    NoDataError,
    OutputExistsError,
    RunInterruptedError,
    UnknownParameterError,
)
from ..core.registry import get_spec
from ..core.run import check_classes, check_pairs
from ..core.scene import Scene, check_finite
from ..core.task import FusionTask, Pair
from ..core.windows import BlockWindow, block_windows
from ..io.window import bounded_gdal_cache
from .journal import RunJournal
from .runner import fingerprint, output_driver, run_blocks, worker_count, write_blocks


def _open(item: Any) -> Any:
    """A window source: ``item`` itself when it is one (e.g. a `MaskedSource`), else a `RasterSource`."""
    from ..io.window import RasterSource

    return item if hasattr(item, "template") and hasattr(item, "read") else RasterSource(item)


def _files(item: Any) -> list[Any]:
    """The files behind an input (a path, or a source listing its ``files``)."""
    return list(item.files) if hasattr(item, "files") else [item]


def _sources(pairs: Sequence[tuple[Any, Any]], target: Any, ratio: float | None,
             resample: str) -> tuple[FusionTask, list[Any]]:
    """The lazy task (validated like an in-memory one) and the window sources: F1, C1, F2, C2, ..., target."""
    from ..io.window import AlignedSource

    raw = [(_open(f), _open(c)) for f, c in pairs]
    tgt = _open(target)
    task = FusionTask([Pair(f.template, c.template) for f, c in raw], tgt.template, ratio=ratio)
    if not task.coarse_on_fine_grid:
        grid = task.fine_grid
        raw = [(f, AlignedSource(c, grid, resample)) for f, c in raw]
        tgt = AlignedSource(tgt, grid, resample)
        task = FusionTask([Pair(f.template, c.template) for f, c in raw], tgt.template, ratio=task.ratio)
    return task, [s for pair in raw for s in pair] + [tgt]


def _compute(sources: list[Any], npairs: int, days: tuple[int, ...] | None, window: BlockWindow, kernel: Any,
             stats: Any, params: Any) -> tuple[np.ndarray, int]:
    """One block: read it with its halo, run the kernel, keep the interior (NaN where invalid)."""
    rows, cols = window.outer_rows, window.outer_cols
    read = [s.read(rows, cols) for s in sources]
    for src, (data, mask) in zip(sources, read):
        check_finite(data, mask, src.template.label)
    fine, coarse = read[0 : 2 * npairs : 2], read[1 : 2 * npairs : 2]
    blk = Block(
        fine=np.stack([d for d, _ in fine]), fine_mask=np.stack([m for _, m in fine]),
        coarse=np.stack([d for d, _ in coarse]), coarse_mask=np.stack([m for _, m in coarse]),
        target=read[-1][0], target_mask=read[-1][1], pair_days=days, origin=(rows.start, cols.start),
    )
    data, mask = kernel.predict_block(blk, stats, params)
    inner = window.inner
    out = np.array(data[:, inner[0], inner[1]], dtype=np.float32)
    valid = np.asarray(mask[inner], dtype=bool)
    out[:, ~valid] = np.nan
    return out, int(valid.sum())


@bounded_gdal_cache()
def stream_predict(
    method: str,
    pairs: Sequence[tuple[Any, Any]],
    target: Any,
    out: str | Path,
    *,
    params: Mapping[str, Any] | None = None,
    ratio: float | None = None,
    block: int = 1024,
    workers: int | None = None,
    driver: str = "GTiff",
    resample: str = "average",
    classes: str | Path | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
) -> Path:
    """Predict the fine image at ``target``'s date block by block and write it to ``out``.

    Parameters as `predict_files`; each input is a file or a window source such as
    `stfusion.io.window.MaskedSource` (an image with its cloud mask and date); ``block`` is the block side in fine pixels, ``workers`` the
    number of threads (default: all cores), ``progress`` shows a progress bar (default: when
    stderr is a terminal). A run killed part-way resumes from its journal when started again
    with the same inputs and parameters. Returns the path written.
    """
    from ..io.blockwrite import BlockWriter, output_encoding
    from .files import read_classes

    out = Path(out)
    spec = get_spec(method)
    p = spec.make_params(params)
    if spec.task != "stf":
        raise UnknownParameterError(f"{spec.name} is not a spatiotemporal method; use `stfusion {spec.task}`")
    module = spec.blockwise_module()
    workers = worker_count(workers)
    driver = output_driver(driver)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"output {out} exists; pass overwrite=True to replace it")
    task, sources = _sources(pairs, target, ratio, resample)
    check_pairs(spec, task)
    if not bool(task.target.mask.any().compute()):  # all cloud: the in-memory run's error, before any work
        raise NoDataError(
            f"scene {task.target.label} has no valid pixel (all nodata or masked); check its nodata value and mask"
        )
    grid: Scene = task.fine_grid
    class_map = None if classes is None else read_classes(classes, grid)
    check_classes(spec, class_map)
    files = [f for item in [*(i for pair in pairs for i in pair), target] for f in _files(item)]
    files += [classes] if classes is not None else []
    journal = RunJournal(out, fingerprint(spec.name, p, files, block=block, ratio=repr(task.ratio), resample=resample))
    days = pair_days(task)
    try:
        stats = module.stats(task, p) if class_map is None else module.stats(task, p, class_map)
        windows = block_windows((grid.height, grid.width), *aligned(block, spec.halo(p, grid.resolution), stats))
        done = run_blocks(journal, windows, lambda w: _compute(sources, len(task.pairs), days, w, module, stats, p),
                          workers=workers, progress=progress, name=spec.name)
    except RunInterruptedError:
        raise
    except InputError:
        journal.remove()
        raise
    if not any(done.values()):
        journal.remove()
        raise NoDataError(f"{spec.name} predicted no pixel: no valid target pixel has valid pair pixels; check the masks")
    enc = output_encoding(grid.encoding, sum(done.values()) < grid.height * grid.width)
    with BlockWriter(out, grid, enc, driver) as writer:
        write_blocks(journal, windows, writer)
    journal.remove()
    return out
