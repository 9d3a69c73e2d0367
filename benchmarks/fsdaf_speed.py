"""FSDAF speed and memory on a synthetic 1000 x 1000 x 6 scene (ratio 16), one pair, default parameters.

Prints throughput in pixel-bands per second on one thread and on two (the final weighting runs
in row strips on a thread pool; the Numba kernel releases the GIL; the image-wide statistics —
ISODATA, unmixing, TPS, residual distribution — run on one thread), their ratio, the time of the
image-wide part alone, and the peak working memory (resident memory above the loaded inputs,
sampled every millisecond, one fresh process per thread count) relative to the input size.
Times are the best of ``--repeats`` interleaved runs (the timing of a shared virtual machine is
noisy). A control runs two independent single-thread processes at once: their combined speed-up
is the machine's own ceiling for two threads at that moment. Last line: the Dask
``map_overlap`` runner.

    python benchmarks/fsdaf_speed.py [--size 1000] [--bands 6] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from common import PeakRSS, children, input_bytes
from scipy.ndimage import gaussian_filter

from stfusion.core import FusionTask, Pair, Scene
from stfusion.core.params.fsdaf import FsdafParams
from stfusion.methods.classical.fsdaf import fsdaf, stats
from stfusion.parallel import predict_tiled

RATIO = 16
RES = 30.0


def scene(size: int, bands: int, seed: int = 0) -> FusionTask:
    """Six land-cover classes in smooth patches with per-class spectra and texture; a class-wise
    change plus a 'flooded' disc between the dates; coarse = 16 x 16 block means on the fine grid."""
    rng = np.random.default_rng(seed)
    grid = dict(transform=(RES, 0.0, 500000.0, 0.0, -RES, 4000000.0), crs="EPSG:32633")
    field = gaussian_filter(rng.standard_normal((size, size)), 6.0)
    classes = np.digitize(field, np.quantile(field, np.linspace(0, 1, 7)[1:-1]))
    spectra = 0.05 + 0.3 * rng.random((6, bands))
    texture = 0.01 * rng.standard_normal((bands, size, size))
    fine1 = spectra[classes].transpose(2, 0, 1) + texture
    change = 0.05 * rng.standard_normal((6, bands))
    fine2 = fine1 + change[classes].transpose(2, 0, 1)
    yy, xx = np.mgrid[0:size, 0:size]
    flood = (yy - 0.6 * size) ** 2 + (xx - 0.4 * size) ** 2 < (0.15 * size) ** 2
    fine2[:, flood] = 0.03
    fine1, fine2 = (np.clip(f, 0.005, 0.95).astype(np.float32) for f in (fine1, fine2))

    def coarse(img: np.ndarray) -> np.ndarray:
        n = -(-size // RATIO) * RATIO
        padded = np.pad(img, ((0, 0), (0, n - size), (0, n - size)), mode="edge")
        blocks = padded.reshape(bands, n // RATIO, RATIO, n // RATIO, RATIO).mean(axis=(2, 4))
        return np.repeat(np.repeat(blocks, RATIO, axis=1), RATIO, axis=2)[:, :size, :size].astype(np.float32)

    return FusionTask([Pair(Scene(fine1, **grid), Scene(coarse(fine1), **grid))], Scene(coarse(fine2), **grid),
                      ratio=RATIO)


def _inputs(task: FusionTask) -> int:
    return sum(np.asarray(s.data).nbytes + np.asarray(s.mask).nbytes
               for s in (task.pairs[0].fine, task.pairs[0].coarse, task.target))


def _warm_up(threads: int) -> None:
    fsdaf(scene(96, 2), threads=threads)  # compile (or load the Numba cache)


def peak_memory(size: int, bands: int, threads: int) -> float:
    """Peak working memory of one run / input size (call in a fresh process)."""
    _warm_up(threads)
    task = scene(size, bands)
    with PeakRSS() as mem:
        fsdaf(task, threads=threads)
    return (mem.peak - mem.start) / input_bytes(task)


def one_run(size: int, bands: int) -> float:
    """Seconds of one single-thread run after warm-up (the control runs this in 1 or 2 processes)."""
    _warm_up(1)
    task = scene(size, bands)
    t0 = time.perf_counter()
    fsdaf(task, threads=1)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--bands", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--control-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(peak_memory(args.size, args.bands, args.memory_child)))
        return
    if args.control_child:
        print(json.dumps(one_run(args.size, args.bands)))
        return
    memory = {threads: children(__file__, args.size, args.bands, "--memory-child", threads, 1)[0] for threads in (1, 2)}
    _warm_up(2)
    task = scene(args.size, args.bands)
    work = args.size * args.size * args.bands
    print(f"FSDAF, {args.size}x{args.size}x{args.bands}, 1 pair, ratio {RATIO}, half-window 20, 20 similar pixels, "
          f"input {input_bytes(task) / 2**20:.0f} MiB, {os.cpu_count()} cores; best of {args.repeats} interleaved runs")
    best = {1: np.inf, 2: np.inf}
    image_wide = np.inf
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        stats(task, FsdafParams())
        image_wide = min(image_wide, time.perf_counter() - t0)
        for threads in best:
            t0 = time.perf_counter()
            fsdaf(task, threads=threads)
            best[threads] = min(best[threads], time.perf_counter() - t0)
    print(f"  image-wide statistics (ISODATA, unmixing, TPS, residual distribution): {image_wide:6.2f} s")
    for threads, seconds in best.items():
        rate = work / seconds
        print(f"  {threads} thread{'s' if threads > 1 else ' '}: {seconds:6.2f} s {rate:12,.0f} pixel-bands/s "
              f"({rate / threads:,.0f} per thread); peak working memory {memory[threads]:.2f} x input")
    print(f"  two threads / one thread: {best[1] / best[2]:.2f}x")
    solo = children(__file__, args.size, args.bands, "--control-child", 1, 1)[0]
    pair = max(children(__file__, args.size, args.bands, "--control-child", 1, 2))
    print(f"  control, the machine's own ceiling: two single-thread processes at once do "
          f"{2 * solo / pair:.2f}x the work of one in the same time")
    predict_tiled("fsdaf", task, chunk=256)
    t0 = time.perf_counter()
    predict_tiled("fsdaf", task, chunk=256)
    seconds = time.perf_counter() - t0
    print(f"  Dask map_overlap runner, 256-pixel chunks, threads: {seconds:6.2f} s "
          f"{work / seconds:12,.0f} pixel-bands/s")


if __name__ == "__main__":
    main()
