"""The leaderboard as data: one record per (row, task), as CSV, JSON or a pandas DataFrame.

``records(rows)`` gives plain dicts (columns in ``COLUMNS``); ``to_dataframe()`` returns them as a
``pandas.DataFrame``::

    from behaviorbench.leaderboard import to_dataframe
    df = to_dataframe("leaderboard")          # a store folder, a LeaderboardStore or Row list
    df[df.task == "terrain_type"].sort_values("rank")

Scores are plain floats in the metric's unit (F1 in [0, 1]); missing values are None (NaN in the
DataFrame). ``leaderboard show --format csv|json`` prints the same records.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from behaviorbench.leaderboard.rows import (
    Row,
    chance_of,
    collect_rows,
    coverage_flag,
    group_rows,
    metric_of,
    ranked,
    task_names,
)

#: record fields, in output order
COLUMNS = (
    "board", "dataset", "dataset_kind", "task", "metric", "higher_is_better", "rank", "model",
    "label", "id", "published", "mean", "std", "n_seeds", "ci_low", "ci_high", "f1_macro",
    "balanced_accuracy", "chance", "chance_majority", "chance_prior_random", "splits_mean",
    "std_over_splits", "std_over_seeds", "n_splits", "train_lacks", "n_parameters",
    "train_time_s", "precision", "dataset_checksum", "protocol_hash", "source",
)


def records(rows: list[Row]) -> list[dict[str, Any]]:
    """One dict per (row, task) with the fields of ``COLUMNS``, boards in ``group_rows`` order
    and rows ranked within each task."""
    out: list[dict[str, Any]] = []
    for b, g in enumerate(group_rows(rows)):
        for task in task_names(g.rows):
            for rank, row, t in ranked(g.rows, task):
                res, x = row.results, t.extra
                iv = x.get("interval") or {}
                ch = x.get("chance") or {}
                reps = x.get("repetitions") or {}
                out.append({
                    "board": f"{b + 1}:{g.status}", "dataset": res.dataset.name,
                    "dataset_kind": res.dataset.kind, "task": task, "metric": t.metric,
                    "higher_is_better": t.higher_is_better, "rank": rank,
                    "model": res.model.name, "label": row.label, "id": row.key,
                    "published": row.published, "mean": t.mean, "std": t.std,
                    "n_seeds": len(t.values), "ci_low": iv.get("low"), "ci_high": iv.get("high"),
                    "f1_macro": metric_of(t, "f1_macro"),
                    "balanced_accuracy": metric_of(t, "balanced_accuracy"),
                    "chance": chance_of(t),
                    "chance_majority": (ch.get("majority") or {}).get(t.metric),
                    "chance_prior_random": (ch.get("prior_random") or {}).get(t.metric),
                    "splits_mean": reps.get("mean"),
                    "std_over_splits": reps.get("std_over_splits"),
                    "std_over_seeds": reps.get("std_over_seeds"),
                    "n_splits": len(reps["splits"]) if reps else None,
                    "train_lacks": coverage_flag(t).removeprefix("train lacks ") or None,
                    "n_parameters": res.model.n_parameters, "train_time_s": res.train_time_s,
                    "precision": (res.provenance or {}).get("precision"),
                    "dataset_checksum": res.dataset.checksum,
                    "protocol_hash": res.protocol.hash if res.protocol else None,
                    "source": res.source,
                })
    return out


def to_csv(recs: list[dict[str, Any]]) -> str:
    """``records`` as CSV text (header ``COLUMNS``; None as an empty cell)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in recs:
        w.writerow({k: "" if v is None else v for k, v in r.items()})
    return buf.getvalue()


def to_json(recs: list[dict[str, Any]]) -> str:
    """``records`` as a JSON array (2-space indent, trailing newline)."""
    return json.dumps(recs, indent=2) + "\n"


def to_dataframe(source: Any = None, include_published: bool = True) -> Any:
    """The board as a ``pandas.DataFrame`` with the columns ``COLUMNS``, one row per
    (submission, task).

    ``source``: a store folder (str / Path), a ``LeaderboardStore``, a list of ``Row`` or None
    (``./leaderboard`` if it exists, else the published rows only).
    """
    import pandas as pd

    from behaviorbench.leaderboard.store import DEFAULT_DIR, LeaderboardStore

    if isinstance(source, list):
        rows = source
    else:
        store = source
        if source is None:
            store = LeaderboardStore(DEFAULT_DIR) if Path(DEFAULT_DIR).exists() else None
        elif isinstance(source, (str, Path)):
            store = LeaderboardStore(source)
            problem = store.problem(may_create=False)
            if problem:
                from behaviorbench.leaderboard.store import LeaderboardError

                raise LeaderboardError(f"{source}: {problem}")
        rows = collect_rows(store, include_published=include_published)
    return pd.DataFrame.from_records(records(rows), columns=list(COLUMNS))
