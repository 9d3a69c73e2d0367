"""Shared output of the embedding benchmarks: the mean ± std table over seeds, and filling it into
a docs page between ``<!-- tag -->`` markers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stfusion.bench.atomic import write_text
from stfusion.bench.docs_tables import fill


def seed_table(scores: dict[tuple[str, str, float], list[tuple[float, float]]], metrics: tuple[str, str]) -> str:
    """One row per (input, head, label fraction): the two metrics as mean ± std over seeds."""
    lines = [f"| input | head | labels | {metrics[0]} | {metrics[1]} |", "|---|---|---|---|---|"]
    for (name, head, frac), v in scores.items():
        a = np.array(v)
        lines.append(f"| {name} | {head} | {100 * frac:g} % | {a[:, 0].mean():.3f} ± {a[:, 0].std():.3f} | "
                     f"{a[:, 1].mean():.3f} ± {a[:, 1].std():.3f} |")
    return "\n".join(lines)


def write_block(page: Path, tag: str, text: str) -> None:
    """Replace the ``tag`` block of ``page`` with ``text`` (atomically)."""
    write_text(page, fill(page.read_text(encoding="utf-8"), tag, text))
    print(f"wrote {page}")
