"""`leaderboard compare A B`: task-by-task differences with a significance test.

Test, per task:
- when both results were scored on the same splits (`run-benchmark --splits K`, the task's own
  split plus K seeded random 20/80 splits, so at least 2 splits): a paired t-test over splits
  (`scipy.stats.ttest_rel`) on each split's score averaged over seeds. This spread includes
  which sequences are train and test, not only the model and readout initialisation.
- otherwise: Welch's unequal-variance two-sample t-test on the per-seed scores of the task's
  own split (`scipy.stats.ttest_ind(a, b, equal_var=False)`); it sees only the seed spread,
  which the table says. It needs at least two seeds on each side; otherwise the row says so.
Both two-sided, alpha 0.05 by default, no correction for multiple tasks.

Only like is compared with like: A and B must share their dataset identity and protocol
(`rows.comparability`); otherwise `compare_results` raises `LeaderboardError` saying what differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from scipy import stats

from behaviorbench.leaderboard.rows import Row, comparability, fmt_score, task_of
from behaviorbench.leaderboard.store import LeaderboardError

TEST_NAME = "Welch's t-test (scipy.stats.ttest_ind, equal_var=False, two-sided)"
SPLIT_TEST_NAME = "paired t-test over splits (scipy.stats.ttest_rel, two-sided)"


@dataclass(frozen=True)
class TaskComparison:
    """B minus A for one task."""

    task: str
    metric: str
    higher_is_better: bool
    mean_a: float
    mean_b: float
    diff: float  # mean_b - mean_a, in the metric's unit
    better: str  # "A", "B" or "tie"
    p_value: float | None  # None when the test cannot run (n < 2 or zero variance)
    significant: bool
    reason: str  # why p is None, else ""
    test: str = "seeds"  # "splits": paired over splits; "seeds": Welch over seeds


def split_means(t: Any) -> tuple[list[str], list[float]] | None:
    """(split names, score per split averaged over seeds) of a ``--splits`` run, or None."""
    reps = t.extra.get("repetitions") if t is not None else None
    if not reps or len(reps.get("splits", [])) < 2:
        return None
    return list(reps["splits"]), [sum(v) / len(v) for v in reps["values"]]


def compare_results(a: Row, b: Row, alpha: float = 0.05) -> list[TaskComparison]:
    """Compare every task present in both rows (in A's task order).

    Raises `LeaderboardError` when A and B were scored on different data or protocols.
    """
    reason = comparability(a, b)
    if reason:
        raise LeaderboardError(reason)
    out = []
    for ta in a.results.tasks:
        tb = task_of(b, ta.name)
        if tb is None:
            continue
        diff = tb.mean - ta.mean
        if diff == 0:
            better = "tie"
        else:
            better = "B" if (diff > 0) == ta.higher_is_better else "A"
        p, reason, test = None, "", "seeds"
        sa, sb = split_means(ta), split_means(tb)
        if sa is not None and sb is not None and sa[0] == sb[0]:
            test = "splits"
            diffs = [y - x for x, y in zip(sa[1], sb[1], strict=True)]
            if max(diffs) == min(diffs):
                reason = "identical difference on every split"
            else:
                p = float(stats.ttest_rel(sa[1], sb[1]).pvalue)
        elif len(ta.values) < 2 or len(tb.values) < 2:
            reason = "needs >= 2 seeds per side"
        elif (ta.std or 0.0) == 0.0 and (tb.std or 0.0) == 0.0:
            reason = "zero variance on both sides"
        else:
            res = stats.ttest_ind(ta.values, tb.values, equal_var=False)
            p = float(res.pvalue)
            if math.isnan(p):
                p, reason = None, "test undefined"
        out.append(
            TaskComparison(
                task=ta.name, metric=ta.metric, higher_is_better=ta.higher_is_better,
                mean_a=ta.mean, mean_b=tb.mean, diff=diff, better=better, p_value=p,
                significant=p is not None and p < alpha, reason=reason, test=test,
            )
        )
    return out


def print_comparison(a: Row, b: Row, alpha: float = 0.05, console: Console | None = None) -> list:
    """Print the comparison table and the test used; returns the TaskComparison list."""
    console = console or Console()
    comps = compare_results(a, b, alpha)
    da, db = a.results.dataset, b.results.dataset
    console.print(f"A = {a.label} [{a.key}] on {da.name}")
    console.print(f"B = {b.label} [{b.key}] on {db.name}")
    table = Table(title="B − A per task", title_justify="left")
    for col in ("task", "metric", "A", "B", "B − A", "better", "p", f"significant (p<{alpha})",
                "test over"):
        table.add_column(col)
    for c in comps:
        ta, tb = task_of(a, c.task), task_of(b, c.task)
        table.add_row(
            c.task,
            f"{c.metric} ({'↑' if c.higher_is_better else '↓'})",
            fmt_score(ta),
            fmt_score(tb),
            f"{c.diff:+.4f}",
            c.better,
            f"{c.p_value:.3g}" if c.p_value is not None else f"n/a ({c.reason})",
            "yes" if c.significant else "no",
            f"{len(split_means(ta)[0])} splits" if c.test == "splits"
            else "seeds only (no --splits on both)",
        )
    console.print(table)
    if not comps:
        console.print("no task in common")
    used = {c.test for c in comps}
    if "splits" in used:
        console.print(f"test over splits: {SPLIT_TEST_NAME} on the seed-averaged score of each "
                      f"split (the task's own split and the --splits ones)")
    if "seeds" in used or not comps:
        console.print(f"test over seeds: {TEST_NAME} on the per-seed scores of the task's own "
                      f"split: it sees the model and readout initialisation only, not the split")
    console.print(f"alpha={alpha}, no multiple-comparison correction")
    return comps
