"""Ranking (respecting higher_is_better), terminal tables and the Welch t-test comparison."""

from __future__ import annotations

import pytest
from rich.console import Console
from scipy import stats

from behaviorbench.leaderboard.cli import main
from behaviorbench.leaderboard.compare import TEST_NAME, compare_results, print_comparison
from behaviorbench.leaderboard.rows import Row, collect_rows, filter_rows, ranked
from behaviorbench.leaderboard.show import show
from behaviorbench.leaderboard.store import LeaderboardStore
from tests.leaderboard.helpers import make_results, write


def _row(key, model, scores, **kw):
    return Row(key=key, results=make_results(model, scores, **kw))


@pytest.fixture
def rows():
    return [
        _row("a", "good", {"terrain_type": [0.80, 0.82, 0.81], "body_mass": [1.0, 1.1, 0.9]}),
        _row("b", "bad", {"terrain_type": [0.40, 0.42, 0.41], "body_mass": [3.0, 3.2, 2.9]}),
        _row("c", "mid", {"terrain_type": [0.60, 0.61, 0.62]}),
    ]


def test_ranking_respects_metric_direction(rows):
    assert [r.key for _, r, _ in ranked(rows, "terrain_type")] == ["a", "c", "b"]
    # body_mass is an MSE: lower is better; "mid" has no body_mass score
    assert [r.key for _, r, _ in ranked(rows, "body_mass")] == ["a", "b"]
    tie = rows + [_row("d", "tie", {"terrain_type": [0.60, 0.61, 0.62]})]
    assert [rank for rank, _, _ in ranked(tie, "terrain_type")] == [1, 2, 2, 4]


def test_show_prints_ranked_tables_with_published_rows(rows):
    console = Console(record=True, width=200)
    all_rows = rows + collect_rows(None)[:3]
    n = show(all_rows, tasks=["terrain_type"], console=console)
    text = console.export_text()
    assert n == 2  # our test dataset + the published BAMS quadruped dataset
    assert text.index("good") < text.index("mid") < text.index("bad")
    assert "0.810 ± 0.010 (n=3)" in text
    assert "BAMS short-term + long-term (published)" in text
    assert "not measured here" in text
    assert filter_rows(all_rows, dataset="terrain-test") == rows
    assert [r.key for r in filter_rows(all_rows, model="goo")] == ["a"]


def test_compare_matches_scipy_welch_and_flags_significance(rows):
    comps = {c.task: c for c in compare_results(rows[0], rows[1])}
    tt = comps["terrain_type"]
    expected = stats.ttest_ind([0.80, 0.82, 0.81], [0.40, 0.42, 0.41], equal_var=False).pvalue
    assert tt.p_value == pytest.approx(expected)
    assert tt.significant and tt.better == "A" and tt.diff == pytest.approx(-0.4)
    bm = comps["body_mass"]  # lower is better: A's lower MSE wins
    assert bm.better == "A" and bm.diff > 0 and bm.significant

    noisy_a = _row("x", "x", {"terrain_type": [0.5, 0.7, 0.6]})
    noisy_b = _row("y", "y", {"terrain_type": [0.55, 0.75, 0.62]})
    (c,) = compare_results(noisy_a, noisy_b)
    assert c.better == "B" and not c.significant and c.p_value > 0.05

    single = _row("s", "s", {"terrain_type": [0.9]})
    (c,) = compare_results(rows[0], single)
    assert c.p_value is None and not c.significant and "2 seeds" in c.reason


def test_compare_output_names_the_test(rows):
    console = Console(record=True, width=200)
    print_comparison(rows[0], rows[1], console=console)
    text = console.export_text()
    assert TEST_NAME in text and "Welch" in text
    assert "terrain_type" in text and "yes" in text


def test_cli_show_and_compare(tmp_path, capsys):
    a = write(make_results("good", {"terrain_type": [0.8, 0.82, 0.81]}), tmp_path / "a.json")
    b = write(make_results("bad", {"terrain_type": [0.4, 0.42, 0.41]}), tmp_path / "b.json")
    lb = str(tmp_path / "lb")
    assert main(["add", str(a), str(b), "--dir", lb]) == 0
    capsys.readouterr()
    assert main(["show", "--dir", lb, "--dataset", "terrain-test", "--no-published"]) == 0
    out = capsys.readouterr().out
    assert out.index("good") < out.index("bad") and "BAMS" not in out
    assert main(["compare", "good", str(b), "--dir", lb]) == 0
    assert "Welch" in capsys.readouterr().out
    assert main(["compare", "nobody", "bad", "--dir", lb]) == 1
    assert "no submission matches 'nobody'" in capsys.readouterr().err
    assert LeaderboardStore(lb).check() == []
