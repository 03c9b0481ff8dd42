"""Score one task: readout per seed and split, chance levels, class coverage, uncertainty.

Per task and seed the readout (``readout.py``) is fitted on the train rows of a split and scored
on its test rows. Besides the headline metric every classification also reports macro F1 (mean
over the classes present in the test rows) and balanced accuracy, and the same metrics for two
trivial predictors on the same test rows (``chance_levels``):

- ``majority``: always the most frequent class of the *train* rows;
- ``prior_random``: a class drawn from the train class frequencies, scored by its expected
  confusion matrix (``n_true[i] * prior[j]``), so the figure has no sampling noise.

Regressions report the train-mean predictor (R^2 <= 0 up to the train / test shift).

Uncertainty (``interval`` and ``repetitions`` in the task's ``extra``):
- ``bootstrap_interval``: percentile 95 % interval of the seed-averaged metric over resamples of
  the *test sequences* of the task's own split (all frames of a drawn sequence come with it).
- with ``--splits K``: each seed is also scored on K seeded random 20 / 80 sequence splits; the
  results give the grand mean, the std over splits (of the seed-averaged scores) and the std
  over seeds (of the split-averaged scores) separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import physics_tasks
from .bootstrap import r2_from, resampled_errors, sequence_bootstrap
from .embed import Embedded, Selection
from .readout import LinearReadoutConfig, fit_linear_classifier, fit_ridge
from .tasks import TaskSpec

#: what one repetition varies, written into the results beside the spreads
VARIED = {
    "seed": "model initialisation and training draws (not with a checkpoint or embeddings "
            "file), readout initialisation",
    "split": "which sequences are train (20 %) and test (80 %), hence the scored frames",
    "bootstrap": "which test sequences are scored (resampled with replacement)",
}


@dataclass
class TaskRun:
    """Per-seed outcome of one task (``values``: the task's own split, one per seed)."""

    spec: TaskSpec
    values: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    per_seed: list[dict[str, float]] = field(default_factory=list)
    confusions: list[np.ndarray] = field(default_factory=list)
    n_train: int = 0
    n_test: int = 0
    n_available: tuple[int, int] = (0, 0)
    split: str = ""  # name of the task's own split
    predictions: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    chance: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)  # {"train": .., "test": ..}
    split_values: dict[str, list[float]] = field(default_factory=dict)  # --splits, per seed
    split_missing: dict[str, list[str]] = field(default_factory=dict)  # split -> classes


@dataclass
class _Fitted:
    """Predictions of a multi-output readout (``physics_tasks.score_multi``)."""

    y_pred: np.ndarray  # (n_test, K)
    n_train: int
    n_test: int


def task_rows(
    spec: TaskSpec, data: Any, sel: Selection, emb: Embedded
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (n, D), y (n,), sequence id (n,)) rows of one split for ``spec``.

    Rows with invalid labels (negative class, non-finite value) are dropped. Physics labels
    (``physics_tasks``) give y (n, K) for their multi-output tasks.
    """
    if physics_tasks.is_physics(spec):
        return physics_tasks.rows(spec, data, sel, emb)
    if spec.level == "frame":
        y = np.asarray(data.frame_labels[spec.label])[sel.seq, sel.t]
        x, g = emb.rows, sel.seq
    elif spec.pooling == "mean":
        g = np.unique(sel.seq)
        y = np.asarray(data.sequence_labels[spec.label])[g]
        x = np.stack([emb.seq_mean[int(q)] for q in g]) if len(g) else emb.rows[:0]
    else:
        y = np.asarray(data.sequence_labels[spec.label])[sel.seq]
        x, g = emb.rows, sel.seq
    if spec.kind == "classification":
        ok = y >= 0 if np.issubdtype(y.dtype, np.integer) else np.isfinite(y) & (y >= 0)
        y = y.astype(np.int64)
    else:
        y = y.astype(np.float64)
        ok = np.isfinite(y)
    return x[ok], y[ok], g[ok]


def class_names(spec: TaskSpec, handle: Any) -> tuple[str, ...]:
    """Vocabulary of a classification label (the store's, else the task's)."""
    return tuple(handle.vocabularies.get(spec.label, spec.class_names or ()))


def n_classes(spec: TaskSpec, handle: Any, data: Any) -> int:
    """Number of classes of a classification label (0 for a regression)."""
    if spec.kind != "classification":
        return 0
    if spec.class_names:
        return len(class_names(spec, handle))
    src = data.frame_labels if spec.level == "frame" else data.sequence_labels
    return int(np.max(src[spec.label])) + 1


def confusion_metrics(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics of confusion counts ``cm`` (..., C, C) (rows = true class), each shaped (...,):
    weighted F1, macro F1 (classes with true rows only), balanced accuracy and accuracy."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support, predicted = cm.sum(axis=-1), cm.sum(axis=-2)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(predicted > 0, tp / predicted, 0.0)
        rec = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    total = support.sum(axis=-1)
    present = support > 0
    n_present = np.maximum(present.sum(axis=-1), 1)
    safe = np.maximum(total, 1e-300)
    return {
        "f1_weighted": (f1 * support).sum(axis=-1) / safe,
        "f1_macro": (f1 * present).sum(axis=-1) / n_present,
        "balanced_accuracy": (rec * present).sum(axis=-1) / n_present,
        "accuracy": tp.sum(axis=-1) / safe,
    }


def _counts(y_true: np.ndarray, y_pred: np.ndarray, c: int) -> np.ndarray:
    return np.bincount(y_true * c + y_pred, minlength=c * c).reshape(c, c).astype(np.float64)


def chance_levels(ytr: np.ndarray, yte: np.ndarray, kind: str, c: int,
                  names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Metrics of the trivial predictors (module docstring) on the test labels ``yte``."""
    if kind != "classification":
        pred = float(np.mean(ytr)) if len(ytr) else 0.0
        from .readout import regression_scores

        mse, r2, _ = regression_scores(yte, np.full(len(yte), pred))
        return {"train_mean": {"r2": r2, "mse": mse}}
    prior = np.bincount(ytr, minlength=c).astype(np.float64)
    prior /= max(prior.sum(), 1.0)
    major = int(np.argmax(prior))
    true = np.bincount(yte, minlength=c).astype(np.float64)
    out: dict[str, dict[str, Any]] = {}
    for name, cm in (("majority", _counts(yte, np.full(len(yte), major), c)),
                     ("prior_random", true[:, None] * prior[None, :])):
        out[name] = {k: float(v) for k, v in confusion_metrics(cm).items()}
    out["majority"]["class"] = names[major] if major < len(names) else str(major)
    return out


def score_task(cfg: Any, spec: TaskSpec, handle: Any, readout_cfg: LinearReadoutConfig,
               seed: int, run: TaskRun, split: str, own: bool,
               sel_tr: Selection, emb_tr: Embedded, sel_te: Selection, emb_te: Embedded
               ) -> float:
    """Fit and score one readout; returns the headline metric. ``own``: the task's own split
    (per-seed values, predictions for the interval, chance levels), else a ``--splits`` one."""
    data = handle.data
    xtr, ytr, gtr = task_rows(spec, data, sel_tr, emb_tr)
    xte, yte, gte = task_rows(spec, data, sel_te, emb_te)
    if physics_tasks.is_multi(spec):
        c = 0
        metrics, y_pred, n_train, n_test = physics_tasks.score_multi(
            spec, xtr, ytr, gtr, xte, yte, readout_cfg, cfg.ridge, seed)
        sc = _Fitted(y_pred=y_pred, n_train=n_train, n_test=n_test)
    elif spec.kind == "classification":
        c = n_classes(spec, handle, data)
        sc = fit_linear_classifier(xtr, ytr, xte, yte, c, readout_cfg, seed=seed)
        metrics = sc.metrics()
        metrics["f1_macro"] = float(confusion_metrics(_counts(yte, sc.y_pred, c))["f1_macro"])
    else:
        c = 0
        sc = fit_ridge(xtr, ytr, xte, yte, cfg.ridge, groups=gtr)
        metrics = sc.metrics()
    value = float(metrics[spec.metric])
    if not own:
        run.split_values.setdefault(split, []).append(value)
        return value
    if spec.kind == "classification" and not physics_tasks.is_multi(spec):
        run.confusions.append(sc.confusion)
    if not run.chance and physics_tasks.is_multi(spec):
        run.chance = physics_tasks.chance_multi(spec, ytr, yte)
    elif not run.chance:
        run.chance = chance_levels(ytr, yte, spec.kind, c, class_names(spec, handle))
    run.values.append(value)
    run.seeds.append(seed)
    run.per_seed.append(metrics)
    run.predictions.append((yte, np.asarray(sc.y_pred), gte))
    run.n_train, run.n_test = sc.n_train, sc.n_test
    run.n_available = (sel_tr.n_available, sel_te.n_available)
    run.split = split
    return value


def bootstrap_interval(spec: TaskSpec, preds: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                       n_classes: int, resamples: int, seed: int, level: float = 0.95
                       ) -> dict[str, Any] | None:
    """Percentile interval of the seed-averaged ``spec.metric`` over resampled test sequences.

    ``preds``: per seed (y_true (n,), y_pred (n,), sequence id (n,)) on the same test rows.
    None when there are fewer than 2 test sequences or ``resamples`` is 0.
    """
    def metric(y, p, pos, n_seqs, weights):
        if spec.kind == "classification":
            c = n_classes
            cell = pos * c * c + y * c + p
            stats = np.bincount(cell, minlength=n_seqs * c * c).reshape(n_seqs, c * c)
            cm = (weights @ stats).reshape(len(weights), c, c)
            return confusion_metrics(cm)[spec.metric]
        n, sse, sst = resampled_errors(y, p, pos, n_seqs, weights)
        return r2_from(sse, sst) if spec.metric == "r2" else sse / np.maximum(n, 1)

    return sequence_bootstrap(preds, resamples, seed, level, metric)


def _std(values: list[float]) -> float | None:
    return float(np.std(values, ddof=1)) if len(values) >= 2 else None


def repetitions(run: TaskRun) -> dict[str, Any] | None:
    """Scores over (split, seed) with the two spreads separately; None without ``--splits``."""
    if not run.split_values:
        return None
    names = [run.split, *run.split_values]
    grid = np.array([run.values, *run.split_values.values()], dtype=np.float64)  # (S, seeds)
    return {
        "splits": names,
        "seeds": list(run.seeds),
        "values": grid.tolist(),
        "mean": float(grid.mean()),
        "std_over_splits": _std(grid.mean(axis=1).tolist()),
        "std_over_seeds": _std(grid.mean(axis=0).tolist()),
        "splits_missing_train_classes": sum(1 for m in run.split_missing.values() if m),
        "varied": {"seed": VARIED["seed"], "split": VARIED["split"]},
    }


def task_score(run: TaskRun, cfg: Any, n_cls: int) -> Any:
    """The results' ``TaskScore`` of ``run`` with every extra (module docstring)."""
    from .load import missing_in_train
    from .results import TaskScore

    spec = run.spec
    extra: dict[str, Any] = {
        "kind": spec.kind,
        "split": spec.split,
        "pooling": spec.pooling if spec.level == "sequence" else "frame",
        "n_train_rows": run.n_train,
        "n_test_rows": run.n_test,
        "n_train_frames_available": run.n_available[0],
        "n_test_frames_available": run.n_available[1],
        "max_train_frames": cfg.max_train_frames,
        "max_test_frames": cfg.max_test_frames,
        "per_seed": run.per_seed,
        "metrics": {k: {"mean": float(np.mean([m[k] for m in run.per_seed])),
                        "std": _std([m[k] for m in run.per_seed])}
                    for k in run.per_seed[0]
                    if k != "alpha" and all(k in m for m in run.per_seed)},
        "chance": run.chance,
        "varied": {"seed": VARIED["seed"]},
    }
    if physics_tasks.is_multi(spec):
        interval = physics_tasks.bootstrap_multi(spec, run.predictions, cfg.bootstrap,
                                                 cfg.frame_seed)
    else:
        interval = bootstrap_interval(spec, run.predictions, n_cls, cfg.bootstrap,
                                      cfg.frame_seed)
    if interval:
        extra["interval"] = {**interval, "split": run.split}
    if run.counts:
        extra["class_counts"] = run.counts
        extra["missing_in_train"] = missing_in_train(run.counts)
    reps = repetitions(run)
    if reps:
        extra["repetitions"] = reps
    if run.confusions:
        extra["confusion_matrix"] = np.mean(run.confusions, axis=0).round(6).tolist()
        extra["class_names"] = list(spec.class_names or [])
    sub = run.n_available[1] > cfg.max_test_frames or run.n_available[0] > cfg.max_train_frames
    pooled = spec.pooling == "mean" and spec.level == "sequence"
    note = (f"{spec.kind} readout on {'mean-pooled sequences' if pooled else 'frames'}; "
            f"{run.n_train} train / {run.n_test} test rows"
            + (" (frames subsampled deterministically)" if sub else ""))
    if extra.get("missing_in_train"):
        note += f"; train split lacks test class(es) {extra['missing_in_train']}"
    return TaskScore.from_values(spec.name, spec.metric, spec.higher_is_better, spec.level,
                                 run.values, run.seeds, extra=extra, note=note)
