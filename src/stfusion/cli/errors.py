"""Turn stfusion's typed errors into the CLI's exit codes: 2 with one line on stderr for input errors."""

from __future__ import annotations

import click
from click.exceptions import NoArgsIsHelpError

from ..core.errors import InputError, MissingDependencyError


def _usage_line(exc: click.UsageError, ctx: click.Context) -> str:
    """A click usage error on one line, pointing at the command's --help."""
    message = " ".join(exc.format_message().split())
    if exc.ctx is not None:
        where = exc.ctx.command_path
    elif ctx.invoked_subcommand:  # the subcommand's own parser failed before its context existed
        where = f"{ctx.command_path} {ctx.invoked_subcommand}"
    else:
        where = ctx.command_path
    return f"stfusion: error: {message} (see '{where} --help')"


class Group(click.Group):
    """A click group that reports `InputError`s and usage errors (unknown option, missing
    argument, bad value) as one line on stderr and exits with code 2.

    Anything else propagates: Python prints the traceback and exits with code 1 (internal error).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            click.echo(_usage_line(exc, ctx), err=True)
            ctx.exit(2)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (InputError, MissingDependencyError) as exc:
            message = " ".join(str(exc).split())
            click.echo(f"stfusion: error: {message}", err=True)
            ctx.exit(2)
        except NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            click.echo(_usage_line(exc, ctx), err=True)
            ctx.exit(2)
