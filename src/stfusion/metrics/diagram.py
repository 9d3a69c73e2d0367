"""The APA diagram (Zhu et al. 2022): a polar plot of RMSE (radius) against arccos(EDGE) (angle),
points coloured by the class of AD, as in the authors' ``APA_diagram.R``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from ..core.errors import InputError, InvalidValueError, ShapeMismatchError, require
from .apa import APAResult

AD_CLASSES = (
    ("AD < -0.002", "#2166ac"),
    ("-0.002 <= AD < -0.001", "#92c5de"),
    ("-0.001 <= AD <= 0.001", "#4d9221"),
    ("0.001 < AD <= 0.002", "#f4a582"),
    ("AD > 0.002", "#b2182b"),
)
"""(label, colour) of the five AD classes, in reflectance units."""


def ad_class(ad: float) -> int:
    """Index into `AD_CLASSES` of a bias value: < −0.002, [−0.002, −0.001), [−0.001, 0.001], (0.001, 0.002], > 0.002."""
    if ad < -0.002:
        return 0
    if ad < -0.001:
        return 1
    if ad <= 0.001:
        return 2
    if ad <= 0.002:
        return 3
    return 4


def _point(name: str, value: APAResult | tuple[float, float, float]) -> tuple[float, float, float]:
    if isinstance(value, APAResult):
        ad, rmse, edge, _ = value.band_average
    else:
        if len(value) != 3:
            raise ShapeMismatchError(f"APA diagram entry '{name}' has {len(value)} values; give (rmse, edge, ad)")
        rmse, edge, ad = (float(v) for v in value)
    if not all(math.isfinite(v) for v in (rmse, edge, ad)) or rmse < 0 or not -1 <= edge <= 1:
        raise InvalidValueError(
            f"APA diagram entry '{name}' is (rmse={rmse}, edge={edge}, ad={ad}); "
            "give finite values with rmse >= 0 and -1 <= edge <= 1"
        )
    return rmse, edge, ad


def apa_diagram(
    results: Mapping[str, APAResult | tuple[float, float, float]],
    path: str | Path,
    *,
    title: str = "APA diagram",
    dpi: int = 150,
) -> Path:
    """Draw the APA diagram of one or more fused images and save it as a PNG.

    ``results`` maps a method name to its `APAResult` (band averages are drawn) or to
    ``(rmse, edge, ad)``. Radius is RMSE, angle arccos(EDGE) (EDGE = 1 at 0°, −1 at 180°),
    colour the AD class. Returns the path written.
    """
    if not results:
        raise InputError("the APA diagram needs at least one result; give {name: apa(truth, pred)}")
    points = {name: _point(name, value) for name, value in results.items()}
    require("matplotlib", "plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6.5, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="polar")
    ax.set_thetamin(0)
    ax.set_thetamax(180)
    ticks = [1.0, 0.8, 0.6, 0.4, 0.2, 0.0, -0.2, -0.4, -0.6, -0.8, -1.0]
    ax.set_xticks([math.acos(e) for e in ticks], [f"{e:g}" for e in ticks])
    for name, (rmse, edge, ad) in points.items():
        angle = math.acos(edge)
        ax.scatter([angle], [rmse], color=AD_CLASSES[ad_class(ad)][1], s=40, zorder=3)
        ax.annotate(name, (angle, rmse), textcoords="offset points", xytext=(5, 5), fontsize=8)
    rmax = max(r for r, _, _ in points.values())
    ax.set_rlim(0, 1.15 * rmax if rmax > 0 else 1.0)
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(f"{title}\nradius: RMSE, angle: EDGE", fontsize=10)
    handles = [Line2D([], [], marker="o", linestyle="", color=colour, label=label) for label, colour in AD_CLASSES]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.9, 1.0), fontsize=7, title="AD", title_fontsize=8)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=dpi, bbox_inches="tight")
    return out
