"""The trot controller on torch tensors == on numpy arrays (float64, CPU), method by method.

There is one controller (``controller.py``, written against :mod:`.array_ops`); with numpy it
takes data-dependent shortcuts (footholds only for the feet lifting off, stairs searches only
for robots a cap would slow, edge checks only for swing feet), with torch it computes every
robot and foot and keeps results by mask (``controller_torch.py`` binds it to torch). These
tests check that both paths agree: outputs, servo gains and every state field (gait clock
``cycle``/``period``/``v_gait`` included) to ~1e-9 on real closed-loop rollout states (stairs
and obstacles, both wrench distributions, contact-aware late touch-downs, reach-clamped IK
targets, step slow-downs) and on random states, and each test checks that the branches it
claims to cover were reached.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from behaviorbench.simulation import controller as C
from behaviorbench.simulation import controller_torch as CT
from behaviorbench.simulation import gait
from behaviorbench.simulation.robots import ROBOTS
from behaviorbench.simulation.rollout import DECIMATION, RunSpec, build_run_model, draw_spawns
from behaviorbench.simulation.terrain import TerrainConfig, build_terrain

TOL = 1e-9
TCFG = TerrainConfig.small(num_rows=2, num_cols=2)
KINDS = [["pyramid_stairs_up", "discrete_obstacles"],
         ["pyramid_stairs_down", "pyramid_slope_up+noise"]]
#: the reach clamp and the step slow-down at any step (step_count 1), on (whatever the defaults)
STEPS = dict(reach=0.85, step_speed=0.5, step_jump=0.08, step_lookahead=1.0, accel=1.0,
             step_count=1)
CONFIGS = {
    "default": C.ControllerConfig(),
    # and the leg-clearance foothold check and the HAA clip off, and ANYmal B's swing feet
    # unguarded (the default guards both robots'; this keeps the unguarded path covered)
    "contact_aware+decoupled+vel_ff": C.ControllerConfig(contact_aware=True,
                                                         decoupled_wrench=True, vel_ff=0.5,
                                                         leg_clearance=0.0, haa_limit=0.0,
                                                         swing_guard=("anymal_c",)),
    # and a longer stance at low speed: the stance fraction changes as robots slow down; and
    # swing feet guarded at edges for both robots (ANYmal B in test_parity_on_random_states),
    # front feet held below risers and the clock waiting for caught feet for both too, and a
    # lower speed cap down stairs
    "reach+step_speed": C.ControllerConfig(**STEPS, duty_slow=0.65,
                                           swing_guard=("anymal_b", "anymal_c"),
                                           riser_guard=("anymal_b", "anymal_c"), hold_max=0.1,
                                           step_speed_down=0.3),
}


@pytest.fixture(scope="module")
def terrain():
    return build_terrain(TCFG, KINDS, [[0.9, 0.9], [0.75, 0.75]], seed=1)


def t64(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def close(a, b, tol=TOL):
    a = np.asarray(a, dtype=np.float64)
    b = b.detach().double().numpy() if isinstance(b, torch.Tensor) else np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(b, a, rtol=0, atol=tol)


def assert_same(np_ctl: C.TrotController, t_ctl: C.TrotController, u, ut, tol=TOL):
    close(u, ut, tol)
    close(np_ctl.kp_joint, t_ctl.kp_joint, tol)
    close(np_ctl.kd_joint, t_ctl.kd_joint, tol)
    for name in C.STATE_FIELDS:
        close(getattr(np_ctl, name), getattr(t_ctl, name), tol)


def branches(np_ctl: C.TrotController) -> dict[str, np.ndarray]:
    """Per (robot, leg) branch of the coming tick (from the numpy controller's state)."""
    cfg = np_ctl.cfg
    phase = np.mod(np_ctl.cycle[:, None] + np.asarray(cfg.gait_offsets), 1.0)
    standing = np.broadcast_to((np_ctl.t < cfg.stand_time)[:, None], phase.shape)
    stance = (phase < np_ctl.duty[:, None]) | standing
    return {"standing": standing, "stance": stance & ~standing, "swing": ~stance,
            "lift": np_ctl.was_stance & ~stance}


def support_after(np_ctl: C.TrotController) -> np.ndarray:
    """(n, 4) legs that got stance forces this tick (compliant gains)."""
    return np_ctl.kp_joint[:, ::3] == np_ctl.cfg.joint_kp


def spy_reach(np_ctl: C.TrotController) -> list[int]:
    """Wrap the numpy controller's reach clamp; the list gets, per call, how many foot targets
    it moved."""
    moved, clamp = [], np_ctl.legs.clamp_reach

    def spy(feet, frac):
        out = clamp(feet, frac)
        moved.append(int((np.abs(out - feet) > 1e-12).any(-1).sum()))
        return out

    np_ctl.legs.clamp_reach = spy
    return moved


def spy_guard(np_ctl: C.TrotController) -> list[int]:
    """Wrap the numpy controller's swing guard; the list gets, per call, how many swing
    references it raised."""
    raised, guard = [], np_ctl._guard_swing

    def spy(ref, feet):
        out = guard(ref, feet)
        raised.append(int((out[..., 2] > ref[..., 2]).sum()))
        return out

    np_ctl._guard_swing = spy
    return raised


def spy_riser(np_ctl: C.TrotController) -> list[int]:
    """Wrap the numpy controller's riser guard; the list gets, per call, how many front swing
    references it held back."""
    held, guard = [], np_ctl._guard_riser

    def spy(ref, feet, dist, top):
        out = guard(ref, feet, dist, top)
        held.append(int((np.abs(out - ref)[:, :2] > 1e-12).any(-1).sum()))
        return out

    np_ctl._guard_riser = spy
    return held


def count_holds(np_ctl: C.TrotController, cycle_before: np.ndarray) -> int:
    """Walking robots whose gait clock did not advance this tick (waiting for a caught foot)."""
    walking = np_ctl.t - np_ctl.cfg.control_dt >= np_ctl.cfg.stand_time
    return int((walking & (np_ctl.cycle == cycle_before)).sum())


def count_gait(seen: dict, np_ctl: C.TrotController, v_gait_before: np.ndarray) -> None:
    """Add this tick's slowed (v_gait below command), slowing and speeding-up robots."""
    seen["slow"] += int((np_ctl.v_gait < np_ctl.v_cmd - 1e-12).sum())
    seen["slowing"] += int((np_ctl.v_gait < v_gait_before - 1e-12).sum())
    seen["speeding"] += int((np_ctl.v_gait > v_gait_before + 1e-12).sum())


# ----------------------------------------------------------------------------- pieces
def test_height_field_matches_terrain(terrain):
    rng = np.random.default_rng(0)
    lo, hi = terrain.extent[:, 0] - 1.0, terrain.extent[:, 1] + 1.0  # some points outside
    x, y = rng.uniform(lo[0], hi[0], (50, 40)), rng.uniform(lo[1], hi[1], (50, 40))
    x[0, :10] = terrain.origin[0] + 0.1 * np.arange(10)  # exactly on samples and edges
    y[0, :10] = terrain.origin[1] + 0.1 * np.arange(10)
    ref = terrain.height_at(x, y)
    hf = CT.TorchHeightField(terrain)
    close(ref, hf(t64(x), t64(y)), 1e-12)
    hf32 = CT.TorchHeightField(terrain, torch.float32)
    out32 = hf32(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32))
    assert out32.dtype == torch.float32
    # float32 coordinates (~1e-5 m at 50 m) times gradients up to 1 give ~1e-4 m height error
    close(ref, out32, 5e-4)
    assert np.ptp(ref) > 0.2  # a terrain with relief, so the check can fail
    flat = C.flat_ground(t64(np.ones((3, 1))), t64(np.ones((1, 2))))
    assert flat.dtype == torch.float64
    close(np.zeros((3, 2)), flat, 0)
    # broadcast coordinates, as Terrain.height_at
    close(terrain.height_at(x[:, :1], y[:1, :]), hf(t64(x[:, :1]), t64(y[:1, :])), 1e-12)


def test_helpers_match_numpy():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(8, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    close(C.quat_to_mat(q), C.quat_to_mat(t64(q)), 1e-14)
    assert CT.quat_to_mat(torch.as_tensor(q, dtype=torch.float32)).dtype == torch.float32
    rot = C.quat_to_mat(q)
    close(C.rpy_from_mat(rot), C.rpy_from_mat(t64(rot)), 1e-14)
    rpy = rng.uniform(-1, 1, (8, 3))
    close(C.rpy_to_mat(rpy), C.rpy_to_mat(t64(rpy)), 1e-14)
    a, b = rng.normal(size=(8, 4, 3)), rng.normal(size=(8, 4, 3))
    close(C._skew(a), C._skew(t64(a)), 0)
    close(C._cross(a, b), C._cross(t64(a), t64(b)), 1e-14)
    for name in ("anymal_b", "anymal_c"):
        robot = ROBOTS[name]
        qj = robot.default_joint_pos + rng.normal(scale=0.4, size=(6, 12))
        p, j = C.LegModel(robot).fk_jac(qj)
        pt, jt = CT.LegModel(robot).fk_jac(t64(qj))
        close(p, pt, 1e-13)
        close(j, jt, 1e-13)
        lm, lmt = C.LegModel(robot), CT.LegModel(robot)
        close(lm.leg_length, lmt.leg_length, 0)
        feet = lm.centers[:, 1] + rng.normal(scale=0.4, size=(6, 4, 3))
        feet[0, 0] = lm.centers[0, 1]  # at the HFE joint
        for frac in (0.7, 0.9):
            ref = lm.clamp_reach(feet, frac)
            close(ref, lmt.clamp_reach(t64(feet), frac), 1e-14)
            moved = (np.abs(ref - feet) > 0).any(-1)
            assert moved.any() and not moved.all()
            d = np.linalg.norm(ref - lm.centers[:, 1], axis=-1)
            assert d.max() <= frac * lm.leg_length.max() + 1e-12
    am, bm = rng.normal(size=(5, 6, 12)), rng.normal(size=(5, 6))
    close(C._min_norm(am, bm, 0.01), C._min_norm(t64(am), t64(bm), 0.01), 1e-10)
    jac = rng.normal(scale=0.3, size=(5, 4, 3, 3))
    close(C.torque_metric_inverse(jac, 0.9, 0.5),
          C.torque_metric_inverse(t64(jac), 0.9, 0.5), 1e-12)
    cycles = rng.uniform(0, 15, 7)
    close(gait.gait_phase(cycles), gait.gait_phase(t64(cycles), t64(gait.TROT_OFFSETS)), 1e-14)
    s = rng.uniform(-0.2, 1.2, (7, 4))
    close(gait.smoothstep(s), gait.smoothstep(t64(s)), 1e-14)
    start, target, apex = rng.normal(size=(7, 4, 3)), rng.normal(size=(7, 4, 3)), rng.normal(
        size=(7, 4))
    close(gait.swing_position(start, target, apex, s, 0.1),
          gait.swing_position(t64(start), t64(target), t64(apex), t64(s), 0.1), 1e-14)
    close(gait.swing_position(start, target, apex, s, 0.1, 0.62),
          gait.swing_position(t64(start), t64(target), t64(apex), t64(s), 0.1, 0.62), 1e-14)


def test_safe_foothold_and_ground_plane(terrain):
    """Footholds on stairs, obstacles and noise: shifted ones, unshifted ones and ones with
    no good candidate (kept in place) all agree."""
    rng = np.random.default_rng(2)
    n = 200
    xy = np.stack([rng.uniform(0, 16, (n, 4)), rng.uniform(0, 16, (n, 4))], -1)
    cn = C.TrotController("anymal_c", np.ones(n), terrain.height_at)
    ct = CT.TrotController("anymal_c", np.ones(n), CT.TorchHeightField(terrain))
    ref = cn._safe_foothold(xy)
    close(ref, ct._safe_foothold(t64(xy)), 1e-12)
    shift = ref[..., 0] - xy[..., 0]
    assert (shift == 0).any() and (shift != 0).any()
    # candidates all bad (noise everywhere): the foothold stays where it was
    assert (shift == 0).sum() > (np.abs(shift) > 0).sum() * 0.05
    pos, yaw = np.column_stack([xy[:, 0], np.zeros(n)]), rng.uniform(-0.5, 0.5, n)
    for a, b in zip(cn._ground_plane(pos, yaw), ct._ground_plane(t64(pos), t64(yaw)),
                    strict=True):
        close(a, b, 1e-12)
    # the nominal stance tilted with the pitch reference
    cn.pitch_ref[:] = rng.uniform(-0.6, 0.6, n)
    ct.pitch_ref[:] = t64(cn.pitch_ref)
    close(cn._nominal_stance(), ct._nominal_stance(), 1e-14)
    assert np.ptp(cn._nominal_stance()[:, 0, 0]) > 0.1
    # with the stance's hip positions (leg clearance): hips ahead, leg hits, footholds
    pos3 = np.column_stack([xy[:, 0, 0] - 0.45, xy[:, 0, 1], np.zeros(n)])
    v, t = rng.uniform(0.5, 1.5, n), rng.uniform(0.1, 0.4, n)
    hips = [cn._hips_ahead(pos3, yaw, v, t), cn._hips_ahead(pos3, yaw, v, 2 * t)]
    hips_t = [ct._hips_ahead(t64(pos3), t64(yaw), t64(v), t64(t)),
              ct._hips_ahead(t64(pos3), t64(yaw), t64(v), t64(2 * t))]
    for (ax, az), (bx, bz) in zip(hips, hips_t, strict=True):
        close(ax, bx, 1e-12)
        close(az, bz, 1e-12)
    cz = terrain.height_at(xy[..., 0], xy[..., 1])[..., None] + 0.03
    hits = cn._leg_hits(xy[..., 0, None], xy[..., 1, None], cz, *hips[0])
    np.testing.assert_array_equal(
        ct._leg_hits(t64(xy[..., 0, None]), t64(xy[..., 1, None]), t64(cz), *hips_t[0]).numpy(),
        hits)
    assert 0.02 < hits.mean() < 0.98, hits.mean()
    ref_legs = cn._safe_foothold(xy, hips)
    close(ref_legs, ct._safe_foothold(t64(xy), hips_t), 1e-12)
    assert (ref_legs != ref).any()                     # the leg check moved some footholds


def test_steps_near_and_period(terrain):
    """Step detection along the feet's lines (stairs, obstacles, noise and flat ground, any
    heading, two look-aheads and jump thresholds) and the speed -> period map agree."""
    rng = np.random.default_rng(7)
    n = 300
    pos = np.column_stack([rng.uniform(-1, 17, n), rng.uniform(-1, 17, n), np.zeros(n)])
    yaw = rng.uniform(-np.pi, np.pi, n)
    for kw in (dict(step_lookahead=1.0, step_jump=0.08), dict(step_lookahead=0.3, step_jump=0.2),
               dict(step_lookahead=2.5, step_count=3)):
        cfg = C.ControllerConfig(**{**STEPS, **kw})
        cn = C.TrotController("anymal_c", np.ones(n), terrain.height_at, config=cfg)
        ct = CT.TrotController("anymal_c", np.ones(n), CT.TorchHeightField(terrain), config=cfg)
        ref = cn._steps_near(pos, yaw)
        out = ct._steps_near(t64(pos), t64(yaw))
        assert out.dtype == torch.bool
        np.testing.assert_array_equal(out.numpy(), ref)
        assert 0.1 < ref.mean() < 0.9, ref.mean()
        v = rng.uniform(-0.5, 3.0, n)  # through both clip bounds
        close(cn._period(v), ct._period(t64(v)), 0)
        close(cn._duty(v), ct._duty(t64(v)), 0)


def test_write_gains_and_reset():
    rng = np.random.default_rng(3)
    n = 5
    cn = C.TrotController("anymal_b", np.full(n, 0.7))
    ct = CT.TrotController("anymal_b", np.full(n, 0.7))
    qpos = np.tile(np.r_[0.0, 0.3, 0.5, 1, 0, 0, 0, ROBOTS["anymal_b"].default_joint_pos], (n, 1))
    qpos[:, :3] += rng.normal(scale=0.05, size=(n, 3))
    for ctl in (cn, ct):  # a clock mid-episode, slowed down
        ctl.t = ctl.t + 1.0
        ctl.cycle = ctl.cycle + 2.3
        ctl.v_gait = ctl.v_gait - 0.2
        ctl.v_ref = ctl.v_ref + 0.4
    cn.reset(qpos)
    ct.reset(t64(qpos))
    for name in C.STATE_FIELDS:
        close(getattr(cn, name), getattr(ct, name), 0)
    close(np.full(n, 0.7), ct.v_gait, 0)
    close(np.zeros(n), ct.cycle, 0)
    u, ut = cn(qpos, np.zeros((n, 18))), ct(t64(qpos), torch.zeros(n, 18, dtype=torch.float64))
    assert_same(cn, ct, u, ut)
    g, b = rng.normal(size=(n, 12, 10)), rng.normal(size=(n, 12, 10))
    gt, bt = t64(g), t64(b)
    cn.write_gains(g, b)
    ct.write_gains(gt, bt)
    close(g, gt, 0)
    close(b, bt, 0)


# ----------------------------------------------------------------------------- closed loop
@pytest.mark.parametrize("name", list(CONFIGS))
def test_parity_on_rollout_states(terrain, name):
    """The controller on numpy and on torch, on the states of a real MuJoCo rollout (numpy
    driving): 2.4 s, 4 ANYmal C on stairs/obstacles; every tick's outputs, gains and state
    agree (with reach < 1 and step_speed > 0: clamped IK targets, and robots slowing down for
    steps, so that ``v_gait``, ``period`` and the ``cycle`` phase integrator vary)."""
    import mujoco.batch

    cfg = CONFIGS[name]
    n = 4
    run = RunSpec(robot="anymal_c", command_vel=1.0, n_robots=n, terrain=TCFG, seed=2,
                  max_init_terrain_level=1, controller=cfg)
    model = build_run_model(run.robot, terrain, cfg)
    spawn = draw_spawns(run, terrain, range(n))
    batch = mujoco.batch.Batch(model, n, 1, persistent=True)
    batch.expand("body_mass")[:, model.body("base").id] += spawn.added_mass
    batch.set_const()
    qpos, qvel, ctrl = batch.bind("qpos"), batch.bind("qvel"), batch.bind("ctrl")
    gainprm, biasprm = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
    qpos[:] = spawn.qpos
    batch.forward()
    cn = C.TrotController("anymal_c", np.full(n, 1.0), terrain.height_at, spawn.added_mass, cfg)
    ct = CT.TrotController("anymal_c", np.full(n, 1.0), CT.TorchHeightField(terrain),
                           spawn.added_mass, cfg)
    cn.reset(qpos.copy())
    ct.reset(t64(qpos))
    reach_moved = spy_reach(cn)
    guard_raised = spy_guard(cn)
    riser_held = spy_riser(cn)
    holds = 0
    seen = dict.fromkeys(("standing", "stance", "swing", "lift", "late", "slow", "slowing",
                          "speeding"), 0)
    periods = set()
    for _ in range(120):
        qp, qv = qpos.copy(), qvel.copy()
        br = branches(cn)
        v_gait, cycle = cn.v_gait.copy(), cn.cycle.copy()
        u = cn(qp, qv)
        holds += count_holds(cn, cycle)
        ut = ct(t64(qp), t64(qv))
        assert_same(cn, ct, u, ut)
        for k in ("standing", "stance", "swing", "lift"):
            seen[k] += int(br[k].sum())
        seen["late"] += int((br["stance"] & ~support_after(cn)).sum())
        count_gait(seen, cn, v_gait)
        periods.update(np.round(cn.period, 12).tolist())
        ctrl[:] = u
        cn.write_gains(gainprm, biasprm)
        batch.step(nstep=DECIMATION)
    assert min(seen[k] for k in ("standing", "stance", "swing", "lift")) > 10, seen
    if cfg.contact_aware:
        assert seen["late"] > 0, seen
    if name == "reach+step_speed":  # (speeding up again: test_parity_on_random_states)
        assert len(reach_moved) == 120 and sum(reach_moved) > 10, reach_moved
        assert min(seen[k] for k in ("slow", "slowing")) > 0, seen
        assert len(periods) > 5, periods
    # ANYmal C's swing feet are guarded at edges by default and in this config
    assert ("anymal_c" in cfg.swing_guard) == (len(guard_raised) == 120), len(guard_raised)
    if guard_raised:
        assert sum(guard_raised) > 0, guard_raised
    # the riser guard and the clock's wait: in this config only (ANYmal B's by default)
    assert ("anymal_c" in cfg.riser_guard) == (len(riser_held) == 120), len(riser_held)
    assert ("anymal_c" in cfg.riser_guard) == (sum(riser_held) > 0), riser_held
    assert (cfg.for_robot("anymal_c").hold_max > 0) == (holds > 0), holds
    assert np.isfinite(qpos).all() and (qpos[:, 0] - spawn.qpos[:, 0]).mean() > 0.5


def test_parity_on_random_states(terrain):
    """Random poses, velocities and controller states (any clock time and gait cycle, slowed
    or not, lifted or planted feet, stale swing targets), three ticks from each, for every
    config."""
    rng = np.random.default_rng(4)
    n = 96
    robot = ROBOTS["anymal_b"]
    for name, cfg in CONFIGS.items():
        cmd = rng.uniform(0.3, 1.5, n)
        am = rng.uniform(-5, 5, n)
        cn = C.TrotController(robot, cmd, terrain.height_at, am, cfg)
        ct = CT.TrotController(robot, cmd, CT.TorchHeightField(terrain), am, cfg)
        xy = np.stack([rng.uniform(1, 15, n), rng.uniform(1, 15, n)], -1)
        qpos = np.zeros((n, 19))
        qpos[:, :2] = xy
        qpos[:, 2] = terrain.height_at(xy[:, 0], xy[:, 1]) + robot.nominal_base_height \
            + rng.uniform(-0.08, 0.08, n)
        quat = np.column_stack([np.ones(n), rng.normal(scale=0.08, size=(n, 3))])
        qpos[:, 3:7] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
        qpos[:, 7:] = robot.default_joint_pos + rng.normal(scale=0.15, size=(n, 12))
        qvel = rng.normal(scale=0.3, size=(n, 18))
        cn.reset(qpos)
        feet = qpos[:, None, :3] + rng.normal(scale=0.3, size=(n, 4, 3))
        state = {"t": rng.uniform(0, 3, n), "y_ref": xy[:, 1] + rng.normal(scale=0.2, size=n),
                 "swing_start": feet, "swing_target": feet + rng.normal(scale=0.2, size=feet.shape),
                 "swing_apex": feet[..., 2] + 0.2, "was_stance": rng.random((n, 4)) < 0.5,
                 "pitch_ref": rng.normal(scale=0.1, size=n), "z_ground": qpos[:, 2] - 0.5,
                 "v_int": rng.uniform(-0.3, 0.3, n), "att_int": rng.uniform(-0.2, 0.2, (n, 3)),
                 "cycle": rng.uniform(0, 8, n), "v_ref": rng.uniform(0, 1.5, n),
                 "v_gait": np.where(rng.random(n) < 0.5, cmd, cmd * rng.uniform(0.2, 1.0, n)),
                 "hold_t": rng.choice([0.0, 0.02, 0.06, 0.1], n)}
        state["t"][:10] = rng.uniform(0, cfg.stand_time, 10)  # some standing
        for k, v in state.items():
            setattr(cn, k, v.copy())
        ct.load_state(state)
        reach_moved = spy_reach(cn)
        guard_raised = spy_guard(cn)
        riser_held = spy_riser(cn)
        holds = 0
        seen = dict.fromkeys(("standing", "stance", "swing", "lift", "late", "slow", "slowing",
                              "speeding"), 0)
        for _ in range(3):
            br = branches(cn)
            v_gait, cycle = cn.v_gait.copy(), cn.cycle.copy()
            u = cn(qpos, qvel)
            holds += count_holds(cn, cycle)
            ut = ct(t64(qpos), t64(qvel))
            assert_same(cn, ct, u, ut)
            for k in ("standing", "stance", "swing", "lift"):
                seen[k] += int(br[k].sum())
            seen["late"] += int((br["stance"] & ~support_after(cn)).sum())
            count_gait(seen, cn, v_gait)
            qpos = qpos + 0.02 * np.concatenate([qvel[:, :3], np.zeros((n, 4)), qvel[:, 6:]], 1)
        assert min(seen[k] for k in ("standing", "stance", "swing", "lift")) > 0, seen
        if cfg.contact_aware:
            assert seen["late"] > 0, seen
        if name == "reach+step_speed":
            assert len(reach_moved) == 3 and sum(reach_moved) > 0, reach_moved
            assert min(seen[k] for k in ("slow", "slowing", "speeding")) > 0, seen
        if "anymal_b" in cfg.swing_guard:  # by default: both robots' swing feet, on stairs
            assert len(guard_raised) == 3 and sum(guard_raised) > 0, guard_raised
        else:
            assert guard_raised == [], guard_raised
        # ANYmal B's front feet are held below risers, and its clock waits, in every config
        assert len(riser_held) == 3 and sum(riser_held) > 0, riser_held
        assert holds > 0, holds


@pytest.mark.parametrize("name", ["default", "reach+step_speed"])
def test_float32_close_to_float64(terrain, name):
    """The GPU default (float32) stays close to float64 on rollout-like states."""
    rng = np.random.default_rng(5)
    n = 32
    robot = ROBOTS["anymal_c"]
    xy = np.stack([rng.uniform(1, 15, n), rng.uniform(1, 15, n)], -1)
    qpos = np.zeros((n, 19))
    qpos[:, :2] = xy
    qpos[:, 2] = terrain.height_at(xy[:, 0], xy[:, 1]) + robot.nominal_base_height
    qpos[:, 3] = 1.0
    qpos[:, 7:] = robot.default_joint_pos + rng.normal(scale=0.1, size=(n, 12))
    qvel = rng.normal(scale=0.2, size=(n, 18))
    outs = {}
    for dt in (torch.float64, torch.float32):
        ct = CT.TrotController(robot, np.full(n, 1.0), CT.TorchHeightField(terrain, dt),
                               config=CONFIGS[name], dtype=dt)
        ct.reset(torch.as_tensor(qpos))
        for _ in range(20):  # through standing into the first steps
            u = ct(torch.as_tensor(qpos), torch.as_tensor(qvel))
        assert u.dtype == dt
        assert ct.t.dtype == ct.cycle.dtype == ct.period.dtype == ct.v_gait.dtype == torch.float64
        outs[dt] = (u.double().numpy(), ct.kp_joint.double().numpy(), ct.cycle.numpy())
    np.testing.assert_array_equal(outs[torch.float32][1], outs[torch.float64][1])
    np.testing.assert_array_equal(outs[torch.float32][2], outs[torch.float64][2])
    err = np.abs(outs[torch.float32][0] - outs[torch.float64][0])
    assert err.max() < 1e-3, err.max()


PLATEAU, PIT = 4.0, 13.2  # m, x of a stairs plateau (steps down ahead), a stairs pit (up)
DOWN = 6.0  # m, x on the stairs down from that plateau (ground-plane pitch 0.6 rad)


@pytest.mark.parametrize("change, x", [
    (dict(kp_z=90.0, swing_kp=150.0, press_depth=0.03), PLATEAU),
    (dict(reach=0.75), PLATEAU), (dict(step_speed=0.3), PLATEAU), (dict(step_jump=0.3), PLATEAU),
    (dict(step_lookahead=0.3), PLATEAU), (dict(accel=3.0), PLATEAU), (dict(period=0.4), PLATEAU),
    (dict(period_slope=0.3), PLATEAU), (dict(haa_limit=0.05), PLATEAU),
    (dict(inertia=(1.0, 2.5, 2.5)), PLATEAU), (dict(step_count=3), PLATEAU),
    (dict(v_int_max=0.02), PLATEAU), (dict(robot_overrides=(("anymal_c", "kp_z", 90.0),)), PLATEAU),
    (dict(swing_descent=0.62), PLATEAU), (dict(torque_weight=0.5), PLATEAU),
    (dict(riser_guard=("anymal_c",)), PIT), (dict(hold_max=0.2), PIT),
    (dict(step_speed_down=0.2, robot_overrides=()), DOWN),
], ids=lambda c: "+".join(c) if isinstance(c, dict) else "")
def test_config_changes_reach_both_paths(terrain, change, x):
    """A config field the numpy path reads is read by the torch path too (the check fails if
    one of them ignores it): each change moves the numpy outputs (on some tick), and the torch
    outputs with them. The robots stand (their state frozen) 0.6 m above the ground at ``x`` m: on a
    stairs plateau with a step down less than 1 m (but more than 0.3 m) ahead of their front
    feet, in a stairs pit with a step up just ahead of them (the riser guard and the clock's
    wait act on steps up), or on the stairs down (``step_speed_down``)."""
    n = 8
    rng = np.random.default_rng(6)
    robot = ROBOTS["anymal_c"]
    qpos = np.tile(np.r_[x, 4.0, 0.0, 1, 0, 0, 0, robot.default_joint_pos], (n, 1))
    qpos[:, 2] = terrain.height_at(qpos[:, 0], qpos[:, 1]) + 0.6
    qpos[:, 7:] += rng.normal(scale=0.1, size=(n, 12))
    qvel = rng.normal(scale=0.2, size=(n, 18))
    base = replace(CONFIGS["default"], period=0.3, period_slope=0.1, **STEPS)
    outs = []
    for cfg in (base, replace(base, **change)):
        cn = C.TrotController(robot, np.ones(n), terrain.height_at, config=cfg)
        ct = CT.TrotController(robot, np.ones(n), CT.TorchHeightField(terrain), config=cfg)
        cn.reset(qpos)
        ct.reset(t64(qpos))
        us = []
        for _ in range(40):  # 0.8 s: standing, speed ramp, slowing down for the step
            u, ut = cn(qpos, qvel), ct(t64(qpos), t64(qvel))
            assert_same(cn, ct, u, ut)
            us.append(u)
        outs.append(np.stack(us))
    assert np.abs(outs[0] - outs[1]).max() > 1e-3
