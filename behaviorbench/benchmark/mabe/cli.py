"""``evaluate-mabe SUBMISSION --labels FILE [--split FILE] [--tasks FILE] [--out CSV]``.

Scores a MABe 2022 mouse-triplet submission with the official protocol and prints the official
table (alpha 1.0 row per task) plus hBehaveMAE-style averages (labelled not official). Without
``--split`` our documented fallback split is used and the output says UNOFFICIAL.
"""

from __future__ import annotations

import argparse
import json
import sys

from .evaluator import EvaluatorConfig, evaluate_submission
from .files import load_labels
from .protocol import load_split, load_tasks
from .submission import SubmissionError, load_submission


def _fmt(v) -> str:
    return f"{v:.6f}" if isinstance(v, float) else str(v)


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
    a = p.parse_args(argv)
    try:
        sub = load_submission(a.submission)
        labels = load_labels(a.labels)
        split = load_split(a.split) if a.split else None
        tasks = load_tasks(a.tasks) if a.tasks else None
        cfg = EvaluatorConfig(chunk_rows=a.chunk_rows)
        res = evaluate_submission(sub, labels, split, tasks, cfg)
    except (SubmissionError, ValueError, KeyError, FileNotFoundError) as e:
        print(f"evaluate-mabe: error: {e}", file=sys.stderr)
        return 2
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
