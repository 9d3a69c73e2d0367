"""The report's figures, each returned as PNG bytes (matplotlib, Agg backend).

Per data set: the quick-look pages (colour composites and absolute-error maps, best RMSE first),
truth-versus-prediction density scatter plots per band, the APA polar diagram, per-band bar
charts and the time/accuracy trade-off; across sets: RMSE relative to the delta baseline
against wall time.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..core.errors import require
from ..core.scene import Scene
from ..metrics import apa_diagram
from .quicklook import QuickRow, Task, header_panels, quicklook_pages, run_label

MAX_SCATTER_BANDS = 6
"""Scatter plots show at most this many bands, spread over the spectrum (hyperspectral sets)."""
MAX_BAR_BANDS = 12
"""With more bands than this, per-band charts are lines over the band index instead of bars."""
DPI = 80


def _pyplot() -> Any:
    matplotlib = require("matplotlib", "plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    """The figure as PNG bytes with 256 colours (charts and colour-mapped maps look the same and
    are about half the size)."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    _pyplot().close(fig)
    buf.seek(0)
    small = io.BytesIO()
    Image.open(buf).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        small, format="PNG", optimize=True)
    return small.getvalue()


def quicklooks(task: Task, truth: Scene, records: Sequence[dict[str, Any]], predictions: Mapping[str, Scene],
               title: str) -> list[bytes]:
    """The quick-look pages (`stfusion.bench.quicklook`) of every successful run with a prediction."""
    rows = [QuickRow(run_label(r["method"], r["pairs"]), predictions[r["method"]], r["values"]["rmse"])
            for r in records if r["status"] == "ok" and r["method"] in predictions]
    return quicklook_pages(truth, header_panels(task, truth), rows, title=title)


def scatter_bands(truth: Scene) -> list[int]:
    """The bands the scatter plots show: all, or `MAX_SCATTER_BANDS` spread evenly."""
    n = truth.count
    if n <= MAX_SCATTER_BANDS:
        return list(range(n))
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, MAX_SCATTER_BANDS)})


def _band_label(truth: Scene, i: int) -> str:
    names = list(truth.bands or ())
    return str(names[i]) if names else f"b{i + 1}"


def density_scatter(truth: Scene, predictions: Mapping[str, Scene], title: str, bins: int = 80) -> bytes:
    """Truth (x) against prediction (y) per band: a log-density 2-D histogram per method and band, with the 1:1 line."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    bands = scatter_bands(truth)
    t = np.asarray(truth.data)
    names = list(predictions)
    fig, axes = plt.subplots(len(names), len(bands), figsize=(1.9 * len(bands) + 0.8, 1.9 * len(names) + 0.6),
                             squeeze=False)
    for j, b in enumerate(bands):
        tv = t[b][np.asarray(truth.mask)]
        lo, hi = np.percentile(tv, [0.5, 99.5])
        pad = 0.05 * max(hi - lo, 1e-6)
        edges = np.linspace(lo - pad, hi + pad, bins + 1)
        for i, name in enumerate(names):
            ax = axes[i, j]
            p = predictions[name]
            valid = np.asarray(p.mask) & np.asarray(truth.mask)
            hist, _, _ = np.histogram2d(t[b][valid], np.asarray(p.data)[b][valid], bins=(edges, edges))
            if hist.any():
                ax.imshow(hist.T, origin="lower", extent=(edges[0], edges[-1], edges[0], edges[-1]), cmap="viridis",
                          norm=LogNorm(vmin=1, vmax=max(hist.max(), 1.5)), aspect="equal", interpolation="nearest")
            ax.plot([edges[0], edges[-1]], [edges[0], edges[-1]], color="red", linewidth=0.7)
            ax.set_xticks(np.round(np.linspace(edges[0], edges[-1], 3)[1:], 3))
            ax.set_yticks(np.round(np.linspace(edges[0], edges[-1], 3)[1:], 3))
            ax.tick_params(labelsize=6)
            if i < len(names) - 1:
                ax.set_xticklabels([])
            if i == 0:
                ax.set_title(_band_label(truth, b), fontsize=8)
            if j == 0:
                ax.set_ylabel(name, fontsize=7)
    fig.suptitle(f"{title}: prediction (y) against truth (x) per band, log density, red 1:1", fontsize=9)
    return _png(fig)


def apa_figure(records: Sequence[dict[str, Any]], title: str) -> bytes | None:
    """The APA polar diagram (band means of RMSE, EDGE and AD) of the successful runs; None if none has EDGE."""
    points = {}
    for r in records:
        if r["status"] != "ok":
            continue
        v = r["values"]
        rmse, edge, ad = v.get("rmse"), v.get("edge"), v.get("bias")
        if None not in (rmse, edge, ad) and -1 <= edge <= 1:
            points[r["method"]] = (rmse, edge, ad)
    if not points:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "apa.png"
        apa_diagram(points, path, title=f"{title}: APA diagram", dpi=DPI)
        return path.read_bytes()


def band_charts(records: Sequence[dict[str, Any]], title: str, metrics: Sequence[str] = ("rmse", "ssim", "bias")) -> bytes:
    """Per-band RMSE, SSIM and bias of every successful run: grouped bars, or lines for many bands."""
    plt = _pyplot()
    ok = [r for r in records if r["status"] == "ok"]
    bands = ok[0]["bands"] if ok else []
    many = len(bands) > MAX_BAR_BANDS
    fig, axes = plt.subplots(len(metrics), 1, figsize=(max(6.0, 0.5 * len(ok) * min(len(bands), MAX_BAR_BANDS) / 2),
                                                       2.3 * len(metrics)), squeeze=False)
    x = np.arange(len(bands))
    width = 0.8 / max(len(ok), 1)
    cmap = plt.get_cmap("tab20")
    for ax, metric in zip(axes[:, 0], metrics):
        for k, r in enumerate(ok):
            y = np.array([np.nan if v is None else v for v in r["per_band"].get(metric, [])], dtype=float)
            if y.size != len(bands):
                continue
            if many:
                ax.plot(x, y, label=r["method"], color=cmap(k % 20), linewidth=1)
            else:
                ax.bar(x + (k - (len(ok) - 1) / 2) * width, y, width, label=r["method"], color=cmap(k % 20))
        ax.set_ylabel(metric.upper(), fontsize=8)
        ax.tick_params(labelsize=7)
        if not many:
            ax.set_xticks(x, [str(b) for b in bands])
        else:
            ax.set_xlabel("band index", fontsize=8)
        if metric == "bias":
            ax.axhline(0, color="black", linewidth=0.6)
    if ok:
        axes[0, 0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(f"{title}: per-band metrics", fontsize=10)
    return _png(fig)


def _family_colours(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    plt = _pyplot()
    families = sorted({r["family"] for r in records})
    cmap = plt.get_cmap("tab10")
    return {f: cmap(i % 10) for i, f in enumerate(families)}


def tradeoff(records: Sequence[dict[str, Any]], title: str) -> bytes | None:
    """Measured wall time (log scale) against RMSE, one point per timed run, coloured by family."""
    timed = [r for r in records if r["status"] == "ok" and r.get("seconds")]
    if not timed:
        return None
    plt = _pyplot()
    colours = _family_colours(timed)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for r in timed:
        ax.scatter(r["seconds"], r["values"]["rmse"], color=colours[r["family"]], s=30, zorder=3)
        ax.annotate(r["method"], (r["seconds"], r["values"]["rmse"]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    for family, colour in colours.items():
        ax.scatter([], [], color=colour, label=family)
    ax.set_xscale("log")
    ax.set_xlabel("wall time (s, log scale)")
    ax.set_ylabel("RMSE (band mean)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(f"{title}: time / accuracy trade-off (lower left is better)", fontsize=10)
    return _png(fig)


def overall_tradeoff(records: Sequence[dict[str, Any]]) -> bytes | None:
    """Across STF sets: median RMSE relative to delta (same set) against median wall time, per method."""
    delta = {r["dataset"]: r["values"]["rmse"] for r in records
             if r["method"] == "delta" and r["status"] == "ok"}
    points: dict[str, tuple[list[float], list[float], str]] = {}
    for r in records:
        if r["status"] != "ok" or not r.get("seconds") or r["dataset"] not in delta or not delta[r["dataset"]]:
            continue
        rel, secs, _ = points.setdefault(r["method"], ([], [], r["family"]))
        rel.append(r["values"]["rmse"] / delta[r["dataset"]])
        secs.append(r["seconds"])
    if not points:
        return None
    plt = _pyplot()
    colours = _family_colours([{"family": f} for _, _, f in points.values()])
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    for method, (rel, secs, family) in points.items():
        x, y = float(np.median(secs)), float(np.median(rel))
        ax.scatter(x, y, color=colours[family], s=40, zorder=3)
        ax.annotate(f"{method} ({len(rel)})", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    for family, colour in colours.items():
        ax.scatter([], [], color=colour, label=family)
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_xlabel("median wall time over sets (s, log scale)")
    ax.set_ylabel("median RMSE / RMSE of delta")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("All STF sets: accuracy relative to delta against time (n sets in brackets)", fontsize=10)
    return _png(fig)
