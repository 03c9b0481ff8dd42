"""Gait labels from foot contacts: cleaning, phase, stride frequency, trot and crawl patterns."""

import numpy as np
import pytest

from behaviorbench.simulation.gait_labels import (
    clean_contacts,
    gait_labels,
    phase_to_sin_cos,
)


def periodic_contacts(t: int, period: int, duty: float, offsets) -> np.ndarray:
    """(1, T, 4) contacts: each leg in stance for the first ``duty`` of its cycle, its cycle
    shifted by ``offsets[leg]`` (fraction of the period)."""
    k = np.arange(t)
    legs = []
    for off in offsets:
        cyc = ((k / period) - off) % 1.0
        legs.append(cyc < duty)
    return np.stack(legs, axis=-1)[None]


def test_chatter_is_merged_and_long_runs_kept():
    c = np.zeros((1, 12, 4), dtype=bool)
    c[0, 2:10, 0] = True
    c[0, 5, 0] = False          # a one-frame gap inside a stance: chatter
    c[0, 1, 1] = True           # a one-frame touch inside a swing: chatter
    cleaned = clean_contacts(c)
    assert cleaned[0, 2:10, 0].all()
    assert not cleaned[0, :, 1].any()


def test_phase_and_frequency_of_a_regular_trot():
    period, t = 20, 200                        # 20 frames = 0.4 s at 50 Hz -> 2.5 Hz
    c = periodic_contacts(t, period, 0.5, (0.0, 0.5, 0.5, 0.0))
    lab = gait_labels(c)
    f = lab["stride_frequency"][0]
    inside = ~np.isnan(f)
    assert inside.sum() > 150
    np.testing.assert_allclose(f[inside], 2.5, rtol=1e-6)
    ph = lab["phase"][0]
    # a trot: diagonal legs share their phase, the two diagonals are half a stride apart
    both = ~np.isnan(ph).any(axis=1)
    np.testing.assert_allclose(ph[both, 0], ph[both, 3])
    np.testing.assert_allclose(ph[both, 1], ph[both, 2])
    diff = (ph[both, 0] - ph[both, 1]) % 1.0
    np.testing.assert_allclose(diff, 0.5, atol=1e-6)
    # phase is 0 at touchdown and stays in [0, 1)
    td = np.flatnonzero(c[0, 1:, 0] & ~c[0, :-1, 0]) + 1
    assert np.all(ph[td[:-1], 0] == 0.0)
    assert np.nanmax(ph) < 1.0 and np.nanmin(ph) >= 0.0


def test_a_crawl_keeps_three_feet_down_and_staggers_the_legs():
    period = 48                                # 0.96 s stride, one leg lifts at a time
    c = periodic_contacts(288, period, 0.75, (0.0, 0.5, 0.75, 0.25))
    lab = gait_labels(c)
    assert (lab["stance"][0].sum(axis=1) >= 3).all()
    ph = lab["phase"][0]
    ok = ~np.isnan(ph).any(axis=1)
    # the four legs are a quarter stride apart
    offsets = np.sort(((ph[ok] - ph[ok, :1]) % 1.0).mean(axis=0))
    np.testing.assert_allclose(offsets, [0.0, 0.25, 0.5, 0.75], atol=1e-6)
    np.testing.assert_allclose(lab["stride_frequency"][0][ok], 50 / 48, rtol=1e-6)


def test_standing_and_edges_are_nan():
    c = np.ones((2, 100, 4), dtype=bool)               # standing: no stride at all
    lab = gait_labels(c)
    assert np.isnan(lab["phase"]).all() and np.isnan(lab["stride_frequency"]).all()
    # one touchdown per leg: no complete stride either
    c[1, :50] = False
    lab = gait_labels(c)
    assert np.isnan(lab["phase"][1]).all()
    # strides over max_stride_s are standing, not walking
    c = periodic_contacts(400, 150, 0.9, (0.0, 0.5, 0.5, 0.0))   # 3 s strides
    assert np.isnan(gait_labels(c)["stride_frequency"]).all()
    assert not np.isnan(gait_labels(c, max_stride_s=4.0)["stride_frequency"]).all()


def test_sin_cos_target_and_bad_shapes():
    target = phase_to_sin_cos(np.array([[0.0, 0.25, 0.5, np.nan]]))
    np.testing.assert_allclose(target[0, :3], [0.0, 1.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(target[0, 4:7], [1.0, 0.0, -1.0], atol=1e-7)
    assert np.isnan(target[0, 3]) and np.isnan(target[0, 7])
    with pytest.raises(ValueError, match="shape"):
        gait_labels(np.zeros((10, 4), dtype=bool))
