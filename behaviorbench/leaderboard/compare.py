"""`leaderboard compare A B`: task-by-task differences with a significance test over seeds.

Test: Welch's unequal-variance two-sample t-test on the per-seed scores
(`scipy.stats.ttest_ind(a, b, equal_var=False)`), two-sided, alpha 0.05 by default, no correction
for multiple tasks. It needs at least two seeds on each side; otherwise the row says so.

Only like is compared with like: A and B must share their dataset identity and protocol
(`rows.comparability`); otherwise `compare_results` raises `LeaderboardError` saying what differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from scipy import stats

from behaviorbench.leaderboard.rows import Row, comparability, fmt_score, task_of
from behaviorbench.leaderboard.store import LeaderboardError

TEST_NAME = "Welch's t-test (scipy.stats.ttest_ind, equal_var=False, two-sided)"


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
        p, reason = None, ""
        if len(ta.values) < 2 or len(tb.values) < 2:
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
                significant=p is not None and p < alpha, reason=reason,
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
    for col in ("task", "metric", "A", "B", "B − A", "better", "p", f"significant (p<{alpha})"):
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
        )
    console.print(table)
    if not comps:
        console.print("no task in common")
    console.print(
        f"test: {TEST_NAME} on per-seed scores, alpha={alpha}, no multiple-comparison correction"
    )
    return comps
