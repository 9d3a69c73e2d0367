"""`stfusion series`: a fine image for every coarse date of two folders (or a flat folder, or a local STAC
catalogue) that lacks one."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import click

from ..core.errors import DateError, InvalidParameterError
from .options import parse_sets


def parse_dates(items: tuple[str, ...]) -> list[_dt.date] | None:
    """``--dates`` values (YYYY-MM-DD, YYYYMMDD or YYYYDDD; comma-separated or repeated) as dates."""
    from ..io.dates import parse_date

    if not items:
        return None
    out = []
    for text in (t.strip() for item in items for t in item.split(",")):
        if not text:
            continue
        date = parse_date(text)
        if date is None:
            raise DateError(f"--dates {text!r} is not a date; write YYYY-MM-DD, YYYYMMDD or YYYYDDD")
        out.append(date)
    return out


def parse_codes(text: str) -> tuple[float, ...]:
    """``--clear-codes 0,1`` as a tuple of numbers."""
    try:
        codes = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise InvalidParameterError(f"--clear-codes {text!r} is not a list of numbers; write e.g. --clear-codes 0,1") from None
    if not codes:
        raise InvalidParameterError("--clear-codes is empty; write e.g. --clear-codes 0,1")
    return codes


@click.command()
@click.argument("method")
@click.option("--fine-dir", type=click.Path(path_type=Path), help="Folder of dated fine images.")
@click.option("--coarse-dir", type=click.Path(path_type=Path),
              help="Folder of dated coarse images (default: --fine-dir, a flat folder split by the sensor codes "
                   "in the names, e.g. LC08/LE07/S2A fine and MOD09/MCD43/S3A coarse, unless the patterns split it).")
@click.option("--stac", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="A local STAC catalogue, collection or ItemCollection of fine and coarse items (instead of "
                   "--fine-dir): fine or coarse by platform, constellation, instruments or collection; "
                   "needs pip install 'stfusion[stac]'.")
@click.option("--out-dir", required=True, type=click.Path(path_type=Path),
              help="Folder for one COG per date and index.json.")
@click.option("--dates", "dates", multiple=True, metavar="DATE[,DATE...]",
              help="Dates to predict (default: every coarse date without a fine image).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="A method parameter (repeatable).")
@click.option("--fine-pattern", default="*", show_default=True,
              help="Glob of the fine images in --fine-dir (with --stac: of the items' file names).")
@click.option("--coarse-pattern", default="*", show_default=True,
              help="Glob of the coarse images in --coarse-dir (with --stac: of the items' file names).")
@click.option("--mask-suffix", default="_mask", show_default=True,
              help="A raster named <image stem><suffix> is that image's cloud mask.")
@click.option("--clear-codes", default="0,1", show_default=True,
              help="Mask values that are clear (cfmask: 0 clear land, 1 water; a 0/1 valid mask: 1).")
@click.option("--min-clear", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Least clear fraction of a fine image to be used as a pair.")
@click.option("--coarse-period", type=click.IntRange(min=1), default=1, show_default=True,
              help="Days each coarse image covers from its date (16 for MODIS 16-day composites).")
@click.option("--ratio", type=float, default=None,
              help="Coarse/fine pixel-size ratio when the coarse files are already on the fine grid.")
@click.option("--resample", type=click.Choice(["average", "bilinear", "nearest"]), default="average",
              help="How coarse files on their own grid are put on the fine grid.")
@click.option("--classes", type=click.Path(path_type=Path), default=None,
              help="A single-band class map on the fine grid (methods that take one).")
@click.option("--chunk", type=click.IntRange(min=1), default=None,
              help="Stream each date in blocks of N x N fine pixels (memory set by the block, not the scene).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Threads of a streamed (--chunk) run; default: all cores.")
@click.option("--gtiff", is_flag=True, help="Write plain tiled GeoTIFFs instead of COGs.")
@click.option("--overwrite", is_flag=True, help="Replace the outputs of a non-empty --out-dir.")
def series(method: str, fine_dir: Path | None, coarse_dir: Path | None, stac: Path | None, out_dir: Path,
           dates: tuple[str, ...], sets: tuple[str, ...], fine_pattern: str, coarse_pattern: str, mask_suffix: str,
           clear_codes: str, min_clear: float, coarse_period: int, ratio: float | None, resample: str,
           classes: Path | None, chunk: int | None, workers: int | None, gtiff: bool, overwrite: bool) -> None:
    """Predict a fine image with METHOD for every coarse date that lacks one, from the nearest
    clear pairs before and after it; write one COG per date and a STAC index (index.json).
    Run it again with the same arguments to finish an interrupted run."""
    from ..parallel.series import run_series

    if (fine_dir is None) == (stac is None) or (stac is not None and coarse_dir is not None):
        raise click.UsageError("give either --fine-dir (and --coarse-dir when the coarse images have a folder of "
                               "their own) or --stac")
    source = stac or fine_dir
    result = run_series(method, source, coarse_dir or source, out_dir, dates=parse_dates(dates), params=parse_sets(sets),
                        fine_pattern=fine_pattern, coarse_pattern=coarse_pattern, mask_suffix=mask_suffix,
                        clear_codes=parse_codes(clear_codes), min_clear=min_clear, coarse_period=coarse_period,
                        ratio=ratio, resample=resample, classes=classes, driver="GTiff" if gtiff else "COG",
                        overwrite=overwrite, chunk=chunk, workers=workers)
    for date, reason in result.skipped.items():
        click.echo(f"skipped {date.isoformat()}: {reason}", err=True)
    resumed = f" ({len(result.resumed)} from an earlier run)" if result.resumed else ""
    click.echo(f"wrote {len(result.outputs)} date(s){resumed} to {out_dir}; index {result.index}")
