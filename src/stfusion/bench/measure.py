"""Wall time and peak memory of one call, and the versions a result depends on.

Peak memory is the `tracemalloc` peak of the memory allocated while the call runs: every
Python object and NumPy array (NumPy reports its buffers to tracemalloc). Memory that PyTorch
and Numba allocate internally is not traced, so for the deep methods it is a lower bound. It is
a per-run figure: unlike the process's ``ru_maxrss`` high-water mark, it does not depend on
which runs came before.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import time
import tracemalloc
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Measured(Generic[T]):
    """A call's result, its wall time in seconds and its traced peak memory in bytes."""

    value: T
    seconds: float
    peak_bytes: int


def measure(call: Callable[[], T]) -> Measured[T]:
    """Run ``call`` once, timing it with `time.perf_counter` and tracing its allocations."""
    nested = tracemalloc.is_tracing()
    if not nested:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    try:
        value = call()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not nested:
            tracemalloc.stop()
    return Measured(value, seconds, max(int(peak), 0))


def stfusion_version() -> str:
    """The installed stfusion version."""
    try:
        return version("stfusion")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


@functools.cache
def code_digest() -> str:
    """SHA-256 of the stfusion package's Python sources: what a cached run was computed with (an
    editable install keeps its version number when the code changes; this does not)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def versions(*, torch: bool) -> dict[str, str]:
    """stfusion, NumPy and Python versions, plus PyTorch's when ``torch`` (a deep method ran)."""
    import numpy

    out = {"stfusion": stfusion_version(), "numpy": numpy.__version__, "python": platform.python_version()}
    if torch:
        import torch as _torch

        out["torch"] = _torch.__version__
    return out
