"""report.md and report.html: ranking tables per data set and the figures.

The HTML page is one self-contained file: inline CSS, the PNGs embedded as base64 data URIs, no
external resource, so it opens offline. A small inline script marks the page with how many of
its images decoded (``<body data-images-ok=... data-images-broken=...>``), which the browser test
reads.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from typing import Any, Sequence

from .runner import REFERENCE_FAMILY

TABLE_METRICS = (("rmse", "RMSE", 4), ("mae", "MAE", 4), ("bias", "bias", 4), ("cc", "CC", 4),
                 ("psnr", "PSNR", 2), ("ssim", "SSIM", 4), ("uiqi", "UIQI", 4), ("sam", "SAM (deg)", 3),
                 ("rase", "RASE", 2), ("ergas", "ERGAS", 3), ("q2n", "Q2n", 4), ("edge", "EDGE", 3),
                 ("lbp", "LBP", 3))
FIGURES = (("quicklook", "Every prediction and its absolute error, best RMSE first (one error scale)"),
           ("scatter", "Truth against prediction, per band"),
           ("apa", "APA polar diagram (Zhu et al. 2022)"),
           ("bands", "Per-band RMSE, SSIM and bias"),
           ("tradeoff", "Time / accuracy trade-off (measured wall time)"))


@dataclass(frozen=True)
class Section:
    """One data set in the report: its name, description, ratio, run records, figures (name -> PNG) and notes."""

    name: str
    description: str
    ratio: float
    records: list[dict[str, Any]]
    figures: dict[str, bytes]
    skipped: list[str]


def figure_pages(figures: dict[str, Any], key: str, title: str) -> list[tuple[str, str]]:
    """(figure name, title) of figure ``key`` and of its pages ``key-1``, ``key-2``, ... in ``figures``."""
    pages = [k for k in figures if k.startswith(f"{key}-") and k[len(key) + 1:].isdigit()]
    if key in figures:
        return [(key, title)]
    return [(k, f"{title} (page {i} of {len(pages)})") for i, k in enumerate(pages, start=1)]


def ranked(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The successful runs by increasing RMSE (band mean)."""
    return sorted((r for r in records if r["status"] == "ok"), key=lambda r: r["values"]["rmse"])


def _fmt(value: Any, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _vs_delta(r: dict[str, Any], delta: float | None) -> str:
    if r["method"] == "delta":
        return "baseline"
    if not delta:
        return ""
    return f"{100 * (r['values']['rmse'] - delta) / delta:+.1f} %"


def table_rows(section: Section) -> tuple[list[str], list[list[str]]]:
    """Header and cells of a set's ranking table."""
    order = ranked(section.records)
    delta = next((r["values"]["rmse"] for r in order if r["method"] == "delta"), None)
    head = ["rank", "method", "family", "pairs", *(label for _, label, _ in TABLE_METRICS), "RMSE vs delta",
            "time (s)", "peak MB"]
    rows = []
    rank = 0
    for r in order:
        reference = r["family"] == REFERENCE_FAMILY
        rank += 0 if reference else 1
        v = r["values"]
        rows.append([
            "ref" if reference else str(rank), r["method"], r["family"], str(r["pairs"]) if r["kind"] == "stf" else "-",
            *(_fmt(v.get(k), d) for k, _, d in TABLE_METRICS), _vs_delta(r, delta),
            _fmt(r.get("seconds"), 2) + (" (cached)" if r.get("cached") else ""), _fmt(r.get("peak_mb"), 1),
        ])
    return head, rows


def caption(section: Section) -> str:
    return (f"ERGAS h/l = 1/{section.ratio:g} = {1 / section.ratio:.4g}; PSNR and SSIM with L = 1; RMSE, MAE and bias "
            "in reflectance; ranked by RMSE")


def failures(section: Section) -> list[str]:
    return [f"{r['method']}: {r['error']}" for r in section.records if r["status"] != "ok"]


def winners(sections: Sequence[Section]) -> tuple[list[str], list[list[str]]]:
    """Per set: the lowest-RMSE method, the best of each family, and the fastest method within 5 % of the best."""
    head = ["data set", "best (RMSE)", "best per family", "fastest within 5 % of best"]
    rows = []
    for s in sections:
        order = [r for r in ranked(s.records) if r["family"] != REFERENCE_FAMILY]
        if not order:
            continue
        best = order[0]
        per_family: dict[str, dict[str, Any]] = {}
        for r in order:
            per_family.setdefault(r["family"], r)
        close = [r for r in order if r.get("seconds") is not None and r["values"]["rmse"] <= 1.05 * best["values"]["rmse"]]
        fast = min(close, key=lambda r: r["seconds"]) if close else best
        rows.append([
            s.name, f"{best['method']} ({best['family']}, {best['values']['rmse']:.4f})",
            ", ".join(f"{f}: {r['method']} {r['values']['rmse']:.4f}" for f, r in per_family.items()),
            f"{fast['method']} ({_fmt(fast.get('seconds'), 2)} s)",
        ])
    return head, rows


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _meta_lines(meta: dict[str, Any]) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    return [f"- created {meta['created']} on {meta['machine']}", f"- versions: {versions}",
            f"- command: `{meta['command']}`", f"- {meta['memory']}", f"- {meta['seeds']}"]


def markdown(sections: Sequence[Section], meta: dict[str, Any], figure_paths: dict[tuple[str, str], str]) -> str:
    """report.md: the tables, with the figures as links to the PNG files."""
    out = ["# stfusion benchmark", "", *_meta_lines(meta), "", "## Winners", "", _md_table(*winners(sections)), ""]
    if ("all", "tradeoff") in figure_paths:
        out += [f"![time / accuracy trade-off over all sets]({figure_paths[('all', 'tradeoff')]})", ""]
    for s in sections:
        out += [f"## {s.name}", "", s.description, "", caption(s) + ".", "", _md_table(*table_rows(s)), ""]
        out += [f"- failed: {f}" for f in failures(s)] + [f"- not run: {n}" for n in s.skipped]
        out += [""] if failures(s) or s.skipped else []
        for key, title in FIGURES:
            for name, heading in figure_pages(s.figures, key, title):
                out += [f"![{heading}]({figure_paths[(s.name, name)]})", ""]
    return "\n".join(out).rstrip() + "\n"


CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
table { border-collapse: collapse; font-size: 12px; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: right; }
th { background: #eee; } td:nth-child(2), td:nth-child(3) { text-align: left; }
tr.reference td { color: #666; font-style: italic; }
caption { caption-side: top; text-align: left; font-size: 12px; color: #444; padding-bottom: 3px; }
figure { margin: 0.5em 0 1.5em; } figcaption { font-size: 13px; color: #444; }
img { max-width: 100%; border: 1px solid #ddd; }
section { border-top: 2px solid #ccc; margin-top: 2em; }
.notes { font-size: 13px; color: #a33; }
"""

SCRIPT = """
window.addEventListener("load", function () {
  var ok = 0, broken = 0;
  Array.prototype.forEach.call(document.images, function (img) {
    if (img.complete && img.naturalWidth > 0) { ok += 1; } else { broken += 1; img.classList.add("broken"); }
  });
  document.body.setAttribute("data-images-ok", String(ok));
  document.body.setAttribute("data-images-broken", String(broken));
});
"""


def _html_table(head: list[str], rows: list[list[str]], *, cap: str = "", cls: str = "",
                dataset: str = "", reference_rows: Sequence[bool] = ()) -> str:
    e = html.escape
    attrs = (f' class="{e(cls)}"' if cls else "") + (f' data-dataset="{e(dataset)}"' if dataset else "")
    parts = [f"<table{attrs}>"]
    if cap:
        parts.append(f"<caption>{e(cap)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>")
    for i, row in enumerate(rows):
        klass = ' class="reference"' if i < len(reference_rows) and reference_rows[i] else ""
        parts.append(f"<tr{klass}>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def page(sections: Sequence[Section], meta: dict[str, Any], overall: bytes | None) -> str:
    """report.html: one self-contained page."""
    e = html.escape
    body = ["<h1>stfusion benchmark</h1>", "<ul>" + "".join(
        f"<li>{e(line[2:]).replace('`', '')}</li>" for line in _meta_lines(meta)) + "</ul>",
        "<h2>Winners</h2>", _html_table(*winners(sections), cls="winners")]
    if overall is not None:
        body.append(f"<figure>{_img(overall, 'time / accuracy trade-off over all sets')}"
                    "<figcaption>Every STF set: median RMSE relative to delta against median wall time.</figcaption>"
                    "</figure>")
    body.append("<nav><p>Data sets: " + " | ".join(f'<a href="#{e(s.name)}">{e(s.name)}</a>' for s in sections)
                + "</p></nav>")
    for s in sections:
        head, rows = table_rows(s)
        refs = [row[0] == "ref" for row in rows]
        body.append(f'<section id="{e(s.name)}"><h2>{e(s.name)}</h2><p>{e(s.description)}</p>')
        body.append(_html_table(head, rows, cap=caption(s), cls="ranking", dataset=s.name, reference_rows=refs))
        notes = [f"failed: {f}" for f in failures(s)] + [f"not run: {n}" for n in s.skipped]
        if notes:
            body.append('<ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
        for key, title in FIGURES:
            for name, heading in figure_pages(s.figures, key, title):
                body.append(f"<figure>{_img(s.figures[name], f'{s.name}: {heading}')}"
                            f"<figcaption>{e(heading)}</figcaption></figure>")
        body.append("</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>stfusion benchmark</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body)
            + f"\n<script>{SCRIPT}</script>\n</body></html>\n")
