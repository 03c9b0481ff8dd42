"""`leaderboard render --out DIR`: a static HTML page and a Markdown table.

Output folder::

    index.html          one self-contained page (inline CSS/JS/SVG; no server, no CDN; file:// ok)
    leaderboard.md      Markdown tables for READMEs
    submissions/*.json  copies of the measured results files (linked from the page)
    artifacts/<id>/...  their plots
    published/*.json    the published reference rows as results files
    rows.json           key, model, dataset, published flag and JSON link of every row

The page has one sortable table per board (`rows.group_rows`: a row per model, a column per task
with mean ± std over seeds and, where recorded, the bootstrap 95 % interval, macro F1, the chance
level and a flag for classes the train split lacks), headed by the dataset and protocol the
board is for, and one bar chart per task (mean, error bar ± std), generated here as SVG. Above
them, the "Timescale profile" section (``timescale_view.py``) shows each model's embedding views
along the tasks ordered by the timescale of their label.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from importlib import resources
from pathlib import Path
from string import Template

from behaviorbench import __version__
from behaviorbench.benchmark.results import atomic_write_text, utc_now
from behaviorbench.leaderboard.rows import (
    Row,
    fmt_details,
    fmt_hardware,
    fmt_params,
    fmt_score,
    fmt_seconds,
    group_rows,
    ranked,
    task_names,
    task_of,
)
from behaviorbench.leaderboard.timescale_view import timescale_html

TITLE = "behaviorbench leaderboard"

# Chart geometry, pixels.
_LABEL_W = 250
_PLOT_W = 300
_BAR_H = 18
_GAP = 6
_TOP = 22
_BOTTOM = 30


def _template(name: str) -> str:
    return (resources.files("behaviorbench.leaderboard") / "templates" / name).read_text("utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nice_max(v: float) -> float:
    """Smallest 'nice' number (1, 2, 2.5, 5 x 10^k) >= v (v > 0)."""
    if v <= 0 or not math.isfinite(v):
        return 1.0
    exp = math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10**exp >= v * (1 - 1e-12):
            return m * 10**exp
    return 10 ** (exp + 1)


def bar_chart_svg(rows: list[Row], task: str) -> str:
    """Horizontal bar chart (SVG text) of `task`: one bar per row (best first), mean with an
    error bar of ± std (sample std over seeds; none for a single value)."""
    ranking = ranked(rows, task)
    if not ranking:
        return ""
    first = ranking[0][2]
    top = max(t.mean + (t.std or 0.0) for _, _, t in ranking)
    xmax = _nice_max(top)
    height = _TOP + len(ranking) * (_BAR_H + _GAP) + _BOTTOM
    width = _LABEL_W + _PLOT_W + 70

    def x(v: float) -> float:
        return _LABEL_W + max(0.0, min(v, xmax)) / xmax * _PLOT_W

    arrow = "higher is better" if first.higher_is_better else "lower is better"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(task)} bar chart">',
        f'<text x="{_LABEL_W}" y="14" font-weight="bold">{_e(task)} — {_e(first.metric)} '
        f"({arrow})</text>",
    ]
    axis_y = _TOP + len(ranking) * (_BAR_H + _GAP)
    for i in range(5):
        v = xmax * i / 4
        gx = x(v)
        parts.append(f'<line class="grid" x1="{gx:.1f}" y1="{_TOP}" x2="{gx:.1f}" y2="{axis_y}"/>')
        parts.append(
            f'<text x="{gx:.1f}" y="{axis_y + 14}" text-anchor="middle">{v:.3g}</text>'
        )
    parts.append(f'<line class="axis" x1="{_LABEL_W}" y1="{axis_y}" x2="{x(xmax):.1f}" '
                 f'y2="{axis_y}"/>')
    for i, (_rank, row, t) in enumerate(ranking):
        y = _TOP + i * (_BAR_H + _GAP)
        label = row.label if len(row.label) <= 40 else row.label[:39] + "…"
        pub = "1" if row.published else "0"
        cls = "bar published" if row.published else "bar"
        parts.append(
            f'<g class="{cls}" data-model="{_e(row.label)}" data-published="{pub}">'
            f"<title>{_e(row.label)}: {_e(fmt_score(t, 4))}</title>"
            f'<text x="{_LABEL_W - 6}" y="{y + _BAR_H - 5}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y}" width="{x(t.mean) - _LABEL_W:.1f}" height="{_BAR_H}"/>'
        )
        end = x(t.mean)
        if t.std is not None and t.std > 0:
            lo, hi, cy = x(t.mean - t.std), x(t.mean + t.std), y + _BAR_H / 2
            y0, y1 = y + 3, y + _BAR_H - 3
            parts.append(
                f'<line class="err" x1="{lo:.1f}" y1="{cy}" x2="{hi:.1f}" y2="{cy}"/>'
                f'<line class="err" x1="{lo:.1f}" y1="{y0}" x2="{lo:.1f}" y2="{y1}"/>'
                f'<line class="err" x1="{hi:.1f}" y1="{y0}" x2="{hi:.1f}" y2="{y1}"/>'
            )
            end = hi
        parts.append(f'<text x="{end + 4:.1f}" y="{y + _BAR_H - 5}">{t.mean:.3g}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _links(row: Row, json_href: str, artifact_hrefs: list[str]) -> str:
    links = [f'<a href="{_e(json_href)}">json</a>']
    links += [f'<a href="{_e(h)}">{_e(Path(h).name)}</a>' for h in artifact_hrefs]
    return " ".join(links)


def _table_html(group: list[Row], tasks: list[str], hrefs: dict[str, tuple[str, list[str]]]) -> str:
    head = ['<th data-type="text">model</th>']
    for task in tasks:
        ref = next(t for r in group if (t := task_of(r, task)) is not None)
        arrow = "↑" if ref.higher_is_better else "↓"
        head.append(
            f'<th data-type="num" data-hib="{int(ref.higher_is_better)}" data-task="{_e(task)}">'
            f"{_e(task)}<br><small>{_e(ref.metric)} {arrow}</small></th>"
        )
    head += [
        '<th data-type="num" data-hib="0">#params</th>',
        '<th data-type="text">hardware</th>',
        '<th data-type="num" data-hib="0">train time</th>',
        '<th data-type="text">date</th>',
        '<th data-type="text">files / source</th>',
    ]
    best = {}
    for task in tasks:
        r = ranked(group, task)
        best[task] = r[0][2].mean if r else None
    body = []
    for row in group:
        res = row.results
        pub = "1" if row.published else "0"
        badge = ' <span class="badge">published</span>' if row.published else ""
        if res.model.external:
            badge += (f' <span class="badge external" title="{_e(res.model.target or "")}">'
                      f"external: {_e(res.model.origin)}</span>")
        cells = [f'<td data-value="{_e(row.label.lower())}">{_e(row.label)}{badge}</td>']
        for task in tasks:
            t = task_of(row, task)
            if t is None:
                cells.append('<td class="num" data-value="">—</td>')
                continue
            cls = "num best" if t.mean == best[task] else "num"
            title = f' title="{_e(t.note)}"' if t.note else ""
            details = fmt_details(t)
            if details:
                flag = " flag" if t.extra.get("missing_in_train") else ""
                details = f'<br><small class="detail{flag}">{_e(details)}</small>'
            cells.append(
                f'<td class="{cls}" data-value="{t.mean!r}"{title}>{_e(fmt_score(t))}'
                f"{details}</td>"
            )
        n = res.model.n_parameters
        cells.append(f'<td class="num" data-value="{"" if n is None else n}">{fmt_params(n)}</td>')
        cells.append(f'<td data-value="{_e(fmt_hardware(res))}">{_e(fmt_hardware(res))}</td>')
        tt = res.train_time_s
        cells.append(
            f'<td class="num" data-value="{"" if tt is None else repr(tt)}">{fmt_seconds(tt)}</td>'
        )
        date = res.date.date().isoformat() if res.date else ""
        cells.append(f'<td data-value="{date}">{date or "—"}</td>')
        json_href, art = hrefs[row.key]
        files = _links(row, json_href, art)
        if row.published:
            files += f'<br><span class="src">{_e(res.source)}</span>'
        cells.append(f"<td>{files}</td>")
        body.append(
            f'<tr data-model="{_e(row.label)}" data-published="{pub}" data-key="{_e(row.key)}"'
            f'{" class=published" if row.published else ""}>' + "".join(cells) + "</tr>"
        )
    return (
        '<div class="table-wrap"><table class="lb"><thead><tr>' + "".join(head)
        + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>"
    )


def _copy_files(rows: list[Row], out: Path) -> dict[str, tuple[str, list[str]]]:
    """Copy each row's JSON (and plots) under `out`; return key -> (json href, plot hrefs)."""
    hrefs: dict[str, tuple[str, list[str]]] = {}
    for row in rows:
        if row.published:
            rel = f"published/{_slug(row.results.dataset.name)}-{_slug(row.label)}.json"
            atomic_write_text(out / rel, row.results.to_json())
            hrefs[row.key] = (rel, [])
            continue
        rel = f"submissions/{row.key}.json"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(row.json_file, out / rel)
        arts = []
        store_root = Path(row.json_file).parent.parent
        for a in row.artifacts:
            arel = a.relative_to(store_root).as_posix()  # artifacts/<id>/<path as submitted>
            (out / arel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(a, out / arel)
            arts.append(arel)
        hrefs[row.key] = (rel, arts)
    return hrefs


def render_html(rows: list[Row], hrefs: dict[str, tuple[str, list[str]]]) -> str:
    """The full page as a string."""
    sections = []
    ids: set[str] = set()
    for g in group_rows(rows):
        kind, name, group = g.kind, g.name, g.rows
        tasks = task_names(group)
        charts = "".join(
            f"<figure>{bar_chart_svg(group, t)}<figcaption>{_e(t)}: mean ± std over seeds"
            f"</figcaption></figure>"
            for t in tasks
        )
        note = {"published": " (published reference rows only)",
                "unverified": " (unverified protocol)"}.get(g.status, "")
        sid = f"ds-{_slug(name)}" + ("-unverified" if g.status == "unverified" else "")
        while sid in ids:
            sid += "-x"
        ids.add(sid)
        sections.append(
            f'<section class="dataset" data-dataset="{_e(name)}" data-status="{g.status}" '
            f'id="{sid}">'
            f"<h2>{_e(name)}<small>{_e(kind)}{_e(note)}</small></h2>"
            f'<p class="board">{_e(g.identity())}</p>'
            + _table_html(group, tasks, hrefs)
            + f'<div class="charts">{charts}</div></section>'
        )
    models = sorted({r.label for r in rows}, key=str.lower)
    datasets = list(dict.fromkeys(g.name for g in group_rows(rows)))
    page = Template(_template("page.html")).safe_substitute(
        title=_e(TITLE),
        generated=_e(utc_now().isoformat().replace("+00:00", "Z")),
        version=_e(__version__),
        css=_template("page.css"),
        js=_template("page.js"),
        model_options="".join(f'<option value="{_e(m)}">{_e(m)}</option>' for m in models),
        dataset_options="".join(f'<option value="{_e(d)}">{_e(d)}</option>' for d in datasets),
        body=(timescale_html(rows) + "\n".join(sections)) if sections else
        "<p>No results yet.</p>",
    )
    return page


def render_markdown(rows: list[Row]) -> str:
    """Markdown tables (one per dataset): model, one column per task, #params, train time."""
    out = [f"# {TITLE}", "", "Mean ± sample std over seeds (n = number of seeds); where recorded, "
           "the bootstrap 95 % interval over test sequences, macro F1, the chance level (the "
           "better trivial predictor on the same test rows), the mean over --splits splits and "
           "classes the train split lacks. *published*: reported by the source, not measured "
           "here.", ""]
    for g in group_rows(rows):
        kind, name, group = g.kind, g.name, g.rows
        tasks = task_names(group)
        out += [f"## {name} ({kind})", "", g.identity(), ""]
        heads = []
        for task in tasks:
            ref = next(t for r in group if (t := task_of(r, task)) is not None)
            heads.append(f"{task} ({ref.metric} {'↑' if ref.higher_is_better else '↓'})")
        out.append("| model | " + " | ".join(heads) + " | #params | train time | source |")
        out.append("|---" * (len(tasks) + 4) + "|")
        for row in group:
            cells = [row.label.replace("|", "\\|") + (" *published*" if row.published else "")]
            for t in tasks:
                score = task_of(row, t)
                details = fmt_details(score)
                cells.append(fmt_score(score) + (f" ({details})" if details else ""))
            cells += [fmt_params(row.results.model.n_parameters),
                      fmt_seconds(row.results.train_time_s),
                      (row.results.source or row.key).replace("|", "\\|")]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def render(rows: list[Row], out: str | Path) -> Path:
    """Write index.html, leaderboard.md and the linked files under `out`; returns index.html."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    hrefs = _copy_files(rows, out)
    atomic_write_text(out / "index.html", render_html(rows, hrefs))
    atomic_write_text(out / "leaderboard.md", render_markdown(rows))
    atomic_write_text(
        out / "rows.json",
        json.dumps([{"key": r.key, "model": r.label, "dataset": r.results.dataset.name,
                     "published": r.published, "json": hrefs[r.key][0]} for r in rows], indent=2),
    )
    return out / "index.html"
