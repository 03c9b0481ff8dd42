"""Leaderboard rows: submissions plus published reference rows, grouped and ranked.

Shared by `show`, `compare` and `render`. A row is one results object (one model on one
dataset); tables are per dataset (kind + name); ranking is per task by the task's mean over
seeds, best first, respecting `higher_is_better`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from behaviorbench.benchmark.results import BenchmarkResults, TaskScore
from behaviorbench.leaderboard.published import published_results
from behaviorbench.leaderboard.store import LeaderboardStore


@dataclass(frozen=True)
class Row:
    """One leaderboard row."""

    key: str  # submission id, or "published-<n>" for reference rows
    results: BenchmarkResults
    json_file: Path | None = None  # results JSON in the store (None for published rows)
    artifacts: tuple[Path, ...] = ()  # plot files in the store

    @property
    def published(self) -> bool:
        return self.results.published

    @property
    def label(self) -> str:
        return self.results.model.label

    @property
    def dataset_key(self) -> tuple[str, str]:
        return (self.results.dataset.kind, self.results.dataset.name)


def collect_rows(store: LeaderboardStore | None, include_published: bool = True) -> list[Row]:
    """Rows of every submission in `store` (index order), then the published reference rows."""
    rows: list[Row] = []
    if store is not None:
        for entry, res in store.results():
            rows.append(
                Row(
                    key=entry.id,
                    results=res,
                    json_file=store.root / entry.file,
                    artifacts=tuple(store.root / a for a in entry.artifacts),
                )
            )
    if include_published:
        rows += [Row(key=f"published-{i}", results=r) for i, r in enumerate(published_results())]
    return rows


def filter_rows(
    rows: list[Row], dataset: str | None = None, model: str | None = None
) -> list[Row]:
    """Keep rows whose dataset kind or name equals `dataset`, and whose model name/label has
    `model` as a case-insensitive substring (None: no filter)."""
    out = []
    for r in rows:
        if dataset and dataset not in r.dataset_key:
            continue
        if model and model.lower() not in f"{r.results.model.name} {r.label}".lower():
            continue
        out.append(r)
    return out


def group_by_dataset(rows: list[Row]) -> dict[tuple[str, str], list[Row]]:
    """(kind, name) -> rows, measured datasets first, then in first-seen order."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in sorted(rows, key=lambda r: r.published):
        groups.setdefault(r.dataset_key, []).append(r)
    return groups


def task_names(rows: list[Row]) -> list[str]:
    """Task names over `rows`, in first-seen order."""
    seen: dict[str, None] = {}
    for r in rows:
        for t in r.results.tasks:
            seen.setdefault(t.name, None)
    return list(seen)


def task_of(row: Row, name: str) -> TaskScore | None:
    """The row's score for task `name`, or None."""
    for t in row.results.tasks:
        if t.name == name:
            return t
    return None


def ranked(rows: list[Row], task: str) -> list[tuple[int, Row, TaskScore]]:
    """(rank, row, score) for rows that have `task`, best first (ties share a rank)."""
    scored = [(r, t) for r in rows if (t := task_of(r, task)) is not None]
    if not scored:
        return []
    hib = scored[0][1].higher_is_better
    scored.sort(key=lambda rt: -rt[1].mean if hib else rt[1].mean)
    out: list[tuple[int, Row, TaskScore]] = []
    for i, (r, t) in enumerate(scored):
        rank = out[-1][0] if out and out[-1][2].mean == t.mean else i + 1
        out.append((rank, r, t))
    return out


def fmt_score(t: TaskScore | None, digits: int = 3) -> str:
    """'0.731 ± 0.012 (n=3)'; one value: '0.731 (n=1)'; missing: '—'."""
    if t is None:
        return "—"
    s = f"{t.mean:.{digits}f}"
    if t.std is not None:
        s += f" ± {t.std:.{digits}f}"
    return f"{s} (n={len(t.values)})"


def fmt_params(n: int | None) -> str:
    """1234567 -> '1.23M'; None -> '—'."""
    if n is None:
        return "—"
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return str(n)


def fmt_seconds(s: float | None) -> str:
    """812.3 -> '13.5 min'; None -> '—'."""
    if s is None or math.isnan(s):
        return "—"
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def fmt_hardware(res: BenchmarkResults) -> str:
    """'cpu (AMD EPYC)' / 'cuda (NVIDIA H100)'; published rows: 'published'."""
    hw = res.hardware
    if hw is None:
        return "published" if res.published else "—"
    return f"{hw.device} ({hw.gpu_model or hw.cpu_model})"
