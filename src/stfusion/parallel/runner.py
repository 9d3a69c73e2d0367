"""The one block runner of streamed runs: blocks computed on a thread pool into a resumable
journal, then written into one output file.

Callers (`stream_predict` for STF methods, `stream_stsf` for STSF methods) give the block
layout (`stfusion.core.windows.block_windows`) and a ``compute(window) -> (data, valid)``
function that reads the window with its halo from its block source, runs the method's kernel
and returns the interior (float32, NaN where invalid) with its number of valid pixels. The Numba
kernels release the GIL, so threads use every core.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..core.errors import FileFormatError, InvalidParameterError, RunInterruptedError, UnknownParameterError
from ..core.windows import BlockWindow
from .journal import RunJournal

if TYPE_CHECKING:
    from ..io.blockwrite import BlockWriter

Compute = Callable[[BlockWindow], tuple[np.ndarray, int]]


def worker_count(workers: int | None) -> int:
    """``workers`` threads, all cores by default; a one-line error below one."""
    n = (os.cpu_count() or 1) if workers is None else workers
    if n < 1:
        raise InvalidParameterError(f"workers must be >= 1, got {n}")
    return n


def _stamp(path: str | Path) -> list[Any]:
    p = Path(path).resolve()
    st = p.stat()
    return [str(p), st.st_size, st.st_mtime_ns]


def fingerprint(method: str, params: Any, files: Sequence[str | Path], **options: Any) -> dict[str, Any]:
    """What identifies a streamed run: the version, method, parameters, each input's path, size and
    modification time, and the run's ``options`` (block size, ratio, ...). A journal whose
    fingerprint differs belongs to another computation."""
    from .. import __version__

    return {
        "stfusion": __version__,
        "method": method,
        "params": {k: repr(v) for k, v in sorted(vars(params).items())},
        "inputs": [_stamp(f) for f in files],
        **options,
    }


def output_driver(driver: str) -> str:
    """The writer's spelling of ``driver`` (case-insensitive), or a one-line error naming the known ones."""
    from ..io.write import DRIVERS

    drivers = {d.lower(): d for d in DRIVERS}
    if driver.lower() not in drivers:
        raise UnknownParameterError(f"unknown output driver '{driver}'; use one of: {', '.join(DRIVERS)}")
    return drivers[driver.lower()]


def run_blocks(journal: RunJournal, windows: Sequence[BlockWindow], compute: Compute, *, workers: int,
               progress: bool | None, name: str) -> dict[tuple[int, int], int]:
    """Compute the blocks the journal does not hold yet, ``workers`` at a time, storing each as it
    finishes; returns every block's valid-pixel count. A failing block stops the run with its own
    error; the finished blocks stay in the journal, so the same command resumes."""
    from tqdm import tqdm

    done = journal.open()
    queue = [w for w in windows if w.key not in done]
    bar = tqdm(total=len(windows), initial=len(windows) - len(queue), unit="block", desc=name,
               disable=None if progress is None else not progress)
    with bar, ThreadPoolExecutor(workers) as pool:
        pending: dict[Future[tuple[np.ndarray, int]], BlockWindow] = {}
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                window = queue.pop(0)
                pending[pool.submit(compute, window)] = window
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            failed = [f for f in finished if f.exception() is not None]
            for fut in finished:
                window = pending.pop(fut)
                if fut in failed:
                    continue
                data, valid = fut.result()
                try:
                    journal.save(*window.key, data, valid)
                except OSError as exc:
                    for other in pending:
                        other.cancel()
                    raise RunInterruptedError(
                        f"cannot store block {window.key} in {journal.dir} ({exc.strerror or exc}); free disk space "
                        f"and run the same command again to resume ({len(done)} of {len(windows)} blocks are kept)"
                    ) from exc
                done[window.key] = valid
                bar.update()
            if failed:
                for other in pending:
                    other.cancel()
                raise failed[0].exception()  # type: ignore[misc]
    return done


def write_blocks(journal: RunJournal, windows: Sequence[BlockWindow], writer: BlockWriter, scale: int = 1) -> None:
    """Write every journalled block through ``writer`` (a `stfusion.io.blockwrite.BlockWriter`) and
    commit it; ``scale`` converts window coordinates to output pixels (the coarse-to-fine ratio of
    STSF blocks). A failed write keeps the journal and says how to finish."""
    try:
        for w in windows:
            data = journal.load(*w.key)
            rows = slice(w.row * scale, w.row * scale + data.shape[1])
            cols = slice(w.col * scale, w.col * scale + data.shape[2])
            writer.write(rows, cols, np.nan_to_num(data, nan=0.0), ~np.isnan(data).any(axis=0))
        writer.commit()
    except (FileFormatError, OSError) as exc:
        raise RunInterruptedError(
            f"{exc}; every block is computed and kept in {journal.dir}: run the same command again to write the output"
        ) from exc
