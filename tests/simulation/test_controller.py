"""Trot controller: kinematics agree with the robot model, and a robot walks on flat ground."""

from __future__ import annotations

import mujoco
import mujoco.batch
import numpy as np
import pytest

from behaviorbench.simulation.controller import (
    ControllerConfig,
    LegModel,
    TrotController,
    quat_to_mat,
    rpy_from_mat,
    rpy_to_mat,
)
from behaviorbench.simulation.gait import gait_phase, swing_position
from behaviorbench.simulation.robots import ROBOTS, standing_qpos
from behaviorbench.simulation.rollout import build_run_model


@pytest.mark.parametrize("name", ["anymal_b", "anymal_c"])
def test_leg_model_matches_robot_spec(name):
    robot = ROBOTS[name]
    q = robot.default_joint_pos + np.random.default_rng(0).normal(scale=0.4, size=(6, 12))
    feet, jac = LegModel(robot).fk_jac(q)
    np.testing.assert_allclose(feet, robot.foot_positions(q), atol=1e-12)
    np.testing.assert_allclose(jac, robot.foot_jacobians(q), atol=1e-12)


def test_rotation_helpers_roundtrip():
    rpy = np.random.default_rng(1).uniform(-0.6, 0.6, (10, 3))
    np.testing.assert_allclose(rpy_from_mat(rpy_to_mat(rpy)), rpy, atol=1e-12)
    q = np.random.default_rng(2).normal(size=(5, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    r = quat_to_mat(q)
    for i in range(5):
        ref = np.zeros(9)
        mujoco.mju_quat2Mat(ref, q[i])
        np.testing.assert_allclose(r[i], ref.reshape(3, 3), atol=1e-12)


def test_trot_phases_and_swing_endpoints():
    ph = gait_phase(np.array([0.0, 0.25]))
    assert ph.shape == (2, 4)
    np.testing.assert_allclose(ph[0], [0.0, 0.5, 0.5, 0.0])  # diagonal pairs in phase
    start, target = np.array([[0.0, 0.0, 0.0]]), np.array([[0.3, 0.1, 0.2]])
    np.testing.assert_allclose(swing_position(start, target, np.array([0.3]), np.array([0.0])),
                               start)
    np.testing.assert_allclose(swing_position(start, target, np.array([0.3]), np.array([1.0])),
                               target)
    mid = swing_position(start, target, np.array([0.3]), np.array([0.5]))
    assert mid[0, 2] == pytest.approx(0.3)  # apex reached mid-swing


def test_robot_walks_on_flat_and_tracks_velocity():
    """ANYmal C and B walk 5 s on a plane at 0.6 / 1.0 / 1.5 m/s without falling, with every
    knee on its standing-pose branch throughout (front knees back, hind knees forward; without
    ``ControllerConfig.reach`` the stretched front legs flipped their knees forward at 1 m/s)."""
    for name in ("anymal_c", "anymal_b"):
        cfg = ControllerConfig()
        model = build_run_model(name, None, cfg)
        n, v = 3, np.array([0.6, 1.0, 1.5])
        lines = np.array([0.0, 3.0, 6.0])
        batch = mujoco.batch.Batch(model, n, 1, persistent=True)
        qpos, qvel, ctrl = batch.bind("qpos"), batch.bind("qvel"), batch.bind("ctrl")
        gain, bias = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
        qpos[:] = standing_qpos(name)
        qpos[:, 1] = lines
        batch.forward()
        ctl = TrotController(name, v, config=cfg)
        ctl.reset(qpos.copy())
        knee_sign = np.sign(ROBOTS[name].default_joint_pos[2::3])
        x, min_z, max_tilt, min_bend = [], np.inf, 0.0, np.inf
        for k in range(250):
            ctrl[:] = ctl(qpos.copy(), qvel.copy())
            assert np.isfinite(ctrl).all()
            ctl.write_gains(gain, bias)
            batch.step(nstep=4)
            min_z = min(min_z, qpos[:, 2].min())
            max_tilt = max(max_tilt, np.abs(rpy_from_mat(quat_to_mat(qpos[:, 3:7]))[:, :2]).max())
            min_bend = min(min_bend, (qpos[:, 9::3] * knee_sign).min())
            if k == 100:
                x0 = qpos[:, 0].copy()
        x = qpos[:, 0]
        assert min_z > 0.35, (name, min_z)
        assert max_tilt < 0.8, (name, max_tilt)
        assert min_bend > 0.05, (name, min_bend)  # no knee straightened or flipped
        mean_v = (x - x0) / (149 * 0.02)
        np.testing.assert_allclose(mean_v, v, rtol=0.15, err_msg=name)
        assert np.abs(qpos[:, 1] - lines).max() < 0.5  # keeps its line


def test_reach_keeps_targets_inside_the_leg():
    legs = LegModel(ROBOTS["anymal_c"])
    far = legs.centers[:, 1] + np.array([0.0, 0.0, -2.0])          # (4, 3): 2 m below the HFE
    near = legs.centers[:, 1] + np.array([0.05, 0.0, -0.3])
    out = legs.clamp_reach(np.stack([far, near]), 0.9)
    dist = np.linalg.norm(out - legs.centers[:, 1], axis=-1)
    np.testing.assert_allclose(dist[0], 0.9 * legs.leg_length)      # pulled in, same direction
    np.testing.assert_allclose(out[0, :, :2], legs.centers[:, 1, :2])
    np.testing.assert_allclose(out[1], near)                        # reachable: unchanged


def test_steps_ahead_slow_the_robot_and_its_cadence():
    """A 0.15 m step at x = 2 m: with ``step_speed`` set, robots whose feet or lookahead reach it
    slow from 1.5 m/s to ``step_speed`` at ``accel`` m/s^2 and step slower; robots far from it
    keep the command. The default (0) keeps the command everywhere."""
    def step(x, y):
        return np.where(np.asarray(x) > 2.0, 0.15, 0.0) + 0.0 * np.asarray(y)

    cfg = ControllerConfig(step_speed=0.5)
    xs = np.array([-1.0, 1.0, 2.3, 5.0])                  # m: far before, sees it, on it, past
    qpos = np.tile(standing_qpos("anymal_c"), (4, 1))
    qpos[:, 0] = xs
    ctl = TrotController("anymal_c", np.full(4, 1.5), height_fn=step, config=cfg)
    ctl.reset(qpos)
    np.testing.assert_array_equal(ctl._steps_near(qpos[:, :3], np.zeros(4)),
                                  [False, True, True, False])
    period0 = ctl.period.copy()
    for _ in range(100):                                  # 2 s of ticks, state held
        ctl(qpos, np.zeros((4, 18)))
    np.testing.assert_allclose(ctl.v_gait, [1.5, cfg.step_speed, cfg.step_speed, 1.5])
    assert (ctl.period[1:3] > period0[1:3]).all() and (ctl.period[[0, 3]] == period0[[0, 3]]).all()
    np.testing.assert_allclose(ctl.v_ref, ctl.v_gait)    # the start ramp is over
    off = TrotController("anymal_c", np.full(4, 1.5), height_fn=step,
                         config=ControllerConfig())      # default: off
    off.reset(qpos)
    for _ in range(100):
        off(qpos, np.zeros((4, 18)))
    np.testing.assert_allclose(off.v_ref, 1.5)
