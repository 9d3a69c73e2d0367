"""Shared pieces of the speed benchmarks: a synthetic field scene, interleaved timing, peak memory
and the child processes of the memory and control measurements."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from typing import Callable, Hashable

import numpy as np
from scipy.ndimage import gaussian_filter

from stfusion.core import FusionTask, Pair, Scene

RATIO = 16
DATES = (dt.date(2021, 5, 1), dt.date(2021, 6, 1), dt.date(2021, 7, 1))


def field_scene(size: int, bands: int, *, pairs: int = 2, seed: int = 0) -> FusionTask:
    """Six land-cover classes in smooth patches with per-class spectra and texture, a class-wise
    change over three dates, and coarse images that are 16 x 16 block means on the fine grid plus
    noise. Two pairs (dates 0 and 2) or one (date 0); the target is date 1."""
    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.standard_normal((size, size)), 6.0)
    classes = np.digitize(field, np.quantile(field, np.linspace(0, 1, 7)[1:-1]))
    spectra = 0.05 + 0.3 * rng.random((6, bands))
    change = 0.08 * rng.standard_normal((3, 6, bands))
    texture = 0.01 * rng.standard_normal((bands, size, size))

    def fine(t: int) -> np.ndarray:
        return np.clip(spectra[classes].transpose(2, 0, 1) + change[t][classes].transpose(2, 0, 1) * t / 2
                       + texture, 0.005, 0.95)

    def coarse(img: np.ndarray) -> np.ndarray:
        n = -(-size // RATIO) * RATIO
        padded = np.pad(img, ((0, 0), (0, n - size), (0, n - size)), mode="edge")
        blocks = padded.reshape(bands, n // RATIO, RATIO, n // RATIO, RATIO).mean(axis=(2, 4))
        out = np.repeat(np.repeat(blocks, RATIO, axis=1), RATIO, axis=2)[:, :size, :size]
        return out + 0.002 * rng.standard_normal(out.shape)

    imgs = [fine(t) for t in range(3)]
    base = (0, 2)[:pairs]
    return FusionTask([Pair(Scene(imgs[t], date=DATES[t]), Scene(coarse(imgs[t]), date=DATES[t])) for t in base],
                      Scene(coarse(imgs[1]), date=DATES[1]), ratio=RATIO)


def best_times(runs: dict[Hashable, Callable[[], object]], repeat: int) -> dict[Hashable, float]:
    """Best wall time of each run over ``repeat`` rounds; the runs alternate within a round, so a
    change in the machine's load affects them alike."""
    best = {k: float("inf") for k in runs}
    for _ in range(repeat):
        for k, run in runs.items():
            t0 = time.perf_counter()
            run()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def best_time(run: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``run`` over ``repeat`` runs."""
    return best_times({0: run}, repeat)[0]


def input_bytes(task: FusionTask) -> int:
    """Bytes of the data and masks of every input scene."""
    scenes = [s for p in task.pairs for s in (p.fine, p.coarse)] + [task.target]
    return sum(np.asarray(s.data).nbytes + np.asarray(s.mask).nbytes for s in scenes)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Samples the resident set size every millisecond while in use."""

    def __enter__(self) -> "PeakRSS":
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def children(script: str, size: int, bands: int, flag: str, value: int, copies: int) -> list[float]:
    """Run ``copies`` fresh processes of ``script --size --bands flag value`` at once; each prints
    one JSON number."""
    cmd = [sys.executable, script, "--size", str(size), "--bands", str(bands), flag, str(value)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(copies)]
    return [json.loads(p.communicate()[0]) for p in procs]
