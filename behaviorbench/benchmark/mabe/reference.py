"""Straightforward scikit-learn transcription of the official evaluation loop (the baseline).

One ``RidgeClassifier`` / ``Ridge`` fit per (seed, task, alpha) on ``X[train_mask]`` with NaN rows
dropped, exactly as the official ``round1/training`` code does. Slow by design; it exists to
check :func:`.evaluator.evaluate_submission` (exactness test) and to time it (benchmark).
``dtype=np.float64`` fits sklearn in double precision (the official code passes the float32
embeddings, so sklearn works in float32 there; scores then differ at float32 rounding level).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.metrics import f1_score, mean_squared_error

from .files import MabeLabels
from .protocol import OFFICIAL_ALPHAS, REPORT_ALPHA, TEST_SIZE, TasksInfo, seed_train_clips


def _mask(fmap, clips, n):
    m = np.zeros(n, bool)
    for c in clips:
        s, e = fmap[c]
        m[s:e] = True
    return m


def reference_scores(
    submission: dict, labels: MabeLabels, split: dict, tasks: TasksInfo | None = None,
    alphas=OFFICIAL_ALPHAS, dtype=np.float64, report_alpha: float = REPORT_ALPHA,
) -> dict[str, dict]:  # fmt: skip
    """{task: {'private', 'public', 'no_ensemble', 'pooled', 'private_by_alpha'}} via sklearn."""
    tasks = tasks or TasksInfo.default()
    X = np.asarray(submission["embeddings"], dtype=dtype)
    fmap = labels.frame_number_map
    n = X.shape[0]
    models = {}  # (seed, task, alpha) -> fitted probe
    for seed in tasks.seeds:
        tr = _mask(fmap, seed_train_clips(split["SubmissionTrain"], seed, TEST_SIZE), n)
        Xtr = X[tr]
        for task in tasks.task_ids:
            ti = labels.vocabulary.index(task)
            y = labels.label_array[ti, tr]
            ok = ~np.isnan(y)
            for alpha in alphas:
                if labels.task_type[ti] == "Discrete":
                    probe = RidgeClassifier(class_weight="balanced", alpha=alpha)
                else:
                    probe = Ridge(alpha=alpha)
                models[seed, task, alpha] = probe.fit(Xtr[ok], y[ok])
    out = {}
    for task in tasks.task_ids:
        ti = labels.vocabulary.index(task)
        clf = labels.task_type[ti] == "Discrete"
        metric = (lambda a, b: f1_score(a, b, average="binary")) if clf else mean_squared_error
        agg = (lambda p: np.float32(np.mean(p, axis=0) > 0)) if clf else (lambda p: np.mean(p, 0))
        res = {"private_by_alpha": {}}
        for alpha in alphas:
            parts = {}
            for key in ("publicTest", "privateTest"):
                m = _mask(fmap, split[key], n)
                y = labels.label_array[ti, m]
                ok = ~np.isnan(y)
                preds = [models[s, task, alpha].predict(X[m][ok]) for s in tasks.seeds]
                parts[key] = (y[ok], preds)
            yp, pp = parts["publicTest"]
            yv, pv = parts["privateTest"]
            both = [np.concatenate([a, b]) for a, b in zip(pv, pp, strict=False)]
            y_both = np.concatenate([yv, yp])
            res["private_by_alpha"][alpha] = float(metric(y_both, agg(both)))
            if alpha == report_alpha:
                res["public"] = float(metric(yp, agg(pp)))
                res["private"] = res["private_by_alpha"][alpha]
                res["no_ensemble"] = float(np.mean([metric(y_both, p) for p in both]))
                gt, pr = [], []
                for key, (_, preds) in (("publicTest", parts["publicTest"]),
                                        ("privateTest", parts["privateTest"])):  # fmt: skip
                    a, pos = agg(preds), 0
                    for c in split[key]:
                        s, e = fmap[c]
                        yc = labels.label_array[ti, s:e]
                        yc = yc[~np.isnan(yc)]
                        if len(yc):
                            g, p = np.mean(yc), np.mean(a[pos : pos + len(yc)])
                            gt.append(int(g >= 0.5) if clf else g)
                            pr.append(int(p >= 0.5) if clf else p)
                            pos += len(yc)
                seq = task in tasks.sequence_level_tasks
                res["pooled"] = float(metric(gt, pr)) if seq else -1.0
        out[task] = res
    return out
