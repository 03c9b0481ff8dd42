"""Time the fast MABe 2022 evaluator against the straightforward scikit-learn loop.

Same SYNTHETIC data for both (official clip ids when ../shared/reference is present, else made-up
ids; 1800 frames per clip, 128-dim embeddings): all 13 tasks x 3 seeds x 5 alphas. The baseline is
:func:`behaviorbench.benchmark.mabe.reference.reference_scores` (one sklearn Ridge/RidgeClassifier
fit per probe, as the official code). Prints a table, the speed ratio and the max |score diff|.

    .venv/bin/python benchmarks/mabe_eval.py [--frames 504000] [--dims 128]
        [--baseline-dtype float64|float32]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from behaviorbench.benchmark.mabe.evaluator import evaluate_submission
from behaviorbench.benchmark.mabe.files import MabeLabels
from behaviorbench.benchmark.mabe.protocol import load_split
from behaviorbench.benchmark.mabe.reference import reference_scores
from behaviorbench.benchmark.mabe.synthetic import (
    SyntheticConfig,
    make_synthetic_mabe,
    make_synthetic_submission,
)

SPLIT = Path(__file__).resolve().parents[1].parent / "shared/reference/mabe22/jax_split.json"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=504_000, help="total frames (>= 500k)")
    p.add_argument("--dims", type=int, default=128, help="embedding columns")
    p.add_argument("--baseline-dtype", default="float64", choices=["float64", "float32"])
    a = p.parse_args()
    n_clips = max(5, a.frames // 1800)
    n_pub = n_priv = max(1, round(n_clips * 533 / 3736))
    cfg = SyntheticConfig(n_submission_train=n_clips - n_pub - n_priv, n_public=n_pub,
                          n_private=n_priv, n_user_train=0)
    t = time.perf_counter()
    data = make_synthetic_mabe(cfg, load_split(SPLIT) if SPLIT.is_file() else None)
    labels = MabeLabels(**data.labels)
    sub = make_synthetic_submission(data.labels, n_dims=a.dims, seed=0, signal=0.3)
    print(f"synthetic data: {labels.n_frames} frames x {a.dims} dims, {n_clips} clips "
          f"({time.perf_counter() - t:.1f} s to generate)")

    t = time.perf_counter()
    ours = evaluate_submission(sub, labels, data.split, data.tasks)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = reference_scores(sub, labels, data.split, data.tasks,
                               dtype=np.dtype(a.baseline_dtype))
    t_ref = time.perf_counter() - t

    diff = 0.0
    print(f"\n{'task':22s} {'ours private':>14s} {'sklearn private':>16s} {'max |diff|':>11s}")
    for tr in ours.tasks:
        r = ref[tr.task_id]
        pooled = tr.pooled if tr.sequence_level else -1.0
        d = max([abs(tr.private - r["private"]), abs(tr.public - r["public"]),
                 abs(tr.no_ensemble - r["no_ensemble"]), abs(pooled - r["pooled"])]
                + [abs(tr.private_by_alpha[x] - r["private_by_alpha"][x]) for x in ours.alphas])
        diff = max(diff, d)
        print(f"{tr.task_id:22s} {tr.private:14.8f} {r['private']:16.8f} {d:11.2e}")
    print(f"\n| evaluator | seconds |\n|---|---|\n| ours (closed form, shared Grams) | "
          f"{t_ours:.2f} |\n| sklearn loop ({a.baseline_dtype}, 195 fits) | {t_ref:.2f} |")
    print(f"speed-up: {t_ref / t_ours:.1f}x   max |score difference|: {diff:.2e}")


if __name__ == "__main__":
    main()
