"""Gains and gait parameters of the trot controller (:class:`ControllerConfig`), and the
gait timing they define (:func:`trot_period`, :func:`stance_fraction`). Units SI (m, s, rad, kg,
N, N m)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .gait import TROT_OFFSETS
from .robots import ROBOTS


@dataclass(frozen=True)
class ControllerConfig:
    """Gains and gait parameters. Defaults are tuned for ANYmal B and C at 0.5-1.5 m/s."""

    control_dt: float = 0.02          # s, control period (sim dt 0.005 x decimation 4)
    period: float = 0.3               # s, trot period at 1 m/s command (stance = duty x period)
    period_slope: float = 0.1         # s per m/s, period shortens with the command speed
    duty: float = 0.5                 # fraction of the period a leg is in stance, at >= 1 m/s
    duty_slow: float = 0.5            # stance fraction at <= 0.5 m/s, linear in between (above
                                      # 0.5: phases with four feet down, less load per leg)
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
                                      # held above an edge until past it, on stairs;
                                      # FIELD=anymal_b,anymal_c or empty on CLIs
    guard_clearance: float = 0.02     # m, a guarded swing foot stays this far above the edge
    riser_guard: tuple[str, ...] = ("anymal_b",)  # robots whose front swing feet, while below a
                                      # step edge between them and their reference, are held
                                      # behind it and raised over it (lagging feet caught under
                                      # stair noses); FIELD=... as swing_guard
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
    # longer stance at every speed (four feet down part of the time), a gentler speed
    # integral, a clock that waits for feet caught below a stair nose, and stance forces that
    # spare its folded legs; ANYmal C slows to 0.35 m/s going down stairs
    # (docs/simulation-controller.md, "Per-robot settings");
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
