"""Whole-scene STSF through the streaming runner: peak memory and time for two scene sizes.

Writes, strip by strip, a synthetic HS/MS pair at ratio 3 for each MS size (default 1500 and
3000 pixels a side): a fine cube of three materials in 30-pixel fields with texture, the HS
image as its 3 x 3 block means (int16 x 10000, ``--bands`` bands named by wavelength), and MS
images at two dates (four bands as Gaussian responses, the second with a field-wise change).
Each run is a fresh process that prints its wall time and peak resident memory (ru_maxrss):

- `stream_stsf` with each of ``--methods`` (default GSA, the cascade and CNMF; ``--chunk``-pixel
  blocks, two threads), at both sizes;
- the in-memory run (`stfusion stsf` without ``--chunk``) of GSA at the small size, as the baseline.

The streamed peak should stay about the same at both sizes (set by the block and the statistics
tile), while the in-memory peak grows with the scene (the whole HS cube upsampled in float64).

    python benchmarks/stsf_stream.py [--sizes 1500 3000] [--bands 60] [--chunk 256] [--methods gsa cascade cnmf]
                                     [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RATIO, STRIP, FIELD = 3, 300, 30
MS_CENTRES, MS_WIDTH = (490.0, 560.0, 665.0, 842.0), 40.0


def _spectra(bands: int) -> tuple[np.ndarray, np.ndarray]:
    wl = np.linspace(420.0, 900.0, bands)
    veg = 0.05 + 0.4 / (1 + np.exp(-(wl - 715) / 12))
    soil = 0.1 + 0.25 * (wl - 420) / 480
    water = 0.08 * np.exp(-(wl - 420) / 150)
    return wl, np.stack([veg, soil, water])


def write_inputs(d: Path, size: int, bands: int) -> dict[str, Path]:
    """hs.tif (size / 3 pixels a side), ms1.tif and ms2.tif (size pixels a side), written strip by strip."""
    import rasterio
    from rasterio.transform import from_origin

    wl, spectra = _spectra(bands)
    srf = np.exp(-0.5 * ((wl[None] - np.array(MS_CENTRES)[:, None]) / (MS_WIDTH / 2.355)) ** 2)
    srf /= srf.sum(axis=1, keepdims=True)
    common = dict(driver="GTiff", dtype="int16", nodata=-9999, crs="EPSG:32633", tiled=True, blockxsize=256,
                  blockysize=256, compress="deflate", predictor=2, BIGTIFF="IF_SAFER")
    small = size // RATIO
    paths = {k: d / f"{k}.tif" for k in ("hs", "ms1", "ms2")}
    rng = np.random.default_rng(0)
    n_fields = size // FIELD + 1
    fields = rng.random((3, n_fields, n_fields)).astype(np.float32) ** 3
    change = rng.normal(0.0, 0.03, (4, n_fields, n_fields)).astype(np.float32)
    with rasterio.open(paths["hs"], "w", width=small, height=small, count=bands,
                       transform=from_origin(500000.0, 4000000.0, 30.0, 30.0), **common) as hs, \
            rasterio.open(paths["ms1"], "w", width=size, height=size, count=4,
                          transform=from_origin(500000.0, 4000000.0, 10.0, 10.0), **common) as ms1, \
            rasterio.open(paths["ms2"], "w", width=size, height=size, count=4,
                          transform=from_origin(500000.0, 4000000.0, 10.0, 10.0), **common) as ms2:
        hs.descriptions = tuple(f"{w:g}" for w in wl)
        for r in range(0, size, STRIP):
            h = min(STRIP, size - r)
            rows, cols = np.arange(r, r + h), np.arange(size)
            ab = fields[:, rows[:, None] // FIELD, cols[None, :] // FIELD] + 0.05 * rng.random((3, h, size), np.float32)
            ab /= ab.sum(axis=0, keepdims=True)
            cube = np.einsum("mb,mrc->brc", spectra.astype(np.float32), ab)
            m1 = np.einsum("kb,brc->krc", srf.astype(np.float32), cube)
            m2 = m1 + change[:, rows[:, None] // FIELD, cols[None, :] // FIELD]
            for dst, img in ((ms1, m1), (ms2, m2)):
                dst.write(np.round(img * 10000).astype(np.int16), window=rasterio.windows.Window(0, r, size, h))
            low = cube.reshape(bands, h // RATIO, RATIO, small, RATIO).mean(axis=(2, 4))
            hs.write(np.round(low * 10000).astype(np.int16),
                     window=rasterio.windows.Window(0, r // RATIO, small, h // RATIO))
    return paths


def child(workdir: Path, method: str, chunk: int) -> None:
    """One run in this (fresh) process; prints seconds and peak RSS as JSON (chunk 0: in memory)."""
    import resource
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    out = workdir / f"{method}_{chunk}.tif"
    if chunk:
        from stfusion.parallel.stsf_stream import stream_stsf

        stream_stsf(method, workdir / "hs.tif", workdir / "ms1.tif", out, ms_target=workdir / "ms2.tif",
                    block=chunk, workers=2, overwrite=True, progress=False)
    else:
        from stfusion.core.run import predict_stsf
        from stfusion.core.task import STSFTask
        from stfusion.io import write_scene
        from stfusion.io.cube import read_image

        task = STSFTask(hs=read_image(workdir / "hs.tif"), ms=read_image(workdir / "ms1.tif"),
                        ms_target=read_image(workdir / "ms2.tif"))
        write_scene(predict_stsf(method, task), out, overwrite=True)
    seconds = time.perf_counter() - t0
    out.unlink()
    print(json.dumps({"seconds": seconds, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def _run(d: Path, method: str, chunk: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", method, "--workdir", str(d), "--chunk", str(chunk)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1500, 3000])
    parser.add_argument("--bands", type=int, default=60)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--methods", nargs="+", default=["gsa", "cascade", "cnmf"])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.workdir, args.child, args.chunk)
        return
    for i, size in enumerate(args.sizes):
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            d = Path(tmp)
            write_inputs(d, size, args.bands)
            small = size // RATIO
            print(f"MS {size}x{size}x4 (x2 dates), HS {small}x{small}x{args.bands}; output {args.bands} bands "
                  f"at {size}x{size} ({args.bands * size * size * 8 / 2**30:.1f} GiB as float64)")
            runs = [(m, args.chunk) for m in args.methods] + ([("gsa", 0)] if i == 0 else [])
            for method, chunk in runs:
                r = _run(d, method, chunk)
                how = f"streamed, {chunk}-pixel blocks, 2 threads" if chunk else "in memory (baseline)"
                print(f"  {method:<8} {how:<38} {r['seconds']:7.1f} s   peak RSS {r['peak_rss'] / 2**30:5.2f} GiB",
                      flush=True)


if __name__ == "__main__":
    main()
