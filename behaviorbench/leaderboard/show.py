"""`leaderboard show`: rich tables, one per (dataset, task), ranked by the task's metric."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from behaviorbench.leaderboard.rows import (
    Row,
    filter_rows,
    fmt_hardware,
    fmt_params,
    fmt_score,
    fmt_seconds,
    group_rows,
    ranked,
    task_names,
)


def build_tables(rows: list[Row], tasks: list[str] | None = None) -> list[Table]:
    """One rich Table per (group, task) present in `rows` (restricted to `tasks` if given); each
    table's caption says which data and protocol the group's scores belong to."""
    tables = []
    for g in group_rows(rows):
        kind, name, group = g.kind, g.name, g.rows
        for task in task_names(group):
            if tasks and task not in tasks:
                continue
            ranking = ranked(group, task)
            first = ranking[0][2]
            direction = "higher is better" if first.higher_is_better else "lower is better"
            unverified = " (unverified protocol)" if g.status == "unverified" else ""
            table = Table(
                title=escape(f"{name} [{kind}]{unverified} — {task} ({first.metric}, "
                             f"{direction}, {first.level})"),
                title_justify="left",
            )
            for col, kw in (
                ("#", {"justify": "right"}),
                ("model", {}),
                ("mean ± std over seeds", {"justify": "right"}),
                ("#params", {"justify": "right"}),
                ("hardware", {}),
                ("train time", {"justify": "right"}),
                ("id / source", {}),
            ):
                table.add_column(col, **kw)
            sources: list[str] = []
            for rank, row, score in ranking:
                tag = " [dim](published)[/dim]" if row.published else ""
                ref = ""
                if row.published:
                    if row.results.source not in sources:
                        sources.append(row.results.source)
                    ref = f"[{sources.index(row.results.source) + 1}]"
                table.add_row(
                    str(rank),
                    row.label + tag,
                    fmt_score(score),
                    fmt_params(row.results.model.n_parameters),
                    fmt_hardware(row.results),
                    fmt_seconds(row.results.train_time_s),
                    ref if row.published else row.key,
                )
            caption = [escape(g.identity())]
            if sources:
                caption.append("  ".join(f"[{i + 1}] {s}" for i, s in enumerate(sources)))
            table.caption = "\n".join(caption)
            table.caption_justify = "left"
            tables.append(table)
    return tables


def show(
    rows: list[Row],
    tasks: list[str] | None = None,
    dataset: str | None = None,
    model: str | None = None,
    console: Console | None = None,
) -> int:
    """Print the ranked tables; returns the number of tables printed."""
    console = console or Console()
    tables = build_tables(filter_rows(rows, dataset=dataset, model=model), tasks)
    if not tables:
        console.print("no results match (leaderboard empty or filters too narrow)")
    for t in tables:
        console.print(t)
    if any(r.published for r in rows):
        console.print(
            "[dim]published rows are scores reported by their source, not measured here; "
            "they are on their own datasets and not comparable with runs on other data.[/dim]"
        )
    return len(tables)
