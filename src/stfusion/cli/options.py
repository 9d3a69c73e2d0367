"""Parsing helpers shared by commands."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import InvalidParameterError, OutputExistsError


def parse_sets(items: tuple[str, ...]) -> dict[str, str]:
    """``("k=v", ...)`` → ``{"k": "v"}``; a malformed item is an `InvalidParameterError`."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError(f"--set {item!r} is not KEY=VALUE; write e.g. --set power=2")
        out[key.strip()] = value.strip()
    return out


def check_output(path: Path, overwrite: bool) -> None:
    """Refuse an existing output early, before any work is done."""
    if path.exists() and not overwrite:
        raise OutputExistsError(f"output {path} exists; pass --overwrite to replace it")
