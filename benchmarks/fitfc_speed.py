"""Fit-FC throughput (pixel-bands per second) on a synthetic scene, one and two threads.

Usage: python benchmarks/fitfc_speed.py [--size 1000] [--bands 6] [--repeat 3] [--dask]

The scene: a field map of six classes with per-class spectra and texture, two dates with a
class-dependent change, and coarse images that are 16 x 16 block means on the fine grid (one pair
and the target), as in benchmarks/estarfm_speed.py. Fit-FC runs with its defaults (3 x 3 coarse
regression window, 41 x 41 filter window, 20 similar pixels on all bands). Timings exclude Numba
compilation (one warm-up run, printed separately) and are the best of ``--repeat`` rounds, the
1- and 2-thread runs alternating within a round.
"In memory" splits rows over threads; ``--dask`` also runs `predict_tiled` with 250-pixel chunks
on the threaded scheduler.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
from scipy.ndimage import gaussian_filter

from stfusion.core import FusionTask, Pair, Scene
from stfusion.methods.classical.fitfc import fitfc

RATIO = 16


def synthetic_task(size: int, bands: int, seed: int = 0) -> FusionTask:
    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.standard_normal((size, size)), 6.0)
    classes = np.digitize(field, np.quantile(field, np.linspace(0, 1, 7)[1:-1]))
    spectra = 0.05 + 0.3 * rng.random((6, bands))
    change = 0.08 * rng.standard_normal((6, bands))
    texture = 0.01 * rng.standard_normal((bands, size, size))

    def fine(t: int) -> np.ndarray:
        return np.clip(spectra[classes].transpose(2, 0, 1) + t * change[classes].transpose(2, 0, 1) + texture,
                       0.005, 0.95).astype(np.float32)

    def coarse(img: np.ndarray) -> np.ndarray:
        n = -(-size // RATIO) * RATIO
        padded = np.pad(img, ((0, 0), (0, n - size), (0, n - size)), mode="edge")
        blocks = padded.reshape(bands, n // RATIO, RATIO, n // RATIO, RATIO).mean(axis=(2, 4))
        out = np.repeat(np.repeat(blocks, RATIO, axis=1), RATIO, axis=2)[:, :size, :size]
        return (out + 0.002 * rng.standard_normal(out.shape)).astype(np.float32)

    d1, d2 = dt.date(2021, 5, 1), dt.date(2021, 6, 1)
    f1, f2 = fine(0), fine(1)
    return FusionTask([Pair(Scene(f1, date=d1), Scene(coarse(f1), date=d1))], Scene(coarse(f2), date=d2),
                      ratio=RATIO)


def best_times(runs: dict, repeat: int) -> dict:
    """Best wall time of each run over ``repeat`` rounds; the runs alternate within a round, so a
    change in the machine's load affects them alike."""
    best = {k: float("inf") for k in runs}
    for _ in range(repeat):
        for k, run in runs.items():
            t0 = time.perf_counter()
            run()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--bands", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dask", action="store_true", help="also time the Dask runner")
    args = ap.parse_args()

    task = synthetic_task(args.size, args.bands)
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
