"""``evaluate-mabe SUBMISSION --labels FILE [--split FILE] [--tasks FILE] [--out CSV]``.

Scores a MABe 2022 mouse-triplet submission with the official protocol and prints the official
table (alpha 1.0 row per task) plus hBehaveMAE-style averages (labelled not official). Without
``--split`` our documented fallback split is used and the output says UNOFFICIAL.

Exit codes: 0 scored; 2 bad input (one line on stderr, nothing written): a file that is missing,
a directory or not of the expected kind, an invalid option; 1 a failure during the scoring (one
line naming the cause; ``--out`` / ``--json`` not written); 130 interrupted (Ctrl-C).
``--debug`` or ``BEHAVIORBENCH_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from .evaluator import EvaluatorConfig, evaluate_submission
from .files import load_labels
from .protocol import load_split, load_tasks
from .submission import SubmissionError, load_submission


def _fmt(v) -> str:
    return f"{v:.6f}" if isinstance(v, float) else str(v)


def _one_line_error(p: argparse.ArgumentParser):
    """argparse's ``error`` as one line on stderr (no usage), exit 2."""
    def error(message: str):
        p.exit(2, f"{p.prog}: error: {message}\n")
    return error


def _writable_file(path: str) -> bool:
    """Whether a file can be written at ``path`` (an existing file, or a new one in an
    existing writable folder); creates nothing."""
    p = Path(path)
    if p.exists():
        return p.is_file() and os.access(p, os.W_OK)
    parent = p.absolute().parent
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="evaluate-mabe", description=__doc__.splitlines()[0])
    p.add_argument("submission", help="submission .npy ({'frame_number_map', 'embeddings'})")
    p.add_argument("--labels", required=True, help="mouse_triplets_test_labels.npy")
    p.add_argument("--split", help="jax_split.json (default: our fallback split, UNOFFICIAL)")
    p.add_argument("--tasks", help="jax_tasks.json (default: the published 13 tasks, seeds)")
    p.add_argument("--out", help="write the official-layout CSV here")
    p.add_argument("--json", help="write the full results dict (JSON) here")
    p.add_argument("--chunk-rows", type=int, default=EvaluatorConfig.chunk_rows,
                   help="rows per float64 chunk (memory knob)")  # fmt: skip
    p.add_argument("--debug", action="store_true",
                   help="show the traceback of a failure (also BEHAVIORBENCH_DEBUG=1)")
    p.error = _one_line_error(p)  # type: ignore[method-assign]
    a = p.parse_args(argv)
    from behaviorbench.datasets.cli import debug_enabled

    try:
        if a.chunk_rows < 1:
            raise ValueError(f"--chunk-rows must be >= 1, got {a.chunk_rows}")
        for opt, out in (("--out", a.out), ("--json", a.json)):
            if out and not _writable_file(out):
                raise ValueError(f"{opt} {out}: cannot write there")
        sub = load_submission(a.submission)
        labels = load_labels(a.labels)
        split = load_split(a.split) if a.split else None
        tasks = load_tasks(a.tasks) if a.tasks else None
        cfg = EvaluatorConfig(chunk_rows=a.chunk_rows)
        res = evaluate_submission(sub, labels, split, tasks, cfg)
    except (SubmissionError, ValueError, KeyError, FileNotFoundError) as e:
        if debug_enabled(a):
            traceback.print_exception(e)
        print(f"evaluate-mabe: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evaluate-mabe: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - a failure during scoring: one line, exit 1
        if debug_enabled(a):
            traceback.print_exception(e)
        print(f"evaluate-mabe: error: {type(e).__name__}: {' '.join(str(e).split())}; nothing "
              f"written", file=sys.stderr)
        return 1
    rows = res.table_rows()
    cols = ["Task ID", "Private Score", "Public Score", "Metric", "No Ensemble Score",
            "Pooled Score", "Sequence Level Task"]  # fmt: skip
    widths = [max(len(c), *(len(_fmt(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=False)))
    for r in rows:
        print("  ".join(_fmt(r[c]).ljust(w) for c, w in zip(cols, widths, strict=False)))
    print("\nNot official (hBehaveMAE-style averages of private scores):")
    for k, v in res.summary().items():
        print(f"  {k}: {v:.6f}")
    if not res.official_split:
        print("\nUNOFFICIAL: no --split given; scores use our fallback split, not jax_split.json.")
    print(f"\nevaluated in {res.seconds:.1f} s")
    if a.out:
        print(f"wrote {res.to_csv(a.out)}")
    if a.json:
        with open(a.json, "w") as fp:
            json.dump(res.to_dict(), fp, indent=2)
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
