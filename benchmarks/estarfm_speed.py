"""ESTARFM throughput (pixel-bands per second) on a synthetic scene, one and two threads.

Usage: python benchmarks/estarfm_speed.py [--size 1000] [--bands 6] [--half-window 25] [--repeat 3]

The scene (`common.field_scene`): a field map of six classes with per-class spectra and texture,
three dates with a class-dependent change, and coarse images that are 16 x 16 block means on the
fine grid (two pairs and the target). Timings exclude Numba compilation (one warm-up run, printed separately) and are
the best of ``--repeat`` runs. "in memory" splits rows over threads; "dask" runs `predict_tiled`
with 250-pixel chunks on the threaded scheduler.
"""

from __future__ import annotations

import argparse
import time

from common import best_time, field_scene

from stfusion.methods.classical.estarfm import estarfm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--bands", type=int, default=6)
    ap.add_argument("--half-window", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import dask

    from stfusion.parallel import predict_tiled

    task = field_scene(args.size, args.bands)
    work = args.size * args.size * args.bands
    w = args.half_window
    t0 = time.perf_counter()
    estarfm(task, half_window=w, threads=1)
    print(f"scene {args.size}x{args.size}x{args.bands}, two pairs, half-window {w}; "
          f"first run incl. Numba compilation/cache load {time.perf_counter() - t0:.2f} s")
    for label, num_similar in (("ESTARFM", None), ("ESTARFM_FAST (20)", 20)):
        rates = {}
        for threads in (1, 2):
            sec = best_time(lambda: estarfm(task, half_window=w, num_similar=num_similar, threads=threads), args.repeat)
            rates[threads] = work / sec
            print(f"{label:18s} in memory {threads} thread(s): {sec:7.2f} s  {rates[threads]:12,.0f} pixel-bands/s")
        print(f"{label:18s} in memory speed-up 2 vs 1 threads: {rates[2] / rates[1]:.2f}x")
    rates = {}
    params = {"half_window": w}
    for threads in (1, 2):
        with dask.config.set(num_workers=threads):
            sec = best_time(lambda: predict_tiled("estarfm", task, chunk=250, scheduler="threads", params=params),
                            args.repeat)
        rates[threads] = work / sec
        print(f"{'ESTARFM':18s} dask 250-px chunks {threads} thread(s): {sec:7.2f} s  {rates[threads]:12,.0f} pixel-bands/s")
    print(f"{'ESTARFM':18s} dask speed-up 2 vs 1 threads: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
