"""Fit-FC throughput (pixel-bands per second) on a synthetic scene, one and two threads.

Usage: python benchmarks/fitfc_speed.py [--size 1000] [--bands 6] [--repeat 3] [--dask]

The scene is `common.field_scene` with one pair: a field map of six classes with per-class
spectra and texture, a class-dependent change, and coarse images that are 16 x 16 block means on
the fine grid plus noise. Fit-FC runs with its defaults (3 x 3 coarse
regression window, 41 x 41 filter window, 20 similar pixels on all bands). Timings exclude Numba
compilation (one warm-up run, printed separately) and are the best of ``--repeat`` rounds, the
1- and 2-thread runs alternating within a round.
"In memory" splits rows over threads; ``--dask`` also runs `predict_tiled` with 250-pixel chunks
on the threaded scheduler.
"""

from __future__ import annotations

import argparse
import time

from common import RATIO, best_times, field_scene

from stfusion.methods.classical.fitfc import fitfc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--bands", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dask", action="store_true", help="also time the Dask runner")
    args = ap.parse_args()

    task = field_scene(args.size, args.bands, pairs=1)
    work = args.size * args.size * args.bands
    t0 = time.perf_counter()
    fitfc(task, threads=1)
    print(f"scene {args.size}x{args.size}x{args.bands}, one pair, ratio {RATIO}, Fit-FC defaults; "
          f"first run incl. Numba compilation/cache load {time.perf_counter() - t0:.2f} s")
    secs = best_times({t: (lambda t=t: fitfc(task, threads=t)) for t in (1, 2)}, args.repeat)
    for threads, sec in secs.items():
        print(f"Fit-FC in memory {threads} thread(s): {sec:7.2f} s  {work / sec:12,.0f} pixel-bands/s")
    print(f"Fit-FC in memory speed-up 2 vs 1 threads: {secs[1] / secs[2]:.2f}x")
    if args.dask:
        import dask

        from stfusion.parallel import predict_tiled

        def tiled(threads: int) -> None:
            with dask.config.set(num_workers=threads):
                predict_tiled("fitfc", task, chunk=250, scheduler="threads")

        secs = best_times({t: (lambda t=t: tiled(t)) for t in (1, 2)}, args.repeat)
        for threads, sec in secs.items():
            print(f"Fit-FC dask 250-px chunks {threads} thread(s): {sec:7.2f} s  {work / sec:12,.0f} pixel-bands/s")
        print(f"Fit-FC dask speed-up 2 vs 1 threads: {secs[1] / secs[2]:.2f}x")


if __name__ == "__main__":
    main()
