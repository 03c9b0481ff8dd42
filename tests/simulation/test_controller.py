"""Trot controller: kinematics agree with the robot model, and a robot walks on flat ground."""

from __future__ import annotations

from dataclasses import replace

import mujoco
import mujoco.batch
import numpy as np
import pytest

from behaviorbench.simulation.controller import (
    GRAVITY,
    ControllerConfig,
    LegModel,
    TrotController,
    _min_norm,
    _skew,
    flat_ground,
    quat_to_mat,
    rpy_from_mat,
    rpy_to_mat,
    torque_metric_inverse,
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
    held = swing_position(start, target, np.array([0.3]), np.array([0.5, 0.6]), 0.1, 0.62)
    np.testing.assert_allclose(held[:, 2], 0.3)  # with a later descent: still at the apex
    np.testing.assert_allclose(
        swing_position(start, target, np.array([0.3]), np.array([1.0]), 0.1, 0.62), target)
    with pytest.raises(ValueError, match="swing_descent"):
        ControllerConfig(swing_descent=1.0)


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


def test_stance_fraction_rises_at_low_speed():
    """Each leg is in stance ``duty_slow`` of the period at 0.5 m/s (with phases on all four
    feet), ``duty`` at 1.5 m/s (a pure trot: never four feet down once walking), and in
    between at 0.75 m/s; ANYmal C's default (``duty_slow = duty`` = 0.5) one fraction at every speed
    (B's default raises both: test_robot_overrides_apply_to_their_robot_only)."""
    cmds = np.array([0.5, 0.75, 1.5])
    qpos = np.tile(standing_qpos("anymal_c"), (3, 1))
    for cfg, want in ((ControllerConfig(duty_slow=0.65), [0.65, 0.575, 0.5]),
                      (ControllerConfig(), [0.5, 0.5, 0.5])):
        ctl = TrotController("anymal_c", cmds, config=cfg)
        ctl.reset(qpos)
        np.testing.assert_allclose(ctl.duty, want)
        support, ticks = np.zeros((3, 4)), 0
        four = np.zeros(3, dtype=int)
        for _ in range(int(cfg.stand_time / cfg.control_dt) + 350):   # 7 s of gait, state held
            walking = ctl.t >= cfg.stand_time
            ctl(qpos, np.zeros((3, 18)))
            if walking.all():
                on = ctl.kp_joint[:, ::3] == cfg.joint_kp                   # legs in stance
                support += on
                four += on.all(-1)
                ticks += 1
        np.testing.assert_allclose(support / ticks, np.repeat(want, 4).reshape(3, 4), atol=0.02)
        assert (four[:2] > 0).all() == (cfg.duty_slow > cfg.duty) and four[2] == 0, four


@pytest.mark.parametrize("bad", [dict(duty=0.0), dict(duty_slow=1.0), dict(duty_slow=-0.2)])
def test_stance_fraction_outside_0_1_is_refused(bad):
    """A stance fraction of 0 or 1 leaves no stance or no swing (the swing phase would divide
    by zero): the config refuses it, naming the field."""
    with pytest.raises(ValueError, match=next(iter(bad))):
        ControllerConfig(**bad)


@pytest.mark.parametrize("field", ["swing_guard", "riser_guard"])
@pytest.mark.parametrize("bad", [("anymal_d",), "anymal_c"])
def test_guards_take_robot_names(field, bad):
    """swing_guard and riser_guard list robots by name: an unknown name, or a bare string (whose
    substrings ``in`` would match), is refused rather than silently guarding nothing."""
    with pytest.raises(ValueError, match=field):
        ControllerConfig(**{field: bad})
    assert getattr(ControllerConfig(**{field: ()}), field) == ()


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_torque_weight_is_a_weight(bad):
    """torque_weight blends two costs: outside 0-1 (set directly or for one robot) is refused."""
    with pytest.raises(ValueError, match="torque_weight"):
        ControllerConfig(torque_weight=bad)
    with pytest.raises(ValueError, match="robot_overrides|torque_weight"):
        ControllerConfig(robot_overrides=(("anymal_b", "torque_weight", bad),))


def test_hold_max_is_a_wait():
    with pytest.raises(ValueError, match="hold_max"):
        ControllerConfig(hold_max=-0.1)
    with pytest.raises(ValueError, match="robot_overrides|hold_max"):
        ControllerConfig(robot_overrides=(("anymal_b", "hold_max", -0.1),))
    assert ControllerConfig().for_robot("anymal_b").hold_max > 0
    assert ControllerConfig().for_robot("anymal_c").hold_max == 0


def test_robot_overrides_apply_to_their_robot_only():
    """``robot_overrides`` entries (robot, FIELD, value) change FIELD for that robot's
    controller only: by default ANYmal B runs a longer stance at every speed (four feet down
    part of each cycle, from 0.5 to 1.5 m/s), a smaller speed integral than C and stance
    forces weighted by joint torque; an int field
    gets an int; a field set for both robots by hand is what C keeps."""
    cfg = ControllerConfig(duty_slow=0.55, robot_overrides=(("anymal_b", "duty_slow", 0.7),
                                                            ("anymal_b", "step_count", 2.0)))
    b, c = cfg.for_robot("anymal_b"), cfg.for_robot("anymal_c")
    assert (b.duty_slow, b.step_count, b.robot_overrides) == (0.7, 2, ())
    assert isinstance(b.step_count, int)
    assert c is cfg and c.duty_slow == 0.55
    slow = np.full(2, 0.5)                                    # m/s: the duty_slow end
    ctl_b = TrotController("anymal_b", slow, config=cfg)
    ctl_c = TrotController("anymal_c", slow, config=cfg)
    np.testing.assert_allclose(ctl_b.duty, 0.7)
    np.testing.assert_allclose(ctl_c.duty, 0.55)
    default = ControllerConfig()
    assert default.for_robot("anymal_b").duty_slow > default.for_robot("anymal_c").duty_slow
    speeds = np.array([0.5, 1.0, 1.5])                        # m/s
    np.testing.assert_allclose(TrotController("anymal_b", speeds, config=default).duty, 0.65)
    np.testing.assert_allclose(TrotController("anymal_c", speeds, config=default).duty, 0.5)
    assert default.for_robot("anymal_b").v_int_max < default.for_robot("anymal_c").v_int_max
    assert (default.for_robot("anymal_b").torque_weight,
            default.for_robot("anymal_c").torque_weight) == (0.9, 0.0)
    assert set(default.swing_guard) == {"anymal_b", "anymal_c"}  # both, on stairs
    assert ControllerConfig(robot_overrides=()).for_robot("anymal_b").duty_slow == 0.5


def test_weighted_min_norm_is_the_constrained_minimiser():
    """``_min_norm`` with ``am`` = a M meets a x = b and has the least x^T M^-1 x: any step
    along the null space of a costs more. With M = I it is the plain minimum-norm solution."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 6, 12)), rng.normal(size=(5, 6))
    g = rng.normal(size=(5, 12, 12))
    m = g @ g.transpose(0, 2, 1) + 0.5 * np.eye(12)                 # symmetric positive definite
    x = _min_norm(a, b, 0.0, a @ m)
    np.testing.assert_allclose(np.einsum("nrc,nc->nr", a, x), b, atol=1e-6)
    cost = np.einsum("nc,ncd,nd->n", x, np.linalg.inv(m), x)
    null = np.linalg.svd(a)[2][:, 6:]                                # (5, 6, 12) null-space rows
    for k in range(6):
        for eps in (1e-2, -1e-2):
            y = x + eps * null[:, k]
            assert (np.einsum("nc,ncd,nd->n", y, np.linalg.inv(m), y) > cost).all()
    np.testing.assert_array_equal(_min_norm(a, b, 0.01, a), _min_norm(a, b, 0.01))


def test_torque_weight_unloads_a_folded_leg():
    """ANYmal B standing, one front leg folded (hip and knee bent 1.6x the standing pose), the
    body's weight shared by four feet: with ``torque_weight`` the folded leg carries less of the
    vertical load, and the joint torques summed over the legs are smaller, than with the force
    norm alone; the weight 0 metric is the identity."""
    robot = ROBOTS["anymal_b"]
    legs = LegModel(robot)
    q = robot.default_joint_pos.copy()
    q[1:3] *= 1.6                                                    # LF: HFE, KFE
    feet, jac = legs.fk_jac(q[None])                                 # base level: base = world
    a4 = np.concatenate([np.tile(np.eye(3), (1, 4, 1, 1)), _skew(feet)], -2)  # (1, 4, 6, 3)
    a = a4.transpose(0, 2, 1, 3).reshape(1, 6, 12)
    wrench = np.array([[0.0, 0.0, robot.total_mass * GRAVITY, 0.0, 0.0, 0.0]])
    l = float(legs.leg_length.mean())
    np.testing.assert_allclose(torque_metric_inverse(jac, 0.0, l), np.broadcast_to(
        np.eye(3), (1, 4, 3, 3)))
    shares, torques = [], []
    for w in (0.0, 0.5, 1.0):
        am = None if w == 0 else (a4 @ torque_metric_inverse(jac, w, l)).transpose(
            0, 2, 1, 3).reshape(1, 6, 12)
        f = _min_norm(a, wrench, 0.01, am).reshape(4, 3)
        shares.append(f[0, 2] / f[:, 2].sum())
        torques.append((np.einsum("kij,ki->kj", jac[0], f) ** 2).sum())
    assert shares[0] > shares[1] > shares[2], shares
    assert torques[0] > torques[1] > torques[2], torques


@pytest.mark.parametrize("bad", [
    (("anymal_d", "duty_slow", 0.6),), (("anymal_b", "no_such_field", 0.6),),
    (("anymal_b", "swing_guard", 0.6),), (("anymal_b", "contact_aware", 1.0),),
    (("anymal_b", "duty_slow", True),), (("anymal_b", "duty_slow"),), ("anymal_b",),
    (("anymal_b", "step_count", 2.5),), (("anymal_b", "duty_slow", 1.2),),
])
def test_robot_overrides_are_checked(bad):
    """An override of an unknown robot, of a field that is not a number (or does not exist),
    with a non-number value (or a fraction for an int field) or of the wrong shape is refused,
    naming the field; so is a value the field itself refuses (a stance fraction of 1.2)."""
    with pytest.raises(ValueError, match="robot_overrides|duty_slow"):
        ControllerConfig(robot_overrides=bad)


def test_steps_ahead_slow_the_robot_and_its_cadence():
    """A 0.15 m step at x = 2 m: with ``step_speed`` set, robots whose feet or lookahead reach it
    slow from 1.5 m/s to ``step_speed`` at ``accel`` m/s^2 and step slower, with a longer
    stance (``duty_slow``); robots far from it keep the command. The default (0) keeps the
    command everywhere."""
    def step(x, y):
        return np.where(np.asarray(x) > 2.0, 0.15, 0.0) + 0.0 * np.asarray(y)

    cfg = ControllerConfig(step_speed=0.5, step_count=1, step_lookahead=1.0, duty_slow=0.65)
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
    np.testing.assert_allclose(ctl.duty, [cfg.duty, cfg.duty_slow, cfg.duty_slow, cfg.duty])
    np.testing.assert_allclose(ctl.v_ref, ctl.v_gait)    # the start ramp is over
    off = TrotController("anymal_c", np.full(4, 1.5), height_fn=step,
                         config=ControllerConfig())      # default: stairs only, not one step
    off.reset(qpos)
    for _ in range(100):
        off(qpos, np.zeros((4, 18)))
    np.testing.assert_allclose(off.v_ref, 1.5)


def _stairs(x, y):
    """0.15 m steps every 0.3 m, down along +x from x = 0 (level before), and up along +x
    from x = 10 m (level between): a descent, then a climb."""
    x = np.asarray(x)
    down = -0.15 * np.clip(np.floor(x / 0.3) + 1, 0, 12)
    up = 0.15 * np.clip(np.floor((x - 10.0) / 0.3) + 1, 0, 12)
    return down + up + 0.0 * np.asarray(y)


def test_step_speed_down_caps_descents_only():
    """Robots standing on stairs going down (ground plane nose-down by more than
    ``descent_pitch``) slow to ``step_speed_down``; robots on stairs going up keep
    ``step_speed``; with ``descent_pitch`` above the stairs' pitch, or ``step_speed_down`` 0
    (the field's default; ANYmal C's override is 0.35), descents keep ``step_speed`` too."""
    xs = np.array([1.8, 11.8])                            # m: down the stairs, up the stairs
    qpos = np.tile(standing_qpos("anymal_c"), (2, 1))
    qpos[:, 0] = xs
    qpos[:, 2] += _stairs(xs, 0.0)
    v = {}
    plain = ControllerConfig(robot_overrides=())  # (C's default override: 0.35)
    for name, cfg in {"on": replace(plain, step_speed_down=0.3),
                      "steep only": replace(plain, step_speed_down=0.3, descent_pitch=0.8),
                      "off": plain}.items():
        ctl = TrotController("anymal_c", np.full(2, 1.5), height_fn=_stairs, config=cfg)
        ctl.reset(qpos)
        np.testing.assert_array_equal(ctl._steps_near(qpos[:, :3], np.zeros(2)), [True, True])
        pitch = ctl._ground_plane(qpos[:, :3], np.zeros(2))[1]
        assert pitch[0] > 0.4 and pitch[1] < -0.4, pitch    # nose-down, nose-up (rad)
        for _ in range(100):                                  # 2 s of ticks, state held
            ctl(qpos, np.zeros((2, 18)))
        v[name] = ctl.v_gait.copy()
    np.testing.assert_allclose(v["on"], [0.3, 0.5])
    np.testing.assert_allclose(v["steep only"], [0.5, 0.5])
    np.testing.assert_allclose(v["off"], [0.5, 0.5])
    with pytest.raises(ValueError, match="step_speed_down"):
        ControllerConfig(step_speed_down=-0.1)
    assert ControllerConfig().for_robot("anymal_c").step_speed_down == 0.35


def test_stairs_search_skips_robots_under_the_cap():
    """Without the swing guard (which needs the map's verdict for every robot), the map's
    stairs search only runs for robots whose command the cap would lower (above
    ``step_speed``): on stairs, a batch of commands 0.4 and 1.2 m/s searches for the 1.2 robot
    only, and each robot's outputs and speed match those of a controller of its own."""
    calls = []

    class Counting(TrotController):
        def _steps_near(self, pos, yaw):
            calls.append(len(pos))
            return super()._steps_near(pos, yaw)

    cmds = np.array([0.4, 1.2])
    qpos = np.tile(standing_qpos("anymal_b"), (2, 1))
    qpos[:, 0] = 1.8
    qpos[:, 2] += _stairs(qpos[:, 0], 0.0)
    cfg = ControllerConfig(swing_guard=())
    both = Counting("anymal_b", cmds, height_fn=_stairs, config=cfg)
    alone = [TrotController("anymal_b", cmds[i:i + 1], height_fn=_stairs, config=cfg)
             for i in range(2)]
    for c in (both, *alone):
        c.reset(qpos[:len(c.v_cmd)])
    for _ in range(60):
        u = both(qpos, np.zeros((2, 18)))
        for i, c in enumerate(alone):
            np.testing.assert_array_equal(u[i], c(qpos[i:i + 1], np.zeros((1, 18)))[0])
    assert set(calls) == {1}
    np.testing.assert_allclose(both.v_gait, [0.4, 0.5])               # 1.2 capped on stairs


def _riser(x, y):
    """A 0.14 m step up at x = 0.1 m (stairs up, the riser ahead of a hind foot)."""
    return np.where(np.asarray(x) > 0.1, 0.14, 0.0) + 0.0 * np.asarray(y)


def test_leg_hits_places_the_knee_as_forward_kinematics():
    """The planar knee of _leg_hits is the KFE joint of the forward kinematics (default pose on
    flat ground: no leg point near the ground, so no hit)."""
    robot = ROBOTS["anymal_c"]
    ctl = TrotController(robot, np.ones(1), config=ControllerConfig(leg_clearance=0.05))
    feet = robot.default_foot_positions                                  # (4, 3) base frame
    z0 = robot.nominal_base_height
    hits = ctl._leg_hits(feet[None, :, 0, None], feet[None, :, 1, None],
                         z0 + feet[None, :, 2, None], ctl.legs.centers[None, :, 1, 0],
                         np.full((1, 4), z0))
    assert not hits.any()
    # the same placement with a clearance above the knee height: every leg hits
    ctl_high = TrotController(robot, np.ones(1), config=ControllerConfig(leg_clearance=0.4))
    assert ctl_high._leg_hits(feet[None, :, 0, None], feet[None, :, 1, None],
                              z0 + feet[None, :, 2, None], ctl.legs.centers[None, :, 1, 0],
                              np.full((1, 4), z0)).all()
    # knee side: front knees behind the hip-foot line, hind knees ahead of it
    np.testing.assert_array_equal(ctl.legs.knee_side, [-1, -1, 1, 1])


def test_leg_clearance_moves_hind_feet_away_from_a_riser():
    """A hind foot 4 cm behind a 0.14 m riser: its forward-bent shank reaches over the nose, so
    _leg_hits flags it; 30 cm behind, the leg is clear. _safe_foothold with the stance's hip
    positions moves such a foothold back, off the riser's foot."""
    robot = ROBOTS["anymal_c"]
    cfg = ControllerConfig(leg_clearance=0.08, knee_margin=0.0, edge_margin=0.02)
    ctl = TrotController(robot, np.ones(1), height_fn=_riser, config=cfg)
    z_hip = robot.nominal_base_height + cfg.height_offset
    cx = np.array([0.06, -0.2])[None, None, :].repeat(4, 1)            # (1, 4, 2) m
    hip_x = cx[..., 0] + 0.1                                             # hip 0.1 m ahead
    hits = ctl._leg_hits(cx, np.zeros_like(cx), cx * 0 + robot.foot_radius, hip_x,
                         np.full((1, 4), z_hip))
    np.testing.assert_array_equal(hits[0, 2:], [[True, False], [True, False]])
    np.testing.assert_array_equal(hits[0, :2], [[False, False], [False, False]])  # knees back
    xy = np.zeros((1, 4, 2))
    xy[..., 0] = 0.04
    hips = ((np.full((1, 4), 0.14), np.full((1, 4), z_hip)),
            (np.full((1, 4), -0.06), np.full((1, 4), z_hip)))
    edge_only = ctl._safe_foothold(xy)
    with_legs = ctl._safe_foothold(xy, hips)
    assert (with_legs[0, 2:, 0] < edge_only[0, 2:, 0]).all()             # hind feet moved back
    for hip_x, hip_z in hips:                                            # and clear there
        assert not ctl._leg_hits(with_legs[..., 0, None], with_legs[..., 1, None],
                                 np.full((1, 4, 1), robot.foot_radius), hip_x, hip_z).any()
    np.testing.assert_allclose(with_legs[0, :2], edge_only[0, :2])      # front legs unchanged


def test_per_foot_foothold_search_matches_the_per_robot_form():
    """The controller searches footholds only for the feet lifting this tick (``legs``): on
    stairs, with hips, each foot's result is bit-identical to its row of the (n, 4) form, and
    the search moves some of them (so the comparison is not of untouched inputs)."""
    robot = ROBOTS["anymal_b"]
    ctl = TrotController(robot, np.ones(6), height_fn=_stairs)
    rng = np.random.default_rng(5)
    xy = np.stack([rng.uniform(-0.5, 3.0, (6, 4)), rng.uniform(-0.3, 0.3, (6, 4))], -1)
    z_hip = robot.nominal_base_height + _stairs(xy[..., 0], 0.0)
    hips = ((xy[..., 0] + 0.15, z_hip), (xy[..., 0] - 0.1, z_hip - 0.05))
    whole = ctl._safe_foothold(xy, hips)
    ri, li = np.nonzero(rng.random((6, 4)) < 0.6)
    feet = ctl._safe_foothold(xy[ri, li], tuple((hx[ri, li], hz[ri, li]) for hx, hz in hips),
                              li)
    np.testing.assert_array_equal(feet, whole[ri, li])
    assert (whole != xy).any()
    np.testing.assert_array_equal(
        ctl._leg_hits(xy[ri, li, 0, None], xy[ri, li, 1, None], np.zeros((len(ri), 1)),
                      hips[0][0][ri, li], hips[0][1][ri, li], li),
        ctl._leg_hits(xy[..., 0, None], xy[..., 1, None], np.zeros((6, 4, 1)),
                      *hips[0])[ri, li])


def test_swing_haa_targets_stay_within_the_limit():
    """Abduction targets of swing legs stay within ``haa_limit`` even when the body is rolled far
    over (a swing foot caught under a nose drove them to the joint's range end); stance legs keep
    theirs, which hold the roll."""
    n = 4
    qpos = np.tile(standing_qpos("anymal_c"), (n, 1))
    roll = np.array([0.3, 0.5, -0.6, 0.8])
    qpos[:, 3], qpos[:, 4] = np.cos(roll / 2), np.sin(roll / 2)
    for limit in (0.2, 0.0):
        cfg = ControllerConfig(haa_limit=limit, stance_ff=0.0)          # targets only
        ctl = TrotController("anymal_c", np.ones(n), config=cfg)
        ctl.reset(qpos)
        swing_haa, stance_haa = [], []
        for _ in range(40):                                             # 0.8 s, state held
            u = ctl(qpos, np.zeros((n, 18)))
            swing_haa.append(np.abs(u[:, 0::3])[~ctl.was_stance])
            stance_haa.append(np.abs(u[:, 0::3])[ctl.was_stance])
        swing_haa, stance_haa = np.concatenate(swing_haa), np.concatenate(stance_haa)
        assert len(swing_haa) > 0
        assert (swing_haa.max() <= 0.2 + 1e-12) == (limit > 0), swing_haa.max()
        assert stance_haa.max() > 0.2                                   # never clipped


def test_step_count_tells_stairs_from_single_steps():
    """With ``step_count`` 3 (the default) a flight of 0.14 m steps 0.31 m apart ahead slows the
    robot, a single 0.15 m step or a box (up then down) does not; with 1 all three do."""
    def stairs(x, y):
        return 0.14 * np.clip(np.floor((np.asarray(x) - 2.0) / 0.31) + 1, 0, 8) + 0.0 * y

    def box(x, y):
        x = np.asarray(x)
        return np.where((x > 2.0) & (x < 3.0), 0.15, 0.0) + 0.0 * y

    def step(x, y):
        return np.where(np.asarray(x) > 2.0, 0.15, 0.0) + 0.0 * np.asarray(y)

    pos = np.array([[1.0, 0.0, 0.5]])
    for count, expect in ((3, [True, False, False]), (1, [True, True, True])):
        got = []
        for fn in (stairs, step, box):
            ctl = TrotController("anymal_c", np.ones(1), height_fn=fn,
                                 config=ControllerConfig(step_count=count))
            got.append(bool(ctl._steps_near(pos, np.zeros(1))[0]))
        assert got == expect, (count, got)


@pytest.mark.parametrize("name", ["anymal_b", "anymal_c"])
def test_tilted_stance_keeps_legs_within_reach_on_stairs_slope(name):
    """A body pitched nose-up with a 0.42 rad (24 deg, the 0.14 m x 0.31 m stairs) ground, at
    its reference height: with the flat-ground foot offsets the hind legs must stretch past
    ``reach`` to their footholds while the front legs fold; the default tilted stance keeps every
    leg's HFE-foothold distance within 0.75-0.9 of the leg length. On level ground the stance is
    the flat one."""
    theta = 0.42                                                     # rad, ground slope
    rot = rpy_to_mat(np.array([[0.0, -theta, 0.0]]))[0]              # nose up
    spans = {}
    for tilt in (0.0, ControllerConfig().foothold_tilt):
        ctl = TrotController(name, np.ones(1),
                             config=ControllerConfig(foothold_tilt=tilt))
        np.testing.assert_array_equal(ctl._nominal_stance()[0], ctl.nominal_feet[:, :2])
        ctl.pitch_ref[:] = -theta
        xy = ctl._nominal_stance()[0]                                # base at x = 0
        hfe = ctl.legs.centers[:, 1] @ rot.T + np.array([0.0, 0.0, ctl.body_height])
        foot = np.c_[xy, np.tan(theta) * xy[:, 0] + ctl.robot.foot_radius]
        spans[tilt] = np.linalg.norm(foot - hfe, axis=1) / ctl.legs.leg_length
    flat, tilted = spans[0.0], spans[ControllerConfig().foothold_tilt]
    assert flat[2:].min() > ControllerConfig().reach and flat[:2].max() < 0.82
    assert 0.75 < tilted.min() and tilted.max() < 0.9


def _stair_down(x, y):
    """A 0.14 m step down at x = 0 (a robot walking +x descends)."""
    return np.where(np.asarray(x) < 0.0, 0.14, 0.0) + 0.0 * np.asarray(y)


def test_swing_guard_holds_a_lagging_foot_above_the_nose():
    """Stepping down, a swing reference already on the lower tread while the foot is still over
    the nose is raised to guard_clearance above the nose; once the foot is past the edge by a
    foot radius + 2 cm, or where nothing near the foot is higher than the ground under the
    reference (flat ground, a foot climbing to a higher tread), or where the ground falls
    smoothly (a slope), the reference is unchanged."""
    cfg = ControllerConfig(guard_clearance=0.02)
    ctl = TrotController("anymal_c", np.ones(1), height_fn=_stair_down, config=cfg)
    rad = ctl.robot.foot_radius
    ref = np.zeros((1, 4, 3))
    ref[..., 0], ref[..., 2] = 0.15, 0.05                      # on the lower tread, descending
    feet = np.zeros((1, 4, 3))
    feet[..., 0] = [-0.05, -0.01, 0.03, 0.06]                  # over the tread, past the edge
    feet[..., 2] = 0.2
    out = ctl._guard_swing(ref, feet)
    np.testing.assert_allclose(out[0, :3, 2], 0.14 + rad + 0.02)   # within rad + 2 cm of it
    np.testing.assert_allclose(out[0, 3], ref[0, 3])                 # 6 cm past: free to land
    np.testing.assert_array_equal(out[..., :2], ref[..., :2])        # only heights change
    climb = ref.copy()
    climb[..., 0], climb[..., 2] = -0.15, 0.2                  # swinging up onto the tread
    np.testing.assert_array_equal(ctl._guard_swing(climb, feet), climb)
    flat = TrotController("anymal_c", np.ones(1), config=cfg)
    np.testing.assert_array_equal(flat._guard_swing(ref, feet), ref)
    # down a smooth 0.36 slope (pyramid slope at difficulty 0.9) the ground under the reference
    # is 5 cm below the foot's, but there is no edge to hold the foot above
    slope = TrotController("anymal_c", np.ones(1), height_fn=lambda x, y: -0.36 * x + 0 * y,
                           config=cfg)
    np.testing.assert_array_equal(slope._guard_swing(ref, feet), ref)


def _walk_stairs(robot: str, kind: str, length: float, episode_s: float,
                 cfg: ControllerConfig, monkeypatch, on_touchdown) -> None:
    """3 robots walk ``episode_s`` s at 0.5 m/s from flat ground onto a flight of stairs
    (``kind``, difficulty 0.5: 0.14 m steps; ``length`` m sub-terrains). After each control tick
    ``on_touchdown(ctl, feet, down)`` gets the controller, the feet (n, 4, 3) m world and the
    legs (n, 4) bool that have just entered stance."""
    from behaviorbench.simulation import rollout
    from behaviorbench.simulation.rollout import RunSpec
    from behaviorbench.simulation.terrain import TerrainConfig, build_terrain

    tcfg = TerrainConfig(num_rows=3, num_cols=1, terrain_length=length, terrain_width=length,
                         border_size=2.0, vertical_walls=True)
    terrain = build_terrain(tcfg, [["flat"], [kind], ["flat"]], [[0.0], [0.5], [0.0]], seed=0)
    run = RunSpec(robot=robot, command_vel=0.5, n_robots=3, episode_s=episode_s, terrain=tcfg,
                  seed=500, max_init_terrain_level=0, spawn_jitter=0.5, controller=cfg)

    class Recording(TrotController):
        def __call__(self, qpos, qvel, rot=None):
            was = self.was_stance.copy()
            u = super().__call__(qpos, qvel, rot)
            feet = qpos[:, None, :3] + np.einsum("nij,nkj->nki", quat_to_mat(qpos[:, 3:7]),
                                                 self.legs.fk_jac(qpos[:, 7:19])[0])
            on_touchdown(self, feet, self.was_stance & ~was)
            return u

    from behaviorbench.simulation import controller_protocol

    monkeypatch.setattr(controller_protocol, "TrotController", Recording)
    rollout._simulate_chunk(run, [0, 1, 2], terrain=terrain, stop_failed=True)


def _descending_touchdowns(robot: str, guard: bool, monkeypatch) -> np.ndarray:
    """x error (m), foot minus target at the first stance tick, of the swings that step down a
    stair: 3 robots walk 10 s at 0.5 m/s from flat ground into a flight of stairs down."""
    errors = []

    def record(ctl, feet, down):
        step_down = ctl.swing_target[..., 2] < ctl.swing_start[..., 2] - 0.08
        errors.extend((feet - ctl.swing_target)[down & step_down][:, 0])

    _walk_stairs(robot, "pyramid_stairs_down", 5.0, 10.0,
                 ControllerConfig(swing_guard=(robot,) if guard else ()), monkeypatch, record)
    return np.asarray(errors)


def test_swing_guard_puts_descending_feet_past_the_nose(monkeypatch):
    """Closed loop (ANYmal C down stairs at 0.5 m/s): without the guard a lagging swing foot is
    put down on the nose of the tread it leaves, well short of its foothold below; with it,
    such touch-downs (over 5 cm short) all but vanish."""
    short = {g: np.mean(_descending_touchdowns("anymal_c", g, monkeypatch) < -0.05)
             for g in (False, True)}
    assert short[False] > 0.15, short
    assert short[True] < 0.05, short


def _stairs_down(x, y):
    """A flight of 0.14 m steps down, 0.31 m treads, from x = 0."""
    return -0.14 * np.floor(np.clip(np.asarray(x), -0.31, 5.0) / 0.31 + 1.0) + 0 * np.asarray(y)


@pytest.mark.parametrize("height_fn, on_stairs", [(_stairs_down, True), (_stair_down, False)])
def test_swing_guard_acts_on_stairs_only(height_fn, on_stairs):
    """The guard acts where the map shows a flight of stairs (as for the slow-down): a front
    swing foot 10 cm before a step down, its reference already descending past it, gets other
    joint targets with the guard than without on stairs, and the same ones at a single step
    (discrete obstacles: the guard cost falls there)."""
    robot = ROBOTS["anymal_c"]
    qpos = standing_qpos("anymal_c")[None].copy()
    qpos[0, 0] = -0.1 - robot.default_foot_positions[0, 0]          # LF foot 10 cm before x = 0
    qpos[0, 2] += height_fn(qpos[:, 0], qpos[:, 1])[0]
    outs = []
    for guard in (("anymal_c",), ()):
        ctl = TrotController(robot, np.ones(1), height_fn=height_fn,
                             config=ControllerConfig(swing_guard=guard))
        ctl.reset(qpos)
        ctl.t[:], ctl.cycle[:] = 1.0, 0.8                  # LF and RH 60 % into their swing
        ctl.was_stance[:] = [[False, True, True, False]]
        feet_b, _ = ctl.legs.fk_jac(qpos[:, 7:19])
        ctl.swing_start = qpos[:, None, :3] + feet_b
        ctl.swing_target = ctl.swing_start + [0.25, 0.0, -0.14]
        ctl.swing_apex = ctl.swing_start[..., 2] + 0.05
        assert ctl._steps_near(qpos[:, :3], np.zeros(1))[0] == on_stairs
        outs.append(ctl(qpos, np.zeros((1, 18))))
    assert (np.abs(outs[0] - outs[1]).max() > 1e-3) == on_stairs


def _stair_up(x, y):
    """A 0.14 m step up at x = 0 (a robot walking +x climbs)."""
    return np.where(np.asarray(x) >= 0.0, 0.14, 0.0) + 0.0 * np.asarray(y)


def test_riser_guard_holds_a_foot_below_the_nose_back():
    """Climbing, a swing foot still below the tread ahead has its reference held back, short of
    the riser (the foot sphere clear of it), and raised 3 cm over the nose; it moves on once it
    is above the nose. A foot over the tread, a foot on flat ground and a foot on a smooth
    0.36 slope (no edge) keep their references."""
    ctl = TrotController("anymal_c", np.ones(1), height_fn=_stair_up)
    rad = ctl.robot.foot_radius
    ref = np.zeros((1, 4, 3))
    ref[..., 0], ref[..., 2] = 0.15, 0.14 + rad                 # on the tread ahead
    feet = np.zeros((1, 4, 3))
    feet[..., 0] = [-0.2, -0.1, -0.05, 0.02]                     # below the nose / over the tread
    feet[..., 2] = [0.05, 0.12, 0.14 + rad + 0.02, 0.14 + rad]
    out = ctl._guard_riser(ref, feet, *ctl._edge_ahead(feet, ref))
    assert (out[0, :2, 0] <= -rad).all() and (out[0, :2, 0] > feet[0, :2, 0]).all(), out
    np.testing.assert_allclose(out[0, :2, 2], 0.14 + rad + 0.03)
    np.testing.assert_allclose(out[0, 2:], ref[0, 2:])          # above the nose, over the tread
    flat = TrotController("anymal_c", np.ones(1))
    np.testing.assert_array_equal(flat._guard_riser(ref, feet, *flat._edge_ahead(feet, ref)), ref)
    slope = TrotController("anymal_c", np.ones(1), height_fn=lambda x, y: 0.36 * x + 0 * y)
    up = ref.copy()
    up[..., 2] = 0.36 * 0.15 + rad
    np.testing.assert_array_equal(slope._guard_riser(up, feet, *slope._edge_ahead(feet, up)), up)


@pytest.mark.parametrize("height_fn, hold_max, held", [
    (_stair_up, 0.1, 5), (_stair_up, 0.0, 0), (flat_ground, 0.1, 0)])
def test_clock_waits_for_a_foot_caught_below_a_step(height_fn, hold_max, held):
    """LF ends its swing 10 cm before a 0.14 m step up, its foothold on the tread above: with
    ``hold_max`` the gait clock (and the speed integral) stops for round(hold_max / dt) ticks
    while the foot is still below the nose, then goes on; without it, or on flat ground, the
    clock does not stop."""
    robot = ROBOTS["anymal_c"]
    qpos = standing_qpos("anymal_c")[None].copy()
    ctl0 = TrotController(robot, np.ones(1))
    feet_b, _ = ctl0.legs.fk_jac(qpos[:, 7:19])
    x_step = qpos[0, 0] + feet_b[0, 0, 0] + 0.1                     # 10 cm ahead of LF

    def step(x, y):                                                 # the step (if any) there
        return height_fn(np.asarray(x) - x_step, y)

    ctl = TrotController(robot, np.ones(1), height_fn=step,
                         config=ControllerConfig(hold_max=hold_max))
    ctl.reset(qpos)
    ctl.t[:], ctl.cycle[:] = 2.0, 2.99                             # LF and RH end their swing
    ctl.was_stance[:] = [[False, True, True, False]]
    ctl.swing_start = qpos[:, None, :3] + feet_b
    ctl.swing_target = ctl.swing_start + [0.25, 0.0, 0.0]
    ctl.swing_target[..., 2] = step(ctl.swing_target[..., 0], 0.0) + robot.foot_radius
    ctl.swing_apex = ctl.swing_target[..., 2] + 0.07
    ctl.v_ref[:] = 1.0
    stopped, v_int = 0, []
    for _ in range(8):
        cycle = ctl.cycle.copy()
        ctl(qpos, np.zeros((1, 18)))
        stopped += int(ctl.cycle[0] == cycle[0])
        v_int.append(ctl.v_int[0])
    assert stopped == held
    if held:  # the speed integral stops too, from the tick after the clock, as many ticks
        assert v_int[held] == v_int[0] < v_int[held + 1]


def _caught_front_touchdowns(cfg: ControllerConfig, monkeypatch) -> float:
    """Fraction of ANYmal B's front touch-downs (first stance tick) that find the foot caught
    under a higher foothold: the ground under the foot over 5 cm below the ground under the
    foothold, the foot over 3 cm short of it (perched on the nose, or against the riser).
    3 robots walk 20 s at 0.5 m/s from flat ground up a flight of 0.14 m stairs."""
    caught = []

    def record(ctl, feet, down):
        ground = ctl.height_fn(feet[..., 0], feet[..., 1])
        tgt = ctl.swing_target
        below = (tgt[..., 2] - ctl.robot.foot_radius - ground > 0.05) \
            & (feet[..., 0] < tgt[..., 0] - 0.03)
        caught.extend(below[:, :2][down[:, :2]])

    _walk_stairs("anymal_b", "pyramid_stairs_up", 8.0, 20.0, cfg, monkeypatch, record)
    assert len(caught) > 200
    return float(np.mean(caught))


def test_riser_guard_and_hold_free_caught_front_feet(monkeypatch):
    """Closed loop (ANYmal B up stairs at 0.5 m/s): without the riser guard and the clock's wait
    about a fifth of the front touch-downs find the foot under the nose of the tread it was
    sent to; with them (B's defaults), clearly fewer."""
    off = ControllerConfig(riser_guard=(), robot_overrides=tuple(
        o for o in ControllerConfig().robot_overrides if o[1] != "hold_max"))
    assert off.for_robot("anymal_b").hold_max == 0
    rates = {name: _caught_front_touchdowns(cfg, monkeypatch)
             for name, cfg in (("off", off), ("on", ControllerConfig()))}
    assert rates["off"] > 0.15, rates
    assert rates["on"] < 0.7 * rates["off"], rates


def test_numpy_controller_does_not_import_torch():
    """The controller runs on numpy without importing torch (the torch namespace is imported
    when a tensor arrives): CPU workers start without it, and Isaac Gym must be imported
    before torch."""
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from behaviorbench.simulation import rollout\n"
            "from behaviorbench.simulation.controller import TrotController\n"
            "from behaviorbench.simulation.robots import standing_qpos\n"
            "ctl = TrotController('anymal_b', np.ones(2))\n"
            "qpos = np.tile(standing_qpos('anymal_b'), (2, 1))\n"
            "ctl.reset(qpos)\n"
            "for _ in range(30):\n"
            "    ctl(qpos, np.zeros((2, 18)))\n"
            "assert 'torch' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
