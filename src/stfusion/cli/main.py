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


_default_showwarning = warnings.showwarning


def _one_line(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """`ResponseWarning` and `InputWarning` as one line ("stfusion: warning: ...", Python arguments written as
    flags), `FitReport` as "stfusion: ..."; other warnings as Python prints them."""
    if issubclass(category, (ResponseWarning, InputWarning)):
        click.echo(f"stfusion: warning: {as_flags(str(message))}", err=True)
    elif issubclass(category, FitReport):
        click.echo(f"stfusion: {message}", err=True)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stfusion")
def cli() -> None:
    """stfusion: spatiotemporal, spatial-temporal-spectral and temporal-embedding fusion of remote-sensing images."""
    warnings.showwarning = _one_line


for _command in (methods, predict, train, series, stsf, embed, evaluate, bench, demo):
    cli.add_command(_command)


def main() -> None:
    """Run the command line."""
    cli(prog_name="stfusion")
