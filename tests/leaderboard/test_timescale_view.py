"""The timescale view: `leaderboard show --view timescale` and the page's timescale section
(rendered in headless Chromium)."""

from __future__ import annotations

import pytest
from rich.console import Console

from behaviorbench.benchmark.results import TaskScore
from behaviorbench.leaderboard.cli import main
from behaviorbench.leaderboard.render import render
from behaviorbench.leaderboard.rows import collect_rows
from behaviorbench.leaderboard.store import LeaderboardStore
from behaviorbench.leaderboard.timescale_view import boards, family_of, timescale_tables
from tests.leaderboard.browser import chromium_page
from tests.leaderboard.helpers import make_results, write

# task -> (metric, level); scores below are test data, not measurements
META = {"foot_contact": ("f1_binary_mean", "frame"), "stride_phase": ("r2", "frame"),
        "terrain_type": ("f1_weighted", "frame"), "robot_type": ("f1_weighted", "sequence")}
SCORES = {  # view -> task -> per-seed scores: short wins the short tasks, long the long ones
    "bams": {"robot_type": [0.95, 0.96], "terrain_type": [0.60, 0.62],
             "stride_phase": [0.50, 0.52], "foot_contact": [0.80, 0.82]},
    "bams-short": {"robot_type": [0.70, 0.72], "terrain_type": [0.40, 0.42],
                   "stride_phase": [0.70, 0.71], "foot_contact": [0.90, 0.91]},
    "bams-long": {"robot_type": [0.98, 0.99], "terrain_type": [0.66, 0.67],
                  "stride_phase": [0.30, 0.31], "foot_contact": [0.70, 0.71]},
    "pca": {"robot_type": [0.80, 0.81], "terrain_type": [0.45, 0.46],
            "stride_phase": [0.20, 0.22], "foot_contact": [0.75, 0.76]},
}


def _results(model):
    res = make_results(model, {"robot_type": [0.0]})
    tasks = [TaskScore.from_values(t, META[t][0], True, META[t][1], v, [0, 1])
             for t, v in SCORES[model].items()]
    return res.model_copy(update={"tasks": tasks, "seeds": [0, 1]})


@pytest.fixture
def store(tmp_path):
    files = [write(_results(m), tmp_path / f"{m}.json") for m in SCORES]
    s = LeaderboardStore(tmp_path / "lb")
    s.add(files)
    return s


def test_views_grouped_by_family_and_tasks_ordered_by_timescale(store):
    rows = collect_rows(store, include_published=False)
    ((name, _, tasks, fams),) = boards(rows)
    assert tasks == ["foot_contact", "stride_phase", "terrain_type", "robot_type"]
    assert [f for f, _ in fams] == ["bams", "pca"]
    assert [family_of(r)[1] for r in fams[0][1]] == ["all", "short", "long"]
    (table,) = timescale_tables(rows)
    console = Console(record=True, width=200)
    console.print(table)
    text = console.export_text()
    assert text.index("foot_contact") < text.index("stride_phase") < text.index("robot_type")


def test_show_view_timescale_cli(store, capsys):
    assert main(["show", "--view", "timescale", "--dir", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert "timescale" in out and "bams-short" in out and "contact" in out
    with pytest.raises(SystemExit) as e:
        main(["show", "--view", "nope", "--dir", str(store.root)])
    assert e.value.code == 2


def test_timescale_section_in_headless_chromium(store, tmp_path):
    index = render(collect_rows(store), tmp_path / "site")
    problems: list[str] = []
    with chromium_page(index.resolve().as_uri(), problems) as page:
        sec = page.locator("section#timescale")
        assert sec.is_visible()
        tasks = sec.locator("th[data-task]").evaluate_all(
            "hs => hs.map(h => h.getAttribute('data-task'))")
        assert tasks == ["foot_contact", "stride_phase", "terrain_type", "robot_type"]
        scales = sec.locator("th.scale").evaluate_all(
            "hs => hs.map(h => h.getAttribute('data-scale'))")
        assert scales == ["contact", "stride", "terrain", "sequence"]
        bams = sec.locator("tr[data-family='bams']")
        assert bams.count() == 3
        short = sec.locator("tr[data-view='short'] td.best")
        assert short.count() == 2  # the short space wins contact and stride
        assert sec.locator("tr[data-view='long'] td.best").count() == 2
        assert sec.locator("svg.ts-chart").count() == 2  # one per family
        assert sec.locator("svg.ts-chart polyline").count() == 4
        assert sec.locator("svg.ts-chart").first.bounding_box()["width"] > 100
    assert problems == []
