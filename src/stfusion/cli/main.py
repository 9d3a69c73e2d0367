"""Entry point of the `stfusion` console script."""

from __future__ import annotations

import warnings

import click

from stfusion.core.errors import FitReport, InputWarning, ResponseWarning

from .bench import bench
from .commands import demo, evaluate, methods, predict
from .embed import embed
from .errors import Group, as_flags
from .series import series
from .stsf import stsf
from .train import train


def _one_line(fallback):  # noqa: ANN001, ANN202
    """A `warnings.showwarning` that prints `ResponseWarning` and `InputWarning` as one line
    ("stfusion: warning: ...", Python arguments written as flags), `FitReport` as "stfusion: ...",
    and hands other warnings to ``fallback``."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        if issubclass(category, (ResponseWarning, InputWarning)):
            click.echo(f"stfusion: warning: {as_flags(str(message))}", err=True)
        elif issubclass(category, FitReport):
            click.echo(f"stfusion: {message}", err=True)
        else:
            fallback(message, category, filename, lineno, file, line)

    return show


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stfusion")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """stfusion: spatiotemporal, spatial-temporal-spectral and temporal-embedding fusion of remote-sensing images."""
    previous = warnings.showwarning
    warnings.showwarning = _one_line(previous)
    ctx.call_on_close(lambda: setattr(warnings, "showwarning", previous))  # a command run in-process leaves none


for _command in (methods, predict, train, series, stsf, embed, evaluate, bench, demo):
    cli.add_command(_command)


def main() -> None:
    """Run the command line."""
    cli(prog_name="stfusion")
