"""The documentation site: `mkdocs build --strict` succeeds, and in headless Chromium the pages
render with their content, every image they reference is there, and the search index loads."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--virtual-time-budget=5000")
PAGES = {"": "stfusion", "methods/stsf/": "DC-STSF", "api/core/": "stfusion.core.run.predict",
         "parallel/": "Whole HS/MS scenes"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="the site needs the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("mkdocstrings", reason="the site needs the docs extra: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(out)], capture_output=True, text=True, timeout=300,
                          env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "HOME": str(out)})
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_every_nav_page_is_built_and_its_images_exist(site):
    pages = sorted(site.rglob("index.html"))
    assert len(pages) >= 25
    for page in pages:
        for src in re.findall(r'<img[^>]+src="([^"]+)"', page.read_text(encoding="utf-8")):
            if not src.startswith(("http:", "https:", "data:")):
                assert (page.parent / src).resolve().is_file(), f"{page.relative_to(site)}: missing image {src}"


def test_the_search_index_holds_every_page(served):
    with urllib.request.urlopen(served + "search/search_index.json", timeout=10) as r:
        docs = json.load(r)["docs"]
    locations = {d["location"].split("#")[0] for d in docs}
    assert set(PAGES) <= locations
    assert any("starfm" in d["text"].lower() for d in docs)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
@pytest.mark.parametrize("page,text", PAGES.items())
def test_pages_render_in_chromium(served, tmp_path, page, text):
    import matplotlib.image

    shot = tmp_path / "shot.png"
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600",
                           f"--screenshot={shot}", "--dump-dom", served + page],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert text in done.stdout and 'class="md-nav' in done.stdout and 'data-md-component="search"' in done.stdout
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert (pixels < 0.9).any(axis=-1).mean() > 0.02, "the page looks blank"
