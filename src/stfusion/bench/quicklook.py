"""The quick-look layout of `stfusion demo` and of the bench report.

One row per method, best RMSE first: the prediction in true colour beside its absolute-error
map, under a label with the method, its pairs and its RMSE. Every page opens with the truth and
the coarse input, and every error map uses one colour scale (0 to the largest 99th percentile of
all the maps), shown on a colourbar in reflectance. Panels are `PANEL_IN` inches at `DPI` (300
pixels for a square scene, never under 250) and pages at most `MAX_WIDTH_PX` wide; more than
`ROWS_PER_PAGE` methods are split over pages rather than shrunk (`page_names`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any, Sequence, Union

import numpy as np

from ..core.errors import require
from ..core.scene import Scene
from ..core.task import FusionTask, STSFTask

Task = Union[FusionTask, STSFTask]

DPI = 100
PANEL_IN = 3.0
MIN_PANEL_IN = 2.5
MAX_WIDTH_PX = 1600
ROWS_PER_PAGE = 5
TITLE_PT, LABEL_PT, TEXT_PT = 14, 12, 11
RGB_NM = (640.0, 550.0, 470.0)
ERROR_LABEL = "mean |prediction - truth| over bands (reflectance)"

# fixed parts of a page, inches: margins, gaps, the row label and panel title lines, the colourbar
_LEFT, _GAP, _BAR_GAP, _BAR_W, _RIGHT = 0.3, 0.35, 0.25, 0.22, 1.05
_MARGIN, _BOTTOM, _ROW_LABEL, _PANEL_TITLE, _ROW_GAP = 0.12, 0.2, 0.3, 0.24, 0.2
_LINE = 1.3  # line height, in font sizes
_MAX_PANEL_W = (MAX_WIDTH_PX / DPI - _LEFT - _GAP - _BAR_GAP - _BAR_W - _RIGHT) / 2


@dataclass(frozen=True)
class QuickRow:
    """One method's row: ``label`` (`run_label`), its ``prediction``, and its ``rmse`` (printed after
    the label; it orders the rows)."""

    label: str
    prediction: Scene
    rmse: float


def run_label(method: str, pairs: int | None, note: str = "") -> str:
    """A row's label before its RMSE: "fsdaf, 1 pair" (no pair count for STSF, where ``pairs`` is 0 or None)."""
    parts = [method] + ([f"{pairs} pair{'s' if pairs != 1 else ''}"] if pairs else []) + ([note] if note else [])
    return ", ".join(parts)


def header_panels(task: Task, truth: Scene) -> list[tuple[str, Scene]]:
    """The two panels atop every page: the truth and the coarse input (the STF target, or the STSF HS image)."""
    if isinstance(task, STSFTask):
        when = "t1" if task.ms_target is None else "t2"
        return [(f"truth: fine HS at {when}", truth), ("input: coarse HS, t1", task.hs)]
    when = f", {task.target.date}" if task.target.date else ""
    return [(f"truth{when}", truth), (f"input: coarse target{when}", task.target)]


def rgb_index(scene: Scene) -> list[int]:
    """Band indexes shown as red, green, blue: named bands, the nearest wavelengths, NIR/red/green
    false colour without a blue band, or else bands 3, 2, 1."""
    names = list(scene.bands or ())
    if all(n in names for n in ("red", "green", "blue")):
        return [names.index(n) for n in ("red", "green", "blue")]
    try:
        wl = np.array([float(n) for n in names])
    except ValueError:
        wl = np.array([])
    if wl.size == scene.count and wl.size >= 3:
        return [int(np.argmin(np.abs(wl - nm))) for nm in RGB_NM]
    if all(n in names for n in ("nir", "red", "green")):  # no blue band: the usual false colour
        return [names.index(n) for n in ("nir", "red", "green")]
    n = scene.count
    return [min(2, n - 1), min(1, n - 1), 0]


def composite_names(scene: Scene) -> str:
    """The bands shown as R, G, B, e.g. "red, green, blue" or "641, 551, 469"."""
    names = list(scene.bands or ())
    return ", ".join(str(names[i]) if names else f"b{i + 1}" for i in rgb_index(scene))


def stretch(truth: Scene, idx: Sequence[int]) -> tuple[float, float]:
    """One stretch for the three composite bands ``idx``: their 2nd and 98th percentiles over the truth's valid pixels
    (the same for every channel, so the colours keep their balance)."""
    valid = np.asarray(truth.data)[list(idx)][:, np.asarray(truth.mask)]
    if not valid.size:
        return 0.0, 1.0
    lo, hi = np.percentile(valid, [2, 98])
    return float(lo), float(hi)


def true_colour(scene: Scene, lo: float, hi: float, idx: Sequence[int]) -> np.ndarray:
    """(rows, cols, 3) image in 0-1 of bands ``idx`` stretched from ``lo`` to ``hi``; invalid pixels white."""
    rgb = np.moveaxis(np.asarray(scene.data)[list(idx)], 0, -1).astype(np.float64)
    rgb = np.clip((rgb - lo) / max(hi - lo, 1e-9), 0, 1)
    rgb[~np.asarray(scene.mask)] = 1.0
    return rgb


def abs_error(truth: Scene, prediction: Scene) -> np.ndarray:
    """Mean absolute error over bands per pixel; NaN where either image is invalid."""
    valid = np.asarray(prediction.mask) & np.asarray(truth.mask)
    diff = np.abs(np.asarray(prediction.data, np.float64) - np.asarray(truth.data, np.float64)).mean(axis=0)
    return np.where(valid, diff, np.nan)


def error_scale(errors: Sequence[np.ndarray]) -> float:
    """The shared colour-scale maximum: the largest 99th percentile of the maps' valid pixels."""
    finite = [e[np.isfinite(e)] for e in errors]
    return max([float(np.percentile(e, 99)) for e in finite if e.size] + [1e-6])


def split_pages(n: int, per_page: int = ROWS_PER_PAGE) -> list[range]:
    """Row ranges of ``n`` rows over the fewest pages of at most ``per_page`` rows, as even as possible."""
    pages = max(1, math.ceil(n / per_page))
    bounds = [round(i * n / pages) for i in range(pages + 1)]
    return [range(a, b) for a, b in zip(bounds, bounds[1:])]


def page_names(stem: str, n: int) -> list[str]:
    """Names of ``n`` pages: ``stem`` for one, else ``stem-1``, ``stem-2``, ..."""
    return [stem] if n == 1 else [f"{stem}-{i}" for i in range(1, n + 1)]


def panel_size(rows: int, cols: int) -> tuple[float, float]:
    """(width, height) of a panel in inches for a ``rows`` x ``cols`` scene: `PANEL_IN` wide, as tall
    as the scene's aspect asks, never under `MIN_PANEL_IN` on a side (as far as the page width allows)."""
    aspect = rows / max(cols, 1)
    width, height = PANEL_IN, PANEL_IN * aspect
    if height < MIN_PANEL_IN:
        width, height = min(MIN_PANEL_IN / aspect, _MAX_PANEL_W), MIN_PANEL_IN
    elif height > 2 * PANEL_IN:
        width, height = max(2 * PANEL_IN / aspect, MIN_PANEL_IN), 2 * PANEL_IN
    return width, height


def _pyplot() -> Any:
    matplotlib = require("matplotlib", "plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _image_axes(fig: Any, box: tuple[float, float, float, float], size: tuple[float, float], title: str) -> Any:
    """Axes at ``box`` = (left, top, width, height) inches from the page's top left, titled ``title``."""
    left, top, w, h = box
    ax = fig.add_axes((left / size[0], 1 - (top + h) / size[1], w / size[0], h / size[1]))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=TEXT_PT, pad=3)
    return ax


def _width_in(text: str, pt: float, bold: bool) -> float:
    """Width of ``text`` in inches at ``pt`` points (matplotlib's own font metrics)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=pt, weight="bold" if bold else "normal")
    return TextToPath().get_text_width_height_descent(text, prop, ismath=False)[0] / 72


def _lines(text: str, width_in: float, pt: float, bold: bool = False) -> list[str]:
    """``text`` wrapped at spaces into lines no wider than ``width_in`` inches at ``pt`` points."""
    lines: list[str] = []
    for word in text.split():
        if lines and _width_in(f"{lines[-1]} {word}", pt, bold) <= width_in:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _fit(text: str, tail: str, width_in: float, pt: float) -> str:
    """``text`` + ``tail`` in bold on one line of ``width_in`` inches, ``text`` cut short ("...") if need be."""
    while len(text) > 1 and _width_in(text + tail, pt, True) > width_in:
        text = text[:-4].rstrip() + "..."
    return text + tail


def _text(fig: Any, size: tuple[float, float], top: float, lines: list[str], pt: float, bold: bool = False) -> float:
    """Draw ``lines`` at ``top`` inches from the page's top, left-aligned; the inches below them."""
    fig.text(_LEFT / size[0], 1 - top / size[1], "\n".join(lines), fontsize=pt, va="top",
             weight="bold" if bold else "normal", linespacing=1.2)
    return top + len(lines) * pt * _LINE / 72


def quicklook_pages(truth: Scene, header: Sequence[tuple[str, Scene]], rows: Sequence[QuickRow], *, title: str,
                    per_page: int = ROWS_PER_PAGE) -> list[bytes]:
    """PNG pages of the quick-look: ``header`` (two (title, scene) panels: the truth and the coarse
    input) atop every page, then ``rows`` by increasing RMSE, ``per_page`` at most on a page."""
    plt = _pyplot()
    idx = rgb_index(truth)
    lo, hi = stretch(truth, idx)
    ordered = sorted(rows, key=lambda r: r.rmse)
    errors = [abs_error(truth, r.prediction) for r in ordered]
    vmax = error_scale(errors)
    pw, ph = panel_size(truth.height, truth.width)
    head_h = _PANEL_TITLE + ph + _ROW_GAP
    row_h = _ROW_LABEL + head_h
    x_right = _LEFT + pw + _GAP
    width = x_right + pw + _BAR_GAP + _BAR_W + _RIGHT
    text_w, label_w = width - 2 * _LEFT, x_right + pw - _LEFT  # row labels stay clear of the colourbar
    pages = split_pages(len(ordered), per_page)
    subtitle = _lines(f"best RMSE first; R, G, B = {composite_names(truth)}, one stretch (2-98 % of the truth)",
                      text_w, TEXT_PT)
    out = []
    for number, span in enumerate(pages, start=1):
        heading = _lines(title if len(pages) == 1 else f"{title} (page {number} of {len(pages)})", text_w, TITLE_PT,
                         bold=True)
        top = _MARGIN + (len(heading) * TITLE_PT + len(subtitle) * TEXT_PT) * _LINE / 72 + _MARGIN
        size = (width, top + head_h + len(span) * row_h - _ROW_GAP + _BOTTOM)
        fig = plt.figure(figsize=size, dpi=DPI)
        _text(fig, size, _text(fig, size, _MARGIN, heading, TITLE_PT, bold=True), subtitle, TEXT_PT)
        for x, (name, scene) in zip((_LEFT, x_right), header):
            _image_axes(fig, (x, top + _PANEL_TITLE, pw, ph), size, name).imshow(
                true_colour(scene, lo, hi, idx), interpolation="nearest")
        image = None
        for k, i in enumerate(span):
            y = top + head_h + k * row_h
            label = _fit(f"{i + 1}. {ordered[i].label}", f": RMSE {ordered[i].rmse:.4f}", label_w, LABEL_PT)
            _text(fig, size, y, [label], LABEL_PT, bold=True)
            y += _ROW_LABEL + _PANEL_TITLE
            _image_axes(fig, (_LEFT, y, pw, ph), size, "prediction").imshow(
                true_colour(ordered[i].prediction, lo, hi, idx), interpolation="nearest")
            image = _image_axes(fig, (x_right, y, pw, ph), size, "|error|").imshow(
                errors[i], cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        if image is not None:
            y0 = top + head_h + _ROW_LABEL + _PANEL_TITLE
            y1 = top + head_h + len(span) * row_h - _ROW_GAP
            bar = fig.add_axes(((x_right + pw + _BAR_GAP) / size[0], 1 - y1 / size[1], _BAR_W / size[0],
                                (y1 - y0) / size[1]))
            cb = fig.colorbar(image, cax=bar)
            cb.set_label(ERROR_LABEL, fontsize=TEXT_PT)
            cb.ax.tick_params(labelsize=TEXT_PT)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
        plt.close(fig)
        out.append(buf.getvalue())
    return out
