"""Batched rollouts: contract shapes, physical consistency, determinism across batching."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from behaviorbench.simulation.recording import TrajectoryBatch
from behaviorbench.simulation.rollout import RunSpec, run_terrain, simulate
from behaviorbench.simulation.terrain import TerrainConfig

RUN = RunSpec(robot="anymal_c", command_vel=0.8, n_robots=4, episode_s=3.0,
              terrain=TerrainConfig.small(num_rows=4, num_cols=2), seed=3,
              max_init_terrain_level=1)


@pytest.fixture(scope="module")
def batch() -> TrajectoryBatch:
    return simulate(RUN, [0, 1, 2])


def test_contract_shapes_and_dtypes(batch):
    n, t = 3, RUN.n_frames
    assert t == 150
    assert batch.dof_pos.shape == (n, t, 12) and batch.dof_pos.dtype == np.float32
    assert batch.dof_vel.shape == (n, t, 12) and batch.dof_vel.dtype == np.float32
    for name in ("base_pos", "base_lin_vel", "base_ang_vel"):
        assert getattr(batch, name).shape == (n, t, 3)
    assert batch.terrain_type.dtype == np.int8 and batch.terrain_type.shape == (n, t)
    assert batch.terrain_rough.dtype == np.bool_
    assert batch.seed.dtype == np.uint64 and len(set(batch.seed.tolist())) == n
    assert (batch.robot_type == 1).all()
    np.testing.assert_allclose(batch.command_vel, 0.8)
    assert (np.abs(batch.added_mass) <= 5.0).all()
    np.testing.assert_allclose(batch.body_mass - batch.added_mass, 19.2035, rtol=1e-5)
    for f in fields(batch):
        assert np.isfinite(getattr(batch, f.name).astype(np.float64)).all(), f.name


def test_dof_vel_matches_finite_difference_of_dof_pos(batch):
    """Recorded joint velocities are the derivative of recorded joint angles (50 Hz)."""
    pos, vel = batch.dof_pos.astype(np.float64), batch.dof_vel.astype(np.float64)
    fd = (pos[:, 2:] - pos[:, :-2]) / (2 * 0.02)
    mid = vel[:, 1:-1]

    def r2(a, b):
        return 1.0 - np.sum((a - b) ** 2) / np.sum((b - b.mean()) ** 2)

    # hip joints are smooth at 50 Hz; knees swing fast and take touch-down impacts between frames
    assert r2(fd[..., 0::3], mid[..., 0::3]) > 0.8
    assert r2(fd[..., 1::3], mid[..., 1::3]) > 0.9
    assert r2(fd, mid) > 0.6
    for j in range(12):
        assert np.corrcoef(fd[..., j].ravel(), mid[..., j].ravel())[0, 1] > 0.8, j
    # a mismatch of one frame is clearly worse (the check can fail)
    assert r2(fd[:, 5:], mid[:, :-5]) < r2(fd, mid) - 0.3
    # base velocity agrees with base position the same way
    bp, bv = batch.base_pos.astype(np.float64), batch.base_lin_vel.astype(np.float64)
    fdb = (bp[:, 2:] - bp[:, :-2]) / (2 * 0.02)
    assert np.abs(fdb - bv[:, 1:-1]).mean() < 0.1


def test_spawn_on_subterrain_origins_and_labels(batch):
    terrain = run_terrain(RUN)
    start = batch.base_pos[:, 0, :2]
    origins = terrain.spawn_origins[:2, :, :2].reshape(-1, 2)
    d = np.abs(start[:, None, :] - origins[None]).max(-1).min(1)
    assert (d <= RUN.spawn_jitter + 1e-6).all()
    lab = terrain.labels_at(batch.base_pos[..., 0].astype(np.float64),
                            batch.base_pos[..., 1].astype(np.float64))
    np.testing.assert_array_equal(lab["terrain_type"], batch.terrain_type)
    # robots walk forward (+x); mixed terrain may slow one down
    assert np.median(batch.base_pos[:, -1, 0] - batch.base_pos[:, 0, 0]) > 1.0


def test_same_seed_identical_for_any_batching(batch):
    """Trajectory i depends only on (run, i): other batch sizes give bit-identical arrays."""
    single = simulate(RUN, [2])
    pair = simulate(RUN, [0, 1, 2], batch_size=2)
    for f in fields(TrajectoryBatch):
        np.testing.assert_array_equal(getattr(single, f.name)[0], getattr(batch, f.name)[2],
                                      err_msg=f.name)
        np.testing.assert_array_equal(getattr(pair, f.name), getattr(batch, f.name),
                                      err_msg=f.name)


def test_workers_give_identical_arrays(batch):
    two = simulate(RUN, [0, 1, 2], workers=2)
    for f in fields(TrajectoryBatch):
        np.testing.assert_array_equal(getattr(two, f.name), getattr(batch, f.name),
                                      err_msg=f.name)


def test_progress_counts_all_frames():
    done = []
    simulate(RunSpec(robot="anymal_b", n_robots=2, episode_s=1.1, terrain=RUN.terrain, seed=1),
             progress=done.append)
    assert sum(done) == 2 * 55
