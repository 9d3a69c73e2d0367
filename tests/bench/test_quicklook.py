"""The quick-look layout: screen-width pages, readable panels and titles, one row per method, paging."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from stfusion.bench import quicklook
from stfusion.bench.quicklook import QuickRow, page_names, quicklook_pages, split_pages
from stfusion.core.scene import Scene


class Recorder:
    """pyplot that keeps every figure open, so a test can read its panels and texts."""

    def __init__(self, plt) -> None:
        self.plt, self.figures = plt, []

    def figure(self, *args, **kwargs):
        fig = self.plt.figure(*args, **kwargs)
        self.figures.append(fig)
        return fig

    def close(self, fig) -> None:
        pass


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder(quicklook._pyplot())
    monkeypatch.setattr(quicklook, "_pyplot", lambda: rec)
    yield rec
    for fig in rec.figures:
        rec.plt.close(fig)


def _scene(rows: int = 24, cols: int = 24, offset: float = 0.0) -> Scene:
    rng = np.random.default_rng(0)
    data = (0.1 + 0.3 * rng.random((3, rows, cols)) + offset).astype(np.float32)
    return Scene(data, bands=("blue", "green", "red"))


def _rows(n: int, rows: int = 24, cols: int = 24) -> list[QuickRow]:
    """``n`` fake methods whose RMSE falls with the index (method n-1 is best)."""
    return [QuickRow(f"m{i}, 1 pair", _scene(rows, cols, offset=0.002 * (n - i)), 0.002 * (n - i)) for i in range(n)]


def _panels(fig) -> list:
    return [ax for ax in fig.axes if ax.images and ax.get_title()]


def test_twelve_methods_fill_several_readable_pages(recorder):
    truth = _scene()
    pages = quicklook_pages(truth, [("truth", truth), ("coarse", truth)], _rows(12), title="fake methods")
    assert len(pages) == len(split_pages(12)) > 1
    assert sum(len(s) for s in split_pages(12)) == 12
    labels = []
    for png, fig, span in zip(pages, recorder.figures, split_pages(12)):
        width, height = Image.open(io.BytesIO(png)).size
        assert width <= quicklook.MAX_WIDTH_PX
        assert (width, height) == tuple(np.round(fig.get_size_inches() * fig.dpi).astype(int))
        panels = _panels(fig)
        assert len(panels) == 2 + 2 * len(span)  # truth and coarse input, then prediction and |error| per method
        for ax in panels:
            box = ax.get_window_extent()
            assert min(box.width, box.height) >= 250 - 1
        texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_fontsize"))
                 if t.get_text().strip() and t.get_visible()]
        assert min(t.get_fontsize() for t in texts) * fig.dpi / 100 >= 11
        labels += [t.get_text() for t in texts if t.get_text()[0].isdigit() and ". m" in t.get_text()]
        bar = [ax for ax in fig.axes if ax.get_ylabel()]
        assert len(bar) == 1 and "reflectance" in bar[0].get_ylabel()
    assert [label.split(". ")[1].split(",")[0] for label in labels] == [f"m{i}" for i in reversed(range(12))]
    assert labels[0].startswith("1. m11, 1 pair: RMSE 0.0020")


def test_one_error_scale_over_all_pages(recorder):
    truth = _scene()
    quicklook_pages(truth, [("truth", truth), ("coarse", truth)], _rows(7), title="scale", per_page=3)
    limits = {ax.images[0].get_clim() for fig in recorder.figures for ax in _panels(fig) if ax.get_title() == "|error|"}
    assert len(limits) == 1


def test_a_wide_scene_keeps_panels_readable_within_the_page_width(recorder):
    truth = _scene(rows=20, cols=40)
    (png,) = quicklook_pages(truth, [("truth", truth), ("coarse", truth)], _rows(2, 20, 40), title="wide")
    assert Image.open(io.BytesIO(png)).size[0] <= quicklook.MAX_WIDTH_PX
    for ax in _panels(recorder.figures[0]):
        assert ax.get_window_extent().height >= 250 - 1


def test_pages_are_balanced_and_named():
    assert [len(s) for s in split_pages(12, 5)] == [4, 4, 4]
    assert [len(s) for s in split_pages(3, 5)] == [3]
    assert [len(s) for s in split_pages(0, 5)] == [0]
    assert page_names("quicklook", 1) == ["quicklook"]
    assert page_names("quicklook", 3) == ["quicklook-1", "quicklook-2", "quicklook-3"]
