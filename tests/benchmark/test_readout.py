"""Readouts: the linear classifier recovers separable labels, fails on shuffled ones, and equals
torch.optim.AdamW step for step; ridge equals scikit-learn's Ridge."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge
from sklearn.metrics import f1_score, r2_score

from behaviorbench.benchmark.readout import (
    LinearReadoutConfig,
    RidgeReadoutConfig,
    classification_scores,
    fit_linear_classifier,
    fit_ridge,
    preprocess,
    ridge_solve,
    select_ridge_alpha,
    train_linear_classifier,
)


def _blobs(n: int, d: int, c: int, sep: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    means = rng.normal(size=(c, d)).astype(np.float32)
    means *= sep / np.linalg.norm(means, axis=1, keepdims=True)
    x = rng.standard_normal((n, d), dtype=np.float32) + means[y]
    return x, y


def test_separable_label_is_recovered():
    x, y = _blobs(4000, 16, 4, sep=12.0)
    s = fit_linear_classifier(x[:3000], y[:3000], x[3000:], y[3000:], seed=0)
    assert s.f1_weighted > 0.99
    assert s.confusion.shape == (4, 4)
    np.testing.assert_allclose(s.confusion.sum(axis=1), 1.0)
    assert np.all(np.diag(s.confusion) > 0.97)


def test_shuffled_labels_score_at_chance():
    x, y = _blobs(6000, 16, 4, sep=12.0)
    y_shuffled = np.random.default_rng(1).permutation(y)
    s = fit_linear_classifier(x[:4000], y_shuffled[:4000], x[4000:], y_shuffled[4000:], seed=0)
    assert s.f1_weighted < 0.33  # chance is 0.25 for 4 balanced classes


def test_imbalanced_classes_are_weighted():
    """Class weights 1/count: a rare but separable class is still found."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5000, 8)).astype(np.float32)
    y = (x[:, 0] > 2.0).astype(np.int64)  # ~2 % positives
    s = fit_linear_classifier(x[:4000], y[:4000], x[4000:], y[4000:], seed=0)
    assert s.confusion[1, 1] > 0.8


def test_matches_torch_adamw_reference():
    """Closed-form gradient + hand-written AdamW == nn.Linear + CrossEntropyLoss + AdamW."""
    x, y = _blobs(500, 8, 3, sep=1.0)
    y[:20] = 2
    xtr, _ = preprocess(x, x[:1])
    steps = 50
    W, b, loss = train_linear_classifier(xtr, y, 3, LinearReadoutConfig(steps=steps), seed=7)

    lin = torch.nn.Linear(8, 3)
    gen = torch.Generator().manual_seed(7)
    bound = 1 / np.sqrt(8)
    with torch.no_grad():
        lin.weight.copy_((torch.rand(3, 8, generator=gen) * 2 - 1) * bound)
        lin.bias.copy_((torch.rand(3, 1, generator=gen) * 2 - 1).squeeze(1) * bound)
    counts = np.bincount(y, minlength=3)
    crit = torch.nn.CrossEntropyLoss(weight=torch.tensor(1 / counts, dtype=torch.float32))
    opt = torch.optim.AdamW(lin.parameters(), lr=1e-2, weight_decay=1e-5)
    X, Y = torch.from_numpy(xtr), torch.from_numpy(y)
    for _ in range(steps):
        opt.zero_grad()
        crit(lin(X), Y).backward()
        opt.step()
    torch.testing.assert_close(W, lin.weight.detach(), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(b, lin.bias.detach(), atol=1e-5, rtol=1e-4)
    assert loss == pytest.approx(float(crit(lin(X), Y).detach()), rel=1e-4)


def test_preprocess_centres_on_train_and_normalises():
    rng = np.random.default_rng(0)
    a = rng.normal(3.0, 2.0, (100, 5)).astype(np.float32)
    b = rng.normal(3.0, 2.0, (50, 5)).astype(np.float32)
    pa, pb = preprocess(a, b)
    np.testing.assert_allclose(np.linalg.norm(pa, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(pb, axis=1), 1.0, rtol=1e-5)
    expected = (b[0] - a.mean(0)) / np.linalg.norm(b[0] - a.mean(0))
    np.testing.assert_allclose(pb[0], expected, rtol=1e-4, atol=1e-6)


def test_classification_scores_match_sklearn():
    rng = np.random.default_rng(0)
    yt = rng.integers(0, 4, 300)
    yp = np.where(rng.random(300) < 0.7, yt, rng.integers(0, 4, 300))
    f1, acc, _, cm = classification_scores(yt, yp, 5)  # class 4 absent: zero row
    assert f1 == pytest.approx(f1_score(yt, yp, average="weighted"))
    assert acc == pytest.approx(np.mean(yt == yp))
    np.testing.assert_allclose(cm[:4].sum(axis=1), 1.0)
    assert cm[4].sum() == 0


@pytest.mark.parametrize("alpha", [1e-3, 1.0, 30.0])
def test_ridge_matches_sklearn(alpha):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 12))
    y = x @ rng.normal(size=12) + 3.0 + rng.normal(0, 0.5, 400)
    w, b = ridge_solve(x, y, alpha)
    ref = Ridge(alpha=alpha).fit(x, y)
    np.testing.assert_allclose(w, ref.coef_, rtol=1e-8, atol=1e-10)
    assert b == pytest.approx(ref.intercept_, rel=1e-8)

    cfg = RidgeReadoutConfig(alpha=alpha, alphas=())
    s = fit_ridge(x[:300], y[:300], x[300:], y[300:], cfg)
    xa, xb = preprocess(x[:300], x[300:])
    pred = Ridge(alpha=alpha).fit(xa, y[:300]).predict(xb)
    np.testing.assert_allclose(s.y_pred, pred, rtol=1e-4, atol=1e-4)
    assert s.r2 == pytest.approx(r2_score(y[300:], pred), abs=1e-5)


def test_ridge_cv_alpha_follows_the_signal():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(20), 30)
    x = rng.normal(size=(600, 10))
    alphas = (1e-3, 1.0, 1e3, 1e6)
    y_signal = x @ rng.normal(size=10)
    y_noise = rng.normal(size=600)
    assert select_ridge_alpha(x, y_signal, groups, alphas, 5) <= 1.0
    assert select_ridge_alpha(x, y_noise, groups, alphas, 5) >= 1e3
    s = fit_ridge(x[:400], y_signal[:400], x[400:], y_signal[400:], groups=groups[:400])
    assert s.r2 > 0.9  # < 1: the target is linear in x, not in the L2-normalised rows
