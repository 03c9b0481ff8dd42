"""The timescale view of the leaderboard: each model's scores along the tasks ordered by the
timescale of their label (``benchmark.timescale.SCALES``: contact < stride < terrain <
sequence), one row per embedding view.

run-benchmark writes one results file per scored view (``bams`` and, with ``--spaces``,
``bams-short`` and ``bams-long``: the short- and long-term spaces of the same trained model,
``benchmark.embed.SPACE_VIEWS``), so the board holds the views as separate rows. This view puts
the rows of one model family together (``family_of``) and marks, per task, which view scores
best, so one reads directly whether the short-term space wins at short timescales and the
long-term one at long timescales.

- ``leaderboard show --view timescale``: one rich table per board (``timescale_tables``);
- ``leaderboard render``: the page's "Timescale profile" section (``timescale_html``): a table
  per board and an SVG line chart per model family (score against task, one line per view).
"""

from __future__ import annotations

import html
import math

from rich.markup import escape
from rich.table import Table

from behaviorbench.benchmark.embed import SPACE_VIEWS
from behaviorbench.benchmark.timescale import SCALES, TASK_SCALE, ordered_tasks
from behaviorbench.leaderboard.rows import Row, fmt_score, group_rows, task_names, task_of

#: view name -> (model family, space: "short" | "long"); any other model is its own family, "all"
_VIEW_OF: dict[str, tuple[str, str]] = {
    view: (model, space) for model, views in SPACE_VIEWS.items() for view, space in views.items()}
_SPACE_ORDER = ("all", "short", "long")
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def family_of(row: Row) -> tuple[str, str]:
    """(model family, embedding view: "all" | "short" | "long") of a row."""
    name = row.results.model.name
    return _VIEW_OF.get(name, (name, "all"))


def families(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    """The rows of one board grouped by model family (sorted), views in all, short, long order
    (published rows left out: they score other data)."""
    out: dict[str, list[Row]] = {}
    for row in rows:
        if not row.published:
            out.setdefault(family_of(row)[0], []).append(row)
    return [(f, sorted(rs, key=lambda r: (_SPACE_ORDER.index(family_of(r)[1]), r.label)))
            for f, rs in sorted(out.items())]


def boards(rows: list[Row]) -> list[tuple[str, str, list[str], list[tuple[str, list[Row]]]]]:
    """(dataset name, board identity, tasks shortest timescale first, families) of every board
    with a task that has a timescale."""
    out = []
    for g in group_rows(rows):
        tasks = ordered_tasks(task_names(g.rows))
        fams = families(g.rows)
        if tasks and fams:
            out.append((g.name, g.identity(), tasks, fams))
    return out


def best_view(fam: list[Row], task: str) -> str | None:
    """Label of the family's row with the best score on ``task`` (None without a score)."""
    scored = [(t, r) for r in fam if (t := task_of(r, task)) is not None and math.isfinite(t.mean)]
    if not scored:
        return None
    t, r = (max if scored[0][0].higher_is_better else min)(scored, key=lambda p: p[0].mean)
    return r.label


def timescale_tables(rows: list[Row]) -> list[Table]:
    """One rich table per board: rows = model views, columns = tasks by timescale; the best view
    of each family per task in bold."""
    tables = []
    for name, identity, tasks, fams in boards(rows):
        t = Table(title=escape(f"{name}: scores by the timescale of the label (shortest left)"),
                  title_justify="left", caption=escape(identity), caption_justify="left")
        t.add_column("model")
        t.add_column("view")
        for task in tasks:
            ref = next(s for _, fam in fams for r in fam if (s := task_of(r, task)) is not None)
            t.add_column(escape(f"{TASK_SCALE[task][1]}\n{task}\n{ref.metric} "
                                f"{'↑' if ref.higher_is_better else '↓'}"), justify="right")
        for _family, fam in fams:
            best = {task: best_view(fam, task) for task in tasks}
            for r in fam:
                cells = []
                for task in tasks:
                    text = escape(fmt_score(task_of(r, task)))
                    cells.append(f"[bold]{text}[/bold]" if best[task] == r.label and len(fam) > 1
                                 else text)
                t.add_row(escape(r.label), family_of(r)[1], *cells)
            t.add_section()
        tables.append(t)
    return tables


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def profile_svg(fam: list[Row], tasks: list[str], title: str) -> str:
    """An SVG line chart: x = ``tasks`` (shortest timescale left), y = score, one line per row."""
    w, h, left, top, bottom = 110 + 70 * len(tasks), 240, 50, 24, 86
    vals = [t.mean for r in fam for task in tasks
            if (t := task_of(r, task)) is not None and math.isfinite(t.mean)]
    lo, hi = min([0.0, *vals]), max([1.0, *vals])

    def x(i: int) -> float:
        return left + 35 + 70 * i

    def y(v: float) -> float:
        return top + (h - top - bottom) * (hi - v) / (hi - lo or 1.0)

    parts = [f'<svg class="ts-chart" xmlns="http://www.w3.org/2000/svg" width="{w}" '
             f'height="{h}" role="img" aria-label="{_e(title)}">',
             f'<line x1="{left}" y1="{y(0):.1f}" x2="{w - 10}" y2="{y(0):.1f}" stroke="#bbb"/>']
    for v in (lo, hi):
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" '
                     f'font-size="10">{v:.2f}</text>')
    for i, task in enumerate(tasks):
        parts.append(f'<text transform="translate({x(i):.1f},{h - bottom + 12}) rotate(35)" '
                     f'font-size="10">{_e(task)}</text>')
    for k, r in enumerate(fam):
        colour = _COLOURS[k % len(_COLOURS)]
        pts = [(x(i), y(t.mean)) for i, task in enumerate(tasks)
               if (t := task_of(r, task)) is not None and math.isfinite(t.mean)]
        if len(pts) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="'
                         + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
        parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>' for a, b in pts]
        parts.append(f'<text x="{left + 120 * k}" y="14" font-size="11" fill="{colour}">'
                     f"● {_e(r.label)}</text>")
    return "".join(parts) + "</svg>"


def timescale_html(rows: list[Row]) -> str:
    """The page section (empty when no board has a task with a timescale)."""
    found = boards(rows)
    if not found:
        return ""
    scale_info = {s: (what, dur) for s, what, dur, _ in SCALES}
    out = ['<section class="timescale" id="timescale"><h2>Timescale profile<small>tasks ordered '
           'by how long their label lasts; one row per embedding view; bold: the best view of '
           'a model on a task</small></h2>']
    for name, identity, tasks, fams in found:
        spans: list[tuple[str, int]] = []
        for task in tasks:
            scale = TASK_SCALE[task][1]
            if spans and spans[-1][0] == scale:
                spans[-1] = (scale, spans[-1][1] + 1)
            else:
                spans.append((scale, 1))
        head1 = '<th rowspan="2">model</th><th rowspan="2">view</th>' + "".join(
            f'<th colspan="{n}" class="scale" data-scale="{_e(s)}">{_e(s)}<br><small>'
            f"{_e(scale_info[s][0])}, {_e(scale_info[s][1])}</small></th>" for s, n in spans)
        head2 = ""
        for task in tasks:
            ref = next(s for _, fam in fams for r in fam if (s := task_of(r, task)) is not None)
            head2 += (f'<th data-task="{_e(task)}">{_e(task)}<br><small>{_e(ref.metric)} '
                      f"{'↑' if ref.higher_is_better else '↓'}</small></th>")
        body, charts = [], []
        for fam_name, fam in fams:
            best = {task: best_view(fam, task) for task in tasks}
            for r in fam:
                cells = []
                for task in tasks:
                    t = task_of(r, task)
                    mark = ' class="num best"' if best[task] == r.label and len(fam) > 1 else (
                        ' class="num"')
                    cells.append(f"<td{mark}>{_e(fmt_score(t))}</td>")
                body.append(f'<tr data-family="{_e(fam_name)}" data-view="{family_of(r)[1]}">'
                            f"<td>{_e(r.label)}</td><td>{family_of(r)[1]}</td>"
                            + "".join(cells) + "</tr>")
            charts.append(f"<figure>{profile_svg(fam, tasks, fam_name)}<figcaption>"
                          f"{_e(fam_name)}: score by timescale (mean over seeds)</figcaption>"
                          f"</figure>")
        out.append(f'<h3>{_e(name)}</h3><p class="board">{_e(identity)}</p>'
                   f'<div class="table-wrap"><table class="ts" data-dataset="{_e(name)}"><thead>'
                   f"<tr>{head1}</tr><tr>{head2}</tr></thead><tbody>{''.join(body)}</tbody>"
                   f'</table></div><div class="charts">{"".join(charts)}</div>')
    return "".join(out) + "</section>"
