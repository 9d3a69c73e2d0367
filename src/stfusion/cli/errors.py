"""Turn stfusion's typed errors into the CLI's exit codes: 2 with one line on stderr for input errors."""

from __future__ import annotations

import click

from ..core.errors import InputError, MissingDependencyError


class Group(click.Group):
    """A click group that reports `InputError`s as one line on stderr and exits with code 2.

    Anything else propagates: Python prints the traceback and exits with code 1 (internal error).
    """

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (InputError, MissingDependencyError) as exc:
            message = " ".join(str(exc).split())
            click.echo(f"stfusion: error: {message}", err=True)
            ctx.exit(2)
