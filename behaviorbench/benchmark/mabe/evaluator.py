"""The official MABe 2022 mouse-triplet evaluation, computed fast and exactly.

Protocol (as the official ``round1/training`` code): for each task and seed s in (42, 43, 44), fit
``RidgeClassifier(class_weight='balanced', alpha)`` (``'Discrete'`` tasks) or ``Ridge(alpha)``
(``'Continious'``) on the frames of ``train_test_split(SubmissionTrain, test_size=0.1,
random_state=s)[0]`` (NaN-label frames dropped per task; no feature scaling), for alpha in
(0.1, 0.5, 1, 2, 5); predict the publicTest and privateTest frames; ensemble the seeds
(regression: mean prediction; classification: positive iff *any* seed predicts positive -- the code
takes ``mean(0/1 predictions) > 0``, while the official README claims a 2/3 vote; we follow the
code); score public = publicTest, private = privateTest + publicTest, "no ensemble" = mean of the
single-seed private scores, "pooled" = per-clip means (thresholded at 0.5 for F1) for
sequence-level tasks. The reported row uses alpha 1.0; "Score Alpha a" columns are private scores.

How it is fast: a ridge fit only needs, per (seed, task), the (weighted) Gram matrix, column sums
and X^T y of the training rows. Training rows are grouped by which seeds use them (<= 7 groups);
one pass over the rows accumulates, in float64 and chunked, per group: the Gram of all rows, and
per task the Gram/sums of every label category except the largest (NaN, 0, 1), which is obtained
by subtraction. ``class_weight='balanced'`` is weighted ridge on targets -1/+1 with per-class
weights n / (2 n_c), so X^T W X = sum_c w_c G_c is built from the per-class blocks; centring with
the weighted means gives sklearn's intercept exactly. One Cholesky solve per alpha; predictions of
all (task, seed, alpha) probes come from one matrix product per chunk of test rows.

Official quirk kept on purpose (see ``docs/mabe.md``): the pooled score walks the clips in the
split file's list order but slices the predictions, which are in frame (row) order, by running
offsets; when the two orders differ the per-clip prediction means are misaligned. ``Pooled Score``
reproduces this; ``pooled_aligned`` in the dict is the per-clip pooling done correctly
(not official).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy import linalg

from .files import MabeLabels
from .protocol import (
    OFFICIAL_ALPHAS,
    REPORT_ALPHA,
    TEST_SIZE,
    TasksInfo,
    fallback_split,
    seed_train_clips,
)
from .scores import MabeResults, TaskResult, f1_binary, mse
from .submission import MAX_DIMS_MOUSE, validate_submission


@dataclasses.dataclass
class EvaluatorConfig:
    """Evaluator settings; defaults are the official protocol."""

    alphas: tuple[float, ...] = OFFICIAL_ALPHAS  # ridge penalties, all fitted (official 5)
    report_alpha: float = REPORT_ALPHA  # alpha of the reported row (official 1.0)
    test_size: float = TEST_SIZE  # fraction of SubmissionTrain clips held out per seed (0.1)
    chunk_rows: int = 65536  # rows per float64 chunk (memory ~ chunk_rows x dims x 8 bytes)
    max_dims: int = MAX_DIMS_MOUSE  # submission column limit (mice 128)


# ----------------------------------------------------------------------------- helpers
def rows_of(frame_map: dict, clips) -> np.ndarray:
    """Row indices of ``clips`` in frame (row) order, as the official boolean mask selects them."""
    spans = sorted(frame_map[c] for c in clips)
    if not spans:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(s, e, dtype=np.int64) for s, e in spans])


def _gram_update(acc: np.ndarray, x: np.ndarray) -> None:
    """acc += x^T x (upper triangle valid) for x (n, d) float64 C-order."""
    if x.shape[0] == 0:
        return
    acc += linalg.blas.dsyrk(1.0, x.T, trans=0, lower=0)


def _sym(a: np.ndarray) -> np.ndarray:
    return np.triu(a) + np.triu(a, 1).T


@dataclasses.dataclass
class _Stats:
    """Sufficient statistics of a row set: count, column sums (d,), Gram (d, d), in float64."""

    n: float
    s: np.ndarray
    g: np.ndarray

    @classmethod
    def zeros(cls, d: int) -> _Stats:
        return cls(0.0, np.zeros(d), np.zeros((d, d)))

    def add(self, x: np.ndarray) -> None:
        self.n += x.shape[0]
        self.s += x.sum(axis=0)
        _gram_update(self.g, x)

    def __add__(self, o: _Stats) -> _Stats:
        return _Stats(self.n + o.n, self.s + o.s, self.g + o.g)

    def __sub__(self, o: _Stats) -> _Stats:
        return _Stats(self.n - o.n, self.s - o.s, self.g - o.g)


def _solve(a: np.ndarray, b: np.ndarray, alphas) -> list[np.ndarray]:
    d = a.shape[0]
    out = []
    for alpha in alphas:
        m = a + alpha * np.eye(d)
        try:
            out.append(linalg.solve(m, b, assume_a="pos"))
        except linalg.LinAlgError:  # sklearn falls back to least squares as well
            out.append(linalg.lstsq(m, b)[0])
    return out


# ----------------------------------------------------------------------------- evaluator
def evaluate_submission(
    submission: dict,
    labels: MabeLabels,
    split: dict[str, list[str]] | None = None,
    tasks: TasksInfo | None = None,
    config: EvaluatorConfig | None = None,
) -> MabeResults:
    """Score ``submission`` (``{'frame_number_map', 'embeddings'}``) against ``labels``.

    ``split``: official ``jax_split.json`` content; None -> :func:`fallback_split` over the
    labels' clips (marked unofficial). ``tasks``: ``jax_tasks.json`` content; None -> the
    published 13 tasks and seeds. Task kind follows the labels file's ``task_type`` (as official).
    """
    t0 = time.perf_counter()
    cfg = config or EvaluatorConfig()
    tasks = tasks or TasksInfo.default()
    fmap = labels.frame_number_map
    validate_submission(submission, fmap, max_dims=cfg.max_dims)
    official = split is not None
    if split is None:
        split = fallback_split(list(fmap))
    for key in ("SubmissionTrain", "publicTest", "privateTest"):
        unknown = [c for c in split[key] if c not in fmap]
        if unknown:
            raise ValueError(
                f"{len(unknown)} {key} clips are not in the frame map, e.g. {unknown[0]}"
            )
    X = submission["embeddings"]
    if X.shape[0] != labels.n_frames:
        raise ValueError(f"embeddings rows {X.shape[0]} != label frames {labels.n_frames}")
    d = X.shape[1]
    alphas = tuple(float(a) for a in cfg.alphas)
    if float(cfg.report_alpha) not in alphas:
        raise ValueError("report_alpha must be one of alphas")
    seeds = list(tasks.seeds)
    task_ids = list(tasks.task_ids)
    t_idx = [labels.vocabulary.index(t) for t in task_ids]
    is_clf = [labels.task_type[i] == "Discrete" for i in t_idx]
    Y = labels.label_array

    # --- training rows grouped by the seeds that use them
    code = np.zeros(X.shape[0], dtype=np.int16)
    for b, seed in enumerate(seeds):
        for c in seed_train_clips(split["SubmissionTrain"], seed, cfg.test_size):
            s, e = fmap[c]
            code[s:e] |= 1 << b
    groups = [int(g) for g in np.unique(code) if g != 0]
    train_rows = {g: np.flatnonzero(code == g) for g in groups}
    all_train = np.flatnonzero(code)
    shift = _column_mean(X, all_train, cfg.chunk_rows)  # centring-invariant shift for precision

    # categories computed directly per task: all but the largest (it follows by subtraction)
    direct, cats = [], []
    for k, ti in enumerate(t_idx):
        y = Y[ti, all_train]
        nan = np.isnan(y)
        if is_clf[k]:
            vals = np.unique(y[~nan])
            if not np.isin(vals, (0.0, 1.0)).all():
                raise ValueError(
                    f"task {task_ids[k]}: classification labels must be 0/1, got {vals}"
                )
            counts = {"nan": nan.sum(), 0: np.sum(y == 0), 1: np.sum(y == 1)}
        else:
            counts = {"nan": nan.sum(), "valid": (~nan).sum()}
        largest = max(counts, key=lambda c: counts[c])
        cats.append(list(counts))
        direct.append([c for c in counts if c != largest])

    full = {g: _Stats.zeros(d) for g in groups}
    part = {g: [{c: _Stats.zeros(d) for c in direct[k]} for k in range(len(t_idx))] for g in groups}
    xty = {g: np.zeros((len(t_idx), d)) for g in groups}  # regression: sum (x - shift) y
    sy = {g: np.zeros(len(t_idx)) for g in groups}
    for g in groups:
        rows_g = train_rows[g]
        for lo in range(0, rows_g.size, cfg.chunk_rows):
            r = rows_g[lo : lo + cfg.chunk_rows]
            xc = X[r].astype(np.float64) - shift
            full[g].add(xc)
            yc = Y[:, r][t_idx]
            for k in range(len(t_idx)):
                y = yc[k]
                for c in direct[k]:
                    if c == "nan":
                        m = np.isnan(y)
                    elif c == "valid":
                        m = ~np.isnan(y)
                    else:
                        m = y == c
                    if m.any():
                        part[g][k][c].add(xc[m])
                if not is_clf[k]:
                    y0 = np.nan_to_num(y)
                    xty[g][k] += y0 @ xc
                    sy[g][k] += y0.sum()

    # --- closed-form fits: coef (d,) and intercept per (task, seed, alpha), original coordinates
    n_a, n_s = len(alphas), len(seeds)
    W = np.zeros((d, len(t_idx), n_s, n_a))
    C = np.zeros((len(t_idx), n_s, n_a))
    n_train = np.zeros((len(t_idx), n_s), dtype=np.int64)
    for b in range(n_s):
        gs = [g for g in groups if g >> b & 1]
        tot = sum((full[g] for g in gs), _Stats.zeros(d))
        for k in range(len(t_idx)):
            st = {c: sum((part[g][k][c] for g in gs), _Stats.zeros(d)) for c in direct[k]}
            rest = tot
            for c in direct[k]:
                rest = rest - st[c]
            st[next(c for c in cats[k] if c not in direct[k])] = rest
            if is_clf[k]:
                coefs, icpt, n = _fit_balanced(st, alphas)
            else:
                ysum = sum(sy[g][k] for g in gs)
                xy = sum(xty[g][k] for g in gs)
                coefs, icpt, n = _fit_ridge(st["valid"], ysum, xy, alphas)
            n_train[k, b] = n
            for a in range(n_a):
                W[:, k, b, a] = coefs[a]
                C[k, b, a] = icpt[a] - shift @ coefs[a]

    # --- predictions for publicTest + privateTest rows, all probes at once
    rows_pub = rows_of(fmap, split["publicTest"])
    rows_priv = rows_of(fmap, split["privateTest"])
    test_rows = np.concatenate([rows_pub, rows_priv])
    # classification probes keep only the 0/1 decision (bool) to bound memory on 6.7M frames
    Wf, Cf = W.reshape(d, -1), C.reshape(-1)
    clf_k = [k for k in range(len(t_idx)) if is_clf[k]]
    reg_k = [k for k in range(len(t_idx)) if not is_clf[k]]
    p_clf = np.empty((test_rows.size, len(clf_k), n_s, n_a), dtype=bool)
    p_reg = np.empty((test_rows.size, len(reg_k), n_s, n_a), dtype=np.float64)
    for lo in range(0, test_rows.size, cfg.chunk_rows):
        r = test_rows[lo : lo + cfg.chunk_rows]
        z = (X[r].astype(np.float64) @ Wf + Cf).reshape(r.size, len(t_idx), n_s, n_a)
        p_clf[lo : lo + r.size] = z[:, clf_k] > 0
        p_reg[lo : lo + r.size] = z[:, reg_k]

    results = []
    for k, task in enumerate(task_ids):
        preds = p_clf[:, clf_k.index(k)] if is_clf[k] else p_reg[:, reg_k.index(k)]
        results.append(
            _score_task(
                task, Y[t_idx[k]], preds, is_clf[k], task in tasks.sequence_level_tasks,
                rows_pub, rows_priv, split, fmap, alphas, cfg.report_alpha, n_train[k],
            )  # fmt: skip
        )
    return MabeResults(
        tasks=results, alphas=alphas, seeds=seeds, official_split=official,
        seconds=time.perf_counter() - t0,
    )  # fmt: skip


def _column_mean(X: np.ndarray, rows: np.ndarray, chunk: int) -> np.ndarray:
    tot = np.zeros(X.shape[1])
    for lo in range(0, rows.size, chunk):
        tot += X[rows[lo : lo + chunk]].astype(np.float64).sum(axis=0)
    return tot / max(rows.size, 1)


def _fit_balanced(st: dict, alphas) -> tuple[list, list, int]:
    """RidgeClassifier(class_weight='balanced'): weighted ridge on y in {-1, +1}.

    Weights w_c = n / (n_classes n_c) (sklearn ``compute_sample_weight('balanced')``)."""
    present = [c for c in (0, 1) if st[c].n > 0]
    n = int(sum(st[c].n for c in present))
    d = st[0].s.size
    if len(present) < 2:  # one class only: sklearn's probe predicts that class everywhere
        sign = 1.0 if present == [1] else -1.0
        return [np.zeros(d)] * len(alphas), [sign] * len(alphas), n
    target = {0: -1.0, 1: 1.0}
    w = {c: n / (2.0 * st[c].n) for c in present}
    sw = sum(w[c] * st[c].n for c in present)
    mu = sum(w[c] * st[c].s for c in present) / sw
    ybar = sum(w[c] * st[c].n * target[c] for c in present) / sw
    a = _sym(sum(w[c] * st[c].g for c in present)) - sw * np.outer(mu, mu)
    b = sum(w[c] * target[c] * st[c].s for c in present) - sw * ybar * mu
    coefs = _solve(a, b, alphas)
    return coefs, [ybar - mu @ c for c in coefs], n


def _fit_ridge(st: _Stats, ysum: float, xty: np.ndarray, alphas) -> tuple[list, list, int]:
    """Ridge(alpha) with intercept from sufficient statistics of the valid rows."""
    n = st.n
    mu = st.s / n
    ybar = ysum / n
    a = _sym(st.g) - n * np.outer(mu, mu)
    b = xty - n * ybar * mu
    coefs = _solve(a, b, alphas)
    return coefs, [ybar - mu @ c for c in coefs], int(n)


def _official_pooled(clips, fmap, y_all, agg_valid, clf: bool):
    """Per-clip means walking ``clips`` in list order over frame-ordered predictions (official)."""
    gt, pr, pos = [], [], 0
    for c in clips:
        s, e = fmap[c]
        y = y_all[s:e]
        y = y[~np.isnan(y)]
        if y.size:
            g, p = np.mean(y), np.mean(agg_valid[pos : pos + y.size])
            gt.append(int(g >= 0.5) if clf else g)
            pr.append(int(p >= 0.5) if clf else p)
            pos += y.size
    return gt, pr


def _aligned_pooled(clips, fmap, y_all, rows_valid, agg_valid, clf: bool):
    """Per-clip means with predictions taken from each clip's own rows (not official)."""
    gt, pr = [], []
    for c in clips:
        s, e = fmap[c]
        m = (rows_valid >= s) & (rows_valid < e)
        if m.any():
            g, p = np.mean(y_all[rows_valid[m]]), np.mean(agg_valid[m])
            gt.append(int(g >= 0.5) if clf else g)
            pr.append(int(p >= 0.5) if clf else p)
    return gt, pr


def _score_task(task, y_all, preds, clf, seq_level, rows_pub, rows_priv, split, fmap, alphas,
                report_alpha, n_train) -> TaskResult:  # fmt: skip
    """preds: (n_pub + n_priv, n_seeds, n_alphas) bool decisions (classification: decision
    value > 0, i.e. the positive class) or float regression outputs."""
    metric = f1_binary if clf else mse
    n_pub = rows_pub.size
    y_pub, y_priv = y_all[rows_pub], y_all[rows_priv]
    v_pub, v_priv = ~np.isnan(y_pub), ~np.isnan(y_priv)
    yt_pub, yt_priv = y_pub[v_pub], y_priv[v_priv]
    yt_pp = np.concatenate([yt_priv, yt_pub])
    priv_by, pub_by = {}, {}
    rep = None
    for a, alpha in enumerate(alphas):
        p_pub = preds[:n_pub, :, a][v_pub]
        p_priv = preds[n_pub:, :, a][v_priv]
        if clf:
            p_pub, p_priv = (p_pub > 0).astype(np.float64), (p_priv > 0).astype(np.float64)
            agg_pub = (p_pub.mean(axis=1) > 0).astype(np.float64)
            agg_priv = (p_priv.mean(axis=1) > 0).astype(np.float64)
        else:
            agg_pub, agg_priv = p_pub.mean(axis=1), p_priv.mean(axis=1)
        pub_by[alpha] = metric(yt_pub, agg_pub)
        priv_by[alpha] = metric(yt_pp, np.concatenate([agg_priv, agg_pub]))
        if alpha == float(report_alpha):
            p_pp = np.concatenate([p_priv, p_pub])
            no_ens = float(np.mean([metric(yt_pp, p_pp[:, s]) for s in range(p_pp.shape[1])]))
            pooled = pooled_aligned = -1.0
            if seq_level:
                g1, p1 = _official_pooled(split["publicTest"], fmap, y_all, agg_pub, clf)
                g2, p2 = _official_pooled(split["privateTest"], fmap, y_all, agg_priv, clf)
                pooled = metric(np.array(g1 + g2), np.array(p1 + p2))
                g1, p1 = _aligned_pooled(split["publicTest"], fmap, y_all, rows_pub[v_pub],
                                         agg_pub, clf)  # fmt: skip
                g2, p2 = _aligned_pooled(split["privateTest"], fmap, y_all, rows_priv[v_priv],
                                         agg_priv, clf)  # fmt: skip
                pooled_aligned = metric(np.array(g1 + g2), np.array(p1 + p2))
            rep = (no_ens, pooled, pooled_aligned)
    return TaskResult(
        task_id=task, metric="f1_score" if clf else "mean_mse", sequence_level=seq_level,
        private=priv_by[float(report_alpha)], public=pub_by[float(report_alpha)],
        no_ensemble=rep[0], pooled=rep[1], pooled_aligned=rep[2],
        private_by_alpha=priv_by, public_by_alpha=pub_by,
        n_train_frames=[int(n) for n in n_train], n_test_frames=int(yt_pp.size),
    )  # fmt: skip
