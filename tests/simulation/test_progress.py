"""The stall rule, forward progress and per-frame stalls (simulation/progress.py)."""

import numpy as np
import pytest

from behaviorbench.simulation import progress as prog

DT = 0.02  # s, 50 Hz frames


def walk(speeds: list[tuple[float, float]], t_s: float) -> np.ndarray:
    """(T,) x m of a robot walking ``speed`` m/s from ``t0`` s on (piecewise constant)."""
    t = np.arange(int(round(t_s / DT))) * DT
    v = np.zeros_like(t)
    for t0, speed in speeds:
        v[t >= t0] = speed
    return np.concatenate([[0.0], np.cumsum(v[:-1]) * DT])


def test_progress_ratio_is_distance_over_commanded_distance():
    x = np.stack([walk([(0, 1.0)], 20), walk([(0, 0.5)], 20), walk([(0, 0.0)], 20)])
    got = prog.progress_ratio(x, np.array([1.0, 1.0, 0.5]), DT)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [1.0, 0.5, 0.0], atol=1e-6)


def test_a_robot_that_stops_for_more_than_the_window_stalls():
    cmd = np.array([1.0, 1.0, 1.0])
    x = np.stack([
        walk([(0, 1.0)], 60),                      # walks the whole time
        walk([(0, 1.0), (20, 0.2), (31, 1.0)], 60),  # 11 s at a fifth of the command
        walk([(0, 1.0), (20, 0.2), (28, 1.0)], 60),  # 8 s slow: no 10 s window under 25 %
    ])
    np.testing.assert_array_equal(prog.stalled(x, cmd, DT), [False, True, False])


def test_the_threshold_is_a_quarter_of_the_command_over_the_window():
    cmd = np.array([0.8, 0.8])
    x = np.stack([walk([(0, 0.8), (10, 0.19)], 40), walk([(0, 0.8), (10, 0.21)], 40)])
    np.testing.assert_array_equal(prog.stalled(x, cmd, DT), [True, False])


def test_an_episode_without_a_whole_window_never_stalls():
    cmd = np.array([1.0])
    still = walk([(0, 0.0)], 10.04)[None]  # 502 frames: two 500-frame windows
    assert prog.stalled(still, cmd, DT).all()
    assert not prog.stalled(still[:, :500], cmd, DT).any()


def test_stalled_frames_mark_the_slow_second_windows():
    x = walk([(0, 1.0), (10, 0.0), (15, 1.0)], 20)[None]
    frames = prog.stalled_frames(x, np.array([1.0]), DT)
    assert frames.shape == x.shape and frames.dtype == bool
    t = np.arange(x.shape[1]) * DT
    # the trailing 1 s window is below 0.25 m/s from 10.75 s until 0.25 s after restarting
    assert not frames[0, t < 10.7].any()
    assert frames[0, (t > 10.8) & (t < 15.2)].all()
    assert not frames[0, t > 15.3].any()


@pytest.mark.parametrize("reason", [prog.FELL, prog.LEFT_TERRAIN, prog.UNSTABLE])
def test_an_earlier_failure_keeps_its_reason(reason):
    x = np.stack([walk([(0, 0.0)], 12)] * 2)
    got = prog.with_stalls(np.array([reason, prog.NONE]), x, np.ones(2), DT)
    np.testing.assert_array_equal(got, [reason, prog.STALLED])
    assert got.dtype == np.int8
