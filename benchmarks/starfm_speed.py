"""STARFM speed and memory on a synthetic 1000 x 1000 x 6 scene, one pair, 31 x 31 window.

Prints throughput in pixel-bands per second on one thread and on two (row strips on a thread
pool; the Numba kernel releases the GIL), their ratio, and the peak working memory (resident
memory above the loaded inputs, sampled every millisecond, one fresh process per thread count)
relative to the input size. Times are the best of ``--repeats`` interleaved runs, because the
timing of a shared virtual machine is noisy. A control runs two independent single-thread
processes at once: their combined speed-up is the machine's own ceiling for two threads at that
moment. Last line: the Dask ``map_overlap`` runner.

    python benchmarks/starfm_speed.py [--size 1000] [--bands 6] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from common import PeakRSS, children, input_bytes

from stfusion.core import FusionTask, Pair, Scene
from stfusion.methods.classical.starfm import starfm
from stfusion.parallel import predict_tiled

RES = 30.0
SEARCH = 450.0  # 15 pixels at 30 m: the 31 x 31 window


def scene(size: int, bands: int, seed: int = 0) -> FusionTask:
    """Blocky fields (fine), 16-pixel block means (coarse), and a field-wise change, float32."""
    rng = np.random.default_rng(seed)
    grid = dict(transform=(RES, 0.0, 500000.0, 0.0, -RES, 4000000.0), crs="EPSG:32633")
    fields = np.repeat(np.repeat(rng.random((bands, size // 8 + 1, size // 8 + 1), np.float32), 8, 1), 8, 2)
    fine = (0.05 + 0.3 * fields[:, :size, :size] + 0.01 * rng.standard_normal((bands, size, size), np.float32))
    k = 16
    blocks = fine[:, : size // k * k, : size // k * k].reshape(bands, size // k, k, size // k, k).mean(axis=(2, 4))
    coarse = np.pad(np.repeat(np.repeat(blocks, k, 1), k, 2), ((0, 0), (0, size % k), (0, size % k)), mode="edge")
    target = coarse + 0.05 * (fields[:, :size, :size] > 0.5)
    return FusionTask([Pair(Scene(fine, **grid), Scene(coarse.astype(np.float32), **grid))],
                      Scene(target.astype(np.float32), **grid))


def _inputs(task: FusionTask) -> int:
    return sum(np.asarray(s.data).nbytes + np.asarray(s.mask).nbytes
               for s in (task.pairs[0].fine, task.pairs[0].coarse, task.target))


def peak_memory(size: int, bands: int, threads: int) -> float:
    """Peak working memory of one run / input size (call in a fresh process)."""
    starfm(scene(64, 2), search_distance=SEARCH, threads=threads)  # compile (or load the Numba cache)
    task = scene(size, bands)
    with PeakRSS() as mem:
        starfm(task, search_distance=SEARCH, threads=threads)
    return (mem.peak - mem.start) / input_bytes(task)


def one_run(size: int, bands: int) -> float:
    """Seconds of one single-thread run after warm-up (the control runs this in 1 or 2 processes)."""
    starfm(scene(64, 2), search_distance=SEARCH, threads=1)
    task = scene(size, bands)
    t0 = time.perf_counter()
    starfm(task, search_distance=SEARCH, threads=1)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--bands", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
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
    starfm(scene(64, 2), search_distance=SEARCH, threads=2)
    task = scene(args.size, args.bands)
    work = args.size * args.size * args.bands
    print(f"STARFM, {args.size}x{args.size}x{args.bands}, 1 pair, 31x31 window, input "
          f"{input_bytes(task) / 2**20:.0f} MiB, {os.cpu_count()} cores; best of {args.repeats} interleaved runs")
    best = {1: np.inf, 2: np.inf}
    for _ in range(args.repeats):
        for threads in best:
            t0 = time.perf_counter()
            starfm(task, search_distance=SEARCH, threads=threads)
            best[threads] = min(best[threads], time.perf_counter() - t0)
    for threads, seconds in best.items():
        rate = work / seconds
        print(f"  {threads} thread{'s' if threads > 1 else ' '}: {seconds:6.2f} s {rate:12,.0f} pixel-bands/s "
              f"({rate / threads:,.0f} per thread); peak working memory {memory[threads]:.2f} x input")
    print(f"  two threads / one thread: {best[1] / best[2]:.2f}x")
    solo = children(__file__, args.size, args.bands, "--control-child", 1, 1)[0]
    pair = max(children(__file__, args.size, args.bands, "--control-child", 1, 2))
    print(f"  control, the machine's own ceiling: two single-thread processes at once do "
          f"{2 * solo / pair:.2f}x the work of one in the same time")
    predict_tiled("starfm", task, chunk=256, params={"search_distance": SEARCH})
    t0 = time.perf_counter()
    predict_tiled("starfm", task, chunk=256, params={"search_distance": SEARCH})
    seconds = time.perf_counter() - t0
    print(f"  Dask map_overlap runner, 256-pixel chunks, threads: {seconds:6.2f} s "
          f"{work / seconds:12,.0f} pixel-bands/s")


if __name__ == "__main__":
    main()
