"""Whole-scene STARFM through the streaming runner: peak memory and throughput, one and two workers.

Writes a synthetic 8000 x 8000 x 6 scene as int16 GeoTIFFs (reflectance x 10000, fine image,
coarse image as 16 x 16 block means on the fine grid, and a target coarse image with a
field-wise change; about 2.3 GB in ``--workdir``, default a temporary folder), then runs
`stream_predict` with STARFM (31 x 31 window: 450 m search distance at 30 m, as in
benchmarks/starfm_speed.py) in a fresh process per worker count and prints each run's wall time,
throughput in pixel-bands per second and peak resident memory (the process's own high-water
mark, ru_maxrss), and the ratio of the two throughputs. Targets (issue 5): peak RSS under 2 GiB,
two workers at least 1.8x one.

    python benchmarks/scale_stream.py [--size 8000] [--bands 6] [--block 1024] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RES, RATIO, STRIP = 30.0, 16, 512
SEARCH = 450.0


def write_inputs(d: Path, size: int, bands: int) -> dict[str, Path]:
    """fine_20200601.tif, coarse_20200601.tif, coarse_20200620.tif, written strip by strip."""
    import rasterio
    from rasterio.transform import from_origin

    profile = dict(driver="GTiff", width=size, height=size, count=bands, dtype="int16", nodata=-9999,
                   crs="EPSG:32633", transform=from_origin(500000.0, 4000000.0, RES, RES), tiled=True,
                   blockxsize=512, blockysize=512, compress="deflate", predictor=2, BIGTIFF="YES")
    paths = {k: d / f"{k}.tif" for k in ("fine_20200601", "coarse_20200601", "coarse_20200620")}
    rng = np.random.default_rng(0)
    fields = rng.random((bands, size // 32 + 1, size // 32 + 1)).astype(np.float32)  # 32-pixel fields
    change = rng.normal(0.0, 0.03, (bands, size // 64 + 1, size // 64 + 1)).astype(np.float32)
    with rasterio.open(paths["fine_20200601"], "w", **profile) as f, \
            rasterio.open(paths["coarse_20200601"], "w", **profile) as c1, \
            rasterio.open(paths["coarse_20200620"], "w", **profile) as c2:
        for r in range(0, size, STRIP):
            h = min(STRIP, size - r)
            rows = np.arange(r, r + h)
            cols = np.arange(size)
            base = fields[:, rows[:, None] // 32, cols[None, :] // 32]
            fine = 0.05 + 0.3 * base + 0.01 * rng.standard_normal((bands, h, size), np.float32)
            n = size // RATIO * RATIO
            coarse = np.array(fine)
            blocks = fine[:, : h // RATIO * RATIO, :n].reshape(bands, h // RATIO, RATIO, n // RATIO, RATIO).mean((2, 4))
            coarse[:, : h // RATIO * RATIO, :n] = np.repeat(np.repeat(blocks, RATIO, 1), RATIO, 2)
            target = coarse + change[:, rows[:, None] // 64, cols[None, :] // 64]
            window = rasterio.windows.Window(0, r, size, h)
            for dst, img in ((f, fine), (c1, coarse), (c2, target)):
                dst.write(np.round(img * 10000).astype(np.int16), window=window)
    return paths


def child(workdir: Path, workers: int, block: int) -> None:
    """One run in this (fresh) process; prints seconds and peak RSS as JSON."""
    import resource

    from stfusion.parallel.stream import stream_predict

    t0 = time.perf_counter()
    stream_predict("starfm", [(workdir / "fine_20200601.tif", workdir / "coarse_20200601.tif")],
                   workdir / "coarse_20200620.tif", workdir / f"starfm_{workers}.tif", ratio=RATIO,
                   params={"search_distance": SEARCH}, block=block, workers=workers, overwrite=True, progress=False)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8000)
    parser.add_argument("--bands", type=int, default=6)
    parser.add_argument("--block", type=int, default=1024)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.workdir, args.child, args.block)
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        write_inputs(d, args.size, args.bands)
        size_gb = sum(p.stat().st_size for p in d.iterdir()) / 1e9
        print(f"inputs: 3 int16 GeoTIFFs {args.size}x{args.size}x{args.bands}, {size_gb:.2f} GB on disk, "
              f"decoded {3 * args.size**2 * args.bands * 4 / 2**30:.1f} GiB as float32; written in "
              f"{time.perf_counter() - t0:.0f} s")
        work = args.size * args.size * args.bands
        rates = {}
        for workers in (1, 2):
            cmd = [sys.executable, __file__, "--child", str(workers), "--workdir", str(d), "--block", str(args.block)]
            result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            rates[workers] = work / result["seconds"]
            print(f"STARFM streamed, {workers} worker{'s' if workers > 1 else ' '}, {args.block}-pixel blocks: "
                  f"{result['seconds']:7.1f} s {rates[workers]:12,.0f} pixel-bands/s, "
                  f"peak RSS {result['peak_rss'] / 2**30:.2f} GiB")
        print(f"two workers / one worker: {rates[2] / rates[1]:.2f}x  ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
