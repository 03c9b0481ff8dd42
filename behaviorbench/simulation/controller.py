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
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from .array_ops import NUMPY, namespace
from .gait import TROT_OFFSETS, gait_phase, swing_position
from .robots import ROBOTS, RobotSpec

#: terrain height z (m) at world points x, y (m): arrays (or tensors) of broadcastable shapes
HeightFn = Callable[[Any, Any], Any]
GRAVITY = 9.81  # m/s^2


@dataclass(frozen=True)
class ControllerConfig:
    """Gains and gait parameters. Defaults are tuned for ANYmal B and C at 0.5-1.5 m/s."""

    control_dt: float = 0.02          # s, control period (sim dt 0.005 x decimation 4)
    period: float = 0.3               # s, trot period at 1 m/s command (stance = duty x period)
    period_slope: float = 0.1         # s per m/s, period shortens with the command speed
    duty: float = 0.5                 # fraction of the period a leg is in stance, at >= 1 m/s
    duty_slow: float = 0.5            # stance fraction at <= 0.5 m/s, linear in between (above
                                      # duty: four-feet phases, less load per leg on stairs,
                                      # where robots slow to step_speed; 0.65 trades falls on
                                      # stairs for slower climbing, docs/simulation-controller.md)
    stand_time: float = 0.3           # s, all feet in stance at the start
    k_raibert: float = 0.2            # s, foothold shift per m/s of velocity error
    foothold_dx: float = 0.0          # m, shift of all nominal footholds along the heading
    foothold_tilt: float = 0.75       # fraction of the body pitch the nominal stance is rotated
                                      # by (0: feet at the flat-ground offsets, horizontally)
    max_step: float = 0.35            # m, clip of the foothold shift from nominal (heading frame)
    swing_clearance: float = 0.07     # m, apex above the highest terrain along the swing path
    touchdown_frac: float = 0.85      # fraction of the swing after which the foot is on target
    swing_lift_frac: float = 0.1      # fraction of the swing spent lifting before moving forward
    swing_descent: float = 0.5        # fraction of the swing (to touch-down) at which the foot
                                      # leaves its apex, 0.5-1 (later: a shorter, steeper descent)
    swing_guard: tuple[str, ...] = ("anymal_b", "anymal_c")  # robots whose swing feet are
                                      # held above an edge until past it, on stairs (both: B's
                                      # falls going down stairs went with it, since B's longer
                                      # stance and torque-sparing forces carry its later
                                      # touch-downs: docs/simulation-controller.md);
                                      # FIELD=anymal_b,anymal_c or empty on CLIs
    guard_clearance: float = 0.02     # m, a guarded swing foot stays this far above the edge
    riser_guard: tuple[str, ...] = ("anymal_b",)  # robots whose front swing feet, while below a
                                      # step edge between them and their reference, are held
                                      # behind it and raised over it (B's lagging feet caught under
                                      # stair noses: docs/simulation-controller.md); FIELD=... as
                                      # swing_guard
    hold_max: float = 0.0             # s, the gait clock waits up to this long while a foot ending
                                      # its swing is still below a step edge before its foothold
                                      # (0: off; ANYmal B 0.1 in robot_overrides)
    contact_aware: bool = False       # stance forces only once a foot is near the ground
    contact_tol: float = 0.02         # m, foot clearance below which a stance foot is in contact
    press_depth: float = 0.005        # m, stance/touch-down targets this far below the ground
    edge_margin: float = 0.07         # m, keep footholds this far from a height edge
    knee_margin: float = 0.07         # m, edge-free distance on the knee side of a foothold
    edge_jump: float = 0.03           # m, height difference that counts as an edge
    leg_clearance: float = 0.08       # m, footholds whose stance would bring a shank or thigh
                                      # this close to the terrain are avoided (0: off)
    height_offset: float = 0.02       # m, added to the robot's nominal base height
    pitch_gain: float = 1.0           # fraction of the ground-plane pitch the body follows
    step_speed: float = 0.5           # m/s, speed cap while the map shows stairs nearby (0: off)
    step_speed_down: float = 0.0      # m/s, lower cap while stepping down such stairs (ground
                                      # plane under the feet pitched nose-down by more than
                                      # descent_pitch); 0: step_speed there too
                                      # (ANYmal C 0.35 in robot_overrides)
    descent_pitch: float = 0.15       # rad, ground-plane pitch that counts as a descent
    step_jump: float = 0.08           # m, height change over 0.05 m of map that counts as a step
    step_lookahead: float = 2.5       # m, stairs this far ahead of the front feet slow the robot
    step_count: int = 3               # steps of one sign on a foot line that count (1: any step)
    accel: float = 1.0                # m/s^2, rate of change of the speed reference
    kp_y: float = 1.0                 # 1/s, lateral position -> lateral velocity reference
    ki_v: float = 1.0                 # 1/s, integral gain of the forward-velocity error
    v_int_max: float = 0.3            # m/s, clip of that integral
    # wrench feedback (per unit mass / inertia)
    kp_z: float = 60.0                # 1/s^2
    kd_z: float = 10.0                # 1/s
    kd_xy: float = 8.0                # 1/s, velocity error -> acceleration
    kp_att: float = 80.0              # 1/s^2, roll/pitch/yaw angle error -> angular acceleration
    kd_att: float = 30.0              # 1/s
    ki_att: float = 1.0               # 1/s, integral gain of the attitude error (x kp_att)
    inertia: tuple[float, float, float] = (3.0, 2.5, 2.5)  # kg m^2, body inertia used by wrench
    ik_damping: float = 0.01          # m, damping of the least-squares IK step
    reach: float = 0.93               # fraction of the full leg length (HFE-foot) targets stay in
    haa_limit: float = 0.35           # rad, swing legs' |HAA| targets are clipped to this (0: off)
    decoupled_wrench: bool = False    # vertical f: Fz, roll, pitch; horizontal f: Fx, Fy, yaw
    force_reg: float = 0.01           # least-squares regulariser (relative)
    torque_weight: float = 0.0        # 0-1: the stance forces minimise (1 - w) |f|^2 (per N^2)
                                      # + w |J^T f|^2 / l^2 (joint torques, per (N m)^2 over the
                                      # leg length l^2): a folded leg's torque per newton is
                                      # high, so straighter legs carry more of the body (ANYmal
                                      # B 0.9 in robot_overrides; with decoupled_wrench: unused)
    friction: float = 0.6             # friction-cone coefficient used to clip stance forces
    stance_ff: float = 1.0            # scale of the feed-forward stance torques
    joint_kp: float = 20.0            # N m/rad, servo stiffness of stance legs
    vel_ff: float = 0.0               # swing legs: fraction of servo damping compensated (0-1)
    lead_ticks: float = 2.0           # swing targets this many control ticks ahead
    joint_kd: float = 1.0             # N m s/rad, servo damping of stance legs
    swing_kp: float = 200.0           # N m/rad, servo stiffness of swing legs
    swing_kd: float = 6.0             # N m s/rad, servo damping of swing legs
    gait_offsets: tuple[float, ...] = tuple(TROT_OFFSETS)  # period fractions (LF, RF, LH, RH)
    robot_overrides: tuple[tuple[str, str, float], ...] = (
        ("anymal_b", "duty_slow", 0.65), ("anymal_b", "duty", 0.65),
        ("anymal_b", "v_int_max", 0.15), ("anymal_b", "hold_max", 0.1),
        ("anymal_b", "torque_weight", 0.9), ("anymal_c", "step_speed_down", 0.35))
    # (robot, FIELD, value): that robot's controller uses value for FIELD (a number field).
    # ANYmal B's knees and hips run at their 40 N m limit on stairs and tall obstacles: a
    # longer stance at every speed (4 feet down part of the time) and a gentler speed integral
    # let it climb, its clock waits for feet caught below a stair nose, and its stance forces
    # spare its folded legs (torque_weight: B's falls among obstacles 31 -> 8 of 320 on 32
    # layouts no setting was chosen on, docs/simulation-controller.md); ANYmal C fell going
    # down stairs, where it now slows to 0.35 m/s (docs/simulation-controller.md);
    # FIELD=anymal_b:duty_slow:0.65,... or empty on command lines

    def for_robot(self, robot: str) -> ControllerConfig:
        """The configuration ``robot``'s controller runs: a copy with that robot's
        ``robot_overrides`` applied (and emptied), or this one if none concerns it."""
        changes = {name: type(getattr(self, name))(value)
                   for r, name, value in self.robot_overrides if r == robot}
        return replace(self, robot_overrides=(), **changes) if changes else self

    def __post_init__(self):
        if not 0.5 <= self.swing_descent < 1.0:
            raise ValueError(f"ControllerConfig.swing_descent = {self.swing_descent!r}: the "
                             "foot reaches its apex at 0.5 of the swing and must land by 1")
        for name in ("duty", "duty_slow"):  # the swing lasts (1 - duty) x period
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"ControllerConfig.{name} = {getattr(self, name)!r}: a stance "
                                 "fraction must lie strictly between 0 and 1")
        numbers = {f.name: f.type for f in fields(self) if f.type in ("float", "int")}
        for item in self.robot_overrides:
            if (not isinstance(item, tuple) or len(item) != 3 or item[0] not in ROBOTS
                    or item[1] not in numbers or isinstance(item[2], (bool, str))
                    or (numbers[item[1]] == "int" and item[2] != int(item[2]))):
                raise ValueError(
                    f"ControllerConfig.robot_overrides: {item!r} is not (robot, FIELD, number) "
                    f"with a robot from {sorted(ROBOTS)} and a number field of ControllerConfig")
        for robot in {item[0] for item in self.robot_overrides}:
            self.for_robot(robot)          # an overridden value is checked like a field's own
        if not 0.0 <= self.torque_weight <= 1.0:
            raise ValueError(f"ControllerConfig.torque_weight = {self.torque_weight!r}: a "
                             "weight between 0 (forces) and 1 (joint torques)")
        if self.hold_max < 0:
            raise ValueError(f"ControllerConfig.hold_max = {self.hold_max!r}: a wait in s, >= 0")
        if self.step_speed_down < 0:
            raise ValueError(f"ControllerConfig.step_speed_down = {self.step_speed_down!r}: a "
                             "speed in m/s, >= 0 (0: off)")
        for name in ("swing_guard", "riser_guard"):
            value = getattr(self, name)
            if isinstance(value, str) or any(r not in ROBOTS for r in value):
                raise ValueError(f"ControllerConfig.{name} = {value!r}: expected a tuple of "
                                 f"robot names from {sorted(ROBOTS)}")



def trot_period(cfg: ControllerConfig, v):
    """Trot period (shape of ``v``) s at speed ``v`` m/s (array or tensor): ``period`` at
    1 m/s, shorter with ``period_slope`` as the speed rises, within 0.3-0.5 s."""
    return (cfg.period - cfg.period_slope * (v - 1.0)).clip(0.3, 0.5)


def stance_fraction(cfg: ControllerConfig, v):
    """Stance fraction (shape of ``v``) at speed ``v`` m/s (array or tensor): ``duty`` at and
    above 1 m/s, ``duty_slow`` at and below 0.5 m/s, linear in between."""
    w = ((1.0 - v) / 0.5).clip(0.0, 1.0)
    return cfg.duty + (cfg.duty_slow - cfg.duty) * w


# ----------------------------------------------------------------------------- geometry
# Arrays or tensors in, the same kind (and dtype, device) out: the namespace is the input's.
def quat_to_mat(q):
    """(n, 4) w,x,y,z quaternions -> (n, 3, 3) rotation matrices."""
    xp = namespace(q)
    w, x, y, z = (q[:, i] for i in range(4))
    r = xp.empty((len(q), 3, 3))   # filled entry by entry (nested stacks: 4x the calls)
    r[:, 0, 0] = 1 - 2 * (y * y + z * z)
    r[:, 0, 1] = 2 * (x * y - w * z)
    r[:, 0, 2] = 2 * (x * z + w * y)
    r[:, 1, 0] = 2 * (x * y + w * z)
    r[:, 1, 1] = 1 - 2 * (x * x + z * z)
    r[:, 1, 2] = 2 * (y * z - w * x)
    r[:, 2, 0] = 2 * (x * z - w * y)
    r[:, 2, 1] = 2 * (y * z + w * x)
    r[:, 2, 2] = 1 - 2 * (x * x + y * y)
    return r


def rpy_from_mat(r):
    """(n, 3, 3) -> (n, 3) roll, pitch, yaw rad (ZYX convention)."""
    xp = namespace(r)
    roll = xp.arctan2(r[:, 2, 1], r[:, 2, 2])
    pitch = -xp.arcsin(xp.clamp(r[:, 2, 0], -1.0, 1.0))
    yaw = xp.arctan2(r[:, 1, 0], r[:, 0, 0])
    return xp.stack([roll, pitch, yaw], -1)


def rpy_to_mat(rpy):
    """(n, 3) roll, pitch, yaw rad -> (n, 3, 3), R = Rz(yaw) Ry(pitch) Rx(roll)."""
    xp = namespace(rpy)
    cr, cp, cy = (xp.cos(rpy[:, i]) for i in range(3))
    sr, sp, sy = (xp.sin(rpy[:, i]) for i in range(3))
    r = xp.empty((len(rpy), 3, 3))
    r[:, 0, 0] = cy * cp
    r[:, 0, 1] = cy * sp * sr - sy * cr
    r[:, 0, 2] = cy * sp * cr + sy * sr
    r[:, 1, 0] = sy * cp
    r[:, 1, 1] = sy * sp * sr + cy * cr
    r[:, 1, 2] = sy * sp * cr - cy * sr
    r[:, 2, 0] = -sp
    r[:, 2, 1] = cp * sr
    r[:, 2, 2] = cp * cr
    return r


def _skew(v):
    """(..., 3) -> (..., 3, 3) cross-product matrices."""
    out = namespace(v).zeros(tuple(v.shape[:-1]) + (3, 3))
    out[..., 0, 1], out[..., 0, 2] = -v[..., 2], v[..., 1]
    out[..., 1, 0], out[..., 1, 2] = v[..., 2], -v[..., 0]
    out[..., 2, 0], out[..., 2, 1] = -v[..., 1], v[..., 0]
    return out


def _cross(a, b):
    """Cross product over the last axis (3,) (broadcasting), faster than ``np.cross`` on small
    arrays."""
    xp = namespace(a)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    out = xp.empty(xp.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a1 * b2 - a2 * b1
    out[..., 1] = a2 * b0 - a0 * b2
    out[..., 2] = a0 * b1 - a1 * b0
    return out


class LegModel:
    """Forward kinematics and Jacobians of all four legs at once (product of exponentials,
    the same chain as :class:`~behaviorbench.simulation.robots.LegKinematics`), on arrays of
    the namespace ``xp`` (:mod:`.array_ops`; default numpy float64).

    ``centers`` (4, 3, 3) m and ``axes`` (4, 3, 3): HAA/HFE/KFE joint points and unit axes at
    q = 0 in the base frame; ``foot0`` (4, 3) m: foot-sphere centre at q = 0. Sagittal (x-z)
    geometry for planar IK: ``thigh`` and ``shank`` m floats (HFE-KFE and KFE-foot, equal for
    all legs), ``knee_side`` (4,) (+1: the knee bends forward, hind legs; -1: front legs).
    Computed in numpy float64, then converted (exact for float64)."""

    def __init__(self, robot: RobotSpec, xp=NUMPY):
        centers = np.stack([k.centers for k in robot.kinematics])
        axes = np.stack([k.axes for k in robot.kinematics])
        foot0 = np.stack([k.foot0 for k in robot.kinematics])
        self.centers, self.axes, self.foot0 = xp.asarray(centers), xp.asarray(axes), \
            xp.asarray(foot0)
        # (4,) m straight-leg HFE-to-foot distance
        self.leg_length = xp.asarray(np.linalg.norm(foot0 - centers[:, 1], axis=-1))
        hfe, kfe = centers[0, 1], centers[0, 2]
        self.thigh = float(np.linalg.norm((kfe - hfe)[[0, 2]]))
        self.shank = float(np.linalg.norm((foot0[0] - kfe)[[0, 2]]))
        self.knee_side = xp.asarray(-np.sign(robot.default_joint_pos[1::3]))
        # Rodrigues: R(axis, q) = I + sin q K + (1 - cos q) K^2, K = [axis]x; (4, 3, 3, 3)
        # per leg, joint
        k = _skew(axes)
        self._k, self._k2 = xp.asarray(k), xp.asarray(k @ k)
        self._eye = xp.eye(3)
        self.xp = xp

    def clamp_reach(self, feet, frac: float):
        """Foot targets (n, 4, 3) m (base frame) pulled towards the HFE joint to at most
        ``frac`` of the straight-leg HFE-foot distance. (n, 4, 3) m."""
        xp = self.xp
        r = feet - self.centers[:, 1]
        dist = xp.linalg.norm(r, axis=-1, keepdims=True)
        scale = xp.minimum(1.0, frac * self.leg_length[:, None] / xp.maximum(dist, 1e-9))
        return self.centers[:, 1] + r * scale

    def fk_jac(self, q):
        """Joint angles (n, 12) rad -> feet (n, 4, 3) m and Jacobians (n, 4, 3, 3) (base
        frame; column k = d foot / d q_k of that leg)."""
        xp = self.xp
        qq = q.reshape(-1, 4, 3)
        c, a = self.centers, self.axes
        sn, cs = xp.sin(qq)[..., None, None], xp.cos(qq)[..., None, None]
        r = self._eye + sn * self._k + (1.0 - cs) * self._k2      # (n, 4, 3, 3, 3) per joint
        r0, r01 = r[:, :, 0], r[:, :, 0] @ r[:, :, 1]                # HAA, HAA then HFE
        c1 = (r0 @ (c[:, 1] - c[:, 0])[..., None])[..., 0] + c[:, 0]     # HFE point
        c2 = (r01 @ (c[:, 2] - c[:, 1])[..., None])[..., 0] + c1         # KFE point
        p = ((r01 @ r[:, :, 2]) @ (self.foot0 - c[:, 2])[..., None])[..., 0] + c2
        a0 = xp.broadcast_to(a[:, 0], p.shape)
        a1 = (r0 @ a[:, 1, :, None])[..., 0]
        a2 = (r01 @ a[:, 2, :, None])[..., 0]
        jac = xp.stack([_cross(a0, p - c[:, 0]), _cross(a1, p - c1), _cross(a2, p - c2)], -1)
        return p, jac


def _min_norm(a, b, reg: float, am=None):
    """Regularised minimum-norm solutions x of a x = b: a (n, r, c), b (n, r) -> (n, c).
    With ``am`` = a @ M (n, r, c), M (n, c, c) symmetric positive definite: the solutions of
    least x^T M^-1 x instead, x = M a^T (a M a^T + reg)^-1 b."""
    xp = namespace(a)
    am = a if am is None else am
    aat = am @ a.swapaxes(1, 2)
    eye = xp.eye(a.shape[1])
    lam = xp.linalg.solve(aat + reg * xp.trace(aat, axis1=1, axis2=2)[:, None, None] * eye
                          + 1e-9 * eye, b[..., None])
    return (am.swapaxes(1, 2) @ lam)[..., 0]


def torque_metric_inverse(jac, weight: float, leg_length: float):
    """Per-leg inverse cost metrics (n, 4, 3, 3) of stance forces for ``torque_weight``
    ``weight``: the inverse of (1 - w) I + w (J J^T / l^2 + 0.01 I), with ``jac`` (n, 4, 3, 3)
    the feet's Jacobians (world frame; joint torques = J^T f) and ``leg_length`` l m (the
    0.01 I keeps a straight leg, whose axial force costs no torque, from taking it all)."""
    xp = namespace(jac)
    eye = xp.eye(3)
    w = (1.0 - weight) * eye + weight * (jac @ jac.swapaxes(-1, -2) / leg_length ** 2
                                          + 0.01 * eye)
    return xp.linalg.inv(w)


def flat_ground(x, y):
    """Height function of a flat floor at z = 0 (broadcast shape of ``x``, ``y``; their kind
    and dtype)."""
    xp = namespace(x)
    return xp.zeros(xp.broadcast_shapes(np.shape(x), np.shape(y)))   # (numbers: shape ())


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


class TrotController:
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

    # ------------------------------------------------------------------ helpers
    def _ground_plane(self, pos, yaw):
        """Ground height (n,) m and slope-pitch (n,) rad under the nominal feet of each robot
        (``pos`` (n, 3) m, ``yaw`` (n,) rad)."""
        xp, nf = self.xp, self.nominal_feet
        c, s = xp.cos(yaw), xp.sin(yaw)
        fx = pos[:, None, 0] + c[:, None] * nf[None, :, 0] - s[:, None] * nf[None, :, 1]
        fy = pos[:, None, 1] + s[:, None] * nf[None, :, 0] + c[:, None] * nf[None, :, 1]
        h = self.height_fn(fx, fy)                                     # (n, 4)
        front, hind = h[:, :2].mean(1), h[:, 2:].mean(1)
        pitch = -xp.arctan((front - hind) / self._plane_dx)
        return h.mean(1), pitch

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

    def _nominal_stance(self, rows=slice(None)):
        """Nominal foot positions (n, 4, 2) m in the heading frame (of the robots ``rows``, an
        index into the n robots; default all): the flat-ground stance
        rotated by ``foothold_tilt`` x the body's pitch reference and projected on the
        horizontal. On stairs and slopes, where the body pitches with the ground, this keeps the
        legs near their flat-ground posture: with the flat offsets the downhill legs stretch past
        their reach while the uphill legs fold."""
        xp, nf = self.xp, self.nominal_feet
        pt = (self.cfg.foothold_tilt * self.pitch_ref[rows])[:, None]           # (n, 1) rad
        x = nf[None, :, 0] * xp.cos(pt) + nf[None, :, 2] * xp.sin(pt)
        return xp.stack([x, xp.broadcast_to(nf[None, :, 1], x.shape)], -1)

    def _steps_near(self, pos, yaw):
        """(n,) bool: the height map has ``step_count`` steps of one sign (jumps above
        ``step_jump`` m between samples 0.05 m apart, all up or all down) on one of the feet's
        lines, from behind the hind feet to ``step_lookahead`` m ahead of the front feet: with
        1 any step (stairs, obstacles), with 3 a flight of stairs."""
        xp, s, lat = self.xp, self._step_s, self._step_lat
        c, sn = xp.cos(yaw)[:, None, None], xp.sin(yaw)[:, None, None]
        x = pos[:, 0, None, None] + c * s[None, None, :] - sn * lat[None, :, None]
        y = pos[:, 1, None, None] + sn * s[None, None, :] + c * lat[None, :, None]
        h = self.height_fn(x, y)                                           # (n, 3, K)
        d = xp.diff(h, axis=-1)
        up, down = (d > self.cfg.step_jump).sum(-1), (d < -self.cfg.step_jump).sum(-1)
        return (xp.maximum(up, down) >= self.cfg.step_count).any(-1)

    def _leg_hits(self, cx, cy, cz, hip_x, hip_z, legs=None):
        """(n, 4, K) bool: with the foot-sphere centre at candidate footholds (cx, cy, cz)
        (n, 4, K) m and the HFE joint at (hip_x, hip_z) (n, 4) m (world, sagittal plane), a
        point of the shank or the lower thigh comes within ``leg_clearance`` m of the terrain.
        The knee is placed by planar two-link IK, on the side it bends to (front legs behind the
        hip-foot line, hind legs ahead of it). With ``legs`` (m,) int (leg indices 0-3; numpy),
        the arrays are per foot instead: (m, K) and (m,). The hips may carry leading axes
        (several hip positions at once: (h, n, 4) -> (h, n, 4, K))."""
        xp, l1, l2 = self.xp, self.legs.thigh, self.legs.shank
        side = self.legs.knee_side[None, :] if legs is None else self.legs.knee_side[legs]
        dx, dz = cx - hip_x[..., None], cz - hip_z[..., None]
        d = xp.clamp(xp.sqrt(dx * dx + dz * dz), 1e-6, l1 + l2 - 1e-6)
        ux, uz = dx / d, dz / d
        a = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
        h = xp.sqrt(xp.maximum(l1 * l1 - a * a, 0.0)) * side[..., None]
        kx = hip_x[..., None] + a * ux - h * uz
        kz = hip_z[..., None] + a * uz + h * ux
        px, pz = [], []
        for f in (0.25, 0.5, 0.75, 1.0, 1.25):   # along the shank from the foot, then the thigh
            px.append(cx + f * (kx - cx) if f <= 1.0 else kx + (f - 1.0) * (hip_x[..., None] - kx))
            pz.append(cz + f * (kz - cz) if f <= 1.0 else kz + (f - 1.0) * (hip_z[..., None] - kz))
        px, pz = xp.stack(px, -1), xp.stack(pz, -1)                      # (n, 4, K, 5) m
        return (pz - self.height_fn(px, xp.broadcast_to(cy[..., None], px.shape))
                < self.cfg.leg_clearance).any(-1)

    def _hips_ahead(self, pos, yaw, v, t):
        """World x and z (n, 4) m of the HFE joints after the body has moved ``t`` (n,) s at
        ``v`` (n,) m/s along x, at its reference height and pitch over the terrain there
        (robots walk along +x; footholds are searched along x)."""
        xp = self.xp
        ahead = xp.copy(pos)
        ahead[:, 0] += v * t
        ground, pitch = self._ground_plane(ahead, yaw)
        pitch = self.cfg.pitch_gain * pitch
        hx = self.legs.centers[None, :, 1, 0]                         # HFE x, base frame
        hip_x = ahead[:, None, 0] + hx * xp.cos(pitch)[:, None]
        hip_z = (ground + self.body_height)[:, None] - hx * xp.sin(pitch)[:, None]
        return hip_x, hip_z

    def _safe_foothold(self, xy, hips=(), legs=None):
        """Move footholds (n, 4, 2) along x to the nearest spot whose surroundings have no height
        edge: ``edge_margin`` m ahead/aside and ``knee_margin`` m on the knee side (behind front
        feet, ahead of hind feet: the shanks slope that way and hit stair noses). With ``hips``,
        pairs of HFE positions (x, z) (n, 4) m over the coming stance (:meth:`_hips_ahead`),
        spots where a shank or thigh would pass within ``leg_clearance`` of the terrain
        (:meth:`_leg_hits`) are avoided too, unless every candidate has that. (n, 4, 2).
        With ``legs`` (m,) int (leg indices 0-3; numpy), per foot instead: ``xy`` (m, 2),
        ``hips`` (m,) arrays, result (m, 2) (the same numbers as those feet's rows of the
        (n, 4) form)."""
        cfg, xp, shifts = self.cfg, self.xp, self._shifts
        cx = xy[..., None, 0] + shifts                                  # (n, 4, K)
        cy = xp.broadcast_to(xy[..., None, 1], cx.shape)
        if legs is None:
            back, front = self._back[None, :, None], self._front[None, :, None]
        else:
            back, front = self._back[legs, None], self._front[legs, None]
        zero = xp.zeros_like(front)
        ox = xp.stack(xp.broadcast_arrays(zero, front, -back, -0.5 * back, 0.5 * front, zero,
                                          zero), -1)                  # (1, 4, 1, 7) m
        h = self.height_fn(cx[..., None] + ox, cy[..., None] + self._oy)  # (n, 4, K, 7)
        h0 = h[..., 0]
        bad = (xp.abs(h[..., 1:] - h[..., :1]) > cfg.edge_jump).any(-1)
        if len(hips):  # and the shanks clear of stair noses over the stance (one call)
            cz = h0 + self.robot.foot_radius
            hip_x, hip_z = xp.stack([hx for hx, _ in hips]), xp.stack([hz for _, hz in hips])
            leg_bad = bad | self._leg_hits(cx, cy, cz, hip_x, hip_z, legs).any(0)
            bad = xp.where(leg_bad.all(-1)[..., None], bad, leg_bad)
        first = xp.argmax(~bad, -1)                                     # first good candidate
        first = xp.where(bad.all(-1), 0, first)
        out = xp.copy(xy)
        out[..., 0] += shifts[first]
        return out

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
            if cfg.step_speed_down > 0:  # slower still down the stairs (falls came there)
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
        s_next = xp.clamp(s_swing + cfg.lead_ticks * dt / t_swing, 0.0, 1.0)
        # the target and, half a tick either side, the points of the velocity feed-forward
        swing_w, sw_plus, sw_minus = self._swing_at(xp.stack(
            [s_next, xp.clamp(s_next + 0.5 * dt / t_swing, 0.0, 1.0),
             xp.clamp(s_next - 0.5 * dt / t_swing, 0.0, 1.0)]))
        riser = rb.name in cfg.riser_guard
        if riser or cfg.hold_max > 0:  # step edges between the swing feet and their references
            if xp.sync_free:  # every foot (only the swing feet's results are used)
                edge_dist, edge_top = self._edge_ahead(feet_w, swing_w)
            else:
                look = ~stance if cfg.hold_max > 0 else ~stance & self._front_legs
                edge_dist, edge_top = np.full((n, 4), np.inf), np.zeros((n, 4))
                edge_dist[look], edge_top[look] = self._edge_ahead(feet_w[look], swing_w[look])
        if riser:  # front feet only (a hind foot held and raised drives its knee into the riser)
            guarded = self._guard_riser(swing_w, feet_w, edge_dist, edge_top)
            swing_w = xp.concatenate([guarded[:, :2], swing_w[:, 2:]], 1)
        if guard and xp.sync_free:  # swing feet on stairs only (among obstacles it cost falls)
            swing_w = xp.where(steps[:, None, None], self._guard_swing(swing_w, feet_w), swing_w)
        elif guard:
            sel = steps[:, None] & ~stance
            swing_w[sel] = self._guard_swing(swing_w[sel], feet_w[sel])
        # swing-foot velocity (world) for the servo's velocity feed-forward
        swing_v = (sw_plus - sw_minus) / dt
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

        # --- stance force distribution
        acc = xp.zeros((n, 3))
        acc[:, 0] = cfg.kd_xy * (v_des[:, 0] - vel[:, 0])
        acc[:, 1] = cfg.kd_xy * (v_des[:, 1] - vel[:, 1])
        acc[:, 2] = cfg.kp_z * (z_des - pos[:, 2]) + cfg.kd_z * (0.0 - vel[:, 2])
        att_err = rpy_des - rpy
        att_err[:, 2] = yaw_err
        att_err = (att_err + np.pi) % (2 * np.pi) - np.pi
        self.att_int = xp.clamp(self.att_int + dt * att_err * (~standing[:, None]), -0.2, 0.2)
        alpha = cfg.kp_att * (att_err + cfg.ki_att * self.att_int) - cfg.kd_att * omega
        force = self.mass[:, None] * (acc + self._gravity)
        torque = alpha * self._inertia
        wrench = xp.concatenate([force, torque], -1)                   # (n, 6)
        r = feet_w - pos[:, None, :]
        if cfg.decoupled_wrench:
            f = self._distribute_decoupled(wrench, r, support)
        else:
            a_mat = xp.concatenate([xp.broadcast_to(self._eye3, (n, 4, 3, 3)), _skew(r)], -2)
            a_mat = a_mat * support[..., None, None]                     # (n, 4, 6, 3)
            am = None
            if cfg.torque_weight > 0:  # a M, M block-diagonal per leg
                am = a_mat @ torque_metric_inverse(jac_w, cfg.torque_weight, self._leg_scale)
                am = am.swapaxes(1, 2).reshape(n, 6, 12)
            a_mat = a_mat.swapaxes(1, 2).reshape(n, 6, 12)
            f = _min_norm(a_mat, wrench, cfg.force_reg, am).reshape(n, 4, 3)
        fz = xp.maximum(f[..., 2], 0.0)
        fxy = f[..., :2]
        lim = cfg.friction * fz
        norm = xp.linalg.norm(fxy, axis=-1)
        fxy = fxy * xp.minimum(1.0, lim / xp.maximum(norm, 1e-9))[..., None]
        f = xp.concatenate([fxy, fz[..., None]], -1) * support[..., None]
        tau = -xp.einsum("nkij,nki->nkj", jac_w, f).reshape(n, 12) * cfg.stance_ff
        tau = xp.clamp(tau, -rb.torque_limit, rb.torque_limit)

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

    def _lift_off(self, lift, rows, feet, pos, yaw, vel, v_des, t_swing, t_stance, feet_w
                  ) -> None:
        """Footholds and swing paths (``swing_start``, ``swing_target``, ``swing_apex``) of the
        feet lifting off this tick (``lift`` (n, 4) bool). ``rows``: the robots computed (an
        index into the n robots: numpy, those lifting a foot; torch, all); ``feet``: (row in
        ``rows``, leg) index arrays of the lifting feet (numpy), or None: every foot of those
        robots, the results kept where ``lift`` (torch). The rest as in :meth:`__call__`: ``pos``
        (n, 3) m, ``yaw`` (n,) rad, ``vel`` (n, 3) m/s, ``v_des`` (n, 3) m/s, ``t_swing`` and
        ``t_stance`` (n, 1) s, ``feet_w`` (n, 4, 3) m world."""
        cfg, rb, xp = self.cfg, self.robot, self.xp

        def pick(a):  # per-(robot in rows, leg) values -> those of the feet computed
            return a if feet is None else a[feet]

        p_r, yaw_r, vd_r = pos[rows], yaw[rows], v_des[rows]
        ts_r, tst_r = t_swing[rows], t_stance[rows]
        c, s = xp.cos(yaw_r), xp.sin(yaw_r)
        nom = self._nominal_stance(rows)                                # heading frame
        shift = (vd_r[:, None, :2] * (ts_r + 0.5 * tst_r)[..., None]
                 + cfg.k_raibert * (vel[rows, None, :2] - vd_r[:, None, :2]))
        hx = p_r[:, None, 0] + c[:, None] * nom[..., 0] - s[:, None] * nom[..., 1]
        hy = p_r[:, None, 1] + s[:, None] * nom[..., 0] + c[:, None] * nom[..., 1]
        shift = xp.clamp(shift, -cfg.max_step, cfg.max_step)       # (rows, 1, 2) m
        tgt_xy = pick(xp.stack([hx, hy], -1)) + (shift if feet is None else shift[feet[0], 0])
        hips = ()
        if cfg.leg_clearance > 0:  # HFE joints at touch-down and at lift-off (one call)
            m_r = len(p_r)
            hip_x, hip_z = self._hips_ahead(
                xp.concatenate([p_r, p_r]), xp.concatenate([yaw_r, yaw_r]),
                xp.concatenate([vd_r[:, 0], vd_r[:, 0]]),
                xp.concatenate([ts_r[:, 0], (ts_r + tst_r)[:, 0]]))
            hips = ((pick(hip_x[:m_r]), pick(hip_z[:m_r])),
                    (pick(hip_x[m_r:]), pick(hip_z[m_r:])))
        tgt_xy = self._safe_foothold(tgt_xy, hips, None if feet is None else feet[1])
        tgt_z = self.height_fn(tgt_xy[..., 0], tgt_xy[..., 1]) + rb.foot_radius
        start = pick(feet_w[rows])                                       # m world
        # highest terrain along the swing path (+ around it)
        ss = self._ss7
        px = start[..., None, 0] + (tgt_xy[..., None, 0] - start[..., None, 0]) * ss
        py = start[..., None, 1] + (tgt_xy[..., None, 1] - start[..., None, 1]) * ss
        h_side = self.height_fn(xp.stack([px + 0.04, px - 0.04]), xp.stack([py, py]))
        hmax = xp.maximum(xp.max(h_side[0], axis=-1), xp.max(h_side[1], axis=-1))
        apex = xp.maximum(hmax + rb.foot_radius + cfg.swing_clearance,
                          xp.maximum(start[..., 2], tgt_z) + 0.04)
        target = xp.concatenate([tgt_xy, tgt_z[..., None]], -1)
        if feet is None:
            self.swing_start = xp.where(lift[..., None], start, self.swing_start)
            self.swing_target = xp.where(lift[..., None], target, self.swing_target)
            self.swing_apex = xp.where(lift, apex, self.swing_apex)
        else:
            fr, li = rows[feet[0]], feet[1]                              # robot, leg
            self.swing_start[fr, li] = start
            self.swing_target[fr, li] = target
            self.swing_apex[fr, li] = apex

    def _swing_at(self, s):
        """Swing-foot world positions (..., n, 4, 3) at swing progress ``s`` (..., n, 4)."""
        cfg = self.cfg
        out = swing_position(self.swing_start, self.swing_target, self.swing_apex,
                             self.xp.clamp(s / cfg.touchdown_frac, 0.0, 1.0),
                             cfg.swing_lift_frac, cfg.swing_descent)
        out[..., 2] -= cfg.press_depth * self.xp.clamp(
            (s - cfg.touchdown_frac) / max(1.0 - cfg.touchdown_frac, 1e-6), 0.0, 1.0)
        return out

    def _edge_ahead(self, feet, ref):
        """Where the terrain from the actual feet ``feet`` (..., 3) m world towards their
        references ``ref`` (..., 3) m (to a foot radius + 1 cm past them) rises above a foot's
        sole + 1 cm behind a step edge (a jump above ``edge_jump`` between samples; a smooth
        slope does not count): the horizontal distance (...) m from the foot to the first such
        sample (inf where there is none), and the highest terrain on that path (...) m."""
        xp, rad = self.xp, self.robot.foot_radius
        d = ref[..., :2] - feet[..., :2]
        dist = xp.linalg.norm(d, axis=-1)
        u = d / xp.maximum(dist, 1e-9)[..., None]
        reach = dist[..., None] * self._edge_ss + self._edge_off   # (..., 13) m, 0: the foot
        h = self.height_fn(feet[..., None, 0] + u[..., None, 0] * reach,
                           feet[..., None, 1] + u[..., None, 1] * reach)
        jump = xp.cummax(xp.abs(xp.diff(h, axis=-1)), axis=-1) > self.cfg.edge_jump
        above = jump & (h[..., 1:] > feet[..., None, 2] - rad + 0.01)
        first = xp.argmax(above, -1)
        dist_edge = xp.where(above.any(-1), xp.take_along_axis(
            reach[..., 1:], first[..., None], -1)[..., 0], np.inf)
        return dist_edge, xp.max(h, axis=-1)

    def _guard_riser(self, ref, feet, edge_dist, edge_top):
        """Swing references ``ref`` (n, 4, 3) m world of feet ``feet`` (n, 4, 3) that are below
        a step edge on their way (:meth:`_edge_ahead`: ``edge_dist``, ``edge_top`` (n, 4) m),
        held a foot diameter + 2 cm short of where the edge was seen and raised to 3 cm above
        the highest terrain on the way: the foot rises before it moves on. The timed swing does
        not know that a foot lags it; ANYmal B's front feet, moving forward before they had
        risen, met the riser under the nose and were set down on it. (n, 4, 3) m."""
        xp, rad = self.xp, self.robot.foot_radius
        blocked = xp.isfinite(edge_dist)
        d = ref[..., :2] - feet[..., :2]
        dist = xp.linalg.norm(d, axis=-1)
        allowed = xp.clamp(edge_dist - 2 * rad - 0.02, 0.0, dist)
        held = feet[..., :2] + d * (allowed / xp.maximum(dist, 1e-9))[..., None]
        out = xp.copy(ref)
        out[..., :2] = xp.where(blocked[..., None], held, ref[..., :2])
        out[..., 2] = xp.where(blocked, xp.maximum(ref[..., 2], edge_top + rad + 0.03),
                               ref[..., 2])
        return out

    def _guard_swing(self, ref, feet):
        """Swing references ``ref`` (..., 3) m world, with their heights raised so that no
        swing foot is driven down onto an edge it has not yet passed: where the terrain around
        and ahead of the actual foot ``feet`` (..., 3) m world, up to its reference, has a step
        (a jump above ``edge_jump`` between samples at most 5 cm apart; a smooth slope does not
        count) and the terrain within a foot radius + 2 cm (along x) of the foot is higher than
        the ground under the reference by more than ``edge_jump``, the reference stays
        ``guard_clearance`` above that terrain. The timed swing trajectory does not know that a
        foot lags it (by 1.5-2 control ticks); stepping down a stair, a lagging foot was put
        down on the nose of the tread it came from. (..., 3) m."""
        cfg, xp, rad = self.cfg, self.xp, self.robot.foot_radius
        fx, fy = feet[..., 0], feet[..., 1]
        # heights 5 cm apart or closer: around the foot, then from the foot to the reference
        ss = self._ss9
        px = xp.concatenate([fx[..., None] + self._around,
                             fx[..., None] + (ref[..., None, 0] - fx[..., None]) * ss], -1)
        py = xp.concatenate([xp.repeat(fy[..., None], 3, -1),
                             fy[..., None] + (ref[..., None, 1] - fy[..., None]) * ss], -1)
        h = self.height_fn(px, py)                                             # (..., 12) m
        h_near = xp.max(h[..., :3], axis=-1)
        jumps = xp.abs(xp.diff(h, axis=-1))
        jumps[..., 2] = 0.0                           # (foot + m -> foot: not neighbours)
        edge = xp.max(jumps, axis=-1) > cfg.edge_jump       # a step, not a smooth slope
        h_ref = self.height_fn(ref[..., 0], ref[..., 1])
        out = xp.copy(ref)
        out[..., 2] = xp.where(edge & (h_near > h_ref + cfg.edge_jump),
                               xp.maximum(ref[..., 2], h_near + rad + cfg.guard_clearance),
                               ref[..., 2])
        return out

    def _distribute_decoupled(self, wrench, r, stance):
        """Virtual-model split: vertical forces carry (Fz, roll, pitch) torques through the
        feet's horizontal lever arms; horizontal forces carry (Fx, Fy, yaw). (n, 4, 3) N."""
        xp, reg = self.xp, self.cfg.force_reg
        m = xp.asarray(stance)
        ones = xp.ones_like(m)
        a_v = xp.stack([ones, r[..., 1], -r[..., 0]], 1) * m[:, None, :]   # (n, 3, 4)
        fz = _min_norm(a_v, wrench[:, [2, 3, 4]], reg)
        z = xp.zeros_like(m)
        a_h = xp.concatenate([xp.stack([ones, z], -1), xp.stack([z, ones], -1),
                              xp.stack([-r[..., 1], r[..., 0]], -1)], 1)     # (n, 3*4, 2)
        a_h = (a_h.reshape(-1, 3, 4, 2) * m[:, None, :, None]).reshape(-1, 3, 8)
        fxy = _min_norm(a_h, wrench[:, [0, 1, 5]], reg).reshape(-1, 4, 2)
        return xp.concatenate([fxy, fz[..., None]], -1)

    def write_gains(self, gainprm, biasprm) -> None:
        """Write this tick's servo gains into per-simulation actuator parameters
        (``gainprm``/``biasprm`` (n, 12, 10) arrays of ``xp``, e.g. ``mujoco.batch.Batch.expand``
        views, or views of MuJoCo Warp's batched ``actuator_gainprm`` / ``actuator_biasprm``)."""
        gainprm[:, :, 0] = self.kp_joint
        biasprm[:, :, 1] = -self.kp_joint
        biasprm[:, :, 2] = -self.kd_joint
