"""Docs tables written from bench records (``stfusion bench --write-docs PAGE``).

A page holds one or more marked places, ``<!-- TAG -->`` ... ``<!-- /TAG -->``; each is replaced
by its table:

- ``bench-accuracy`` (docs/methods/accuracy.md): per real STF set, the runs with all of the
  set's pairs (its own protocol) and the reference programs: RMSE, SSIM, SAM, ERGAS, CC, the
  RMSE change against delta and the wall time.
- ``bench-families`` (docs/choosing-a-method.md): per STF set, the best method of each family
  with its RMSE change against delta with all the set's pairs (a method given fewer pairs says so).
- ``bench-times``: per STF method, the median and largest wall time and the median RMSE
  relative to delta over the sets.
- the deep-network and STSF tables of `stfusion.bench.method_tables`.

Variant runs (``--variant``) appear only in the method tables, never in the family and time ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..core.errors import FileFormatError
from .atomic import write_text
from .datasets import REAL_STF
from .method_tables import TABLES as METHOD_TABLES
from .runner import REFERENCE_FAMILY

FAMILIES = ("weighting", "unmixing", "hybrid", "dictionary learning", "deep")


def _verdict(r: dict[str, Any], delta: float | None) -> str:
    if r["method"] == "delta":
        return "baseline"
    if delta is None:
        return ""
    change = (r["values"]["rmse"] - delta) / delta
    return f"{100 * change:+.1f} %" + (" (loses to delta)" if change > 0 else "")


def accuracy_table(records: Sequence[dict[str, Any]]) -> str:
    """The Markdown table of the real STF sets' full-protocol runs and reference programs."""
    lines = ["| set | pairs | method | RMSE | SSIM | SAM (deg) | ERGAS | CC | RMSE vs delta | time (s) |",
             "|" + "---|" * 10]
    for name in REAL_STF:
        runs = [r for r in records if r["dataset"] == name and r["status"] == "ok" and not r.get("variant_of")]
        if not runs:
            continue
        full = max(r["pairs"] for r in runs)
        runs = [r for r in runs if r["pairs"] == full or r["family"] == REFERENCE_FAMILY]
        delta = next((r["values"]["rmse"] for r in runs if r["method"] == "delta"), None)
        for r in runs:
            v = r["values"]
            sam = "n/a" if len(r["bands"]) == 1 else f"{v['sam']:.3f}"
            seconds = "" if r["seconds"] is None else f"{r['seconds']:.1f}"
            lines.append(f"| {name} | {r['pairs']} | {r['method']} | {v['rmse']:.4f} | {v['ssim']:.4f} | {sam} "
                         f"| {v['ergas']:.3f} | {v['cc']:.4f} | {_verdict(r, delta)} | {seconds} |")
    return "\n".join(lines)


def _stf_sets(records: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(r["dataset"] for r in records if r["kind"] == "stf"))


def _delta(records: Sequence[dict[str, Any]], name: str) -> float | None:
    return next((r["values"]["rmse"] for r in records
                 if r["dataset"] == name and r["method"] == "delta" and r["status"] == "ok"), None)


def family_table(records: Sequence[dict[str, Any]]) -> str:
    """Per STF set, the lowest-RMSE method of each family and its RMSE change against delta."""
    families = [f for f in FAMILIES if any(r["family"] == f for r in records)]
    lines = ["| set | " + " | ".join(families) + " | winner |", "|" + "---|" * (len(families) + 2)]
    for name in _stf_sets(records):
        runs = sorted((r for r in records if r["dataset"] == name and r["status"] == "ok"
                       and r["family"] != REFERENCE_FAMILY and not r.get("variant_of")), key=lambda r: r["values"]["rmse"])
        delta = _delta(records, name)
        best = {f: next((r for r in runs if r["family"] == f), None) for f in families}
        full = max((r["pairs"] for r in runs), default=0)
        cells = [f"{r['method']} {_verdict(r, delta).split(' (')[0]}" + (f" ({r['pairs']} pair)" if r["pairs"] < full else "")
                 if r else "-" for r in best.values()]
        winner = runs[0]["family"] if runs else "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {winner} |")
    return "\n".join(lines)


def time_table(records: Sequence[dict[str, Any]]) -> str:
    """Per timed STF method: sets run, median and largest wall time, median RMSE / RMSE of delta."""
    import numpy as np

    lines = ["| method | family | sets | median time (s) | largest time (s) | median RMSE / delta |",
             "|---|---|---|---|---|---|"]
    by_method: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["kind"] == "stf" and r["status"] == "ok" and r.get("seconds") is not None and not r.get("variant_of"):
            by_method.setdefault(r["method"], []).append(r)
    for method, runs in sorted(by_method.items(), key=lambda kv: float(np.median([r["seconds"] for r in kv[1]]))):
        secs = [r["seconds"] for r in runs]
        rel = [r["values"]["rmse"] / d for r in runs if (d := _delta(records, r["dataset"]))]
        lines.append(f"| {method} | {runs[0]['family']} | {len(runs)} | {np.median(secs):.2f} | {max(secs):.2f} "
                     f"| {np.median(rel):.3f} |")
    return "\n".join(lines)


TABLES = {"bench-accuracy": accuracy_table, "bench-families": family_table, "bench-times": time_table,
          **METHOD_TABLES}


def fill(page: str, tag: str, text: str) -> str:
    """``page`` with the text between ``<!-- tag -->`` and ``<!-- /tag -->`` replaced by ``text``."""
    start, end = f"<!-- {tag} -->", f"<!-- /{tag} -->"
    head, _, rest = page.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{text}\n{end}{tail}"


def _tags(text: str) -> list[str]:
    return [t for t in TABLES if f"<!-- {t} -->" in text and f"<!-- /{t} -->" in text]


def check_page(page: str | Path) -> str:
    """The text of ``page``, or a one-line error when it is missing or has no table markers."""
    path = Path(page)
    markers = ", ".join(f"<!-- {t} -->" for t in TABLES)
    if not path.is_file():
        raise FileFormatError(f"docs page {path} not found; give a page holding one of the markers {markers}")
    text = path.read_text(encoding="utf-8")
    if not _tags(text):
        raise FileFormatError(f"{path} has none of the markers {markers} (each closed by <!-- /... -->); add one")
    return text


def write_docs(page: str | Path, records: Sequence[dict[str, Any]]) -> Path:
    """Fill every marked table of ``page`` from ``records``."""
    text = check_page(page)
    for tag in _tags(text):
        text = fill(text, tag, TABLES[tag](records))
    return write_text(page, text)
