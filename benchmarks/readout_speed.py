"""Readout speed: our full-batch torch linear readout vs scikit-learn's LogisticRegression.

Same data, same run: ``n`` train rows x ``dims`` float32 (a noisy, imbalanced Gaussian mixture of
``classes`` classes) plus ``n // 4`` test rows, preprocessed identically (centre on the train
mean, L2-normalise rows). Baseline: ``sklearn.linear_model.LogisticRegression(
class_weight="balanced")`` (lbfgs, default tolerance and ``max_iter=100``). Ours:
``behaviorbench.benchmark.readout.train_linear_classifier`` with the reference solver (1000
full-batch AdamW steps on the class-balanced cross-entropy, the default) and with
``solver="lbfgs"`` (the same loss run to convergence with torch's L-BFGS). Prints each fit time,
test weighted F1 and the time ratio sklearn / ours. Each method is warmed up on 256 rows first.

Usage: ``python benchmarks/readout_speed.py [--n 1000000] [--dims 64] [--steps 1000]``
(``--n 100000`` for a quick run).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from behaviorbench.benchmark.readout import (
    LinearReadoutConfig,
    predict_linear,
    preprocess,
    train_linear_classifier,
)


def make_data(n: int, dims: int, classes: int, seed: int = 0):
    """(x (n, dims) float32, y (n,) int64): class means on a sphere + unit Gaussian noise."""
    rng = np.random.default_rng(seed)
    p = np.linspace(1.0, 3.0, classes)
    p /= p.sum()  # imbalanced classes
    y = rng.choice(classes, size=n, p=p)
    means = rng.normal(size=(classes, dims)).astype(np.float32)
    means *= 1.5 / np.linalg.norm(means, axis=1, keepdims=True)
    x = rng.standard_normal((n, dims), dtype=np.float32)
    x += means[y]
    return x, y


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="train rows (default 1,000,000)")
    ap.add_argument("--dims", type=int, default=64, help="embedding dims (default 64)")
    ap.add_argument("--classes", type=int, default=5, help="classes (default 5)")
    ap.add_argument("--steps", type=int, default=1000, help="our AdamW steps (default 1000)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    x, y = make_data(args.n + args.n // 4, args.dims, args.classes)
    xtr, xte = preprocess(x[: args.n], x[args.n :])
    ytr, yte = y[: args.n], y[args.n :]

    # warm-up (one-time imports and thread pools, e.g. torch.optim's lazy torch._dynamo import)
    for cfg in (LinearReadoutConfig(steps=2), LinearReadoutConfig(solver="lbfgs")):
        train_linear_classifier(xtr[:256], ytr[:256], args.classes, cfg)
    LogisticRegression(class_weight="balanced").fit(xtr[:256], ytr[:256])

    rows = []
    for label, cfg in (
        (f"ours: torch full-batch AdamW, {args.steps} steps (reference, default)",
         LinearReadoutConfig(steps=args.steps)),
        ("ours: torch L-BFGS, same loss (solver='lbfgs')", LinearReadoutConfig(solver="lbfgs")),
    ):
        t0 = time.perf_counter()
        W, b, _ = train_linear_classifier(xtr, ytr, args.classes, cfg)
        rows.append((label, time.perf_counter() - t0,
                     f1_score(yte, predict_linear(xte, W, b), average="weighted")))

    t0 = time.perf_counter()
    clf = LogisticRegression(class_weight="balanced").fit(xtr, ytr)
    t_sk = time.perf_counter() - t0
    f1_sk = f1_score(yte, clf.predict(xte), average="weighted")

    table = Table(title=f"linear readout, {args.n:,} x {args.dims} train rows, "
                        f"{args.classes} classes, torch threads {torch.get_num_threads()}")
    for col in ("method", "fit time (s)", "weighted F1 (test)", "speed-up vs sklearn"):
        table.add_column(col)
    for label, t, f1 in rows:
        table.add_row(label, f"{t:.2f}", f"{f1:.4f}", f"{t_sk / t:.2f}x")
    table.add_row("baseline: sklearn LogisticRegression(class_weight='balanced'), lbfgs",
                  f"{t_sk:.2f}", f"{f1_sk:.4f}", "1.00x")
    Console(width=140).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
