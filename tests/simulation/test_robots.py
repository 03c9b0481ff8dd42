"""ANYmal B/C built in code vs the Menagerie-derived reference descriptions."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from behaviorbench.simulation.robots import (
    FOOT_NAMES,
    JOINT_NAMES,
    ROBOTS,
    build_robot_model,
    build_robot_spec,
    standing_qpos,
)

NAMES = ("anymal_b", "anymal_c")
TOTAL_MASS = {"anymal_b": 33.33, "anymal_c": 44.97}  # kg, simulation_notes.md


@pytest.fixture(scope="module", params=NAMES)
def pair(request, reference_dir):
    name = request.param
    ref = mujoco.MjModel.from_xml_path(str(reference_dir / "robots" / f"{name}_phys.xml"))
    return name, build_robot_model(name), ref


def _by_name(model, obj, n):
    return [mujoco.mj_id2name(model, obj, i) for i in range(n)]


def test_structure_and_names(pair):
    name, m, r = pair
    assert (m.nq, m.nv, m.nu) == (19, 18, 12)
    assert _by_name(m, mujoco.mjtObj.mjOBJ_BODY, m.nbody) == _by_name(
        r, mujoco.mjtObj.mjOBJ_BODY, r.nbody)
    assert _by_name(m, mujoco.mjtObj.mjOBJ_JOINT, m.njnt)[1:] == list(JOINT_NAMES)
    assert _by_name(r, mujoco.mjtObj.mjOBJ_JOINT, r.njnt)[1:] == list(JOINT_NAMES)
    assert _by_name(m, mujoco.mjtObj.mjOBJ_ACTUATOR, m.nu) == list(JOINT_NAMES)
    for foot in FOOT_NAMES:
        assert m.geom(foot).type[0] == mujoco.mjtGeom.mjGEOM_SPHERE


def test_masses_and_inertias(pair):
    name, m, r = pair
    assert m.body_mass.sum() == pytest.approx(r.body_mass.sum(), abs=1e-6)
    assert m.body_mass.sum() == pytest.approx(TOTAL_MASS[name], abs=0.01)
    assert ROBOTS[name].total_mass == pytest.approx(r.body_mass.sum(), abs=1e-6)
    np.testing.assert_allclose(m.body_mass, r.body_mass, atol=1e-6)
    np.testing.assert_allclose(m.body_inertia, r.body_inertia, atol=1e-6)
    np.testing.assert_allclose(m.body_ipos, r.body_ipos, atol=1e-6)
    np.testing.assert_allclose(m.body_iquat, r.body_iquat, atol=1e-6)


def test_offsets_axes_and_joint_params(pair):
    name, m, r = pair
    # every link offset/orientation below the base is identical
    np.testing.assert_allclose(m.body_pos[2:], r.body_pos[2:], atol=1e-6)
    np.testing.assert_allclose(m.body_quat[2:], r.body_quat[2:], atol=1e-6)
    # the base: identity here (forward = world +x); the reference yaws it by 180 deg
    np.testing.assert_allclose(m.body_quat[1], [1, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(r.body_quat[1], [0, 0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(m.jnt_axis, r.jnt_axis, atol=1e-6)
    np.testing.assert_array_equal(m.jnt_limited, r.jnt_limited)
    np.testing.assert_allclose(m.jnt_range, r.jnt_range, atol=1e-6)
    np.testing.assert_allclose(m.dof_damping, r.dof_damping, atol=1e-9)
    np.testing.assert_allclose(m.dof_frictionloss, r.dof_frictionloss, atol=1e-9)
    assert m.opt.cone == r.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC
    assert m.opt.impratio == r.opt.impratio


def test_collision_geometry_and_contacts(pair):
    name, m, r = pair
    assert m.ngeom == r.ngeom
    for f in ("geom_type", "geom_bodyid", "geom_condim", "geom_priority", "geom_contype",
              "geom_conaffinity"):
        np.testing.assert_array_equal(getattr(m, f), getattr(r, f), err_msg=f)
    for f in ("geom_size", "geom_pos", "geom_quat", "geom_friction", "geom_solimp",
              "geom_solref"):
        np.testing.assert_allclose(getattr(m, f), getattr(r, f), atol=1e-6, err_msg=f)
    assert m.nexclude == r.nexclude == 4
    foot = m.geom(FOOT_NAMES[0])
    assert foot.size[0] == pytest.approx(ROBOTS[name].foot_radius)
    assert foot.condim[0] == 6


def test_actuators(pair, reference_dir):
    name, m, r = pair
    lim = ROBOTS[name].torque_limit
    assert lim == {"anymal_b": 40.0, "anymal_c": 80.0}[name]
    # default: joint torque motors
    np.testing.assert_allclose(m.actuator_ctrlrange, np.tile([-lim, lim], (12, 1)))
    np.testing.assert_allclose(m.actuator_gear[:, 0], 1.0)
    np.testing.assert_allclose(m.actuator_biasprm[:, :3], 0.0)
    np.testing.assert_array_equal(m.actuator_trnid[:, 0], np.arange(1, 13))
    # menagerie-style position servos
    p = build_robot_model(name, actuator="position")
    for f in ("actuator_gainprm", "actuator_biasprm", "actuator_ctrlrange",
              "actuator_forcerange", "actuator_forcelimited", "actuator_trnid"):
        np.testing.assert_allclose(getattr(p, f), getattr(r, f), atol=1e-9, err_msg=f)
    with pytest.raises(ValueError):
        build_robot_spec(name, actuator="velocity")


def test_fk_matches_mujoco(pair):
    name, m, _ = pair
    robot = ROBOTS[name]
    rng = np.random.default_rng(1)
    d = mujoco.MjData(m)
    qs = robot.default_joint_pos + rng.uniform(-0.6, 0.6, size=(40, 12))
    ids = [m.geom(f).id for f in FOOT_NAMES]
    fk = robot.foot_positions(qs)
    assert fk.shape == (40, 4, 3)
    for k, q in enumerate(qs):
        d.qpos[:] = 0.0
        d.qpos[3] = 1.0
        d.qpos[7:] = q
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        np.testing.assert_allclose(d.geom_xpos[ids], fk[k], atol=1e-6)
        # hinge joint anchors/axes match the screw description after HAA/HFE moves
        jac = robot.foot_jacobians(q)
        jacp = np.zeros((3, m.nv))
        for leg, gid in enumerate(ids):
            mujoco.mj_jacGeom(m, d, jacp, None, gid)
            np.testing.assert_allclose(jac[leg], jacp[:, 6 + 3 * leg:9 + 3 * leg], atol=1e-6)


def test_ik_inverts_fk(pair):
    name, _, _ = pair
    robot = ROBOTS[name]
    rng = np.random.default_rng(2)
    qs = robot.default_joint_pos + rng.uniform(-0.5, 0.5, size=(500, 12))
    q_ik = robot.leg_ik(robot.foot_positions(qs))
    assert q_ik.shape == (500, 12)
    np.testing.assert_allclose(q_ik, qs, atol=1e-9)
    # closed form alone (no refinement) is already exact to ~1e-9 on this range
    np.testing.assert_allclose(robot.leg_ik(robot.foot_positions(qs), refine=0), qs, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_ik_and_fk_do_not_depend_on_the_batch(name):
    """Row i of a batch equals the same point alone, bit for bit (a trajectory must not depend
    on the robots it is simulated with; BLAS matrix-vector products round rows by batch size)."""
    robot = ROBOTS[name]
    qs = robot.default_joint_pos + np.random.default_rng(3).uniform(-0.5, 0.5, size=(9, 12))
    feet = robot.foot_positions(qs)
    q_ik = robot.leg_ik(feet)
    for i in (0, 4, 8):
        assert np.array_equal(robot.leg_ik(feet[i:i + 1])[0], q_ik[i])
        assert np.array_equal(robot.foot_positions(qs[i:i + 1])[0], feet[i])


def test_standing_pose_is_knees_in(pair):
    name, _, _ = pair
    robot = ROBOTS[name]
    q = robot.default_joint_pos
    joints = robot.joint_positions0  # at q = 0; move the knee by HAA/HFE of the pose
    feet = robot.foot_positions(q)
    for leg in range(4):
        kin = robot.kinematics[leg]
        knee = kin.centers[2]
        for k in (1, 0):
            r = knee - kin.centers[k]
            a = kin.axes[k]
            c, s = np.cos(q[3 * leg + k]), np.sin(q[3 * leg + k])
            knee = kin.centers[k] + r * c + np.cross(a, r) * s + a * (a @ r) * (1 - c)
        front = leg < 2
        hfe = joints[leg, 1]
        # front knees point backwards, hind knees forwards; feet well below the hips
        assert (knee[0] < hfe[0]) if front else (knee[0] > hfe[0])
        assert feet[leg, 2] < -0.4
        assert abs(feet[leg, 0]) > abs(robot.hip_positions[leg, 0])
    assert 0.45 < robot.nominal_base_height < 0.6


def test_stands_two_seconds_with_pd(pair, capsys):
    """legged_gym PD (kp 80, kd 2) about the standing pose on a plane for 2 s."""
    name, _, _ = pair
    robot = ROBOTS[name]
    m = build_robot_model(name, floor=True)
    d = mujoco.MjData(m)
    d.qpos[:] = standing_qpos(robot)
    d.qpos[2] += 0.01
    heights = []
    for _ in range(int(2.0 / m.opt.timestep)):
        d.ctrl[:] = 80.0 * (robot.default_joint_pos - d.qpos[7:]) - 2.0 * d.qvel[6:]
        mujoco.mj_step(m, d)
        heights.append(d.qpos[2])
    z = d.qpos[2]
    drift = np.linalg.norm(d.qpos[:2])
    tilt = 2 * np.arccos(min(1.0, abs(d.qpos[3])))
    with capsys.disabled():
        print(f"\n{name}: base z {z:.4f} m (nominal {robot.nominal_base_height:.4f}), "
              f"xy drift {drift * 1000:.2f} mm, tilt {np.degrees(tilt):.3f} deg")
    assert robot.nominal_base_height - 0.08 < z < robot.nominal_base_height + 0.005
    assert drift < 0.01
    assert tilt < np.radians(1.0)
    assert np.ptp(heights[-100:]) < 1e-3  # settled
    assert np.all(np.abs(d.qvel) < 1e-2)
    # every foot is on the floor
    feet = {m.geom(f).id for f in FOOT_NAMES}
    touching = {int(g) for c in d.contact[:d.ncon] for g in (c.geom1, c.geom2)} & feet
    assert touching == feet


def test_ik_unreachable_targets_stay_finite(pair):
    name, _, _ = pair
    robot = ROBOTS[name]
    feet = robot.default_foot_positions.copy()
    feet[:, 2] -= 0.5  # 0.5 m below the reachable workspace
    q = robot.leg_ik(feet)
    assert np.all(np.isfinite(q)) and np.all(np.abs(q) < 2 * np.pi)
    reached = robot.foot_positions(q)
    # the leg stretches towards the target: lower than any reachable standing foot
    assert np.all(reached[:, 2] < robot.default_foot_positions[:, 2] - 0.05)
