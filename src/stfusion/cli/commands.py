"""The commands: parsing arguments and printing results; the work happens in the library."""

from __future__ import annotations

from pathlib import Path

import click

from .options import check_output, parse_sets


@click.command()
@click.option("--task", "kind", type=click.Choice(["stf", "stsf"]), default=None, help="Only methods of this task.")
def methods(kind: str | None) -> None:
    """Print the method registry: name, family, pairs, training, parameters and defaults."""
    from ..core.registry import list_methods

    rows = [("name", "family", "task", "pairs", "training", "parameters (defaults)")]
    for s in list_methods(kind):
        params = ", ".join(f"{k}={v}" for k, v in s.defaults().items()) or "-"
        rows.append((s.name, s.family, s.task, s.pairs_text(), "yes" if s.needs_training else "no", params))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[5])


@click.command()
@click.argument("method")
@click.option("--pair", "pairs", nargs=2, multiple=True, required=True, metavar="FINE COARSE",
              type=click.Path(path_type=Path), help="A fine/coarse pair of the same date (repeatable).")
@click.option("--target", required=True, type=click.Path(path_type=Path), help="Coarse image at the prediction date.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output GeoTIFF.")
@click.option("--ratio", type=float, default=None,
              help="Coarse/fine pixel-size ratio when the coarse files are already on the fine grid.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="A method parameter (repeatable).")
@click.option("--resample", type=click.Choice(["average", "bilinear", "nearest"]), default="average",
              help="How coarse files on their own grid are put on the fine grid.")
@click.option("--classes", type=click.Path(path_type=Path), default=None,
              help="A single-band class map on the fine grid (methods that take one: starfm, fsdaf, ubdf).")
@click.option("--chunk", type=click.IntRange(min=1), default=None,
              help="Stream blocks of N x N fine pixels from the files to the output, resumably (same output).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Threads of a streamed (--chunk) run; default: all cores.")
@click.option("--scheduler", default=None, metavar="threads|processes|tcp://HOST:PORT",
              help="Run tiled with Dask on this scheduler instead of streaming (chunks of --chunk, default 512).")
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="Deep methods: a checkpoint from `stfusion train`.")
@click.option("--fit", is_flag=True,
              help="Deep methods: train on the given pairs first (one pair: with a simulated change).")
@click.option("--device", default=None, help="Deep methods: cpu, cuda or cuda:N.")
@click.option("--cog", is_flag=True, help="Write a Cloud-Optimized GeoTIFF.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
def predict(method: str, pairs: tuple[tuple[Path, Path], ...], target: Path, out: Path, ratio: float | None,
            sets: tuple[str, ...], resample: str, classes: Path | None, chunk: int | None, workers: int | None,
            scheduler: str | None, checkpoint: Path | None, fit: bool, device: str | None, cog: bool,
            overwrite: bool) -> None:
    """Predict the fine image at the date of TARGET with METHOD (see `stfusion methods`)."""
    from ..core.errors import InvalidParameterError
    from ..core.registry import get_spec
    from ..io.pair_checks import check_pairs
    from ..parallel import predict_files

    params = parse_sets(sets)
    deep = {"checkpoint": str(checkpoint) if checkpoint else None, "fit": "true" if fit else None, "device": device}
    deep = {k: v for k, v in deep.items() if v is not None}
    if deep and not get_spec(method).needs_training:
        raise InvalidParameterError(f"--{next(iter(deep))} is for the deep methods; {method} needs no training")
    if checkpoint and fit:
        raise InvalidParameterError("give --checkpoint or --fit, not both")
    params.update(deep)
    check_output(out, overwrite)
    check_pairs(pairs, target, ratio=ratio)
    written = predict_files(method, list(pairs), target, out, params=params, ratio=ratio, overwrite=overwrite,
                            driver="COG" if cog else "GTiff", resample=resample, classes=classes, chunk=chunk,
                            scheduler=scheduler, workers=workers)
    click.echo(f"wrote {written}")


@click.command()
@click.argument("truth", type=click.Path(path_type=Path))
@click.argument("pred", type=click.Path(path_type=Path))
@click.option("--h-over-l", "h_over_l", type=float, default=None,
              help="ERGAS h/l = fine pixel size / coarse pixel size (<= 1), e.g. 0.0625 for 30 m vs 480 m.")
@click.option("--coarse-ratio", type=float, default=None,
              help="Or the coarse/fine pixel-size ratio (>= 1, as predict's --ratio), e.g. 16; h/l = 1 / it.")
@click.option("--ratio", "old_ratio", type=float, default=None, hidden=True,
              help="Deprecated: --h-over-l or --coarse-ratio (a value above 1 is read as coarse/fine).")
@click.option("--data-range", type=float, default=1.0, show_default=True,
              help="Data range L for PSNR and SSIM (1.0 for reflectance).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Also write the metrics as JSON.")
@click.option("--apa", "apa_out", type=click.Path(path_type=Path), default=None, help="Also draw the APA polar diagram (PNG).")
@click.option("--overwrite", is_flag=True, help="Replace existing JSON/PNG outputs.")
def evaluate(truth: Path, pred: Path, h_over_l: float | None, coarse_ratio: float | None, old_ratio: float | None,
             data_range: float, json_out: Path | None, apa_out: Path | None, overwrite: bool) -> None:
    """Compare PRED with TRUTH: a per-band metric table, optionally JSON and the APA diagram.

    ERGAS needs the resolution ratio: give --h-over-l (e.g. 0.0625) or --coarse-ratio (e.g. 16).
    """
    from ..bench.evaluate import evaluate_files

    ratio = _h_over_l(h_over_l, coarse_ratio, old_ratio)

    for path in (json_out, apa_out):
        if path is not None:
            check_output(path, overwrite)
    report = evaluate_files(truth, pred, ratio=ratio, data_range=data_range, json_out=json_out, apa_out=apa_out)
    click.echo(report.table())
    for path in (json_out, apa_out):
        if path is not None:
            click.echo(f"wrote {path}")


def _h_over_l(h_over_l: float | None, coarse_ratio: float | None, old_ratio: float | None) -> float:
    """ERGAS's h/l from exactly one of the three spellings; the deprecated --ratio takes either
    convention (a value above 1 is coarse/fine) and says which it read."""
    given = [name for name, v in (("--h-over-l", h_over_l), ("--coarse-ratio", coarse_ratio), ("--ratio", old_ratio))
             if v is not None]
    if len(given) != 1:
        raise click.UsageError("give the resolution ratio once: --h-over-l H (fine/coarse pixel size, <= 1) or "
                               f"--coarse-ratio R (coarse/fine, >= 1){'; got ' + ' and '.join(given) if given else ''}")
    if old_ratio is not None:
        read = f"--coarse-ratio {old_ratio:g}" if old_ratio > 1 else f"--h-over-l {old_ratio:g}"
        click.echo(f"stfusion: warning: --ratio is deprecated for evaluate; read as {read}, which to use instead",
                   err=True)
        h_over_l, coarse_ratio = (None, old_ratio) if old_ratio > 1 else (old_ratio, None)
    if h_over_l is not None and not 0 < h_over_l <= 1:
        raise click.BadParameter(f"{h_over_l:g} is not a fine/coarse pixel-size ratio in (0, 1]; for a coarse/fine "
                                 "ratio such as 16 use --coarse-ratio", param_hint="--h-over-l")
    if coarse_ratio is not None and not coarse_ratio >= 1:
        raise click.BadParameter(f"{coarse_ratio:g} is not a coarse/fine pixel-size ratio (>= 1); for h/l such as "
                                 "0.0625 use --h-over-l", param_hint="--coarse-ratio")
    return h_over_l if h_over_l is not None else 1 / coarse_ratio  # type: ignore[operator]


@click.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("stfusion-demo"), show_default=True,
              help="Folder for metrics.csv, the quicklook*.png pages, summary.md and the predictions.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic scene.")
@click.option("--overwrite", is_flag=True, help="Replace the files of an existing output folder.")
def demo(out: Path, seed: int, overwrite: bool) -> None:
    """Run every family (STF, deep STF and STSF with PyTorch) on built-in synthetic scenes, and score them."""
    from ..bench.demo import run_demo

    result = run_demo(out, seed=seed, overwrite=overwrite)
    click.echo(result.table)
    for note in result.notes:
        click.echo(f"stfusion: {note}", err=True)
    written = [f for f in result.files if not f.startswith("predictions/")]
    click.echo(f"wrote {', '.join(f'{out}/{f}' for f in written)} and {out}/predictions/")
