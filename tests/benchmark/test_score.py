"""Scoring pieces: metrics from confusion counts, chance levels, the bootstrap interval and the
spreads over splits and seeds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from behaviorbench.benchmark.score import (
    TaskRun,
    bootstrap_interval,
    chance_levels,
    confusion_metrics,
    repetitions,
)
from behaviorbench.benchmark.tasks import TASKS


def _cm(y, p, c):
    return np.bincount(y * c + p, minlength=c * c).reshape(c, c)


def test_confusion_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 500)
    p = np.where(rng.random(500) < 0.6, y, rng.integers(0, 5, 500))  # class 4 never true
    m = confusion_metrics(_cm(y, p, 5))
    assert m["f1_weighted"] == pytest.approx(
        f1_score(y, p, average="weighted", labels=range(5), zero_division=0))
    # macro over the classes present in the test rows
    assert m["f1_macro"] == pytest.approx(
        f1_score(y, p, average="macro", labels=range(4), zero_division=0))
    assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, p))
    assert m["accuracy"] == pytest.approx(np.mean(y == p))


def test_chance_levels_majority_and_prior_random():
    names = ("a", "b", "c")
    ytr = np.array([0] * 6 + [1] * 3 + [2] * 1)
    yte = np.array([0] * 2 + [1] * 6 + [2] * 2)
    ch = chance_levels(ytr, yte, "classification", 3, names)
    # majority of the *train* rows is "a": right on 2 of 10 test rows
    assert ch["majority"]["class"] == "a"
    assert ch["majority"]["accuracy"] == pytest.approx(0.2)
    assert ch["majority"]["f1_weighted"] == pytest.approx(
        f1_score(yte, np.zeros(10, int), average="weighted", labels=range(3), zero_division=0))
    # prior random: expected accuracy = sum_i share_test(i) * prior_train(i)
    assert ch["prior_random"]["accuracy"] == pytest.approx(0.2 * 0.6 + 0.6 * 0.3 + 0.2 * 0.1)
    assert ch["prior_random"]["balanced_accuracy"] == pytest.approx((0.6 + 0.3 + 0.1) / 3)
    reg = chance_levels(np.array([1.0, 3.0]), np.array([0.0, 4.0]), "regression", 0, ())
    assert reg["train_mean"]["mse"] == pytest.approx(4.0)
    assert reg["train_mean"]["r2"] == pytest.approx(0.0)


def test_bootstrap_interval_recomputes_the_metric_on_resampled_sequences():
    spec = TASKS["terrain_type"]
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(8), 20)
    y = rng.integers(0, 3, len(groups))
    preds = [(y, np.where(rng.random(len(y)) < 0.7, y, rng.integers(0, 3, len(y))), groups)
             for _ in range(2)]
    iv = bootstrap_interval(spec, preds, 3, resamples=200, seed=4)
    # the same resamples, recomputed with sklearn on the repeated frames
    draws = np.random.default_rng(4).integers(0, 8, size=(200, 8))
    vals = []
    for d in draws:
        rows = np.concatenate([np.flatnonzero(groups == s) for s in d])
        vals.append(np.mean([f1_score(yy[rows], pp[rows], average="weighted", labels=range(3),
                                      zero_division=0) for yy, pp, _ in preds]))
    lo, hi = np.percentile(vals, [2.5, 97.5])
    assert iv["low"] == pytest.approx(lo) and iv["high"] == pytest.approx(hi)
    assert iv["low"] < iv["high"] and iv["over"] == "8 test sequences"
    perfect = bootstrap_interval(spec, [(y, y, groups)], 3, resamples=50, seed=0)
    assert perfect["low"] == perfect["high"] == 1.0
    assert bootstrap_interval(spec, preds, 3, resamples=0, seed=0) is None


def test_bootstrap_interval_for_r2_matches_direct_computation():
    spec = TASKS["terrain_slope"]
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(6), 10)
    y = rng.normal(size=60)
    p = y + rng.normal(scale=0.5, size=60)
    iv = bootstrap_interval(spec, [(y, p, groups)], 0, resamples=100, seed=3)
    draws = np.random.default_rng(3).integers(0, 6, size=(100, 6))
    vals = []
    for d in draws:
        rows = np.concatenate([np.flatnonzero(groups == s) for s in d])
        yy, pp = y[rows], p[rows]
        vals.append(1 - np.sum((yy - pp) ** 2) / np.sum((yy - yy.mean()) ** 2))
    lo, hi = np.percentile(vals, [2.5, 97.5])
    assert iv["low"] == pytest.approx(lo) and iv["high"] == pytest.approx(hi)


def test_repetitions_separate_the_spread_over_splits_from_the_spread_over_seeds():
    run = TaskRun(spec=TASKS["terrain_type"], values=[0.50, 0.52], seeds=[0, 1], split="paper",
                  split_values={"random-0": [0.40, 0.42], "random-1": [0.60, 0.62]})
    reps = repetitions(run)
    assert reps["splits"] == ["paper", "random-0", "random-1"]
    assert reps["mean"] == pytest.approx(0.51)
    assert reps["std_over_splits"] == pytest.approx(np.std([0.51, 0.41, 0.61], ddof=1))
    assert reps["std_over_seeds"] == pytest.approx(np.std([0.50, 0.52], ddof=1))
    assert set(reps["varied"]) == {"seed", "split"}
    assert repetitions(TaskRun(spec=run.spec, values=[0.5], seeds=[0])) is None
