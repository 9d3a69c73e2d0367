"""SPSTFM throughput (pixel-bands per second) on a synthetic scene, one and two threads.

Usage: python benchmarks/spstfm_speed.py [--size 1000] [--bands 6] [--repeat 1]

The scene is `common.field_scene`: a field map of six classes with per-class
spectra and texture, three dates with a class-dependent change, and coarse images that are
16 x 16 block means on the fine grid plus noise (two pairs and the target). SPSTFM runs with the
reference defaults (patch 7, overlap 2, 256 atoms, 2000 training patches, 10-20 K-SVD
iterations). "training" is `stats` alone (K-SVD, one dictionary pair per band); "total" is the
whole prediction (training + reconstruction). With 2 threads, bands are trained and row strips
reconstructed in two worker processes (scikit-learn's OMP holds the GIL, so threads would not
help); the first parallel run also starts the workers, so a warm-up run precedes the timings.
"""

from __future__ import annotations

import argparse
import time

from common import best_time, field_scene

from stfusion.core.params.spstfm import SpstfmParams
from stfusion.methods.classical.spstfm import spstfm, stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--bands", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    from threadpoolctl import threadpool_limits

    task = field_scene(args.size, args.bands)
    work = args.size * args.size * args.bands
    params = SpstfmParams()
    print(f"scene {args.size}x{args.size}x{args.bands}, two pairs, SPSTFM reference defaults")
    t0 = time.perf_counter()
    spstfm(field_scene(400, args.bands, seed=1), threads=2, max_train_iter=1, min_train_iter=1)  # start workers
    print(f"warm-up (400 x 400, one training iteration, 2 workers) {time.perf_counter() - t0:.1f} s")
    rates = {}
    for threads in (1, 2):
        with threadpool_limits(limits=1, user_api="blas"):
            sec_train = best_time(lambda: stats(task, params, threads=threads), args.repeat)
        sec = best_time(lambda: spstfm(task, threads=threads), args.repeat)
        rates[threads] = work / sec
        print(f"in memory {threads} thread(s): training {sec_train:7.1f} s, total {sec:7.1f} s  "
              f"{rates[threads]:10,.0f} pixel-bands/s")
    print(f"speed-up 2 vs 1 threads: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
