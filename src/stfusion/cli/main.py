"""Entry point of the `stfusion` console script."""

from __future__ import annotations

import click

from .bench import bench
from .commands import demo, evaluate, methods, predict
from .embed import embed
from .errors import Group
from .series import series
from .stsf import stsf
from .train import train


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stfusion")
def cli() -> None:
    """stfusion: spatiotemporal, spatial-temporal-spectral and temporal-embedding fusion of remote-sensing images."""


for _command in (methods, predict, train, series, stsf, embed, evaluate, bench, demo):
    cli.add_command(_command)


def main() -> None:
    """Run the command line."""
    cli(prog_name="stfusion")
