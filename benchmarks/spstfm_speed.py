"""SPSTFM throughput (pixel-bands per second) on a synthetic scene, one and two threads.

Usage: python benchmarks/spstfm_speed.py [--size 1000] [--bands 6] [--repeat 1]

The scene is the one of benchmarks/estarfm_speed.py: a field map of six classes with per-class
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
import datetime as dt
import time

import numpy as np
from scipy.ndimage import gaussian_filter

from stfusion.core import FusionTask, Pair, Scene
from stfusion.core.params.spstfm import SpstfmParams
from stfusion.methods.classical.spstfm import spstfm, stats

RATIO = 16


def synthetic_task(size: int, bands: int, seed: int = 0) -> FusionTask:
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

    dates = [dt.date(2021, 5, 1), dt.date(2021, 6, 1), dt.date(2021, 7, 1)]
    imgs = [fine(t) for t in range(3)]
    pairs = [Pair(Scene(imgs[t], date=dates[t]), Scene(coarse(imgs[t]), date=dates[t])) for t in (0, 2)]
    return FusionTask(pairs, Scene(coarse(imgs[1]), date=dates[1]), ratio=RATIO)


def best_time(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--bands", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    from threadpoolctl import threadpool_limits

    task = synthetic_task(args.size, args.bands)
    work = args.size * args.size * args.bands
    params = SpstfmParams()
    print(f"scene {args.size}x{args.size}x{args.bands}, two pairs, SPSTFM reference defaults")
    t0 = time.perf_counter()
    spstfm(synthetic_task(400, args.bands, seed=1), threads=2, max_train_iter=1, min_train_iter=1)  # start workers
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
