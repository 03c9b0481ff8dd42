"""The published reference rows agree with the reference documents they were copied from."""

from __future__ import annotations

import csv
import re

import pytest

from behaviorbench.leaderboard.published import MABE_TASKS, published_results


def _by_label():
    return {r.model.label: r for r in published_results()}


def test_all_rows_are_marked_published_with_a_source():
    rows = published_results()
    assert len(rows) == 7
    assert all(r.published and r.source and r.hardware is None for r in rows)


def test_quadruped_rows_match_original_dataset_table(reference_dir):
    text = (reference_dir / "original_dataset.md").read_text()
    table = dict(
        (m.group(1).strip(), (float(m.group(2)), float(m.group(3))))
        for m in re.finditer(r"^\| ([^|]+?) \| ([0-9.]+) \| ([0-9.]+) \|$", text, re.M)
    )
    expected = {
        "BAMS short-term + long-term": table["short-term + long-term (BAMS)"],
        "BAMS short-term only": table["short-term only"],
        "BAMS long-term only": table["long-term only"],
    }
    rows = _by_label()
    for label, (terrain, robot) in expected.items():
        assert rows[label].task("terrain_type").mean == terrain
        assert rows[label].task("robot_type").mean == robot


@pytest.mark.parametrize(
    ("csv_name", "label"),
    [
        ("mouse-round-1--179369.npy.csv", "MABe 2022 top submission #179369"),
        ("mouse-round-1--sample_submission.npy.csv", "Random embeddings (sample submission)"),
    ],
)
def test_mabe_rows_match_official_csv(reference_dir, csv_name, label):
    row = _by_label()[label]
    with open(reference_dir / "mabe22" / csv_name) as f:
        records = list(csv.DictReader(f))
    assert [t.name for t in row.tasks] == [r["Task ID"] for r in records]
    for rec in records:
        t = row.task(rec["Task ID"])
        assert t.mean == float(rec["Private Score"])
        assert t.extra["public"] == float(rec["Public Score"])
        assert t.extra["no_ensemble"] == float(rec["No Ensemble Score"])
        assert t.metric == rec["Metric"].replace("f1_score", "f1_binary")
        assert t.higher_is_better == (rec["Metric"] == "f1_score")
        seq = rec["Sequence Level Task"] == "True"
        assert (t.level == "sequence") == seq == (MABE_TASKS[t.name][0] == "sequence")


def test_slide_aggregates_match_seed_document(reference_dir):
    seeds = (reference_dir.parent / "seeds").glob("*.txt")
    text = "\n".join(p.read_text() for p in seeds)
    rows = _by_label()
    for label, line_start in (("BAMS (slides)", "# 3 BAMS (Ours)"), ("PCA baseline (slides)",
                                                                       "PCA baseline")):
        line = next(ln for ln in text.splitlines() if ln.startswith(line_start))
        f1, mse = (float(x) for x in line.split("\t")[1:3])
        assert rows[label].task("mean_f1").mean == pytest.approx(f1 / 100)
        assert rows[label].task("mean_mse").mean == mse
