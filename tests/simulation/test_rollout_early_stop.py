"""Early stop (``stop_failed``): failed robots stop being stepped; survivors are unchanged."""

from __future__ import annotations

import dataclasses
from dataclasses import fields

import numpy as np
import pytest

from behaviorbench.simulation.controller import quat_to_mat
from behaviorbench.simulation.recording import TrajectoryBatch
from behaviorbench.simulation.rollout import RunSpec, _simulate_chunk, simulate
from behaviorbench.simulation.terrain import TerrainConfig

BASE = RunSpec(robot="anymal_c", command_vel=0.8, n_robots=6, episode_s=2.0,
               terrain=TerrainConfig.small(num_rows=4, num_cols=2), seed=3,
               max_init_terrain_level=1)
PER_FRAME = ("dof_pos", "dof_vel", "base_pos", "base_lin_vel", "base_ang_vel", "terrain_type")


def _tilts(run: RunSpec) -> np.ndarray:
    """(T, n) rad: max(|roll|, |pitch|) of every robot at every frame, as the loop sees it."""
    out = []

    def hook(k, batch, ids):
        rot = quat_to_mat(batch.bind("qpos")[:, 3:7])
        out.append(np.maximum(np.abs(np.arctan2(rot[:, 2, 1], rot[:, 2, 2])),
                              np.abs(np.arcsin(np.clip(rot[:, 2, 0], -1, 1)))))

    _simulate_chunk(run, range(run.n_robots), on_tick=hook)
    return np.array(out)


@pytest.fixture(scope="module")
def case():
    """A tilt threshold between the robots' largest tilts, so that some fail mid-run (the
    threshold only decides failure; it does not change the dynamics)."""
    tilts = _tilts(BASE)
    peak = np.sort(tilts.max(0))
    j = len(peak) // 2
    assert peak[j] > peak[j - 1], "robots need distinct peak tilts"
    run = dataclasses.replace(BASE, max_tilt=float(peak[j - 1] + peak[j]) / 2)
    stepped = []
    stopped = _simulate_chunk(run, range(run.n_robots), stop_failed=True,
                              on_tick=lambda k, b, ids: stepped.append(
                                  np.arange(run.n_robots) if ids is None else ids.copy()))
    return run, tilts, simulate(run), stopped, stepped


def test_survivors_bit_identical_and_failures_flagged_alike(case):
    run, _, full, stopped, _ = case
    np.testing.assert_array_equal(stopped.success, full.success)
    assert 0 < full.success.sum() < run.n_robots  # some fail mid-run, some survive
    ok = full.success
    for f in fields(TrajectoryBatch):
        np.testing.assert_array_equal(getattr(stopped, f.name)[ok], getattr(full, f.name)[ok],
                                      err_msg=f.name)


def test_failed_robots_are_no_longer_stepped(case):
    run, tilts, full, stopped, stepped = case
    t = len(stepped)
    assert t == run.n_frames
    for i in range(run.n_robots):
        in_step = np.array([i in ids for ids in stepped])
        if full.success[i]:
            assert in_step.all()
            continue
        f = int(np.argmin(in_step))  # failure frame: first tick the robot is left out
        assert not in_step[f:].any()  # never stepped again
        assert 0 < f <= int(np.argmax(tilts[:, i] > run.max_tilt))
        for name in PER_FRAME:
            a, b = getattr(stopped, name)[i], getattr(full, name)[i]
            np.testing.assert_array_equal(a[:f + 1], b[:f + 1], err_msg=name)
            np.testing.assert_array_equal(a[f:], np.broadcast_to(a[f], a[f:].shape),
                                          err_msg=name)  # held at the failure frame
        # the full run kept moving the robot; the stopped run did not
        assert not np.array_equal(full.base_pos[i, f:], stopped.base_pos[i, f:])


def test_stop_failed_identical_on_threads_and_batches(case):
    run, _, _, stopped, _ = case
    for kw in ({"workers": 2}, {"batch_size": 4}):
        other = simulate(run, stop_failed=True, **kw)
        for f in fields(TrajectoryBatch):
            np.testing.assert_array_equal(getattr(other, f.name), getattr(stopped, f.name),
                                          err_msg=f"{f.name} {kw}")


def test_all_failed_stops_at_once_and_counts_every_frame():
    run = dataclasses.replace(BASE, n_robots=2, min_base_height=10.0)  # fails at frame 0
    done, ticks = [], []
    b = _simulate_chunk(run, range(2), progress=done.append, stop_failed=True,
                        on_tick=lambda k, batch, ids: ticks.append(k))
    assert ticks == [] and not b.success.any()
    assert sum(done) == 2 * run.n_frames
    for name in PER_FRAME:
        a = getattr(b, name)
        np.testing.assert_array_equal(a, np.broadcast_to(a[:, :1], a.shape), err_msg=name)
    full = simulate(run)
    np.testing.assert_array_equal(full.base_pos[:, 0], b.base_pos[:, 0])


@pytest.mark.parametrize("keep", [False, True])
def test_dataset_generation_stops_failures_only_when_it_drops_them(monkeypatch, keep):
    from behaviorbench.datasets import backends
    from behaviorbench.datasets.config import GenerationConfig
    from behaviorbench.datasets.generate import plan_runs
    from behaviorbench.simulation import rollout

    seen = {}
    monkeypatch.setattr(rollout, "simulate", lambda run, idx, **kw: seen.update(kw))
    plan = plan_runs(GenerationConfig(keep_failures=keep))[0]
    backends.simulate_mujoco(plan, [0])
    assert seen["stop_failed"] is (not keep)
