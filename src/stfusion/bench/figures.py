"""Quick-look figures: true-colour composites and error maps."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ..core.scene import Scene


def _rgb_index(scene: Scene) -> list[int]:
    """Band indexes of red, green, blue (or the first three bands when names are unknown)."""
    names = list(scene.bands or ())
    if all(n in names for n in ("red", "green", "blue")):
        return [names.index("red"), names.index("green"), names.index("blue")]
    n = scene.count
    return [min(2, n - 1), min(1, n - 1), 0]


def true_colour(scene: Scene, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(rows, cols, 3) image in 0-1, stretched between per-channel ``lo`` and ``hi``; invalid pixels white."""
    rgb = np.moveaxis(np.asarray(scene.data)[_rgb_index(scene)], 0, -1).astype(np.float64)
    rgb = np.clip((rgb - lo) / np.maximum(hi - lo, 1e-9), 0, 1)
    rgb[~np.asarray(scene.mask)] = 1.0
    return rgb


def quicklook(truth: Scene, predictions: Mapping[str, Scene], path: str | Path, *, title: str = "") -> Path:
    """Save a PNG: the truth and each prediction in true colour (top), absolute error maps (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx = _rgb_index(truth)
    valid = np.asarray(truth.data)[idx][:, np.asarray(truth.mask)]
    lo, hi = np.percentile(valid, 2, axis=1), np.percentile(valid, 98, axis=1)
    n = len(predictions) + 1
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5.6), squeeze=False)
    axes[0, 0].imshow(true_colour(truth, lo, hi))
    axes[0, 0].set_title("truth", fontsize=9)
    errors = {
        name: np.where(np.asarray(p.mask) & np.asarray(truth.mask),
                       np.abs(np.asarray(p.data) - np.asarray(truth.data)).mean(axis=0), np.nan)
        for name, p in predictions.items()
    }
    vmax = max([float(np.nanpercentile(e, 99)) for e in errors.values()] + [1e-6])
    image = None
    for j, (name, pred) in enumerate(predictions.items(), start=1):
        axes[0, j].imshow(true_colour(pred, lo, hi))
        axes[0, j].set_title(name, fontsize=9)
        image = axes[1, j].imshow(errors[name], cmap="magma", vmin=0, vmax=vmax)
        axes[1, j].set_title(f"|error| {name}", fontsize=9)
    axes[1, 0].axis("off")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if image is not None:
        fig.colorbar(image, ax=axes[1, :].tolist(), shrink=0.8, label="mean |pred - truth| (reflectance)")
    if title:
        fig.suptitle(title, fontsize=10)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
