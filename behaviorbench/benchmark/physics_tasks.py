"""Tasks on the physics labels of a terrain store (schema 1.2): foot contact, stride phase and
stride frequency, per frame.

Labels (``label_array``), all (N, T[, K]) and aligned with the features' frames:

- ``foot_contact`` (N, T, 4) int64 0/1: the store's MuJoCo ``foot_contact`` array as recorded
  (legs LF, RF, LH, RH; 1 where the foot touches the ground), no cleaning;
- ``stride_phase`` (N, T, 8) float32: sin then cos of 2 pi x the stride phase of each leg
  (``simulation.gait_labels.phase_to_sin_cos``), NaN where the phase is undefined;
- ``stride_frequency`` (N, T) float32, Hz (``simulation.gait_labels.gait_labels``), NaN where
  no leg is inside a stride.

Rows: a frame is scored when its label is defined for every output (a frame with any NaN among
the 8 sin/cos targets is left out of training and scoring, as a NaN stride frequency is).

Scores (same readouts as every task, fitted on the same frames):

- multi-label classification (``foot_contact``): one reference linear classifier per leg
  (``readout.fit_linear_classifier``, 2 classes, class-balanced); metric ``f1_binary_mean``:
  binary F1 of the contact class of each leg, averaged over the 4 legs (unweighted);
- multi-output regression (``stride_phase``): one ridge per target (``readout.fit_ridge``,
  alpha by grouped CV each); metric ``r2``: R^2 of each target, averaged over the 8 targets
  (scikit-learn's ``multioutput="uniform_average"``).

A store without the arrays (written before schema 1.2, imported from ``robot_dataset.npy``, or
listing them in its ``missing_fields``) skips these tasks: ``missing_reason`` says why.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from .bootstrap import r2_from, resampled_errors, sequence_bootstrap
from .readout import fit_linear_classifier, fit_ridge, regression_scores

LEGS: tuple[str, ...] = ("LF", "RF", "LH", "RH")

#: task label -> number of outputs per frame (1: a plain (N, T) label)
PHYSICS_LABELS: dict[str, int] = {"foot_contact": 4, "stride_phase": 8, "stride_frequency": 1}

_cache: list[Any] = [None, None]  # [weak ref to the last dataset asked about, {label: array}]


def is_physics(spec: Any) -> bool:
    """Whether ``spec`` reads a physics label (this module) rather than the store's labels."""
    return spec.dataset == "terrain" and spec.label in PHYSICS_LABELS


def is_multi(spec: Any) -> bool:
    """Whether ``spec`` has several outputs per frame (foot_contact, stride_phase)."""
    return is_physics(spec) and PHYSICS_LABELS[spec.label] > 1


def missing_reason(spec: Any, data: Any) -> str | None:
    """Why ``spec`` cannot be scored on ``data`` (one line), or None when it can."""
    if not is_physics(spec):
        return None
    if "foot_contact" in (getattr(data, "physics", None) or {}):
        return None
    missing = (getattr(data, "attrs", None) or {}).get("missing_fields") or ()
    if "foot_contact" in missing:
        why = "the store lists foot_contact in missing_fields (its backend did not record it)"
    else:
        why = ("the store has no foot_contact array (written before dataset schema 1.2, or "
               "imported from robot_dataset.npy)")
    return f"skipped: {spec.name} needs per-frame foot contacts; {why}"


def label_array(data: Any, label: str) -> np.ndarray:
    """The (N, T) or (N, T, K) label array ``label`` of ``data`` (module docstring), computed
    once per dataset object."""
    if _cache[0] is None or _cache[0]() is not data:
        _cache[0], _cache[1] = weakref.ref(data), {}
    arrays: dict[str, np.ndarray] = _cache[1]
    if label not in arrays:
        if label == "foot_contact":
            arrays[label] = np.asarray(data.physics["foot_contact"]).astype(np.int64)
        else:
            from behaviorbench.simulation.gait_labels import phase_to_sin_cos

            gait = data.gait_labels()
            arrays["stride_phase"] = phase_to_sin_cos(gait["phase"])
            arrays["stride_frequency"] = np.asarray(gait["stride_frequency"], np.float32)
    return arrays[label]


def rows(spec: Any, data: Any, sel: Any, emb: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (n, D), y (n,) or (n, K), sequence id (n,)) of the selected frames whose label is
    defined for every output."""
    y = label_array(data, spec.label)[sel.seq, sel.t]
    if spec.kind == "classification":
        ok = (y >= 0).reshape(len(y), -1).all(axis=1)
    else:
        y = y.astype(np.float64)
        ok = np.isfinite(y).reshape(len(y), -1).all(axis=1)
    return emb.rows[ok], y[ok], sel.seq[ok]


def binary_f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 of the positive class from counts (any shape); 0 where tp + fp + fn is 0."""
    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    den = 2 * tp + fp + fn
    return np.where(den > 0, 2 * tp / np.where(den > 0, den, 1.0), 0.0)


def contact_metrics(cm: np.ndarray) -> dict[str, float]:
    """Metrics of per-leg 2 x 2 confusion counts ``cm`` (4, 2, 2) (rows = true, class 1 =
    contact): mean binary F1, F1 per leg, accuracy and balanced accuracy (means over legs)."""
    cm = np.asarray(cm, dtype=np.float64)
    tn, fp, fn, tp = cm[:, 0, 0], cm[:, 0, 1], cm[:, 1, 0], cm[:, 1, 1]
    f1 = binary_f1(tp, fp, fn)
    total = np.maximum(cm.sum(axis=(1, 2)), 1e-300)
    pos, neg = tp + fn, tn + fp
    rec_pos = np.where(pos > 0, tp / np.maximum(pos, 1e-300), np.nan)
    rec_neg = np.where(neg > 0, tn / np.maximum(neg, 1e-300), np.nan)
    bal = np.nanmean(np.stack([rec_pos, rec_neg]), axis=0)
    out = {"f1_binary_mean": float(f1.mean()),
           "accuracy": float(((tp + tn) / total).mean()),
           "balanced_accuracy": float(np.nanmean(bal))}
    out.update({f"f1_{leg}": float(v) for leg, v in zip(LEGS, f1, strict=True)})
    return out


def _leg_counts(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """(4, 2, 2) confusion counts of 0/1 labels ``y`` and predictions ``p``, both (n, 4)."""
    return np.stack([np.bincount(y[:, k] * 2 + p[:, k], minlength=4).reshape(2, 2)
                     for k in range(y.shape[1])]).astype(np.float64)


def score_multi(spec: Any, xtr: np.ndarray, ytr: np.ndarray, gtr: np.ndarray, xte: np.ndarray,
                yte: np.ndarray, readout_cfg: Any, ridge_cfg: Any, seed: int
                ) -> tuple[dict[str, float], np.ndarray, int, int]:
    """Fit one readout per output column; returns (metrics, predictions (n_test, K), n_train,
    n_test)."""
    k = ytr.shape[1]
    if spec.kind == "classification":
        pred = np.stack([fit_linear_classifier(xtr, ytr[:, j], xte, yte[:, j], 2, readout_cfg,
                                               seed=seed).y_pred for j in range(k)], axis=1)
        return contact_metrics(_leg_counts(yte, pred)), pred, len(ytr), len(yte)
    pred = np.stack([fit_ridge(xtr, ytr[:, j], xte, yte[:, j], ridge_cfg, groups=gtr).y_pred
                     for j in range(k)], axis=1)
    return regression_metrics(yte, pred), pred, len(ytr), len(yte)


def regression_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """R^2 and MSE averaged over the (n, K) targets, and R^2 per leg (mean of its sin and cos
    targets when K is 8)."""
    per = [regression_scores(y[:, j], p[:, j]) for j in range(y.shape[1])]
    r2 = np.array([s[1] for s in per])
    out = {"r2": float(r2.mean()), "mse": float(np.mean([s[0] for s in per]))}
    if len(r2) == 2 * len(LEGS):
        out.update({f"r2_{leg}": float((r2[i] + r2[i + 4]) / 2) for i, leg in enumerate(LEGS)})
    return out


def chance_multi(spec: Any, ytr: np.ndarray, yte: np.ndarray) -> dict[str, dict[str, Any]]:
    """Trivial predictors on the test rows, per output, averaged as the metric is.

    Contacts: ``majority`` (each leg's most frequent train class), ``prior_random`` (a class
    drawn from each leg's train frequencies, scored by its expected confusion) and
    ``always_contact`` (every frame in contact: the constant predictor with the best F1).
    Regressions: ``train_mean`` (each target's train mean; R^2 <= 0 up to the shift)."""
    if spec.kind != "classification":
        mean = ytr.mean(axis=0) if len(ytr) else np.zeros(yte.shape[1])
        return {"train_mean": regression_metrics(yte, np.broadcast_to(mean, yte.shape))}
    p_tr = ytr.mean(axis=0) if len(ytr) else np.zeros(yte.shape[1])
    n_pos = yte.sum(axis=0).astype(np.float64)
    n_neg = len(yte) - n_pos
    true = np.stack([n_neg, n_pos], axis=1)  # (4, 2)
    prior = np.stack([1 - p_tr, p_tr], axis=1)  # (4, 2)
    major = (p_tr > 0.5).astype(np.int64)
    out = {
        "majority": contact_metrics(_leg_counts(yte, np.broadcast_to(major, yte.shape))),
        "prior_random": contact_metrics(true[:, :, None] * prior[:, None, :]),
        "always_contact": contact_metrics(_leg_counts(yte, np.ones_like(yte))),
    }
    return out


def bootstrap_multi(spec: Any, preds: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                    resamples: int, seed: int, level: float = 0.95) -> dict[str, Any] | None:
    """Percentile interval of the seed-averaged metric over resampled test sequences (as
    ``score.bootstrap_interval``) for (n, K) labels and predictions."""

    def metric(y, p, pos, n_seqs, weights):
        cols = []
        for j in range(y.shape[1]):
            if spec.kind == "classification":
                yj, pj = y[:, j].astype(np.int64), p[:, j].astype(np.int64)
                stats = np.stack([np.bincount(pos, w.astype(np.float64), minlength=n_seqs)
                                  for w in (yj & pj, (1 - yj) & pj, yj & (1 - pj))], axis=1)
                tp, fp, fn = (weights @ stats).T
                cols.append(binary_f1(tp, fp, fn))
            else:
                _, sse, sst = resampled_errors(y[:, j], p[:, j], pos, n_seqs, weights)
                cols.append(r2_from(sse, sst))
        return np.mean(cols, axis=0)

    return sequence_bootstrap(preds, resamples, seed, level, metric)
