"""`leaderboard show`: rich tables, one per (dataset, task), ranked by the task's metric.

Each row shows the score (mean ± std over seeds), its bootstrap 95 % interval over test
sequences, macro F1, the chance level (the better trivial predictor on the same test rows) and a
flag when the train split lacks a class of the test split. `--format csv|json` prints the same
data as records instead (`frame.records`). `--view timescale` prints each model's embedding views
along the tasks ordered by the timescale of their label instead (`show_timescale`).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from behaviorbench.leaderboard.rows import (
    Row,
    chance_of,
    coverage_flag,
    filter_rows,
    fmt_hardware,
    fmt_interval,
    fmt_params,
    fmt_score,
    fmt_seconds,
    group_rows,
    metric_of,
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
                ("95% CI", {"justify": "right"}),
                ("macro F1", {"justify": "right"}),
                ("chance", {"justify": "right"}),
                ("#params", {"justify": "right"}),
                ("hardware", {}),
                ("train time", {"justify": "right"}),
                ("id / source", {}),
            ):
                table.add_column(col, **kw)
            sources: list[str] = []
            flags: list[str] = []
            for rank, row, score in ranking:
                tag = " [dim](published)[/dim]" if row.published else ""
                ref = ""
                if row.published:
                    if row.results.source not in sources:
                        sources.append(row.results.source)
                    ref = f"[{sources.index(row.results.source) + 1}]"
                macro, chance = metric_of(score, "f1_macro"), chance_of(score)
                flag = coverage_flag(score)
                if flag and flag not in flags:
                    flags.append(flag)
                table.add_row(
                    str(rank),
                    escape(row.label) + tag,
                    fmt_score(score),
                    fmt_interval(score),
                    "—" if macro is None else f"{macro:.3f}",
                    "—" if chance is None else f"{chance:.3f}",
                    fmt_params(row.results.model.n_parameters),
                    fmt_hardware(row.results),
                    fmt_seconds(row.results.train_time_s),
                    ref if row.published else row.key,
                )
            caption = [escape(g.identity())]
            caption += [escape(f"class coverage: {f} (scores on those classes measure "
                               f"nothing learnt from them)") for f in flags]
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
    fmt: str = "table",
) -> int:
    """Print the ranked tables (``fmt`` "table") or the records as "csv" / "json"; returns the
    number of tables (or records) printed."""
    console = console or Console()
    kept = filter_rows(rows, dataset=dataset, model=model)
    if fmt in ("csv", "json"):
        import sys

        from behaviorbench.leaderboard.frame import records, to_csv, to_json

        recs = [r for r in records(kept) if not tasks or r["task"] in tasks]
        text = to_csv(recs) if fmt == "csv" else to_json(recs)
        sys.stdout.write(text)
        return len(recs)
    tables = build_tables(kept, tasks)
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



def show_timescale(rows: list[Row], dataset: str | None = None, model: str | None = None,
                   console: Console | None = None) -> int:
    """Print the timescale view (``timescale_view.timescale_tables``); returns the number of
    tables printed."""
    from behaviorbench.leaderboard.timescale_view import timescale_tables

    console = console or Console()
    tables = timescale_tables(filter_rows(rows, dataset=dataset, model=model))
    if not tables:
        console.print("no results with a task that has a timescale (leaderboard empty or "
                      "filters too narrow)")
    for t in tables:
        console.print(t)
    return len(tables)
