"""UBDF throughput (pixel-bands per second) on a synthetic scene, one and two threads.

Usage: python benchmarks/ubdf_speed.py [--size 1000] [--bands 6] [--classes 4] [--window 3] [--repeat 7]

The scene is `common.field_scene` with one pair: a field map of six classes with per-class
spectra and texture, a class-dependent change, and coarse images that are 16 x 16 block means on
the fine grid plus noise. Timings exclude Numba
compilation (one warm-up run, printed separately) and are the best of ``--repeat`` runs. "in
memory" runs `ubdf` with ``threads`` (k-means chunks, window rows and pixel rows are split over
them); "k-means only" times the classification step alone; "dask" runs `predict_tiled` with
250-pixel chunks on the threaded scheduler: the statistics (k-means, windows) are computed once
with all cores in both cases, and only the per-pixel look-up runs per chunk on the Dask workers.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import RATIO, best_time, field_scene

from stfusion.methods.classical.kmeans import kmeans
from stfusion.methods.classical.ubdf import ubdf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--bands", type=int, default=6)
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--window", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    import dask

    from stfusion.parallel import predict_tiled

    task = field_scene(args.size, args.bands, pairs=1)
    work = args.size * args.size * args.bands
    opts = dict(num_classes=args.classes, window=args.window)
    t0 = time.perf_counter()
    ubdf(task, threads=1, **opts)
    print(f"scene {args.size}x{args.size}x{args.bands}, one pair, ratio {RATIO}, {args.classes} classes, "
          f"window {args.window}; first run incl. Numba compilation/cache load {time.perf_counter() - t0:.2f} s")
    fine = np.asarray(task.pairs[0].fine.data)
    rates = {}
    for threads in (1, 2):
        sec = best_time(lambda: kmeans(fine, args.classes, threads=threads), args.repeat)
        print(f"{'k-means only':14s} in memory {threads} thread(s): {sec:7.2f} s")
    for threads in (1, 2):
        sec = best_time(lambda: ubdf(task, threads=threads, **opts), args.repeat)
        rates[threads] = work / sec
        print(f"{'UBDF':14s} in memory {threads} thread(s): {sec:7.2f} s  {rates[threads]:12,.0f} pixel-bands/s")
    print(f"{'UBDF':14s} in memory speed-up 2 vs 1 threads: {rates[2] / rates[1]:.2f}x")
    rates = {}
    for threads in (1, 2):
        with dask.config.set(num_workers=threads):
            sec = best_time(lambda: predict_tiled("ubdf", task, chunk=250, scheduler="threads", params=opts),
                            args.repeat)
        rates[threads] = work / sec
        print(f"{'UBDF':14s} dask 250-px chunks {threads} thread(s): {sec:7.2f} s  {rates[threads]:12,.0f} pixel-bands/s")
    print(f"{'UBDF':14s} dask speed-up 2 vs 1 threads: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
