"""Runner pieces: deterministic frame subsampling and selective embedding."""

from __future__ import annotations

import numpy as np

from behaviorbench.benchmark.runner import embed_selection, select_frames


class _Cumsum:
    """A causal toy 'model': running sum over time (enough to check indexing)."""

    def embed(self, x):
        return np.cumsum(x, axis=1).astype(np.float32)


def test_select_frames_caps_and_is_deterministic():
    seqs = np.array([5, 1, 3])
    a = select_frames(seqs, n_frames=100, cap=50, skip=10, seed=0)
    b = select_frames(seqs, n_frames=100, cap=50, skip=10, seed=0)
    np.testing.assert_array_equal(a.seq, b.seq)
    np.testing.assert_array_equal(a.t, b.t)
    assert len(a.seq) == 50 and a.n_available == 3 * 90
    assert set(a.seq) <= {1, 3, 5} and a.t.min() >= 10 and a.t.max() < 100
    assert len({(s, t) for s, t in zip(a.seq, a.t, strict=True)}) == 50  # no repeats
    full = select_frames(seqs, n_frames=100, cap=10**6, skip=10, seed=0)
    assert len(full.seq) == 270


def test_embed_selection_picks_the_selected_frames():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 40, 3)).astype(np.float32)
    sel = select_frames(np.array([0, 2, 3, 6]), n_frames=40, cap=60, skip=5, seed=1)
    emb = embed_selection(lambda idx: _Cumsum().embed(x[idx]), sel, skip=5, batch=3)
    z = np.cumsum(x, axis=1)
    np.testing.assert_allclose(emb.rows, z[sel.seq, sel.t], rtol=1e-5)
    np.testing.assert_allclose(emb.seq_mean[6], z[6, 5:].mean(0), rtol=1e-5)
    assert set(emb.seq_mean) == {0, 2, 3, 6}
