"""`stfusion bench`: methods x data sets, results tables and the HTML report."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from .options import parse_sets

MULTI = ("--datasets", "--methods")


class _MultiValueCommand(click.Command):
    """Lets ``--datasets a b c`` stand for ``--datasets a --datasets b --datasets c`` (also for --methods)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["bench_args"] = list(args)
        out: list[str] = []
        current, got = None, False
        for arg in args:
            if current is not None and arg not in MULTI and not arg.startswith("-"):
                out += [current, arg]
                got = True
                continue
            if current is not None and not got:
                raise click.UsageError(f"{current} needs at least one value", ctx)
            current, got = (arg, False) if arg in MULTI else (None, False)
            if current is None:
                out.append(arg)
        if current is not None and not got:
            raise click.UsageError(f"{current} needs at least one value", ctx)
        return super().parse_args(ctx, out)


def _split(values: tuple[str, ...]) -> list[str]:
    return [v for item in values for v in item.split(",") if v]


def _checkpoints(items: tuple[str, ...]) -> dict[str, str]:
    return {k.lower(): v for k, v in parse_sets(items).items()}


def _method_sets(items: tuple[str, ...]) -> dict[str, dict[str, str]]:
    from ..core.errors import InvalidParameterError

    out: dict[str, dict[str, str]] = {}
    for key, value in parse_sets(items).items():
        method, sep, name = key.partition(".")
        if not sep or not name:
            raise InvalidParameterError(f"--set {key}={value}: write METHOD.KEY=VALUE, e.g. --set starfm.window=31")
        out.setdefault(method.lower(), {})[name] = value
    return out


def _variants(items: tuple[str, ...]) -> dict[str, tuple[str, dict[str, str]]]:
    """``("edcstfn.alpha=0", "dcstsf.seu=false,ecu=false")`` -> label -> (method, overrides)."""
    from ..bench.runner import variant_label
    from ..core.errors import InvalidParameterError

    out = {}
    for item in items:
        method, sep, rest = item.partition(".")
        if not sep or "=" not in rest:
            raise InvalidParameterError(f"--variant {item}: write METHOD.KEY=VALUE[,KEY=VALUE], "
                                        "e.g. --variant edcstfn.alpha=0")
        over = parse_sets(tuple(rest.split(",")))
        out[variant_label(method.lower(), over)] = (method.lower(), over)
    return out


@click.command(cls=_MultiValueCommand)
@click.option("--datasets", multiple=True, metavar="NAME|FOLDER ...",
              help="Data sets (space- or comma-separated): the real STF sets cia_2date, estarfm_3date, "
                   "estarfm_3date_1pair, lgc_flood_simcoarse, ifsdaf_ndvi_series; the STSF sets stsf_samson, "
                   "stsf_jasper (t2) and stsf_samson_t1, stsf_jasper_t1; the scenarios synthetic_phenology, synthetic_abrupt, synthetic_heterogeneous, "
                   "synthetic_misregistration, synthetic_clouds; or a folder of dated rasters, with fine/ and coarse/ "
                   "subfolders or flat (each file placed by the sensor code in its name: LC08, LE07, L7, S2A, "
                   "HLS.L30, ... fine; MOD09, MYD09, MCD43, S3A, ... coarse); the latest common date is predicted. "
                   "Default: all (real sets only when ../shared/data or $STFUSION_DATA exists). Time-series and "
                   "embedding sets are out of scope.")
@click.option("--methods", multiple=True, metavar="NAME ...",
              help="Methods (space- or comma-separated). Default: every registered method that needs no "
                   "training; deep methods run only when named here, with --fit, or with --checkpoint.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Output folder: results.csv, results.json, report.md, report.html, figures/ and the run cache.")
@click.option("--fit", is_flag=True,
              help="Also run every deep method, training it on each set's own inputs first (minutes per run).")
@click.option("--checkpoint", "checkpoints", multiple=True, metavar="METHOD=CKPT",
              help="Run deep METHOD from this checkpoint instead of training it (repeatable).")
@click.option("--set", "sets", multiple=True, metavar="METHOD.KEY=VALUE",
              help="A method parameter for every set (repeatable), e.g. --set fsdaf.window=15.")
@click.option("--variant", "variants", multiple=True, metavar="METHOD.KEY=VALUE[,KEY=VALUE]",
              help="Also run METHOD with these parameters, as a row of its own labelled 'METHOD, KEY=VALUE' "
                   "(repeatable; an ablation), e.g. --variant dcstsf.seu=false.")
@click.option("--fine-pattern", default=None, metavar="GLOB",
              help="Glob of the fine files of folder data sets (e.g. 'LC08*'), instead of the sensor codes.")
@click.option("--coarse-pattern", default=None, metavar="GLOB",
              help="Glob of the coarse files of folder data sets (e.g. 'MOD09*').")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic scenarios.")
@click.option("--synthetic-size", type=click.IntRange(min=16), default=240, show_default=True,
              help="Fine pixels per side of the synthetic scenarios (ratio 16 from 128, else 8).")
@click.option("--rerun", is_flag=True, help="Recompute runs that are already recorded in the cache.")
@click.option("--write-docs", "docs_pages", type=click.Path(path_type=Path), multiple=True, metavar="PAGE",
              help="Also fill the marked tables of PAGE from the results (repeatable): <!-- bench-accuracy --> "
                   "(docs/methods/accuracy.md), <!-- bench-families --> and <!-- bench-times --> "
                   "(docs/choosing-a-method.md), <!-- deep-accuracy --> (docs/methods/deep.md), "
                   "<!-- stsf-accuracy -->, <!-- stsf-ablation --> and <!-- stsf-verdict --> (docs/methods/stsf.md).")
def bench(datasets: tuple[str, ...], methods: tuple[str, ...], out: Path, fit: bool, checkpoints: tuple[str, ...],
          sets: tuple[str, ...], variants: tuple[str, ...], fine_pattern: str | None, coarse_pattern: str | None,
          seed: int, synthetic_size: int, rerun: bool, docs_pages: tuple[Path, ...]) -> None:
    """Run methods x data sets and write results tables and a self-contained HTML report.

    Every run records every metric, its wall time, peak memory, parameters and versions. A run
    whose inputs, parameters, stfusion version and code are unchanged is read from OUT/cache instead
    of recomputed, so an interrupted bench resumes when run again.
    """
    from ..bench.benchmark import run_bench
    from ..bench.docs_tables import check_page, write_docs
    from ..bench.runner import Selection

    for page in docs_pages:
        check_page(page)

    chosen = tuple(_split(methods)) or None
    selection = Selection(methods=chosen, fit=fit, checkpoints=_checkpoints(checkpoints), params=_method_sets(sets),
                          variants=_variants(variants))
    args = click.get_current_context().meta.get("bench_args", [])
    command = "stfusion bench " + " ".join(shlex.quote(a) for a in args)
    result = run_bench(out, _split(datasets) or None, selection, seed=seed, synthetic_size=synthetic_size,
                       rerun=rerun, command=command, patterns=(fine_pattern, coarse_pattern))
    ok = [r for r in result.records if r["status"] == "ok" and r["family"] != "reference program"]
    failed = [r for r in result.records if r["status"] != "ok"]
    cached = sum(1 for r in ok if r.get("cached"))
    sets_run = sorted({r["dataset"] for r in result.records})
    click.echo(f"{len(ok)} run(s) on {len(sets_run)} data set(s) ({cached} from the cache), {len(failed)} failed")
    for r in failed:
        click.echo(f"  failed: {r['dataset']} {r['method']}: {r['error']}")
    if result.missing:
        click.echo(f"  not run (no sample data folder): {', '.join(result.missing)}")
    click.echo(f"wrote {out}/results.csv, {out}/results.json, {out}/report.md, {out}/report.html")
    for page in docs_pages:
        click.echo(f"wrote {write_docs(page, result.records)}")
