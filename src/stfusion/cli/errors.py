"""Turn stfusion's typed errors into the CLI's exit codes: 2 with one line on stderr for input errors."""

from __future__ import annotations

import re

import click
from click.exceptions import NoArgsIsHelpError

from ..core.errors import InputError, MissingDependencyError

SWITCHES = ("fit", "overwrite")
"""Python arguments the library's messages name as ``NAME=True`` that are command-line switches (``--fit``)."""

OPTIONS = ("checkpoint", "chunk", "classes", "coarse_pattern", "device", "fine_pattern", "label_field", "min_clear",
           "out_dir", "ratio", "year")
"""Python arguments the library's messages name as ``NAME=VALUE`` that are command-line options
(``chunk=N`` is ``--chunk N``, ``out_dir=DIR`` is ``--out-dir DIR``)."""

PHRASES = (("swap hs and ms", "swap --hs and --ms"),)
"""Whole phrases of the library's messages and their command-line wording."""

_ARGUMENT = re.compile(rf"(?<![\w/\\.-])(?:({'|'.join(SWITCHES)})=[Tt]rue\b|({'|'.join(OPTIONS)})=)")


def _flag(match: re.Match[str]) -> str:
    switch, option = match.groups()
    return f"--{switch}" if switch else f"--{option.replace('_', '-')} "


def as_flags(message: str) -> str:
    """A library message on one line, with the Python arguments it names written as command-line flags."""
    text = _ARGUMENT.sub(_flag, " ".join(message.split()))
    for phrase, flags in PHRASES:
        text = text.replace(phrase, flags)
    return text


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
            click.echo(f"stfusion: error: {as_flags(str(exc))}", err=True)
            ctx.exit(2)
        except NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            click.echo(_usage_line(exc, ctx), err=True)
            ctx.exit(2)
