"""HoA targets (hand-computed case, vectorised vs loop) and the squared-EMD loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from behaviorbench.models.hoa import (
    Quantizer,
    histogram_counts,
    hoa_loss,
    naive_histograms,
    reference_code_counts,
    reference_code_weights,
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


def _released_code_histograms(q: np.ndarray, bins: int, window: int) -> np.ndarray:
    """A line-by-line port of the released code's loop (bams/data/dataset.py, __getitem__) for
    one sequence q (T, F): the independent check of ``reference_code_counts``."""
    rows, cols = np.indices(q.shape)
    hist = np.zeros((*q.shape, bins), dtype=np.uint8)
    for i in range(1, window + 1):
        hist[rows[:-i], cols[:-i], q[:-i]] += 1
    return hist


def test_hoa_target_reference_code_counts_the_frame_itself():
    # one sequence, one feature, 5 bins, window 2, bin indices 0,1,2,3,4 (all different)
    q = np.array([[[0], [1], [2], [3], [4]]], dtype=np.uint8)
    paper, _ = histogram_counts(q, np.ones((1, 5), bool), bins=5, window=2)
    code = reference_code_counts(q, bins=5, window=2)
    # the paper's text: frame t holds the bins of frames t+1..t+2
    np.testing.assert_array_equal(paper[0, :, 0], [[0, 1, 1, 0, 0], [0, 0, 1, 1, 0],
                                                   [0, 0, 0, 1, 1], [0, 0, 0, 0, 1],
                                                   [0, 0, 0, 0, 0]])
    # the released code: frame t holds its own bin, min(window, T-1-t) times
    np.testing.assert_array_equal(code[0, :, 0], [[2, 0, 0, 0, 0], [0, 2, 0, 0, 0],
                                                  [0, 0, 2, 0, 0], [0, 0, 0, 1, 0],
                                                  [0, 0, 0, 0, 0]])
    rng = np.random.default_rng(0)
    q2 = rng.integers(0, 6, size=(3, 40, 2)).astype(np.uint8)
    got = reference_code_counts(q2, bins=6, window=7)
    for n in range(3):
        np.testing.assert_array_equal(got[n], _released_code_histograms(q2[n], 6, 7))


def test_hoa_target_reference_code_weights_are_tiled_along_time():
    # the released HoALoss.forward on (B, L, n) targets, ported op by op
    b, length, n, skip = 2, 12, 3, 2
    frac = torch.rand(b, length, generator=torch.Generator().manual_seed(0))
    iw = frac.clone()
    iw[:, :skip] = 1.0
    released = 1 - iw.unsqueeze(2).repeat((1, 1, n, 1)).view(-1)  # (b * length * n,)
    got = reference_code_weights(frac, n, skip)
    torch.testing.assert_close(got.reshape(-1), released)
    # all frames valid: only (frame, feature) positions landing on the last frames get weight
    ones = torch.ones(1, length)
    ones[:, -2:] = torch.tensor([0.5, 0.0])  # what histogram_counts gives near the end
    w = reference_code_weights(ones, n, skip)[0]
    t_idx, f_idx = torch.nonzero(w, as_tuple=True)
    assert ((t_idx * n + f_idx) % length >= length - 2).all()
    assert 0 < len(t_idx) < length * n


def test_bams_hoa_target_switches_the_training_target():
    from behaviorbench.models import BAMS, ModelConfigError

    x = np.random.default_rng(0).normal(size=(2, 150, 4)).astype(np.float32)
    common = {"epochs": 1, "short_channels": (4,), "long_channels": (4,),
              "predictor_hidden": (8,), "progress": False, "target_features": (0, 1)}
    paper = BAMS(**common).prepare(x, None)
    code_model = BAMS(**common, hoa_target="reference-code")
    code = code_model.prepare(x, None)
    q = code_model.quantizer_.quantize(x[..., [0, 1]])
    np.testing.assert_array_equal(code["counts"].numpy(), reference_code_counts(q, 32, 30))
    assert not np.array_equal(paper["counts"].numpy(), code["counts"].numpy())
    with pytest.raises(ModelConfigError, match="hoa_target"):
        BAMS(hoa_target="code")
