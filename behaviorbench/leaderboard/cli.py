"""`leaderboard` command: add, show, compare, render.

    leaderboard add FILE... [--dir DIR]
    leaderboard show [--task T ...] [--dataset D] [--model M] [--no-published]
                     [--format table|csv|json] [--view tasks|timescale] [--dir DIR]
    leaderboard compare A B [--alpha 0.05] [--dir DIR]     (A, B: submission id, model, or file)

A store holds one board per dataset kind: `add` refuses results scored on another dataset or
protocol than the board's (store.py); `compare` refuses A and B scored on different ones.
    leaderboard render --out DIR [--no-published] [--dir DIR]

`--dir` is the store folder (default `./leaderboard`, relative to the current directory).
`show`, `compare` and `render` refuse a `--dir` that is not a leaderboard (no `index.json`;
`compare` of two results files reads no store and checks none);
without `--dir`, a missing `./leaderboard` is an empty board (published rows only). `add`
creates the store in a missing or empty folder.

Exit status: 0 ok; 1 rejected input (results a board refuses, an unknown submission, a corrupt
store), one line per problem; 2 usage error (one line on stderr, nothing written: unknown
option or value, a `--dir` that is not a leaderboard, an `--out` that is not a folder).
`--debug` or `BEHAVIORBENCH_DEBUG=1` adds the traceback of an unexpected failure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from behaviorbench.benchmark.results import ResultsValidationError, load_results
from behaviorbench.leaderboard.rows import Row, collect_rows
from behaviorbench.leaderboard.store import DEFAULT_DIR, LeaderboardError, LeaderboardStore


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="leaderboard", description=__doc__.split("\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", default=None,
                        help=f"leaderboard folder (default ./{DEFAULT_DIR})")
    common.add_argument("--debug", action="store_true",
                        help="show the traceback of a failure (also BEHAVIORBENCH_DEBUG=1)")
    sub = p.add_subparsers(dest="cmd", required=True)

    a = sub.add_parser("add", parents=[common], help="validate and add results JSON files")
    a.add_argument("files", nargs="+", help="results JSON files written by run-benchmark")

    s = sub.add_parser("show", parents=[common], help="ranked tables in the terminal")
    s.add_argument("--task", nargs="+", help="only these tasks")
    s.add_argument("--dataset", help="only this dataset (name or kind: quadruped, mabe22)")
    s.add_argument("--model", help="only models whose name contains this")
    s.add_argument("--no-published", action="store_true", help="hide published reference rows")
    s.add_argument("--view", choices=("tasks", "timescale"), default="tasks",
                   help="tasks: one ranked table per task (default); timescale: each model's "
                        "embedding views along the tasks ordered by the timescale of their "
                        "label (contact < stride < terrain < sequence)")
    s.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="table (default), or one record per row and task as csv / json on "
                        "stdout (columns: behaviorbench.leaderboard.frame.COLUMNS)")

    c = sub.add_parser("compare", parents=[common], help="task-by-task difference of two rows")
    c.add_argument("a", help="submission id (prefix), model name/label, or a results file")
    c.add_argument("b", help="same for B")
    c.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")

    r = sub.add_parser("render", parents=[common], help="static HTML page + Markdown table")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--no-published", action="store_true", help="leave out published rows")
    return p


def _resolve(store: LeaderboardStore, key: str) -> Row:
    path = Path(key)
    if path.suffix == ".json" and path.is_file():
        return Row(key=path.name, results=load_results(path), json_file=path)
    entry = store.find(key)
    return Row(key=entry.id, results=store.load(entry), json_file=store.root / entry.file)


def _is_results_file(key: str) -> bool:
    """Whether a compare argument names a results file (read directly, no store needed)."""
    path = Path(key)
    return path.suffix == ".json" and path.is_file()


def _usage_problem(args: argparse.Namespace, store: LeaderboardStore) -> str | None:
    """Why the command line cannot run (checked before anything is read or written)."""
    files_only = args.cmd == "compare" and all(_is_results_file(k) for k in (args.a, args.b))
    if (args.dir is not None or store.root.exists()) and not files_only:
        problem = store.problem(may_create=args.cmd == "add")
        if problem:
            return f"--dir {problem}"
    if args.cmd == "compare" and not 0 < args.alpha < 1:
        return f"--alpha must be in (0, 1), got {args.alpha}"
    if args.cmd == "render":
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            return f"--out {out} exists and is not a directory"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    parser.error = lambda message: parser.exit(  # type: ignore[method-assign]
        2, f"leaderboard: error: {' '.join(message.split())}\n")
    for sub in parser._subparsers._group_actions[0].choices.values():  # same for subcommands
        sub.error = parser.error  # type: ignore[method-assign]
    args = parser.parse_args(argv)
    console = Console()
    store = LeaderboardStore(args.dir if args.dir is not None else DEFAULT_DIR)
    problem = _usage_problem(args, store)
    if problem:
        print(f"leaderboard {args.cmd}: error: {problem}", file=sys.stderr)
        return 2
    try:
        if args.cmd == "add":
            added = store.add(args.files)
            for e in added:
                console.print(f"added {e.id}: {e.model} on {e.dataset} ({e.original_path})")
            console.print(f"{len(added)} submission(s) added to {store.root}/")
        elif args.cmd == "show":
            from behaviorbench.leaderboard.show import show

            rows = collect_rows(store, include_published=not args.no_published)
            if args.view == "timescale":
                from behaviorbench.leaderboard.show import show_timescale

                show_timescale(rows, dataset=args.dataset, model=args.model, console=console)
            else:
                show(rows, tasks=args.task, dataset=args.dataset, model=args.model,
                     console=console, fmt=args.format)
        elif args.cmd == "compare":
            from behaviorbench.leaderboard.compare import print_comparison  # imports scipy

            print_comparison(_resolve(store, args.a), _resolve(store, args.b), args.alpha,
                             console=console)
        elif args.cmd == "render":
            from behaviorbench.leaderboard.render import render

            rows = collect_rows(store, include_published=not args.no_published)
            page = render(rows, args.out)
            console.print(f"wrote {page} and {Path(args.out) / 'leaderboard.md'}")
    except (LeaderboardError, ResultsValidationError) as e:
        print(f"leaderboard {args.cmd}: {e}", file=sys.stderr)  # unwrapped: one line per problem
        return 1
    except KeyboardInterrupt:
        print(f"leaderboard {args.cmd}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - an unexpected failure: one line, exit 1
        from behaviorbench.datasets.cli import debug_enabled

        if debug_enabled(args):
            import traceback

            traceback.print_exception(e)
        print(f"leaderboard {args.cmd}: error: {type(e).__name__}: {' '.join(str(e).split())}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
