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
    ph = gait_phase(np.array([0.0, 0.1]), 0.4)
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
    """Two ANYmal C and two ANYmal B walk 5 s on a plane at 0.6 / 1.0 m/s without falling."""
    for name in ("anymal_c", "anymal_b"):
        cfg = ControllerConfig()
        model = build_run_model(name, None, cfg)
        n, v = 2, np.array([0.6, 1.0])
        batch = mujoco.batch.Batch(model, n, 1, persistent=True)
        qpos, qvel, ctrl = batch.bind("qpos"), batch.bind("qvel"), batch.bind("ctrl")
        gain, bias = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
        qpos[:] = standing_qpos(name)
        qpos[:, 1] = [0.0, 3.0]
        batch.forward()
        ctl = TrotController(name, v, config=cfg)
        ctl.reset(qpos.copy())
        x, min_z, max_tilt = [], np.inf, 0.0
        for k in range(250):
            ctrl[:] = ctl(qpos.copy(), qvel.copy())
            assert np.isfinite(ctrl).all()
            ctl.write_gains(gain, bias)
            batch.step(nstep=4)
            min_z = min(min_z, qpos[:, 2].min())
            max_tilt = max(max_tilt, np.abs(rpy_from_mat(quat_to_mat(qpos[:, 3:7]))[:, :2]).max())
            if k == 100:
                x0 = qpos[:, 0].copy()
        x = qpos[:, 0]
        assert min_z > 0.35, (name, min_z)
        assert max_tilt < 0.8, (name, max_tilt)
        mean_v = (x - x0) / (149 * 0.02)
        np.testing.assert_allclose(mean_v, v, rtol=0.15, err_msg=name)
        assert np.abs(qpos[:, 1] - [0.0, 3.0]).max() < 0.5  # keeps its line
