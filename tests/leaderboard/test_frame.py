"""The board as data: records, `leaderboard show --format csv|json`, `to_dataframe()`; the
label's non-default settings; `compare` over splits."""

from __future__ import annotations

import csv
import io
import json

import pytest
from scipy import stats

from behaviorbench.leaderboard import to_dataframe
from behaviorbench.leaderboard.cli import main
from behaviorbench.leaderboard.compare import compare_results
from behaviorbench.leaderboard.frame import COLUMNS, records
from behaviorbench.leaderboard.rows import Row, non_default_settings
from behaviorbench.leaderboard.store import LeaderboardError
from tests.leaderboard.helpers import make_results, write


def _with_extras(res, splits=None, chance=0.3, missing=()):
    """``res`` with the extras run-benchmark records on its terrain_type task (test data)."""
    t = res.task("terrain_type")
    extra = {**t.extra, "interval": {"low": t.mean - 0.05, "high": t.mean + 0.05},
             "metrics": {"f1_macro": {"mean": t.mean - 0.1, "std": None}},
             "chance": {"majority": {"f1_weighted": chance}, "prior_random": {"f1_weighted": 0.2}},
             "missing_in_train": list(missing)}
    if splits is not None:
        grid = [t.values, *splits]
        extra["repetitions"] = {"splits": ["paper"] + [f"random-{i}" for i in range(len(splits))],
                                "values": grid, "mean": 0.0, "std_over_splits": 0.01,
                                "std_over_seeds": 0.02}
    tasks = [t.model_copy(update={"extra": extra}) if t.name == "terrain_type" else t
             for t in res.tasks]
    return res.model_copy(update={"tasks": tasks})


@pytest.fixture
def board(tmp_path):
    a = _with_extras(make_results("pca", {"terrain_type": [0.5, 0.52], "robot_type": [0.7]}),
                     missing=("pyramid_slope",))
    b = make_results("raw", {"terrain_type": [0.45, 0.46]})
    lb = tmp_path / "lb"
    assert main(["add", str(write(a, tmp_path / "a.json")), str(write(b, tmp_path / "b.json")),
                 "--dir", str(lb)]) == 0
    return lb


def test_show_format_csv_and_json_print_one_record_per_row_and_task(board, capsys):
    capsys.readouterr()
    assert main(["show", "--dir", str(board), "--no-published", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == COLUMNS
    tt = [r for r in rows if r["task"] == "terrain_type"]
    assert [r["model"] for r in tt] == ["pca", "raw"] and [r["rank"] for r in tt] == ["1", "2"]
    assert float(tt[0]["mean"]) == pytest.approx(0.51)
    assert float(tt[0]["chance"]) == pytest.approx(0.3)  # the better trivial predictor
    assert float(tt[0]["ci_low"]) == pytest.approx(0.46)
    assert tt[0]["train_lacks"] == "pyramid_slope" and tt[1]["chance"] == ""
    assert main(["show", "--dir", str(board), "--no-published", "--format", "json",
                 "--task", "robot_type"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["task"], r["mean"], r["std"]) for r in recs] == [
        ("pca", "robot_type", 0.7, None)]


def test_to_dataframe_returns_the_records(board):
    df = to_dataframe(board, include_published=False)
    assert list(df.columns) == list(COLUMNS) and len(df) == 3
    pca = df[(df.model == "pca") & (df.task == "terrain_type")].iloc[0]
    assert pca["f1_macro"] == pytest.approx(0.41) and pca["n_seeds"] == 2
    with_published = to_dataframe(board)
    assert with_published["published"].any() and len(with_published) > 3
    with pytest.raises(LeaderboardError):
        to_dataframe(board / "missing")


def test_show_table_and_page_show_chance_interval_and_coverage_flag(board, tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich folds cells narrower than the terminal
    capsys.readouterr()
    assert main(["show", "--dir", str(board), "--no-published", "--task", "terrain_type"]) == 0
    out = capsys.readouterr().out
    assert "95% CI" in out and "chance" in out and "[0.460, 0.560]" in out
    assert "train lacks pyramid_slope" in out
    assert main(["render", "--dir", str(board), "--no-published", "--out",
                 str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "index.html").read_text()
    assert "95% CI [0.460, 0.560]" in page and "chance 0.300" in page
    assert 'class="detail flag"' in page and "train lacks pyramid_slope" in page
    md = (tmp_path / "site" / "leaderboard.md").read_text()
    assert "macro F1 0.410" in md


def test_label_shows_every_non_default_setting():
    res = make_results("bams", {"terrain_type": [0.5]},
                       config={"epochs": 60, "batch_size": 8, "hoa_target": "reference-code",
                               "device": "cuda", "progress": False})
    res = res.model_copy(update={"provenance": {"precision": "bf16", "fit_on": "train"}})
    assert non_default_settings(res) == ["epochs=60", "hoa_target=reference-code",
                                         "precision=bf16", "fit_on=train"]
    assert Row(key="k", results=res).label == (
        "bams (epochs=60, hoa_target=reference-code, precision=bf16, fit_on=train)")
    plain = make_results("bams", {"terrain_type": [0.5]}, config={"epochs": 100})
    assert Row(key="k", results=plain).label == "bams"


def test_compare_uses_the_splits_when_both_sides_have_them():
    a = _with_extras(make_results("a", {"terrain_type": [0.50, 0.52]}),
                     splits=[[0.40, 0.41], [0.60, 0.61], [0.45, 0.47]])
    b = _with_extras(make_results("b", {"terrain_type": [0.55, 0.56]}),
                     splits=[[0.44, 0.46], [0.62, 0.66], [0.52, 0.50]])
    (c,) = compare_results(Row("a", a), Row("b", b))
    means_a = [0.51, 0.405, 0.605, 0.46]
    means_b = [0.555, 0.45, 0.64, 0.51]
    assert c.test == "splits"
    assert c.p_value == pytest.approx(stats.ttest_rel(means_a, means_b).pvalue)
    seeds_only = make_results("c", {"terrain_type": [0.55, 0.57]})
    (c2,) = compare_results(Row("a", a), Row("c", seeds_only))
    assert c2.test == "seeds"
    assert c2.p_value == pytest.approx(
        stats.ttest_ind([0.50, 0.52], [0.55, 0.57], equal_var=False).pvalue)


def test_records_of_an_empty_board_are_empty():
    assert records([]) == []
