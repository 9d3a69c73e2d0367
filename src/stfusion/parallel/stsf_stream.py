"""Streamed STSF: a whole HS/MS scene, block by block, from input rasters to an output raster.

1. The HS, MS and (optional) target MS rasters are opened for windowed reading
   (`stfusion.io.window.RasterSource`) and validated as an `STSFTask` without reading pixels.
2. The method's image-wide statistics are computed once by the method (``stats(source, params)``):
   the fill values and the regressions over fixed tiles, the responses (PSF, SRF) on a central
   sample window (`stfusion.methods.classical.stsf_ops.sample_window`). Memory is set by the tile.
3. Blocks of ``block`` fine pixels (whole coarse pixels) are read with the method's halo on the
   HS grid and the MS context its PSF needs, run through ``predict_block`` on ``workers``
   threads by the shared block runner (`runner.run_blocks`), and journalled: a killed run
   started again with the same command resumes.
4. The blocks are written into a GeoTIFF or COG on the (cropped) MS grid with the HS band names
   (wavelengths) as band descriptions, atomically.

The output equals the in-memory run (`stfusion stsf` without ``--chunk``) to float rounding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..core.errors import (
    FileFormatError,
    InputError,
    InvalidParameterError,
    OutputExistsError,
    RunInterruptedError,
    UnknownParameterError,
)
from ..core.registry import get_spec
from ..core.scene import Scene
from ..core.stsf_block import StsfSource
from ..core.task import STSFTask
from ..core.windows import BlockWindow, block_windows
from ..io.window import bounded_gdal_cache
from .journal import RunJournal
from .runner import fingerprint, output_driver, run_blocks, worker_count, write_blocks

CUBE_SUFFIXES = (".mat", ".npy")


def _open(path: str | Path, label: str) -> Any:
    from ..io.window import RasterSource

    if Path(path).suffix.lower() in CUBE_SUFFIXES:
        raise FileFormatError(
            f"{label} {path} is a {Path(path).suffix} cube, which cannot be read in windows; convert it to "
            "GeoTIFF, or run it in memory"
        )
    return RasterSource(path)


def _grid(task: STSFTask, shape: tuple[int, int], ratio: int) -> Scene:
    """The output grid: the MS grid of the prediction date, cropped to whole coarse pixels, with the HS bands."""
    import dask.array as da

    ref = task.ms_target if task.ms_target is not None else task.ms
    rows, cols = shape[0] * ratio, shape[1] * ratio
    data = da.zeros((task.hs.count, rows, cols), dtype=np.float32, chunks=(-1, 1024, 1024))
    return ref.replace(data=data, mask=da.ones((rows, cols), dtype=bool, chunks=1024), bands=task.hs.bands)


def _compute(source: StsfSource, window: BlockWindow, module: Any, stats: Any, params: Any) -> tuple[np.ndarray, int]:
    """One block: read it with its halo and MS context, run the kernel (NaN where invalid)."""
    data, mask = module.predict_block(source.read_window(window, stats.context), stats, params)
    out = np.asarray(data, dtype=np.float32).copy()
    valid = np.asarray(mask, dtype=bool)
    out[:, ~valid] = np.nan
    return out, int(valid.sum())


@bounded_gdal_cache()
def stream_stsf(
    method: str,
    hs: str | Path,
    ms: str | Path,
    out: str | Path,
    *,
    ms_target: str | Path | None = None,
    params: Mapping[str, Any] | None = None,
    ratio: float | None = None,
    srf: np.ndarray | None = None,
    wavelengths: Sequence[float] | None = None,
    block: int = 256,
    workers: int | None = None,
    driver: str = "GTiff",
    overwrite: bool = False,
    progress: bool | None = None,
) -> Path:
    """Fuse the HS raster ``hs`` with the MS raster ``ms`` (and ``ms_target``) block by block into ``out``.

    ``block`` is the block side in fine (MS) pixels, rounded down to whole HS pixels; ``workers``
    the number of threads (default: all cores); ``srf`` a known (MS, HS) response matrix;
    ``wavelengths`` (nm) name the HS bands. Methods: the block-wise STSF methods (bicubic, gsa,
    cascade with fuser=gsa, dcstsf with a checkpoint or fit=true). A killed run resumes when
    started again with the same inputs and parameters (dcstsf with fit=true trains again, seeded,
    before it resumes: train once with `stfusion train dcstsf` for long runs). Returns the path written.
    """
    from ..io.blockwrite import BlockWriter, output_encoding
    from ..io.cube import name_wavelengths

    out = Path(out)
    spec = get_spec(method)
    if spec.task != "stsf":
        raise UnknownParameterError(f"{spec.name} is not an STSF method; use `stfusion predict`")
    p = spec.make_params(params)
    module = spec.blockwise_module()
    workers = worker_count(workers)
    driver = output_driver(driver)
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise InvalidParameterError(f"block must be a positive number of pixels, got {block!r}; e.g. block=1024")
    if out.exists() and not overwrite:
        raise OutputExistsError(f"output {out} exists; pass overwrite=True to replace it")
    readers = (_open(hs, "hs"), _open(ms, "ms"), None if ms_target is None else _open(ms_target, "ms_target"))
    hs_scene = name_wavelengths(readers[0].template, wavelengths, hs)
    task = STSFTask(hs=hs_scene, ms=readers[1].template, ms_target=None if readers[2] is None else readers[2].template,
                    ratio=ratio, srf=srf)
    source = StsfSource.from_task(task, readers=readers)
    r = source.ratio
    windows = block_windows(source.shape, max(1, block // r), spec.halo(p, None))
    files = [f for f in (hs, ms, ms_target) if f is not None]
    journal = RunJournal(out, fingerprint(spec.name, p, files, block=block, ratio=repr(task.ratio),
                                          srf=None if srf is None else np.asarray(srf).tolist(),
                                          wavelengths=None if wavelengths is None else list(wavelengths)))
    try:
        stats = module.stats(source, p)
        done = run_blocks(journal, windows, lambda w: _compute(source, w, module, stats, p), workers=workers,
                          progress=progress, name=spec.name)
    except RunInterruptedError:
        raise
    except InputError:
        journal.remove()
        raise
    grid = _grid(task, source.shape, r)
    enc = output_encoding(grid.encoding, sum(done.values()) < grid.height * grid.width)
    with BlockWriter(out, grid, enc, driver) as writer:
        write_blocks(journal, windows, writer, scale=r)
    journal.remove()
    return out
