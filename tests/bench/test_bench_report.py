"""report.md and report.html: ranking tables with the ERGAS ratio, every figure, nothing external."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from stfusion.bench.report import FIGURES

from small_bench import METHODS


class Tables(HTMLParser):
    """Collects every table's attributes and body rows, and every image source."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[dict, list[list[str]]]] = []
        self.images: list[str] = []
        self._cell: list[str] | None = None
        self._body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append((attrs, []))
        elif tag == "tbody":
            self._body = True
        elif tag == "tr" and self._body:
            self.tables[-1][1].append([])
        elif tag == "td" and self._body:
            self._cell = []
        elif tag == "img":
            self.images.append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._body = False
        elif tag == "td" and self._cell is not None:
            self.tables[-1][1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> Tables:
    tables = Tables()
    tables.feed(text)
    return tables


def test_markdown_ranks_by_rmse_and_prints_the_ergas_ratio(small_bench):
    text = (small_bench.out / "report.md").read_text()
    assert "ERGAS h/l = 1/8 = 0.125" in text
    rows = [line.split("|")[1:4] for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    rmse = {r["method"]: r["values"]["rmse"] for r in small_bench.records}
    assert [c[1].strip() for c in rows] == sorted(METHODS, key=rmse.get)
    for link in re.findall(r"\]\((figures/[^)]+)\)", text):
        assert (small_bench.out / link).read_bytes()[:4] == b"\x89PNG"


def test_html_is_self_contained_with_every_figure(small_bench):
    text = (small_bench.out / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", text)
    tables = parse(text)
    ranking = [rows for attrs, rows in tables.tables if attrs.get("class") == "ranking"]
    assert len(ranking) == 1 and {row[1] for row in ranking[0]} == set(METHODS)
    assert len(tables.images) == len(FIGURES) + 1  # every figure of the set, and the overall trade-off
    for src in tables.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:4] == b"\x89PNG"


def test_docs_tables_fill_the_marked_places(small_bench, tmp_path):
    import pytest

    from stfusion.bench.docs_tables import write_docs
    from stfusion.core.errors import FileFormatError

    page = tmp_path / "page.md"
    page.write_text("intro\n<!-- bench-families -->\nold\n<!-- /bench-families -->\nmiddle\n"
                    "<!-- bench-times -->\n<!-- /bench-times -->\nend\n")
    write_docs(page, small_bench.records)
    text = page.read_text()
    assert "old" not in text and text.startswith("intro\n") and text.endswith("end\n")
    assert "| synthetic_abrupt | starfm " in text and "| delta | baseline | 1 |" in text
    page.write_text("no markers")
    with pytest.raises(FileFormatError, match="none of the markers"):
        write_docs(page, small_bench.records)
