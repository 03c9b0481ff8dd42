"""Static page and Markdown output: content, links, self-containment."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from behaviorbench.leaderboard.cli import main
from behaviorbench.leaderboard.render import bar_chart_svg, render_markdown
from behaviorbench.leaderboard.rows import Row, collect_rows
from behaviorbench.leaderboard.store import LeaderboardStore
from tests.leaderboard.helpers import make_results, write


def make_store(tmp_path) -> LeaderboardStore:
    """A store with three submissions on one test dataset (bams has a plot)."""
    (tmp_path / "plots").mkdir(exist_ok=True)
    (tmp_path / "plots" / "pca_terrain.png").write_bytes(b"\x89PNG test")
    files = [
        write(make_results("bams", {"terrain_type": [0.61, 0.64, 0.66],
                                    "robot_type": [0.97, 0.98, 0.99],
                                    "body_mass": [2.1, 2.3, 2.2]},
                           n_parameters=123_456, train_time_s=900.0,
                           artifacts=["plots/pca_terrain.png"]), tmp_path / "bams.json"),
        write(make_results("pca", {"terrain_type": [0.40, 0.41, 0.43],
                                   "robot_type": [0.80, 0.82, 0.85],
                                   "body_mass": [3.1, 3.0, 3.3]},
                           n_parameters=768, train_time_s=3.0), tmp_path / "pca.json"),
        write(make_results("raw", {"terrain_type": [0.45, 0.47, 0.46],
                                   "robot_type": [0.70, 0.72, 0.71]},
                           n_parameters=0, train_time_s=0.1), tmp_path / "raw.json"),
    ]
    store = LeaderboardStore(tmp_path / "lb")
    store.add(files)
    return store


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        for key in ("href", "src"):
            if key in a:
                self.refs.append(a[key])


def test_render_writes_self_contained_page_with_working_links(tmp_path):
    store = make_store(tmp_path)
    out = tmp_path / "site"
    assert main(["render", "--dir", str(store.root), "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    parser = _Links()
    parser.feed(page)
    assert parser.refs, "page should link the submissions"
    for ref in parser.refs:
        assert not re.match(r"^[a-z]+://", ref), f"external reference {ref}"
        assert (out / ref).is_file(), f"broken link {ref}"
    assert not any(t == "link" or (t == "script" and "src" in a) for t, a in parser.tags)
    ids = [e.id for e in store.entries()]
    for sid in ids:
        assert f"submissions/{sid}.json" in parser.refs
    assert any(r.endswith("pca_terrain.png") for r in parser.refs)
    # one table per dataset: ours + the two published datasets
    assert page.count('<table class="lb">') == 3
    assert page.count('data-published="1"') > 0 and "published" in page
    assert "<svg" in page and page.count('class="err"') >= 3 * 3  # error bars with caps
    md = (out / "leaderboard.md").read_text()
    assert "## terrain-test (quadruped)" in md
    assert "| bams | 0.637 ± 0.025 (n=3) |" in md
    assert "*published*" in md


def test_bar_chart_has_one_bar_per_row_and_scales_to_data():
    rows = [Row(key=k, results=make_results(k, {"body_mass": v}))
            for k, v in (("a", [1.0, 1.2]), ("b", [4.0, 4.4]), ("c", [2.0]))]
    svg = bar_chart_svg(rows, "body_mass")
    assert svg.count('<g class="bar"') == 3
    assert "lower is better" in svg
    labels = re.findall(r'data-model="([^"]+)"', svg)
    assert labels == ["a", "c", "b"]  # best (lowest MSE) first
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', svg)]
    assert widths[0] < widths[1] < widths[2]
    assert widths[2] == pytest.approx(4.2 / 5 * 300, rel=1e-3)  # axis max rounds up to 5


def test_markdown_lists_every_published_row():
    md = render_markdown(collect_rows(None))
    for label in ("BAMS short-term only", "MABe 2022 top submission #179369", "PCA baseline"):
        assert label in md
    assert "| 0.730 (n=1) | 0.980 (n=1) |" in md
