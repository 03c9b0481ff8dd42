"""MuJoCo Warp backend on warp's CPU device: the real backend, a few worlds, short episodes.

MuJoCo Warp runs on the CPU (slowly), so these tests exercise the real code path: batched
model fields, zero-copy torch views, the rollout loop, recording, failure handling and the
dataset backend registry. The first run on a machine compiles MuJoCo Warp's kernels (about
3 minutes on 2 cores, cached in ``~/.cache/warp``); later runs take ~30 s.
What needs a GPU (CUDA graphs, throughput, thousands of worlds) is in
``benchmarks/sim_throughput_gpu.py``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import fields, replace

import mujoco
import mujoco.batch
import numpy as np
import pytest
import torch

pytest.importorskip("mujoco_warp")

from behaviorbench.datasets import backends  # noqa: E402
from behaviorbench.datasets.config import ConfigError, preset  # noqa: E402
from behaviorbench.simulation import rollout  # noqa: E402
from behaviorbench.simulation import warp_backend as W  # noqa: E402
from behaviorbench.simulation.controller_torch import TorchHeightField, quat_to_mat  # noqa: E402
from behaviorbench.simulation.recording import FrameRecorder  # noqa: E402
from behaviorbench.simulation.rollout import RunSpec, build_run_model, draw_spawns  # noqa: E402
from behaviorbench.simulation.terrain import TerrainConfig  # noqa: E402

pytestmark = pytest.mark.slow
RUN = RunSpec(robot="anymal_c", command_vel=0.8, n_robots=4, episode_s=1.0,
              terrain=TerrainConfig.small(num_rows=4, num_cols=2), seed=3,
              max_init_terrain_level=1)
CPU = W.WarpOptions(device="cpu")


@pytest.fixture(scope="module")
def scene():
    terrain = rollout.run_terrain(RUN)
    return terrain, build_run_model(RUN.robot, terrain, RUN.controller, RUN.foot_condim)


@pytest.fixture(scope="module")
def walked():
    info: dict = {}
    return W.simulate(RUN, [0, 1], options=CPU, info=info), info


# ----------------------------------------------------------------------------- bookkeeping
def test_batched_mass_constants_match_mujoco(scene):
    """Per-world added masses reach the model and the constants derived from them
    (subtree masses, inverse weights, actuator acc0) equal MuJoCo's set_const (float32)."""
    terrain, model = scene
    spawn = draw_spawns(RUN, terrain, range(3))
    assert np.ptp(spawn.added_mass) > 1.0
    sim = W.WarpBatch(model, spawn, device="cpu")
    ref = mujoco.batch.Batch(model, 3, 1, persistent=True)
    ref.expand("body_mass")[:, model.body("base").id] += spawn.added_mass
    ref.set_const()
    for name in ("body_mass", "body_subtreemass", "dof_invweight0", "body_invweight0",
                 "actuator_acc0"):
        want = ref.expand(name)
        got = getattr(sim.m, name).numpy().reshape(want.shape)
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-7, err_msg=name)
        if name in ("body_mass", "body_subtreemass", "dof_invweight0"):
            assert np.ptp(want[:, 1]) > 0, name  # differs per world, so the check can fail


def test_torch_views_drive_the_physics(scene):
    """ctrl and per-world servo gains written through the torch views act in MuJoCo Warp as
    in MuJoCo: robots in the air (no contacts) match MuJoCo's batch to float32 accuracy
    after one control tick; the same gains on the wrong worlds do not."""
    terrain, model = scene
    spawn = draw_spawns(RUN, terrain, range(3))
    spawn.qpos[:, 2] += 1.0
    rng = np.random.default_rng(0)
    kp = rng.uniform(20.0, 200.0, (3, 12))
    kd = rng.uniform(0.5, 6.0, (3, 12))
    u = spawn.qpos[:, 7:] + rng.normal(scale=0.2, size=(3, 12))

    def warp_tick(kp, kd):
        sim = W.WarpBatch(model, spawn, device="cpu")
        sim.ctrl.copy_(torch.as_tensor(u))
        sim.gainprm[:, :, 0] = torch.as_tensor(kp)
        sim.biasprm[:, :, 1] = -torch.as_tensor(kp)
        sim.biasprm[:, :, 2] = -torch.as_tensor(kd)
        sim.step(4)
        return sim.qpos.numpy().copy(), sim.qvel.numpy().copy()

    ref = mujoco.batch.Batch(model, 3, 1, persistent=True)
    ref.expand("body_mass")[:, model.body("base").id] += spawn.added_mass
    ref.set_const()
    ref.bind("qpos")[:] = spawn.qpos
    ref.bind("ctrl")[:] = u
    ref.expand("actuator_gainprm")[:, :, 0] = kp
    ref.expand("actuator_biasprm")[:, :, 1] = -kp
    ref.expand("actuator_biasprm")[:, :, 2] = -kd
    ref.step(nstep=4)
    qp, qv = warp_tick(kp, kd)
    np.testing.assert_allclose(qp, ref.bind("qpos"), atol=1e-4)
    np.testing.assert_allclose(qv, ref.bind("qvel"), atol=2e-3)
    qp_wrong, _ = warp_tick(kp[::-1].copy(), kd[::-1].copy())
    assert np.abs(qp_wrong - ref.bind("qpos"))[:, 7:].max() > 100 * 1e-4


def test_contact_tick_close_to_mujoco(scene):
    """Standing on the height field: one tick agrees with MuJoCo to ~1 mm (MuJoCo Warp makes
    fewer height-field contacts per foot than MuJoCo, so not to float32 accuracy)."""
    terrain, model = scene
    spawn = draw_spawns(RUN, terrain, range(2))
    sim = W.WarpBatch(model, spawn, device="cpu")
    sim.ctrl.copy_(torch.as_tensor(spawn.qpos[:, 7:]))
    ref = rollout._new_batch(model, spawn)
    ref.bind("ctrl")[:] = spawn.qpos[:, 7:]
    sim.step(4)
    ref.step(nstep=4)
    assert int(sim.d.nacon.numpy()[0]) > 0  # feet touch the terrain
    err = np.abs(sim.qpos.numpy() - ref.bind("qpos")).max()
    assert err < 5e-3, err


def test_device_recorder_blocks_equal_host_recorder():
    rng = np.random.default_rng(1)
    n, t = 3, 23
    qp, qv, w = rng.normal(size=(t, n, 19)), rng.normal(size=(t, n, 18)), rng.normal(
        size=(t, n, 3))
    dev = W.DeviceRecorder(n, t, 7, torch.device("cpu"))
    host = FrameRecorder(n, t)
    for k in range(t):
        dev.record(k, torch.as_tensor(qp[k]), torch.as_tensor(qv[k]), torch.as_tensor(w[k]))
        host.record(k, qp[k], qv[k], w[k])
    dev.flush(t)
    for name in ("dof_pos", "dof_vel", "base_pos", "base_lin_vel", "base_ang_vel"):
        np.testing.assert_array_equal(getattr(dev.host, name), getattr(host, name))


def test_failure_checks_match_cpu_backend(scene):
    terrain, _ = scene
    rng = np.random.default_rng(2)
    n = 64
    qpos = np.zeros((n, 19))
    qpos[:, :2] = rng.uniform(-1, 33, (n, 2))
    qpos[:, 2] = terrain.height_at(qpos[:, 0], qpos[:, 1]) + rng.uniform(0.0, 0.6, n)
    quat = np.column_stack([np.ones(n), rng.normal(scale=0.6, size=(n, 3))])
    qpos[:, 3:7] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
    qpos[3, 5] = np.nan
    prev = qpos[:, :2] + rng.normal(scale=0.7, size=(n, 2))
    rot = rollout.quat_to_mat(qpos[:, 3:7])
    want = rollout.failed(RUN, terrain, qpos, rot, prev)
    got = W.failed_torch(RUN, terrain, TorchHeightField(terrain), torch.as_tensor(qpos),
                         quat_to_mat(torch.as_tensor(qpos[:, 3:7])), torch.as_tensor(prev))
    np.testing.assert_array_equal(got.numpy(), want)
    assert 0 < want.sum() < n


# ----------------------------------------------------------------------------- rollouts
def test_rollout_contract_and_walking(walked):
    batch, info = walked
    cpu = rollout.simulate(RUN, [0, 1])
    n, t = 2, RUN.n_frames
    assert info["device"] == "cpu" and info["n_worlds"] == 2 and info["overflow_worlds"] == 0
    for f in fields(batch):
        a, b = getattr(batch, f.name), getattr(cpu, f.name)
        assert a.dtype == b.dtype and a.shape == b.shape, f.name
        assert np.isfinite(a.astype(np.float64)).all(), f.name
    assert batch.dof_pos.shape == (n, t, 12)
    for name in ("robot_type", "command_vel", "body_mass", "added_mass", "seed"):
        np.testing.assert_array_equal(getattr(batch, name), getattr(cpu, name))
    # same spawn: frame 0 is the CPU backend's exactly
    for name in ("dof_pos", "base_pos", "base_lin_vel"):
        np.testing.assert_array_equal(getattr(batch, name)[:, 0], getattr(cpu, name)[:, 0])
    lab = rollout.run_terrain(RUN).labels_at(batch.base_pos[..., 0].astype(np.float64),
                                             batch.base_pos[..., 1].astype(np.float64))
    np.testing.assert_array_equal(lab["terrain_type"], batch.terrain_type)
    assert batch.success.all()
    # the robots walk forward about as the CPU backend's do (0.8 m/s after 0.3 s standing)
    dx, dx_cpu = (b.base_pos[:, -1, 0] - b.base_pos[:, 0, 0] for b in (batch, cpu))
    assert (dx > 0.15).all(), dx
    assert abs(dx.mean() - dx_cpu.mean()) < 0.35 * dx_cpu.mean(), (dx, dx_cpu)
    # recorded joint velocities are the derivative of recorded joint angles (hips)
    pos, vel = batch.dof_pos.astype(np.float64), batch.dof_vel.astype(np.float64)
    fd = (pos[:, 2:, 0::3] - pos[:, :-2, 0::3]) / 0.04
    assert np.corrcoef(fd.ravel(), vel[:, 1:-1, 0::3].ravel())[0, 1] > 0.8


def test_trajectory_independent_of_batch_and_length(walked):
    """Trajectory 1 alone, in a shorter episode, repeats its frames in the 2-world run
    (bit-identical on the CPU device)."""
    batch, _ = walked
    short = W.simulate(replace(RUN, episode_s=0.3), [1], options=CPU)
    for name in ("dof_pos", "dof_vel", "base_pos"):
        np.testing.assert_array_equal(getattr(short, name)[0], getattr(batch, name)[1, :15])


def test_stop_failed_holds_the_failure_frame():
    """Every robot fails at frame 0 (impossible height bar): with stop_failed the rollout
    stops and every frame repeats frame 0; without, frames move on."""
    run = replace(RUN, min_base_height=5.0, episode_s=0.2)
    held = W.simulate(run, [0, 1], options=CPU, stop_failed=True)
    moved = W.simulate(run, [0, 1], options=CPU)
    assert not held.success.any() and not moved.success.any()
    assert (held.dof_pos == held.dof_pos[:, :1]).all()
    assert not (moved.dof_pos == moved.dof_pos[:, :1]).all()
    np.testing.assert_array_equal(held.dof_pos[:, 0], moved.dof_pos[:, 0])


def test_diverged_world_is_parked_and_held(monkeypatch):
    """A world whose state turns NaN (MuJoCo Warp does not reset it) fails, its frames from
    then on repeat its last finite frame, and the other world is untouched."""
    run = replace(RUN, episode_s=0.2)
    clean = W.simulate(run, [0, 1], options=CPU)
    step = W.WarpBatch.step
    calls = []

    def step_then_diverge(self, nstep):
        step(self, nstep)
        calls.append(1)
        if len(calls) == 4:  # after tick 3: frame 4 would be NaN
            self.qpos[1, 7:] = float("nan")

    monkeypatch.setattr(W.WarpBatch, "step", step_then_diverge)
    info: dict = {}
    out = W.simulate(run, [0, 1], options=CPU, info=info)
    assert info["diverged_worlds"] == 1
    assert out.success.tolist() == [True, False]
    for name in ("dof_pos", "dof_vel", "base_pos", "base_lin_vel", "base_ang_vel"):
        a = getattr(out, name)
        assert np.isfinite(a).all(), name
        np.testing.assert_array_equal(a[0], getattr(clean, name)[0])
        np.testing.assert_array_equal(a[1, :4], getattr(clean, name)[1, :4])
        assert (a[1, 4:] == a[1, 3]).all(), name


def test_hold_after():
    rec = FrameRecorder(3, 5)
    rec.dof_pos[:] = np.arange(5)[None, :, None]
    W.hold_after(rec, np.array([-1, 1, 4]))
    np.testing.assert_array_equal(rec.dof_pos[:, :, 0], [[0, 1, 2, 3, 4], [0, 1, 1, 1, 1],
                                                        [0, 1, 2, 3, 4]])


# ----------------------------------------------------------------------------- registry
def test_dataset_generation_with_mujoco_warp(tmp_path):
    """A dataset generated with backend mujoco-warp (warp's default device), tiny."""
    from behaviorbench.datasets.generate import generate
    from behaviorbench.datasets.loader import load_terrain_dataset

    cfg = preset("tiny", robots=("anymal_c",), trajectories_per_run=2, episode_s=0.3,
                 shard_size=2, keep_failures=True, backend="mujoco-warp")
    attrs = generate(tmp_path / "store", cfg, workers=1, executor="process")
    assert attrs["counts"]["n_attempted"] == 2
    ds = load_terrain_dataset(tmp_path / "store")
    assert ds.features.shape == (2, 15, 24)
    assert np.isfinite(ds.features).all()


def test_missing_mujoco_warp_is_a_clear_one_line_error(tmp_path, monkeypatch, capsys):
    from behaviorbench.datasets.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mujoco_warp" else real(name, *a))
    with pytest.raises(ConfigError, match="not available.*pip install 'behaviorbench\\[gpu\\]'"):
        backends.resolve_backend("mujoco-warp")
    out = tmp_path / "new" / "store"
    assert main(["--out", str(out), "--backend", "mujoco-warp"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not available" in err, err
    assert not (tmp_path / "new").exists()


def test_backend_resolves_when_installed():
    assert backends.resolve_backend("mujoco-warp") is backends.simulate_mujoco_warp
