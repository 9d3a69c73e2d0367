"""Time-series fusion on the IFSDAF 2015 NDVI series: a whole season, and the held-out DOY 287.

The script lays the shared set out as a user's folders: the eight cloudy Landsat-8 NDVI dates
with their cfmask files (DOY 287 held out), and the 23 MODIS 16-day composites as one GeoTIFF
per composite named by its first day (``MOD13_A2015DDD.tif``). Then, for each method:

1. ``season``: `run_series` with the defaults (every composite without a Landsat date, from the
   nearest pairs at least 50 % clear before and after it; ``coarse_period=16``);
2. ``DOY 287``: `run_series` with ``dates=[2015-10-14]``, scored against the cloud-free
   Landsat image of that date (RMSE, SSIM and CC in NDVI units, ERGAS with h/l = 1/8).

For the largest group of season dates sharing their pairs it also times `predict_series`
(what depends on the pairs only is computed once) against `predict` on each date alone, on the
same in-memory inputs in the same run, checks that the outputs are identical and prints the ratio.

    python benchmarks/series_ifsdaf.py [--methods delta starfm ...] [--write docs/series.md]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from stfusion.bench.atomic import write_text
from stfusion.core import predict
from stfusion.core.registry import get_spec
from stfusion.core.run import predict_series
from stfusion.core.scene import Scene
from stfusion.core.task import FusionTask, Pair
from stfusion.data import data_root
from stfusion.data.ndvi_series import TARGET_DATE, composite_start
from stfusion.io import align_to_fine, read_scene, write_scene
from stfusion.io.folder import read_masked, scan_images
from stfusion.metrics import evaluate
from stfusion.parallel.series import run_series

METHODS = ("delta", "starfm", "estarfm", "ubdf", "fsdaf", "fitfc")
# NDVI lies in [-1, 1], not in the reflectance range [0, 1] that the methods' bounds default to.
NDVI_RANGE = {"estarfm": {"data_min": -1.0}, "fsdaf": {"data_min": -1.0}, "ubdf": {"lower": -1.0, "upper": 1.0}}
PERIOD = 16
RATIO = 8.0
HELD_OUT = "LC81260382015287LGN00_ndvi"


def lay_out(work: Path) -> tuple[Path, Path]:
    """``work/fine`` (links to the Landsat NDVI and mask files but DOY 287) and ``work/coarse``
    (one GeoTIFF per MODIS composite)."""
    src = data_root() / "ifsdaf_ndvi_series"
    fine, coarse = work / "fine", work / "coarse"
    fine.mkdir(parents=True)
    for f in sorted(src.glob("LC8*")):
        if "2015287" not in f.name:
            (fine / f.name).symlink_to(f)
    modis = read_scene(src / "MOD_16Day_ndvi")
    for i in range(modis.count):
        write_scene(modis.select_bands([i]).replace(bands=("ndvi",)),
                    coarse / f"MOD13_A{composite_start(i):%Y%j}.tif")
    return fine, coarse


def largest_group(fine: Path, coarse: Path, index: Path) -> tuple[list[Pair], list[Scene]]:
    """The pairs and the targets (on the fine grid) of the largest group of season dates that
    share their pairs in the index of a season."""
    items = {i.date: i for i in scan_images(fine)}
    composites = sorted(c.date for c in scan_images(coarse))
    groups: dict[tuple[str, ...], list[dict]] = {}
    for f in json.loads(index.read_text())["features"]:
        groups.setdefault(tuple(f["properties"]["stfusion:pairs"]), []).append(f["properties"])
    dates, props = max(groups.items(), key=lambda g: len(g[1]))
    grid = read_masked(items[_dt.date.fromisoformat(dates[0])].path)

    def composite(name: str, date: _dt.date) -> Scene:
        return align_to_fine(read_scene(coarse / name), grid).replace(date=date)

    pairs = []
    for text in dates:
        d = _dt.date.fromisoformat(text)
        first = max(c for c in composites if c <= d)
        pairs.append(Pair(read_masked(items[d].path, items[d].mask).replace(date=d),
                          composite(f"MOD13_A{first:%Y%j}.tif", d)))
    targets = [composite(p["stfusion:coarse"], _dt.date.fromisoformat(p["datetime"][:10])) for p in props]
    return pairs, targets


def reuse(method: str, params: dict[str, float], pairs: list[Pair], targets: list[Scene]) -> str:
    """Seconds of `predict_series` on one group against `predict` per target (same inputs, same
    output checked), as a line of text."""
    start = time.perf_counter()
    together = predict_series(method, pairs, targets, ratio=RATIO, **params)
    shared = time.perf_counter() - start
    start = time.perf_counter()
    alone = [predict(method, FusionTask(pairs, t, ratio=RATIO), **params) for t in targets]
    each = time.perf_counter() - start
    same = all(np.array_equal(a.data, b.data, equal_nan=True) and np.array_equal(a.mask, b.mask)
               for a, b in zip(together, alone))
    how = ("pair statistics shared" if hasattr(get_spec(method).load(), "predict_series")
           else "no pair-only statistics to share")
    return (f"{method}: {len(targets)} dates from {len(pairs)} pair(s): {shared:.2f} s together ({how}), "
            f"{each:.2f} s one date at a time ({each / shared:.2f}x); outputs identical: {same}")


def run(methods: list[str], work: Path) -> tuple[list[dict[str, object]], str]:
    fine, coarse = lay_out(work)
    truth = read_scene(data_root() / "ifsdaf_ndvi_series" / HELD_OUT)
    rows = []
    reuses: list[str] = []
    for method in methods:
        params = NDVI_RANGE.get(method, {})
        start = time.perf_counter()
        season = run_series(method, fine, coarse, work / f"season_{method}", params=params,
                            coarse_period=PERIOD, progress=False)
        season_s = time.perf_counter() - start
        reuses.append(reuse(method, params, *largest_group(fine, coarse, season.index)))
        print("  " + reuses[-1], flush=True)
        held = run_series(method, fine, coarse, work / f"doy287_{method}", params=params, coarse_period=PERIOD,
                          dates=[TARGET_DATE], progress=False)
        pred = read_scene(held.outputs[TARGET_DATE])
        report = evaluate(truth, pred, ratio=1 / RATIO, metrics=("rmse", "ssim", "ergas", "cc"))
        item = json.loads(held.index.read_text())["features"][0]["properties"]
        rows.append({"method": method, "dates": len(season.outputs), "skipped": len(season.skipped),
                     "season_s": season_s, "pairs": ", ".join(item["stfusion:pairs"]),
                     "valid": item["stfusion:valid_fraction"], **report.values})
        print(f"  {method:8s} season {len(season.outputs)} dates {season_s:6.1f} s | DOY 287 from "
              f"{rows[-1]['pairs']}: rmse {report.values['rmse']:.4f} cc {report.values['cc']:.4f}", flush=True)
    return rows, reuses


def table(rows: list[dict[str, object]]) -> str:
    delta = next((float(r["rmse"]) for r in rows if r["method"] == "delta"), None)
    lines = ["| method | season: dates written | season: time (s) | DOY 287 pairs | RMSE | SSIM | ERGAS | CC "
             "| RMSE vs delta |", "|" + "---|" * 9]
    for r in rows:
        vs = "" if delta is None or r["method"] == "delta" else f"{100 * (float(r['rmse']) - delta) / delta:+.1f} %"
        lines.append(f"| {r['method']} | {r['dates']} | {float(r['season_s']):.1f} | {r['pairs']} | {r['rmse']:.4f} "
                     f"| {r['ssim']:.4f} | {r['ergas']:.3f} | {r['cc']:.4f} | {vs} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--write", type=Path, default=None, help="Write the results section of this page.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows, reuses = run(args.methods, Path(tmp))
    text = table(rows) + "\n\nPair statistics shared across the targets of one group (the largest of the season):\n\n" + \
        "\n".join(f"- {r}" for r in reuses)
    print(text)
    if args.write is not None:
        page = args.write.read_text()
        head, sep, _ = page.partition(RESULTS)
        if not sep:
            raise SystemExit(f"{args.write} has no '{RESULTS}' line to put the results under")
        write_text(args.write, head + RESULTS + "\n\n" + text + "\n")


RESULTS = "## Results"

if __name__ == "__main__":
    main()
