"""Percentile bootstrap over test sequences, shared by every task kind.

A resample draws the test sequences with replacement; each sequence's rows enter with its draw
count as weight. Metrics are computed from per-sequence sufficient statistics (counts, sums),
so each resample costs one matrix product rather than a pass over the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: (y_true (n, ...), y_pred (n, ...), row -> sequence position (n,) int, number of sequences,
#: resample weights (resamples, sequences) float64) -> metric per resample (resamples,)
ResampledMetric = Callable[[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray], np.ndarray]


def sequence_bootstrap(preds: list[tuple[np.ndarray, np.ndarray, np.ndarray]], resamples: int,
                       seed: int, level: float, metric: ResampledMetric) -> dict[str, Any] | None:
    """Percentile interval of the seed-averaged ``metric`` over resampled test sequences.

    ``preds``: per seed (y_true, y_pred, sequence id (n,)) on the same test rows. None when
    there are fewer than 2 test sequences or ``resamples`` is 0."""
    seqs = np.unique(preds[0][2]) if preds else np.zeros(0)
    if resamples == 0 or len(seqs) < 2:
        return None
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(seqs), size=(resamples, len(seqs)))
    weights = np.stack([np.bincount(d, minlength=len(seqs)) for d in draws]).astype(np.float64)
    per_seed = [metric(y, p, np.searchsorted(seqs, g), len(seqs), weights)
                for y, p, g in preds]
    vals = np.mean(per_seed, axis=0)
    lo, hi = np.percentile(vals, [50 * (1 - level), 50 * (1 + level)])
    return {"low": float(lo), "high": float(hi), "level": level, "resamples": int(resamples),
            "over": f"{len(seqs)} test sequences", "method": "percentile bootstrap, seed-averaged"}


def resampled_errors(y: np.ndarray, p: np.ndarray, pos: np.ndarray, n_seqs: int,
                     weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, sse, sst) per resample of a regression: weighted row count, sum of squared errors
    and total sum of squares about the resample's mean; ``y``, ``p`` (n,)."""
    y, p = y.astype(np.float64), p.astype(np.float64)
    stats = np.stack([np.bincount(pos, w, minlength=n_seqs)
                      for w in (np.ones_like(y), y, y * y, (y - p) ** 2)], axis=1)
    n, sy, syy, sse = (weights @ stats).T
    return n, sse, syy - sy * sy / np.maximum(n, 1)


def r2_from(sse: np.ndarray, sst: np.ndarray) -> np.ndarray:
    """R^2 = 1 - sse / sst, 0 where the targets do not vary."""
    return np.where(sst > 0, 1 - sse / np.where(sst > 0, sst, 1), 0.0)
