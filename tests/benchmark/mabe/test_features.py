import numpy as np
import pytest

from behaviorbench.benchmark.mabe.features import (
    combine_mice,
    mouse_features,
    reduce_dims,
    zscore,
)


def test_mouse_features_shapes_values_and_ignored_frames():
    rng = np.random.default_rng(0)
    kp = rng.uniform(10, 840, (2, 50, 3, 12, 2)).astype(np.float32)
    kp[1, 20, 2, 5] = 0.0  # clip 1, frame 20, mouse 2, right forepaw missing
    feats, ignore = mouse_features(kp)
    assert feats.shape == (6, 50, 48) and feats.dtype == np.float32
    np.testing.assert_allclose(feats[4, :, :24], kp[1, :, 1].reshape(50, 24) / 850, rtol=1e-6)
    np.testing.assert_allclose(feats[4, 7, 24:], (kp[1, 7, 1] - kp[1, 6, 1]).ravel() / 850,
                               atol=1e-6)
    assert np.flatnonzero(ignore[5]).tolist() == [20, 21]  # the frame and the next (its diff)
    assert not ignore[:5].any()
    assert np.all(feats[5, [20, 21], 24:] == 0)
    with pytest.raises(ValueError):
        mouse_features(kp[..., :11, :])


def test_combine_mean_and_range_over_mice():
    e = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(6, 4, 5)
    c = combine_mice(e)
    g = e.reshape(2, 3, 4, 5)
    assert c.shape == (2, 4, 10)
    np.testing.assert_allclose(c[..., :5], g.mean(1))
    np.testing.assert_allclose(c[..., 5:], g.max(1) - g.min(1))


def test_zscore_modes_and_reduce_dims():
    rng = np.random.default_rng(1)
    e = rng.normal(3, 2, (8, 10, 4))
    e[..., 3] = 1.0  # constant column stays finite
    z = zscore(e, "clips")
    np.testing.assert_allclose(z[..., :3].mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(z[..., :3].std(0), 1, atol=1e-5)
    assert np.isfinite(z).all()
    zf = zscore(e, "frames")
    np.testing.assert_allclose(zf[..., :3].reshape(-1, 3).std(0), 1, atol=1e-5)
    big = rng.normal(size=(4, 10, 200))
    r = reduce_dims(big, 128)
    assert r.shape == (4, 10, 128) and r.dtype == np.float32
    var = r.reshape(-1, 128).var(0)
    assert np.all(np.diff(var) <= 1e-6)  # principal axes in decreasing variance
    assert reduce_dims(e, 128).shape == e.shape
