"""Readouts on frozen embeddings: the reference linear classifier and a ridge regressor.

Both take 2-D arrays: ``x`` (n, D) float32 embeddings (one row per scored frame or sequence) and
``y`` (n,) labels (int class indices for classification, float for regression), for a train and
a test part. Preprocessing (reference ``bams/linear_eval.py``, kept for both readouts): centre
with the *train* mean, then L2-normalise each row (rows of norm 0 stay 0).

Linear classifier (``fit_linear_classifier``): ``nn.Linear(D, C)``-shaped weights (PyTorch's
default init, drawn from ``seed``), class-balanced cross-entropy (class weight 1/count over the
train rows, loss = weighted mean as ``nn.CrossEntropyLoss(weight=...)``), AdamW (lr 1e-2,
wd 1e-5, betas (0.9, 0.999), eps 1e-8), 1000 full-batch steps. The gradient is computed in closed
form (softmax minus one-hot) with two GEMMs per step on preallocated buffers (weight and bias
fused into one (C, D + 1) matrix), no autograd and no Python loop over samples; timing against
scikit-learn in ``benchmarks/readout_speed.py``. Scores: weighted F1
(``f1_score(average="weighted")``),
accuracy, balanced accuracy and the row-normalised confusion matrix (rows = true class).

Ridge regressor (``fit_ridge``): ``min ||y - Xw - b||^2 + alpha ||w||^2`` solved exactly from the
(D, D) normal equations in float64 (intercept unpenalised, as ``sklearn.linear_model.Ridge``);
``alpha`` picked from a grid by K-fold CV grouped by sequence when groups are given.
Scores: MSE (label units squared), R^2 and Pearson r.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score


@dataclass
class LinearReadoutConfig:
    """Reference linear readout (bams ``linear_eval.py``)."""

    solver: str = "adamw"  # "adamw" (reference) | "lbfgs" (same loss + L2, run to convergence)
    steps: int = 1000  # full-batch AdamW steps
    lr: float = 1e-2  # AdamW learning rate
    weight_decay: float = 1e-5  # AdamW decoupled weight decay
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW moment decay rates
    eps: float = 1e-8  # AdamW denominator epsilon
    balanced: bool = True  # class weights 1/count (False: plain mean cross-entropy)
    normalize: bool = True  # centre on train mean + L2-normalise rows
    device: str = "cpu"  # "cpu" | "cuda" | "auto"
    lbfgs_max_iter: int = 200  # lbfgs: iterations (each about 1-2 passes over the rows)
    lbfgs_tol: float = 1e-4  # lbfgs: stop when max |gradient| falls below this (as sklearn)
    lbfgs_l2: float = 1e-5  # lbfgs: penalty l2/2 ||W||^2 added to the loss (bias unpenalised)

    def __post_init__(self) -> None:
        """Raise ``preflight.BenchmarkConfigError`` naming the first invalid field."""
        from .preflight import at_least, device_problem, positive_number, raise_first

        raise_first(
            None if self.solver in ("adamw", "lbfgs") else
            f"readout solver must be adamw or lbfgs, got {self.solver!r}",
            at_least("readout steps", self.steps, 1),
            positive_number("readout lr", self.lr),
            None if isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0
            else f"readout weight_decay must be >= 0, got {self.weight_decay!r}",
            None if len(self.betas) == 2 and all(
                isinstance(b, (int, float)) and 0 <= b < 1 for b in self.betas)
            else f"readout betas must be two numbers in [0, 1), got {self.betas!r}",
            positive_number("readout eps", self.eps),
            device_problem(self.device, "readout device"),
            at_least("readout lbfgs_max_iter", self.lbfgs_max_iter, 1),
            positive_number("readout lbfgs_tol", self.lbfgs_tol),
            None if isinstance(self.lbfgs_l2, (int, float)) and self.lbfgs_l2 >= 0
            else f"readout lbfgs_l2 must be >= 0, got {self.lbfgs_l2!r}",
        )


@dataclass
class RidgeReadoutConfig:
    """Ridge regression readout on the same preprocessed embeddings.

    The penalty is chosen from ``alphas`` by grouped K-fold cross-validation on the train rows
    (groups = sequences, so frames of one sequence never sit on both sides of a fold); ``alpha``
    is used when no groups are given, ``alphas`` is empty or there are fewer than 2 groups.
    """

    alpha: float = 1.0  # L2 penalty on the weights (unitless: rows are L2-normalised)
    alphas: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)  # CV grid
    cv_folds: int = 5  # grouped folds (capped at the number of groups)
    normalize: bool = True  # centre on train mean + L2-normalise rows

    def __post_init__(self) -> None:
        """Raise ``preflight.BenchmarkConfigError`` naming the first invalid field."""
        from .preflight import at_least, positive_number, raise_first

        raise_first(positive_number("ridge alpha", self.alpha),
                    *(positive_number("ridge alphas", a) for a in self.alphas),
                    at_least("ridge cv_folds", self.cv_folds, 2))


@dataclass
class ClassificationScores:
    """Scores of a classification readout on the test rows."""

    f1_weighted: float
    accuracy: float
    balanced_accuracy: float
    confusion: np.ndarray  # (C, C) float64, row-normalised (rows = true class; 0 rows if absent)
    classes: np.ndarray  # (C,) int64, the class indices the rows/columns stand for
    y_pred: np.ndarray = field(repr=False)  # (n_test,) int64 predicted class indices
    n_train: int = 0
    n_test: int = 0
    final_loss: float = math.nan  # weighted cross-entropy on the train rows after the last step

    def metrics(self) -> dict[str, float]:
        return {
            "f1_weighted": self.f1_weighted,
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
        }


@dataclass
class RegressionScores:
    """Scores of a regression readout on the test rows."""

    mse: float  # label units squared
    r2: float
    pearson_r: float
    y_pred: np.ndarray = field(repr=False)  # (n_test,) float64
    n_train: int = 0
    n_test: int = 0
    alpha: float = math.nan  # the ridge penalty used

    def metrics(self) -> dict[str, float]:
        out = {"mse": self.mse, "r2": self.r2, "alpha": self.alpha}
        if math.isfinite(self.pearson_r):
            out["pearson_r"] = self.pearson_r
        return out


def preprocess(
    x_train: np.ndarray, x_test: np.ndarray, normalize: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Centre both parts on the train mean and L2-normalise each row; (n, D) float32 out."""
    x_train = np.asarray(x_train, dtype=np.float32)
    x_test = np.asarray(x_test, dtype=np.float32)
    if not normalize:
        return x_train, x_test
    mean = x_train.mean(axis=0, dtype=np.float64).astype(np.float32)

    def _norm(x: np.ndarray) -> np.ndarray:
        out = x - mean
        n = np.sqrt(np.einsum("ij,ij->i", out, out))
        out /= np.maximum(n, 1e-12)[:, None]
        return out

    return _norm(x_train), _norm(x_test)


def _resolve(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


#: Readouts with fewer matrix entries (rows x dims) than this run on one CPU thread: their GEMMs
#: are too small to split, and OpenMP's thread synchronisation made a 1200 x 72 readout 19x
#: slower with 2 threads than with 1 on a busy 2-core machine (0.7 s vs 13.5 s, measured).
SINGLE_THREAD_MAX_ENTRIES = 4_000_000


@contextmanager
def _cpu_threads_for(n_entries: int, device: torch.device) -> Iterator[None]:
    """One torch CPU thread for small problems; unchanged threads otherwise."""
    if device.type != "cpu" or n_entries > SINGLE_THREAD_MAX_ENTRIES:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def train_linear_classifier(
    x: np.ndarray | torch.Tensor,
    y: np.ndarray,
    n_classes: int,
    config: LinearReadoutConfig | None = None,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Full-batch AdamW on the class-weighted cross-entropy of a linear layer.

    ``x`` (n, D) float32 (already preprocessed), ``y`` (n,) int in [0, n_classes).
    Returns (W (C, D), b (C,), final train loss) as float32 tensors on the readout device.
    Small problems run on one CPU thread (``SINGLE_THREAD_MAX_ENTRIES``).
    """
    cfg = config or LinearReadoutConfig()
    with _cpu_threads_for(int(np.prod(np.shape(x))), _resolve(cfg.device)):
        return _train_linear_classifier(x, y, n_classes, cfg, seed)


def _train_linear_classifier(
    x: np.ndarray | torch.Tensor,
    y: np.ndarray,
    n_classes: int,
    cfg: LinearReadoutConfig,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    dev = _resolve(cfg.device)
    X = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32).to(dev)
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64)).to(dev)
    n, d = X.shape
    C = int(n_classes)
    counts = torch.bincount(yt, minlength=C).to(torch.float32)
    if cfg.balanced:
        class_w = torch.where(counts > 0, 1.0 / counts.clamp(min=1), torch.zeros_like(counts))
    else:
        class_w = torch.ones(C, device=dev)
    # Work in the (C, n) layout: per-row softmax reductions run over C contiguous rows.
    row_w = class_w[yt]  # (n,)
    row_w = (row_w / row_w.sum()).unsqueeze(0)  # (1, n); weighted mean as nn.CrossEntropyLoss
    onehot_w = torch.zeros(C, n, device=dev)
    onehot_w.scatter_(0, yt.unsqueeze(0), row_w)  # w_i * onehot(y_i), (C, n)

    # nn.Linear default init: kaiming_uniform(a=sqrt(5)) -> U(-1/sqrt(d), 1/sqrt(d)) for both.
    gen = torch.Generator().manual_seed(int(seed))
    bound = 1.0 / math.sqrt(d)
    W = (torch.rand(C, d, generator=gen) * 2 - 1) * bound
    b = (torch.rand(C, 1, generator=gen) * 2 - 1) * bound
    # Weight and bias as one parameter P = [W | b] on rows [x | 1]: AdamW treats every entry
    # independently (and decays the bias too, as torch's default param group), so this is exact.
    P = torch.cat([W, b], dim=1).to(dev)  # (C, d + 1)
    Xa = torch.cat([X, torch.ones(n, 1, device=dev)], dim=1)  # (n, d + 1)
    del X
    xa_norm_max = float(Xa.norm(dim=1).max()) if n else 0.0
    logits = torch.empty(C, n, device=dev)

    def loss_grad(g: torch.Tensor, with_loss: bool) -> float:
        """Weighted cross-entropy at P; writes dL/dP into ``g`` (one pass, two GEMMs)."""
        torch.mm(P, Xa.t(), out=logits)  # (C, n)
        loss = float((logits * onehot_w).sum()) if with_loss else 0.0  # sum_i w_i l_{i,y_i}
        # |logit| <= ||P_c|| ||[x, 1]||: skip the max-subtraction pass while exp is safe
        shift = None
        if float(P.norm(dim=1).max()) * xa_norm_max > 60.0:
            shift = logits.amax(dim=0, keepdim=True)
            logits.sub_(shift)
        logits.exp_()  # unnormalised softmax
        total = logits.sum(dim=0, keepdim=True)  # (1, n)
        if with_loss:
            lse = total.log() if shift is None else total.log().add_(shift)
            loss = float((lse * row_w).sum()) - loss
        # dL/dlogits = w_i * (p_i - onehot_i) with sum_i w_i = 1
        G = logits.mul_(row_w / total).sub_(onehot_w)
        torch.mm(G, Xa, out=g)  # (C, d + 1): [dL/dW | dL/db]
        return loss

    if cfg.solver == "adamw":
        m = torch.zeros_like(P)
        v = torch.zeros_like(P)
        g = torch.empty_like(P)
        b1, b2 = cfg.betas
        decay = 1 - cfg.lr * cfg.weight_decay
        for step in range(1, cfg.steps + 1):
            loss_grad(g, with_loss=False)
            # AdamW (torch.optim.AdamW semantics: decay, then Adam step with bias correction)
            P.mul_(decay)
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = v.div(1 - b2**step).sqrt_().add_(cfg.eps)
            P.addcdiv_(m, denom, value=-cfg.lr / (1 - b1**step))
    elif cfg.solver == "lbfgs":
        P.requires_grad_(True)
        opt = torch.optim.LBFGS([P], lr=1.0, max_iter=cfg.lbfgs_max_iter,
                                tolerance_grad=cfg.lbfgs_tol, tolerance_change=1e-10,
                                history_size=10, line_search_fn="strong_wolfe")
        pen = torch.ones_like(P)
        pen[:, d] = 0.0  # bias unpenalised

        def closure() -> torch.Tensor:
            with torch.no_grad():
                g = torch.empty_like(P)
                loss = loss_grad(g, with_loss=True)
                Pw = P * pen
                loss += 0.5 * cfg.lbfgs_l2 * float((Pw * Pw).sum())
                g.add_(Pw, alpha=cfg.lbfgs_l2)
            P.grad = g
            return torch.tensor(loss, dtype=torch.float64)

        opt.step(closure)
        P = P.detach()
    else:
        raise ValueError(f"unknown solver {cfg.solver!r} (adamw | lbfgs)")

    W, b = P[:, :d].contiguous(), P[:, d].contiguous()
    with torch.no_grad():
        lp = torch.log_softmax(Xa @ P.t(), dim=1)
        loss = float(-(lp.gather(1, yt.unsqueeze(1)).squeeze(1) * row_w.squeeze(0)).sum())
    return W, b, loss


def predict_linear(x: np.ndarray, W: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """argmax of ``x @ W.T + b`` -> (n,) int64 class indices (``x`` preprocessed)."""
    X = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32).to(W.device)
    out = []
    for s in range(0, X.shape[0], 1 << 20):
        out.append(torch.addmm(b, X[s : s + (1 << 20)], W.t()).argmax(dim=1).cpu())
    return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(0, np.int64)


def classification_scores(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int
) -> tuple[float, float, float, np.ndarray]:
    """(weighted F1, accuracy, balanced accuracy, row-normalised (C, C) confusion matrix)."""
    labels = np.arange(n_classes)
    f1 = float(f1_score(y_true, y_pred, average="weighted", labels=labels, zero_division=0))
    acc = float(np.mean(y_true == y_pred)) if len(y_true) else math.nan
    present = np.unique(y_true)
    bal = float(balanced_accuracy_score(y_true, y_pred)) if len(present) > 1 else acc
    cm = confusion_matrix(y_true, y_pred, labels=labels).astype(np.float64)
    rows = cm.sum(axis=1, keepdims=True)
    cm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    return f1, acc, bal, cm


def fit_linear_classifier(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    n_classes: int | None = None,
    config: LinearReadoutConfig | None = None,
    seed: int = 0,
) -> ClassificationScores:
    """Reference linear readout: preprocess, train on (x_train, y_train), score on the test rows.

    ``x_*`` (n, D) float32, ``y_*`` (n,) int class indices >= 0; ``n_classes`` defaults to
    ``max(y) + 1`` over both parts.
    """
    cfg = config or LinearReadoutConfig()
    y_train = np.asarray(y_train, dtype=np.int64)
    y_test = np.asarray(y_test, dtype=np.int64)
    if n_classes is None:
        n_classes = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
    xtr, xte = preprocess(x_train, x_test, cfg.normalize)
    W, b, loss = train_linear_classifier(xtr, y_train, n_classes, cfg, seed)
    y_pred = predict_linear(xte, W, b)
    f1, acc, bal, cm = classification_scores(y_test, y_pred, n_classes)
    return ClassificationScores(
        f1_weighted=f1,
        accuracy=acc,
        balanced_accuracy=bal,
        confusion=cm,
        classes=np.arange(n_classes),
        y_pred=y_pred,
        n_train=len(y_train),
        n_test=len(y_test),
        final_loss=loss,
    )


def _ridge_stats(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """(x mean (D,), y mean, centred Gram (D, D), centred X^T y (D,)) in float64."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    xm = x.mean(axis=0)
    ym = float(y.mean())
    xc = x - xm
    return xm, ym, xc.T @ xc, xc.T @ (y - ym)


def ridge_solve(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Exact ridge with an unpenalised intercept: returns (w (D,) float64, b float).

    Solves ``(Xc^T Xc + alpha I) w = Xc^T yc`` on the centred data in float64 (one pass over x).
    """
    xm, ym, gram, xty = _ridge_stats(x, y)
    gram[np.diag_indices_from(gram)] += alpha
    w = np.linalg.solve(gram, xty)
    return w, float(ym - xm @ w)


def select_ridge_alpha(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, alphas: tuple[float, ...], folds: int
) -> float:
    """The alpha of ``alphas`` with the least grouped-K-fold squared error (ties: larger alpha).

    One pass over each fold's train rows; every alpha is solved from one eigendecomposition.
    """
    groups = np.asarray(groups)
    uniq = np.unique(groups)
    k = min(int(folds), len(uniq))
    fold_of_group = {g: i % k for i, g in enumerate(uniq)}  # groups sorted: deterministic
    fold = np.array([fold_of_group[g] for g in groups])
    sse = np.zeros(len(alphas))
    for f in range(k):
        tr, va = fold != f, fold == f
        xm, ym, gram, xty = _ridge_stats(x[tr], y[tr])
        evals, evecs = np.linalg.eigh(gram)
        proj = evecs.T @ xty
        xv = np.asarray(x[va], dtype=np.float64) - xm
        zv = xv @ evecs  # (n_val, D)
        yv = np.asarray(y[va], dtype=np.float64) - ym
        for j, a in enumerate(alphas):
            pred = zv @ (proj / (evals + a))
            sse[j] += float(np.sum((yv - pred) ** 2))
    best = np.flatnonzero(sse <= sse.min() * (1 + 1e-12))
    return float(alphas[best[-1]]) if len(best) else float(alphas[0])


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float, float]:
    """(MSE, R^2, Pearson r) of predictions; R^2 as ``sklearn.metrics.r2_score``."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    mse = float(np.mean((y_true - y_pred) ** 2))
    var = float(np.mean((y_true - y_true.mean()) ** 2))
    r2 = 1.0 - mse / var if var > 0 else (1.0 if mse == 0 else 0.0)
    if np.std(y_true) > 0 and np.std(y_pred) > 0:
        r = float(np.corrcoef(y_true, y_pred)[0, 1])
    else:
        r = math.nan
    return mse, r2, r


def fit_ridge(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    config: RidgeReadoutConfig | None = None,
    groups: np.ndarray | None = None,
) -> RegressionScores:
    """Ridge readout: preprocess, fit on the train rows, score MSE / R^2 / r on the test rows.

    ``groups`` (n_train,) (e.g. sequence ids) enables the grouped-CV choice of alpha.
    """
    cfg = config or RidgeReadoutConfig()
    xtr, xte = preprocess(x_train, x_test, cfg.normalize)
    y_train = np.asarray(y_train, dtype=np.float64)
    alpha = cfg.alpha
    if groups is not None and cfg.alphas and len(np.unique(groups)) >= 2:
        alpha = select_ridge_alpha(xtr, y_train, groups, tuple(cfg.alphas), cfg.cv_folds)
    w, b = ridge_solve(xtr, y_train, alpha)
    y_pred = xte.astype(np.float64) @ w + b
    mse, r2, r = regression_scores(y_test, y_pred)
    return RegressionScores(
        mse=mse, r2=r2, pearson_r=r, y_pred=y_pred, n_train=len(y_train), n_test=len(y_test),
        alpha=alpha,
    )
