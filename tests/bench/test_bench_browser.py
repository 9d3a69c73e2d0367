"""report.html in headless Chromium: the page renders (not blank), every image decodes, the tables have their rows."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from small_bench import METHODS
from test_bench_report import parse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
def test_report_renders_in_chromium(small_bench, tmp_path):
    import matplotlib.image

    shot = tmp_path / "shot.png"
    report = (small_bench.out / "report.html").resolve()
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400",
         f"--screenshot={shot}", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)[..., :3]
    ink = (pixels < 0.9).any(axis=-1).mean()
    assert pixels.std() > 0.05 and ink > 0.05, f"the screenshot looks blank ({ink:.1%} non-white pixels)"
    dom = parse(done.stdout)
    n_images = len(dom.images)
    marks = dict(re.findall(r'(data-images-\w+)="([^"]*)"', re.search(r"<body([^>]*)>", done.stdout).group(1)))
    assert n_images > 0 and marks == {"data-images-ok": str(n_images), "data-images-broken": "0"}
    ranking = [rows for attrs, rows in dom.tables if attrs.get("class") == "ranking"]
    assert [len(rows) for rows in ranking] == [len(METHODS)]
    winners = [rows for attrs, rows in dom.tables if attrs.get("class") == "winners"]
    assert len(winners[0]) == 1 and winners[0][0][0] == "synthetic_abrupt"

