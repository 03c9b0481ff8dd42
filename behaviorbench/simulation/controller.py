"""Model-based, terrain-aware trot controller for many ANYmal robots at once (numpy or torch).

No learning and no downloaded weights. Per control tick (50 Hz) and for ``n`` robots at once:

1. **Trot clock** (:mod:`.gait`): diagonal leg pairs alternate stance and swing; the phase
   integrates ``dt / period``, so the cadence can change mid-walk. A leg is in stance ``duty``
   of the period at 1 m/s and above, ``duty_slow`` at 0.5 m/s and below (above ``duty``:
   four feet down twice a cycle, less load per leg; by default both are 0.5).
2. **Footholds** (Raibert heuristic in the heading frame): nominal foot position under the body
   (the flat-ground stance tilted with the body's pitch, ``foothold_tilt``) shifted by
   ``v_des * T_stance / 2`` plus velocity feedback ``k_raibert * (v - v_des)``. The foothold
   height comes from the terrain heightmap; footholds close to a height edge (a stair
   nose, an obstacle side), or where the shank or thigh would touch the terrain during the
   coming stance (knee placed by planar IK from the predicted hip positions), are moved to the
   nearest spot clear of both.
3. **Swing trajectories**: lift, travel at an apex above the highest terrain between lift-off
   and touch-down (+ clearance), descend. The trajectory is timed, and feet lag it: guards
   keep a lagging foot off a stair nose (``swing_guard``: held above an edge until past it, down
   stairs; ``riser_guard``: a front foot below an edge ahead rises before it moves on), and
   the clock waits up to ``hold_max`` for a foot ending its swing below an edge.
4. **Body reference**: forward at the command velocity (capped at ``step_speed``, with a slower
   cadence, where the height map shows a flight of stairs within ``step_lookahead``, and at
   ``step_speed_down`` going down them),
   lateral drift and heading corrected,
   height and pitch following the local ground plane under the feet.
5. **Joint targets** by one damped Gauss-Newton IK step per leg from the current angles
   (:class:`LegModel`, the same kinematics as :class:`RobotSpec`), on targets kept within
   ``reach`` of the leg length (a stretched leg passes the straight-knee singularity and its knee
   flips to the other branch): swing legs track the swing trajectory ``lead_ticks`` ahead, with
   abduction targets within ``haa_limit``; stance legs keep their feet where they are while the
   body moves to its reference one tick ahead.
6. **Stance forces**: a desired body wrench (gravity + height/velocity/attitude feedback) is
   distributed over the stance feet by regularised least squares and mapped to joint torques
   by ``-J^T f``.

Modules, one job each: :mod:`.controller_config` (parameters, gait timing),
:mod:`.controller_footholds` (terrain queries, footholds; step 2), :mod:`.controller_swing`
(swing paths and guards; step 3), :mod:`.controller_forces` (step 6),
:mod:`.controller_geometry` (rotations, :class:`LegModel`); this module holds the controller
class and the tick. ``docs/simulation-controller.md`` describes the whole.

The output is what position servos take as ``ctrl``: ``q_des + tau_ff / kp``, so that the
servos apply ``kp (q_des - q) - kd qdot + tau_ff`` at the physics rate between control ticks;
``kp``/``kd`` are per joint and per tick (stiff swing legs, compliant force-controlled stance
legs), written by :meth:`TrotController.write_gains` into per-simulation actuator parameters.

Arrays: numpy float64 on the CPU, or torch tensors (:mod:`.controller_torch`, the GPU backends);
the code calls array functions through the namespace ``xp`` of :mod:`.array_ops` (numpy's own
functions for numpy arrays). Units SI (m, s, rad, kg, N, N m).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .array_ops import NUMPY
from .controller_config import ControllerConfig, stance_fraction, trot_period
from .controller_footholds import FootholdMixin
from .controller_forces import ForceMixin, _min_norm, torque_metric_inverse
from .controller_geometry import (
    LegModel,
    _cross,
    _skew,
    flat_ground,
    quat_to_mat,
    rpy_from_mat,
    rpy_to_mat,
)
from .controller_swing import SwingMixin
from .gait import gait_phase
from .robots import ROBOTS, RobotSpec

__all__ = [
    "CLOCK_FIELDS", "GRAVITY", "STATE_FIELDS", "ControllerConfig", "HeightFn", "LegModel",
    "TrotController", "_cross", "_min_norm", "_skew", "configure_servos", "flat_ground",
    "quat_to_mat", "rpy_from_mat", "rpy_to_mat", "stance_fraction", "torque_metric_inverse",
    "trot_period",
]

#: terrain height z (m) at world points x, y (m): arrays (or tensors) of broadcastable shapes
HeightFn = Callable[[Any, Any], Any]
GRAVITY = 9.81  # m/s^2

def configure_servos(model, cfg: ControllerConfig) -> None:
    """Set every position servo of ``model`` (MjModel) to kp ``cfg.joint_kp`` and damping
    ``cfg.joint_kd`` (in place)."""
    model.actuator_gainprm[:, 0] = cfg.joint_kp
    model.actuator_biasprm[:, 0] = 0.0
    model.actuator_biasprm[:, 1] = -cfg.joint_kp
    model.actuator_biasprm[:, 2] = -cfg.joint_kd


#: controller state (attribute names): what :meth:`TrotController.state_dict` returns
STATE_FIELDS: tuple[str, ...] = (
    "t", "cycle", "v_gait", "v_ref", "y_ref", "swing_start", "swing_target",
    "swing_apex", "was_stance", "pitch_ref", "z_ground", "v_int", "att_int", "hold_t",
)
#: the gait-clock fields of :data:`STATE_FIELDS`: float64 whatever the working dtype
CLOCK_FIELDS: tuple[str, ...] = ("t", "cycle", "v_gait", "hold_t")


class TrotController(FootholdMixin, SwingMixin, ForceMixin):
    """Vectorised trot controller for ``n`` robots of one type.

    Args:
        robot: robot name or :class:`RobotSpec`.
        command_vel: (n,) m/s forward (world +x) velocity commands.
        height_fn: vectorised terrain height ``f(x, y) -> z`` (m, world) on arrays of the
            namespace ``xp``, e.g. ``Terrain.height_at`` (numpy) or
            :class:`~behaviorbench.simulation.controller_torch.TorchHeightField`.
        added_mass: (n,) kg mass added to the base (known to the controller; model-based).
        config: :class:`ControllerConfig`.
        xp: array namespace (:mod:`.array_ops`): :data:`~.array_ops.NUMPY` (default; float64
            numpy arrays) or a torch namespace
            (:class:`behaviorbench.simulation.controller_torch.TrotController` binds one).

    State (``t``, ``cycle``... :data:`STATE_FIELDS`) and the outputs of :meth:`__call__` are
    arrays of ``xp``: in its working dtype ``xp.float``, the gait clock (:data:`CLOCK_FIELDS`,
    ``period``, ``duty``) in float64 (``xp.clock``). The lateral line each robot keeps
    (``y_ref``, m) is its y at :meth:`reset`.

    With numpy the controller computes footholds only for the robots lifting a foot, the
    stairs search only for the robots a speed cap would slow, edge and guard checks only for
    the swing feet; with torch (``xp.sync_free``) it computes them for every robot and foot and
    keeps the results by mask, so that a tick never waits for the device. The results agree
    (``tests/simulation/test_controller_torch.py``).
    """

    def __init__(self, robot: str | RobotSpec, command_vel, height_fn: HeightFn = flat_ground,
                 added_mass=None, config: ControllerConfig | None = None, *, xp=NUMPY):
        self.robot = rb = ROBOTS[robot] if isinstance(robot, str) else robot
        self.cfg = cfg = (config or ControllerConfig()).for_robot(self.robot.name)
        self.xp = xp
        self.v_cmd = xp.asarray(command_vel)                      # (n,) m/s
        self._v_cmd64 = xp.asclock(command_vel)    # (n,) m/s the clock's copy (numpy: v_cmd)
        self.n = n = self.v_cmd.shape[0]
        self.height_fn = height_fn
        am = np.zeros(n) if added_mass is None else added_mass
        self.mass = rb.total_mass + xp.asarray(am)                  # (n,) kg
        self.legs = LegModel(rb, xp)
        self._leg_scale = float(self.legs.leg_length.mean())  # m, l of torque_weight
        nominal = rb.default_foot_positions.copy()                  # (4, 3) m base frame
        nominal[:, 0] += cfg.foothold_dx
        nominal[:, 1] = np.sign(nominal[:, 1]) * np.maximum(
            np.abs(rb.hip_positions[:, 1]) + 0.05, np.abs(nominal[:, 1]) - 0.05)
        self.nominal_feet = xp.asarray(nominal)
        self.body_height = rb.nominal_base_height + cfg.height_offset   # m
        # m, front-to-hind distance of the nominal feet (the ground plane's pitch baseline)
        self._plane_dx = float(nominal[:2, 0].mean() - nominal[2:, 0].mean())
        # the gait clock is float64 whatever xp.float: a float32 clock summed over thousands of
        # ticks drifts, and its stance/swing switches would fall on other ticks
        self.t = xp.zeros(n, dtype=xp.clock)                         # (n,) s
        self.cycle = xp.zeros(n, dtype=xp.clock)  # gait cycles since the end of the standing start
        self.v_gait = xp.copy(self._v_cmd64)  # m/s, speed the cadence follows (capped on steps)
        self.hold_t = xp.zeros(n, dtype=xp.clock)  # s the clock has waited for a caught foot
        self.y_ref = xp.zeros(n)                                     # (n,) m
        self.swing_start = xp.zeros((n, 4, 3))                       # m world, at lift-off
        self.swing_target = xp.zeros((n, 4, 3))                      # m world, the foothold
        self.swing_apex = xp.zeros((n, 4))                           # m world
        self.was_stance = xp.ones((n, 4), dtype=xp.bool)
        self.pitch_ref = xp.zeros(n)                                 # rad
        self.z_ground = xp.zeros(n)                                  # m
        self.v_int = xp.zeros(n)                                     # m/s
        self.v_ref = xp.zeros(n)                                     # m/s
        self.att_int = xp.zeros((n, 3))                              # rad s
        # constants of a tick
        self._offsets = xp.asclock(cfg.gait_offsets)       # (4,) period fractions per leg
        self._gravity = xp.asarray([0.0, 0.0, GRAVITY])    # (3,) m/s^2
        self._inertia = xp.asarray(cfg.inertia)            # (3,) kg m^2
        self._eye3 = xp.eye(3)
        self._front_legs = xp.asbool(np.arange(4) < 2)     # (4,) LF, RF
        # _steps_near's sample offsets (heading frame): (K,) m along, (3,) m across
        xf, xh = nominal[0, 0], nominal[2, 0]
        self._step_s = xp.asarray(np.arange(xh - 0.2, xf + cfg.step_lookahead, 0.05))
        self._step_lat = xp.asarray(np.array([-1.0, 0.0, 1.0]) * abs(nominal[0, 1]))
        # _safe_foothold's candidates (K,) m along x and the offsets of the edge-free check:
        # per leg (4,) m behind / ahead (knee_margin on the knee side), (7,) m across
        m, k = cfg.edge_margin, cfg.knee_margin
        self._shifts = xp.asarray([0.0, -0.04, 0.04, -0.08, 0.08, -0.12, 0.12, -0.16, 0.16, -0.2])
        self._back, self._front = xp.asarray([k, k, m, m]), xp.asarray([m, m, k, k])
        self._oy = xp.asarray([0.0, 0.0, 0.0, 0.0, 0.0, m, -m])
        self._ss7 = xp.asarray(np.linspace(0.0, 1.0, 7))    # swing path samples (fractions)
        self._ss9 = xp.asarray(np.linspace(0.0, 1.0, 9))    # _guard_swing's
        # _edge_ahead's samples: (13,) fractions of the way, and m past it (0 at the foot)
        self._edge_ss = xp.asarray(np.linspace(0.0, 1.0, 13))
        self._edge_off = xp.asarray((rb.foot_radius + 0.01) * (np.arange(13) > 0))
        # _guard_swing's samples around the foot (3,) m along x
        g = rb.foot_radius + 0.02
        self._around = xp.asarray([-g, 0.0, g])

    def configure_model(self, model) -> None:
        """Write the servo gains (``joint_kp``, ``joint_kd``) into a model built with position
        actuators (``actuator="position"``): force = kp (ctrl - q) - kd qdot."""
        configure_servos(model, self.cfg)

    # ------------------------------------------------------------------ state
    def reset(self, qpos) -> None:
        """Start a new episode from ``qpos`` (n, 19): time 0, keep the current lateral line."""
        qpos = self.xp.asarray(qpos)
        self.t[:] = 0.0
        self.y_ref[:] = qpos[:, 1]
        self.was_stance[:] = True
        self.pitch_ref[:] = 0.0
        self.v_int[:] = 0.0
        self.v_ref[:] = 0.0
        self.v_gait[:] = self._v_cmd64
        self.cycle[:] = 0.0
        self.att_int[:] = 0.0
        self.hold_t[:] = 0.0
        self.z_ground[:] = qpos[:, 2] - self.robot.nominal_base_height

    def state_dict(self) -> dict:
        """The controller state (:data:`STATE_FIELDS`) as arrays of ``xp`` (no copies)."""
        return {k: getattr(self, k) for k in STATE_FIELDS}

    def load_state(self, state: dict) -> None:
        """Set the controller state (copies) from arrays or tensors of any kind, e.g. another
        controller's :meth:`state_dict`."""
        xp = self.xp
        for k in STATE_FIELDS:
            conv = (xp.asbool if k == "was_stance" else xp.asclock if k in CLOCK_FIELDS
                    else xp.asarray)
            setattr(self, k, xp.copy(conv(state[k])))

    # ------------------------------------------------------------------ gait timing
    def _period(self, v):
        """Trot period (n,) s at speed ``v`` (n,) m/s (:func:`trot_period`)."""
        return trot_period(self.cfg, v)

    @property
    def period(self):
        """(n,) float64 s trot period at the speed the gait follows (``v_gait``)."""
        return self._period(self.v_gait)

    @property
    def duty(self):
        """(n,) float64 stance fraction at the speed the gait follows (``v_gait``)."""
        return self._duty(self.v_gait)

    def _duty(self, v):
        """Stance fraction (n,) at speed ``v`` (n,) m/s (:func:`stance_fraction`)."""
        return stance_fraction(self.cfg, v)

    # ------------------------------------------------------------------ main
    def __call__(self, qpos, qvel, rot=None):
        """One control tick. ``qpos`` (n, 19), ``qvel`` (n, 18) (MuJoCo free-joint layout:
        world position, w-x-y-z quaternion, 12 joints; world linear velocity, body angular
        velocity, 12 joint velocities); ``rot`` (n, 3, 3) ``quat_to_mat`` of the quaternions,
        where the caller has it already. Returns ctrl (n, 12) for position servos: target
        angle + feed-forward torque / kp (rad), in ``xp.float``. Advances the clock by
        ``control_dt``."""
        cfg, rb, xp = self.cfg, self.robot, self.xp
        n, dt = self.n, cfg.control_dt
        qpos, qvel = xp.asarray(qpos), xp.asarray(qvel)
        pos, quat, q = qpos[:, :3], qpos[:, 3:7], qpos[:, 7:19]
        vel, omega_b = qvel[:, :3], qvel[:, 3:6]
        if rot is None:
            rot = quat_to_mat(quat)
        rpy = rpy_from_mat(rot)
        yaw = rpy[:, 2]
        omega = xp.einsum("nij,nj->ni", rot, omega_b)

        # --- trot clock (float64)
        t_gait = xp.maximum(self.t - cfg.stand_time, 0.0)
        standing = self.t < cfg.stand_time
        phase = gait_phase(self.cycle, self._offsets)                  # (n, 4)
        duty, period = self.duty[:, None], self.period[:, None]         # (n, 1), this tick's
        stance = (phase < duty) | standing[:, None]
        # the rest of the tick in the working dtype (numpy: these very arrays)
        t_gait, phase, duty, period = (xp.asarray(a) for a in (t_gait, phase, duty, period))
        t_swing = (1.0 - duty) * period                                 # (n, 1) s
        t_stance = duty * period
        s_swing = xp.clamp((phase - duty) / (1.0 - duty), 0.0, 1.0)

        # --- body reference
        z_ground, pitch_ground = self._ground_plane(pos, yaw)
        self.z_ground = z_ground
        self.pitch_ref += 0.2 * (cfg.pitch_gain * pitch_ground - self.pitch_ref)
        ramp = xp.clamp(t_gait / 0.5, 0.0, 1.0)
        guard = rb.name in cfg.swing_guard
        steps = None
        if guard or (cfg.step_speed > 0 and xp.sync_free):
            steps = self._steps_near(pos, yaw)
        elif cfg.step_speed > 0:  # only robots a cap would slow need the map's verdict
            cap = min(cfg.step_speed, cfg.step_speed_down or cfg.step_speed)
            steps = np.zeros(n, dtype=bool)
            need = self.v_cmd > cap
            if need.all():
                steps = self._steps_near(pos, yaw)
            elif need.any():
                steps[need] = self._steps_near(pos[need], yaw[need])
        if cfg.step_speed > 0:  # slow down (and step slower) where the map shows steps
            v_cap = xp.where(steps, xp.minimum(self._v_cmd64, cfg.step_speed), self._v_cmd64)
            if cfg.step_speed_down > 0:  # slower still down the stairs
                down = steps & (pitch_ground > cfg.descent_pitch)
                v_cap = xp.where(down, xp.minimum(v_cap, cfg.step_speed_down), v_cap)
            self.v_gait += xp.clamp(v_cap - self.v_gait, -cfg.accel * dt, cfg.accel * dt)
        self.v_ref = xp.minimum(xp.asarray(self.v_gait), self.v_cmd * ramp)
        v_des = xp.zeros((n, 3))
        self.v_int += dt * (self.v_ref - vel[:, 0]) * (~standing) * (self.hold_t == 0.0)
        self.v_int = xp.clamp(self.v_int, -cfg.v_int_max, cfg.v_int_max)
        v_des[:, 0] = self.v_ref + cfg.ki_v * self.v_int
        v_des[:, 1] = xp.clamp(cfg.kp_y * (self.y_ref - pos[:, 1]), -0.3, 0.3)
        z_des = z_ground + self.body_height
        yaw_err = -yaw
        rpy_des = xp.zeros((n, 3))
        rpy_des[:, 1] = self.pitch_ref
        rot_des = rpy_to_mat(rpy_des)

        # --- kinematics
        feet_b, jac_b = self.legs.fk_jac(q)                            # (n,4,3), (n,4,3,3)
        feet_w = pos[:, None, :] + xp.einsum("nij,nkj->nki", rot, feet_b)
        jac_w = xp.einsum("nij,nkjl->nkil", rot, jac_b)

        # --- swing bookkeeping: footholds at lift-off
        lift = self.was_stance & ~stance
        tick = (pos, yaw, vel, v_des, t_swing, t_stance, feet_w)
        if xp.sync_free:  # every foot of every robot, kept where one lifts off
            self._lift_off(lift, slice(None), None, *tick)
        else:
            rows = np.flatnonzero(lift.any(-1))  # only for the robots lifting a foot
            if len(rows):
                self._lift_off(lift, rows, np.nonzero(lift[rows]), *tick)
        self.was_stance = stance
        # contact estimate from the height map: stance forces only on feet that touch down
        ground_feet = self.height_fn(feet_w[..., 0], feet_w[..., 1])    # (n, 4) m
        clearance = feet_w[..., 2] - ground_feet \
            - rb.foot_radius
        support = stance & ((clearance < cfg.contact_tol) | standing[:, None]
                            | (not cfg.contact_aware))
        lift_done = xp.abs(feet_w[..., 0] - self.swing_target[..., 0]) > 0.03
        # --- foot targets one tick ahead (world), then into the desired body frame
        swing_w, swing_v, edge_dist = self._swing_targets(s_swing, t_swing, feet_w, stance,
                                                          steps)
        stance_w = xp.copy(feet_w)
        stance_w[..., 2] = (ground_feet + rb.foot_radius
                            - cfg.press_depth)
        # scheduled stance but still in the air (late touch-down): keep descending in place
        late_w = xp.copy(stance_w)
        late_w[..., :2] = xp.where(lift_done[..., None], self.swing_target[..., :2],
                                   feet_w[..., :2])
        foot_tgt_w = xp.where(support[..., None], stance_w,
                              xp.where(stance[..., None], late_w, swing_w))
        pos_next = pos + v_des * dt
        pos_next[:, 2] = z_des
        # body-relative targets: stance feet w.r.t. the desired body pose, swing feet w.r.t. the
        # actual body (so swing tracking does not fight body errors)
        rel_st = xp.einsum("nji,nkj->nki", rot_des, foot_tgt_w - pos_next[:, None, :])
        rel_sw = xp.einsum("nji,nkj->nki", rot, foot_tgt_w - (pos + vel * dt)[:, None, :])
        rel = xp.where(support[..., None], rel_st, rel_sw)
        if cfg.reach < 1.0:  # keep targets reachable: a straight leg flips its knee
            rel = self.legs.clamp_reach(rel, cfg.reach)
        # one damped Gauss-Newton IK step from the current joint angles (targets are close)
        err = rel - feet_b
        jac_bt = jac_b.swapaxes(-1, -2)
        jjt = jac_b @ jac_bt + cfg.ik_damping ** 2 * self._eye3
        dq = (jac_bt @ xp.linalg.solve(jjt, err[..., None]))[..., 0]
        q_des = q + xp.clamp(dq, -0.5, 0.5).reshape(n, 12)
        if cfg.haa_limit > 0:  # swing legs: abduction targets within +-haa_limit
            q_des[:, 0::3] = xp.where(support, q_des[:, 0::3],
                                      xp.clamp(q_des[:, 0::3], -cfg.haa_limit, cfg.haa_limit))
        # --- stance forces
        tau = self._stance_torques(pos, vel, omega, rpy, rpy_des, yaw_err, v_des, z_des,
                                   standing, feet_w, jac_w, support)

        # per-joint servo gains: stiff swing legs, compliant stance legs
        swing12 = xp.repeat(~support, 3, axis=1)
        self.kp_joint = xp.where(swing12, cfg.swing_kp, cfg.joint_kp)
        self.kd_joint = xp.where(swing12, cfg.swing_kd, cfg.joint_kd)
        # swing legs: velocity feed-forward through the servo damping (kd + joint damping),
        # qd_des = J^-1 (foot velocity relative to the moving base, base frame)
        foot_rel = feet_w - pos[:, None, :]
        v_rel = swing_v - vel[:, None, :] - _cross(omega[:, None, :], foot_rel)
        v_rel_b = xp.einsum("nji,nkj->nki", rot, v_rel)
        qd_des = (jac_bt @ xp.linalg.solve(jjt, v_rel_b[..., None]))[..., 0]
        qd_des = xp.clamp(qd_des, -20.0, 20.0).reshape(n, 12) * swing12
        tau = tau + cfg.vel_ff * (self.kd_joint + rb.joint_damping) * qd_des
        self.t = self.t + dt
        hold = xp.zeros(n, dtype=xp.bool)
        if cfg.hold_max > 0:  # a foot ending its swing below an edge before its foothold
            ending = ~stance & (s_swing + dt / t_swing >= 1.0 - 1e-9)
            caught = (ending & xp.isfinite(edge_dist)).any(-1)
            hold = caught & (self.hold_t < cfg.hold_max - 0.5 * dt)  # (round(hold_max / dt) ticks)
            self.hold_t = xp.where(hold, self.hold_t + dt, 0.0)
        self.cycle = self.cycle + dt / self.period * (~standing) * (~hold)
        return q_des + tau / self.kp_joint

    def write_gains(self, gainprm, biasprm) -> None:
        """Write this tick's servo gains into per-simulation actuator parameters
        (``gainprm``/``biasprm`` (n, 12, 10) arrays of ``xp``, e.g. ``mujoco.batch.Batch.expand``
        views, or views of MuJoCo Warp's batched ``actuator_gainprm`` / ``actuator_biasprm``)."""
        gainprm[:, :, 0] = self.kp_joint
        biasprm[:, :, 1] = -self.kp_joint
        biasprm[:, :, 2] = -self.kd_joint
