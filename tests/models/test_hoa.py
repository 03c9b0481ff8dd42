"""HoA targets (hand-computed case, vectorised vs loop) and the squared-EMD loss."""

from __future__ import annotations

import numpy as np
import torch

from behaviorbench.models.hoa import (
    Quantizer,
    histogram_counts,
    hoa_loss,
    naive_histograms,
    squared_emd,
)


def test_hand_computed_histograms():
    # one sequence, one feature, 4 bins, window 2; bin indices 0,1,1,3,2 ; frame 3 invalid
    q = np.array([[[0], [1], [1], [3], [2]]], dtype=np.uint8)
    valid = np.array([[True, True, True, False, True]])
    counts, weights = histogram_counts(q, valid, bins=4, window=2)
    expected = np.array(
        [
            [0, 2, 0, 0],  # t=0: frames 1,2 -> bins 1,1
            [0, 1, 0, 0],  # t=1: frames 2,3 -> bin 1 (frame 3 invalid)
            [0, 0, 1, 0],  # t=2: frames 3,4 -> frame 3 invalid, frame 4 -> bin 2
            [0, 0, 1, 0],  # t=3: frame 4 -> bin 2
            [0, 0, 0, 0],  # t=4: no future
        ]
    )
    np.testing.assert_array_equal(counts[0, :, 0], expected)
    np.testing.assert_allclose(weights[0], [1.0, 0.5, 0.5, 0.5, 0.0])


def test_vectorised_equals_reference_loop():
    rng = np.random.default_rng(0)
    q = rng.integers(0, 32, size=(3, 200, 5)).astype(np.uint8)
    valid = rng.random((3, 200)) > 0.1
    counts, weights = histogram_counts(q, valid, bins=32, window=30, chunk=2)
    for n in range(3):
        c, w = naive_histograms(q[n], valid[n], bins=32, window=30)
        np.testing.assert_array_equal(counts[n], c)
        np.testing.assert_allclose(weights[n], w, rtol=1e-6)
    assert counts.sum(-1).max() <= 30


def test_quantizer_percentile_edges():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 500, 2)).astype(np.float32)
    x[..., 1] *= 5
    qz = Quantizer.fit(x, bins=32)
    for f in range(2):
        v = x[..., f].ravel()
        v = v[np.abs(v) > 0.1]
        lo, hi = np.percentile(v, [0.5, 99.5])
        np.testing.assert_allclose(qz.edges[[0, -1], f], [lo, hi], rtol=1e-5)
        assert qz.scale[f] == np.float32(max(abs(lo), abs(hi)))
    q = qz.quantize(x)
    assert q.dtype == np.uint8 and q.min() == 0 and q.max() == 31
    assert qz.quantize(np.full((1, 1, 2), 1e6, np.float32)).max() == 31


def test_squared_emd_hand_value():
    t = torch.tensor([1.0, 0.0, 0.0])
    p = torch.tensor([0.0, 0.0, 1.0])
    # cumsums (1,1,1) vs (0,0,1): mean((1, 1, 0)) = 2/3
    assert torch.isclose(squared_emd(t, p), torch.tensor(2 / 3))
    assert squared_emd(t, t) == 0


def test_hoa_loss_weights_and_skip():
    torch.manual_seed(0)
    logits = torch.randn(2, 10, 3, 4)
    target = torch.softmax(torch.randn(2, 10, 3, 4), -1)
    w = torch.rand(2, 10)
    loss = hoa_loss(logits, target, w, skip_frames=4)
    emd = squared_emd(target, torch.softmax(logits, -1)).mean(-1)
    w2 = w.clone()
    w2[:, :4] = 0
    assert torch.isclose(loss, (emd * w2).sum() / w2.sum())
    # perfect prediction of a one-hot histogram -> loss falls towards 0
    onehot = torch.nn.functional.one_hot(torch.randint(0, 4, (2, 10, 3)), 4).float()
    assert hoa_loss(onehot * 50, onehot, w, 4) < 1e-6 < hoa_loss(logits, onehot, w, 4)
