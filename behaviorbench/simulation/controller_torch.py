"""Torch port of :mod:`behaviorbench.simulation.controller` (the trot controller), for batched
GPU simulation (:mod:`behaviorbench.simulation.warp_backend`).

Mirrors the numpy module function by function and :class:`TrotController` method by method,
with the same names and the same order of operations, so that the two can be kept in sync:
``tests/simulation/test_controller_torch.py`` checks that in float64 on the CPU both give the
same outputs, gains and internal state (to ~1e-9) on real rollout states and on random states
that reach every branch (standing, lift-off, swing, late touch-down, stance).

Differences from the numpy class, none of which changes a result:

* tensors (any device), ``dtype`` float64 (parity) or float32 (speed on a GPU);
* the lift-off footholds are computed for every robot at every tick and kept only where a leg
  lifts off (numpy skips the block when no leg lifts off): no data-dependent Python branch,
  so a tick never waits for the device;
* the first good candidate of :meth:`TrotController._safe_foothold` is found with a masked
  ``min`` rather than ``argmax`` (the same index, without relying on tie-breaking).
* the gait clock (``t``, ``cycle``, the phases and stance/swing switches, and the ``period``
  and speed reference ``v_gait`` that drive it) is float64 even when ``dtype`` is float32, so
  that the gait switches on the same ticks as numpy's.

The height function takes and returns tensors: :class:`TorchHeightField` is
:meth:`Terrain.height_at` on tensors.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .controller import GRAVITY, ControllerConfig, configure_servos, stance_fraction, trot_period
from .controller import LegModel as NumpyLegModel
from .robots import ROBOTS, RobotSpec
from .terrain import Terrain

TorchHeightFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

#: controller state (attribute names), in the numpy and the torch class alike
STATE_FIELDS: tuple[str, ...] = (
    "t", "cycle", "v_gait", "v_ref", "y_ref", "swing_start", "swing_target",
    "swing_apex", "was_stance", "pitch_ref", "z_ground", "v_int", "att_int", "hold_t",
)
#: the float64 gait-clock fields of :data:`STATE_FIELDS` (whatever the controller's ``dtype``)
CLOCK_FIELDS: tuple[str, ...] = ("t", "cycle", "v_gait", "hold_t")


# ----------------------------------------------------------------------------- terrain
class TorchHeightField:
    """:meth:`Terrain.height_at` on tensors (bilinear; cells flat at their lowest corner in
    vertical-wall regions): height (m) at world points ``x``, ``y``
    (tensors of one shape, m) of the terrain's samples; points outside the field are clamped
    to its edge. Returns a tensor of ``x``'s shape in ``dtype``.

    ``heights`` (nx, ny) float32 m become ``dtype`` on ``device`` (exact for float64)."""

    def __init__(self, terrain: Terrain, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None):
        self.heights = torch.as_tensor(terrain.heights, device=device).to(dtype)
        self.nx, self.ny = terrain.heights.shape
        self.flat = self.heights.reshape(-1)
        self.hs = float(terrain.horizontal_scale)
        self.origin = tuple(float(v) for v in terrain.origin)  # (2,) m
        self.wall_cells = None if terrain.wall_cells is None else (  # flat at lowest corner
            torch.as_tensor(terrain.wall_cells, device=device).reshape(-1))

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        hs, nx, ny = self.hs, self.nx, self.ny
        fx = torch.clamp((x - self.origin[0]) / hs, 0, nx - 1)
        fy = torch.clamp((y - self.origin[1]) / hs, 0, ny - 1)
        # the lower bound only matters for NaN points (floor -> INT64_MIN): they get NaN
        i0 = torch.clamp(torch.floor(fx).long(), 0, nx - 2)
        j0 = torch.clamp(torch.floor(fy).long(), 0, ny - 2)
        tx, ty = fx - i0.to(fx.dtype), fy - j0.to(fy.dtype)
        h, k = self.flat, i0 * ny + j0
        c00, c10, c01, c11 = h[k], h[k + ny], h[k + 1], h[k + ny + 1]
        z = ((1 - tx) * (1 - ty) * c00 + tx * (1 - ty) * c10
             + (1 - tx) * ty * c01 + tx * ty * c11)
        if self.wall_cells is None:
            return z
        lo = torch.minimum(torch.minimum(c00, c10), torch.minimum(c01, c11))
        return torch.where(self.wall_cells[i0 * (ny - 1) + j0], lo, z)


def flat_ground(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Height function of a flat floor at z = 0 (broadcast shape of ``x``, ``y``)."""
    return torch.zeros(torch.broadcast_shapes(x.shape, y.shape), dtype=x.dtype,
                       device=x.device)


# ----------------------------------------------------------------------------- gait
def gait_phase(cycles: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """:func:`~behaviorbench.simulation.gait.gait_phase`: phases in [0, 1) (n, 4) from the gait
    cycles elapsed ``cycles`` (n,) and per-leg ``offsets`` (4,)."""
    return torch.remainder(cycles[:, None] + offsets[None, :], 1.0)


def smoothstep(s: torch.Tensor) -> torch.Tensor:
    """Quintic 0->1 ramp; ``s`` clipped to [0, 1]."""
    s = torch.clamp(s, 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


def swing_position(start: torch.Tensor, target: torch.Tensor, apex_z: torch.Tensor,
                   s: torch.Tensor, lift_frac: float = 0.2,
                   descent_start: float = 0.5) -> torch.Tensor:
    """:func:`~behaviorbench.simulation.gait.swing_position`: ``start``/``target`` (..., 3) m,
    ``apex_z`` (...,) m, progress ``s`` (...,) -> (..., 3) m world."""
    sxy = smoothstep((s - lift_frac) / (1.0 - 2.0 * lift_frac))
    xy = start[..., :2] + (target[..., :2] - start[..., :2]) * sxy[..., None]
    up = smoothstep(s / 0.5)
    down = smoothstep((s - descent_start) / (1.0 - descent_start))
    z_up = start[..., 2] + (apex_z - start[..., 2]) * up
    z = z_up + (target[..., 2] - apex_z) * down
    return torch.cat([xy, z[..., None]], dim=-1)


# ----------------------------------------------------------------------------- rotations
def quat_to_mat(q: torch.Tensor) -> torch.Tensor:
    """(n, 4) w,x,y,z quaternions -> (n, 3, 3) rotation matrices."""
    w, x, y, z = (q[:, i] for i in range(4))
    return torch.stack([
        torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def rpy_from_mat(r: torch.Tensor) -> torch.Tensor:
    """(n, 3, 3) -> (n, 3) roll, pitch, yaw rad (ZYX convention)."""
    roll = torch.atan2(r[:, 2, 1], r[:, 2, 2])
    pitch = -torch.asin(torch.clamp(r[:, 2, 0], -1.0, 1.0))
    yaw = torch.atan2(r[:, 1, 0], r[:, 0, 0])
    return torch.stack([roll, pitch, yaw], -1)


def rpy_to_mat(rpy: torch.Tensor) -> torch.Tensor:
    """(n, 3) roll, pitch, yaw rad -> (n, 3, 3), R = Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, cp, cy = (torch.cos(rpy[:, i]) for i in range(3))
    sr, sp, sy = (torch.sin(rpy[:, i]) for i in range(3))
    return torch.stack([
        torch.stack([cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr], -1),
        torch.stack([sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr], -1),
        torch.stack([-sp, cp * sr, cp * cr], -1),
    ], -2)


def _skew(v: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 3, 3) cross-product matrices."""
    z = torch.zeros(v.shape[:-1], dtype=v.dtype, device=v.device)
    return torch.stack([
        torch.stack([z, -v[..., 2], v[..., 1]], -1),
        torch.stack([v[..., 2], z, -v[..., 0]], -1),
        torch.stack([-v[..., 1], v[..., 0], z], -1),
    ], -2)


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cross product over the last axis (3,) (broadcasting)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return torch.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], -1)


class LegModel:
    """:class:`behaviorbench.simulation.controller.LegModel` on tensors: ``centers``
    (4, 3, 3) m, ``axes`` (4, 3, 3), ``foot0`` (4, 3) m, ``leg_length`` (4,) m and
    ``knee_side`` (4, 1) in ``dtype`` on ``device``; ``thigh``, ``shank`` m floats. Every
    field is the numpy model's (with the skew matrices of the joint axes, for Rodrigues)."""

    def __init__(self, robot: RobotSpec, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None):
        def t(a):
            return torch.as_tensor(np.asarray(a, dtype=np.float64), device=device).to(dtype)

        legs = NumpyLegModel(robot)
        self.centers, self.axes, self.foot0 = t(legs.centers), t(legs.axes), t(legs.foot0)
        self.leg_length = t(legs.leg_length)   # (4,) m straight-leg HFE-to-foot distance
        self.thigh, self.shank = legs.thigh, legs.shank
        self.knee_side = t(legs.knee_side)[:, None]
        self._k, self._k2 = t(legs._k), t(legs._k2)             # (4, 3, 3, 3) per leg, joint
        self._eye = t(np.eye(3))

    def clamp_reach(self, feet: torch.Tensor, frac: float) -> torch.Tensor:
        """Foot targets (n, 4, 3) m (base frame) pulled towards the HFE joint to at most
        ``frac`` of the straight-leg HFE-foot distance. (n, 4, 3) m."""
        r = feet - self.centers[:, 1]
        dist = torch.linalg.norm(r, dim=-1, keepdim=True)
        scale = torch.clamp(frac * self.leg_length[:, None] / torch.clamp(dist, min=1e-9),
                            max=1.0)
        return self.centers[:, 1] + r * scale

    def fk_jac(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Joint angles (n, 12) rad -> feet (n, 4, 3) m and Jacobians (n, 4, 3, 3) (base
        frame; column k = d foot / d q_k of that leg)."""
        qq = q.reshape(-1, 4, 3)
        c, a = self.centers, self.axes
        sn, cs = torch.sin(qq)[..., None, None], torch.cos(qq)[..., None, None]
        r = self._eye + sn * self._k + (1.0 - cs) * self._k2          # (n, 4, 3, 3, 3) per joint
        r0, r01 = r[:, :, 0], r[:, :, 0] @ r[:, :, 1]                # HAA, HAA then HFE
        c1 = (r0 @ (c[:, 1] - c[:, 0])[..., None])[..., 0] + c[:, 0]     # HFE point
        c2 = (r01 @ (c[:, 2] - c[:, 1])[..., None])[..., 0] + c1         # KFE point
        p = ((r01 @ r[:, :, 2]) @ (self.foot0 - c[:, 2])[..., None])[..., 0] + c2
        a0 = a[:, 0].expand(p.shape)
        a1 = (r0 @ a[:, 1, :, None])[..., 0]
        a2 = (r01 @ a[:, 2, :, None])[..., 0]
        jac = torch.stack([_cross(a0, p - c[:, 0]), _cross(a1, p - c1), _cross(a2, p - c2)],
                          -1)
        return p, jac


def _min_norm(a: torch.Tensor, b: torch.Tensor, reg: float,
              am: torch.Tensor | None = None) -> torch.Tensor:
    """Regularised minimum-norm solutions x of a x = b: a (n, r, c), b (n, r) -> (n, c);
    with ``am`` = a @ M, the least x^T M^-1 x (numpy :func:`~.controller._min_norm`)."""
    am = a if am is None else am
    aat = am @ a.transpose(1, 2)
    eye = torch.eye(a.shape[1], dtype=a.dtype, device=a.device)
    tr = torch.diagonal(aat, dim1=1, dim2=2).sum(-1)
    lam = torch.linalg.solve(aat + reg * tr[:, None, None] * eye + 1e-9 * eye, b[..., None])
    return (am.transpose(1, 2) @ lam)[..., 0]


def torque_metric_inverse(jac: torch.Tensor, weight: float, leg_length: float
                          ) -> torch.Tensor:
    """(n, 4, 3, 3) inverse per-leg force metrics of ``torque_weight`` (numpy
    :func:`~.controller.torque_metric_inverse`)."""
    eye = torch.eye(3, dtype=jac.dtype, device=jac.device)
    w = (1.0 - weight) * eye + weight * (jac @ jac.transpose(-1, -2) / leg_length ** 2
                                          + 0.01 * eye)
    return torch.linalg.inv(w)


# ----------------------------------------------------------------------------- controller
class TrotController:
    """Torch :class:`behaviorbench.simulation.controller.TrotController` for ``n`` robots.

    Args:
        robot: robot name or :class:`RobotSpec`.
        command_vel: (n,) m/s forward (world +x) velocity commands (array or tensor).
        height_fn: terrain height on tensors ``f(x, y) -> z`` (m), e.g.
            :class:`TorchHeightField`; default a flat floor at z = 0.
        added_mass: (n,) kg mass added to the base.
        config: :class:`ControllerConfig` (shared with the numpy controller).
        dtype: ``torch.float64`` (parity with numpy) or ``torch.float32`` (speed).
        device: where every tensor lives (``"cpu"``, ``"cuda:0"``...).

    Inputs and outputs of :meth:`__call__` are tensors of ``dtype`` on ``device``.
    """

    def __init__(self, robot: str | RobotSpec, command_vel, height_fn: TorchHeightFn = flat_ground,
                 added_mass=None, config: ControllerConfig | None = None, *,
                 dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None):
        self.robot = ROBOTS[robot] if isinstance(robot, str) else robot
        self.cfg = (config or ControllerConfig()).for_robot(self.robot.name)
        self.dtype, self.device = dtype, torch.device(device or "cpu")
        self.v_cmd = self._t(command_vel)
        self.n = n = self.v_cmd.shape[0]
        self.height_fn = height_fn
        am = np.zeros(n) if added_mass is None else added_mass
        self.mass = self.robot.total_mass + self._t(am)                  # (n,) kg
        self.legs = LegModel(self.robot, dtype, self.device)
        self._leg_scale = float(self.legs.leg_length.mean())  # m, l of torque_weight
        nominal = self.robot.default_foot_positions.copy()               # (4, 3) base frame
        nominal[:, 0] += self.cfg.foothold_dx
        nominal[:, 1] = np.sign(nominal[:, 1]) * np.maximum(
            np.abs(self.robot.hip_positions[:, 1]) + 0.05, np.abs(nominal[:, 1]) - 0.05)
        self.nominal_feet = self._t(nominal)
        self._pitch_dx = float(nominal[:2, 0].mean() - nominal[2:, 0].mean())  # m
        self.body_height = self.robot.nominal_base_height + self.cfg.height_offset
        # the gait clock (t, cycle, v_gait, and the period and duty derived from it) is float64
        # whatever ``dtype``: a float32 clock summed over thousands of ticks drifts, and its
        # stance/swing switches would fall on other ticks than numpy's
        f64 = dict(dtype=torch.float64, device=self.device)
        self._v_cmd64 = (command_vel.to(**f64) if isinstance(command_vel, torch.Tensor) else
                         torch.as_tensor(np.asarray(command_vel, dtype=np.float64), **f64))
        self.t = torch.zeros(n, **f64)                                    # (n,) s
        self.cycle = torch.zeros(n, **f64)    # gait cycles since the end of the standing start
        self.v_gait = self._v_cmd64.clone()   # m/s, speed the cadence follows (capped on steps)
        self.y_ref = self._zeros(n)
        self.swing_start = self._zeros(n, 4, 3)
        self.swing_target = self._zeros(n, 4, 3)
        self.swing_apex = self._zeros(n, 4)
        self.was_stance = torch.ones((n, 4), dtype=torch.bool, device=self.device)
        self.pitch_ref = self._zeros(n)
        self.z_ground = self._zeros(n)
        self.v_int = self._zeros(n)
        self.v_ref = self._zeros(n)
        self.att_int = self._zeros(n, 3)
        self.hold_t = torch.zeros(n, **f64)   # s the clock has waited for a caught foot
        # constants of __call__
        self._offsets64 = torch.tensor(self.cfg.gait_offsets, **f64)
        self._gravity = self._t([0.0, 0.0, GRAVITY])
        self._inertia = self._t(self.cfg.inertia)
        self._eye3 = torch.eye(3, dtype=dtype, device=self.device)
        self._shifts = self._t([0.0, -0.04, 0.04, -0.08, 0.08, -0.12, 0.12, -0.16, 0.16, -0.2])
        m, k = self.cfg.edge_margin, self.cfg.knee_margin
        self._back = self._t([k, k, m, m])[None, :, None]
        self._front = self._t([m, m, k, k])[None, :, None]
        self._ss = self._t(np.linspace(0.0, 1.0, 7))
        self._edge_ss = self._t(np.linspace(0.0, 1.0, 13))
        self._edge_off = self._t((self.robot.foot_radius + 0.01) * (np.arange(13) > 0))
        # _steps_near's sample offsets (heading frame), computed as numpy does
        xf, xh = nominal[0, 0], nominal[2, 0]
        self._step_s = self._t(np.arange(xh - 0.2, xf + self.cfg.step_lookahead, 0.05))  # (K,)
        self._step_lat = self._t(np.array([-1.0, 0.0, 1.0]) * abs(nominal[0, 1]))      # (3,)

    def _t(self, a) -> torch.Tensor:
        """Array, tensor or sequence -> tensor of this controller's dtype and device."""
        if isinstance(a, torch.Tensor):
            return a.to(dtype=self.dtype, device=self.device)
        return torch.as_tensor(np.asarray(a, dtype=np.float64), device=self.device).to(self.dtype)

    def _zeros(self, *shape: int) -> torch.Tensor:
        return torch.zeros(shape, dtype=self.dtype, device=self.device)

    def configure_model(self, model) -> None:
        """Write the servo gains (``joint_kp``, ``joint_kd``) into an ``MjModel`` built with
        position actuators."""
        configure_servos(model, self.cfg)

    # ------------------------------------------------------------------ helpers
    def reset(self, qpos: torch.Tensor) -> None:
        """Start a new episode from ``qpos`` (n, 19): time 0, keep the current lateral line."""
        qpos = self._t(qpos)
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

    def _ground_plane(self, pos: torch.Tensor, yaw: torch.Tensor):
        """Ground height (n,) and slope-pitch (n,) under the nominal feet of each robot."""
        c, s = torch.cos(yaw), torch.sin(yaw)
        nf = self.nominal_feet
        fx = pos[:, None, 0] + c[:, None] * nf[None, :, 0] - s[:, None] * nf[None, :, 1]
        fy = pos[:, None, 1] + s[:, None] * nf[None, :, 0] + c[:, None] * nf[None, :, 1]
        h = self.height_fn(fx, fy)                                        # (n, 4)
        front, hind = h[:, :2].mean(1), h[:, 2:].mean(1)
        pitch = -torch.atan((front - hind) / self._pitch_dx)
        return h.mean(1), pitch

    def _period(self, v: torch.Tensor) -> torch.Tensor:
        """Trot period (n,) s at speed ``v`` (n,) m/s (numpy's :func:`trot_period`)."""
        return trot_period(self.cfg, v)

    @property
    def period(self) -> torch.Tensor:
        """(n,) float64 s trot period at the speed the gait follows (``v_gait``)."""
        return self._period(self.v_gait)

    @property
    def duty(self) -> torch.Tensor:
        """(n,) float64 stance fraction at the speed the gait follows (``v_gait``)."""
        return self._duty(self.v_gait)

    def _duty(self, v: torch.Tensor) -> torch.Tensor:
        """Stance fraction (n,) at speed ``v`` (n,) m/s (float64, as the numpy controller's:
        :func:`stance_fraction`)."""
        return stance_fraction(self.cfg, v)

    def _nominal_stance(self) -> torch.Tensor:
        """Nominal foot positions (n, 4, 2) m in the heading frame: the flat-ground stance
        rotated by ``foothold_tilt`` x the pitch reference (as numpy's ``_nominal_stance``)."""
        nf = self.nominal_feet
        pt = (self.cfg.foothold_tilt * self.pitch_ref)[:, None]                 # (n, 1) rad
        x = nf[None, :, 0] * torch.cos(pt) + nf[None, :, 2] * torch.sin(pt)
        return torch.stack([x, nf[None, :, 1].expand_as(x)], -1)

    def _steps_near(self, pos: torch.Tensor, yaw: torch.Tensor) -> torch.Tensor:
        """(n,) bool: the height map has ``step_count`` steps of one sign along one of the
        feet's lines (see the numpy method)."""
        s, lat = self._step_s, self._step_lat
        c, sn = torch.cos(yaw)[:, None, None], torch.sin(yaw)[:, None, None]
        x = pos[:, 0, None, None] + c * s[None, None, :] - sn * lat[None, :, None]
        y = pos[:, 1, None, None] + sn * s[None, None, :] + c * lat[None, :, None]
        h = self.height_fn(x, y)                                           # (n, 3, K)
        d = torch.diff(h, dim=-1)
        up = (d > self.cfg.step_jump).sum(-1)
        down = (d < -self.cfg.step_jump).sum(-1)
        return (torch.maximum(up, down) >= self.cfg.step_count).any(-1)

    def _leg_hits(self, cx: torch.Tensor, cy: torch.Tensor, cz: torch.Tensor,
                  hip_x: torch.Tensor, hip_z: torch.Tensor) -> torch.Tensor:
        """(n, 4, K) bool: a shank or lower-thigh point of a leg standing on a candidate
        foothold comes within ``leg_clearance`` m of the terrain (see the numpy method)."""
        l1, l2 = self.legs.thigh, self.legs.shank
        dx, dz = cx - hip_x[..., None], cz - hip_z[..., None]
        d = torch.clamp(torch.sqrt(dx * dx + dz * dz), 1e-6, l1 + l2 - 1e-6)
        ux, uz = dx / d, dz / d
        a = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
        h = torch.sqrt(torch.clamp(l1 * l1 - a * a, min=0.0)) * self.legs.knee_side
        kx = hip_x[..., None] + a * ux - h * uz
        kz = hip_z[..., None] + a * uz + h * ux
        hit = torch.zeros(cx.shape, dtype=torch.bool, device=self.device)
        for f in (0.25, 0.5, 0.75, 1.0, 1.25):   # along the shank from the foot, then the thigh
            px = cx + f * (kx - cx) if f <= 1.0 else kx + (f - 1.0) * (hip_x[..., None] - kx)
            pz = cz + f * (kz - cz) if f <= 1.0 else kz + (f - 1.0) * (hip_z[..., None] - kz)
            hit |= pz - self.height_fn(px, cy) < self.cfg.leg_clearance
        return hit

    def _hips_ahead(self, pos: torch.Tensor, yaw: torch.Tensor, v: torch.Tensor,
                    t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """World x and z (n, 4) m of the HFE joints after the body has moved ``t`` (n,) s at
        ``v`` (n,) m/s along x (see the numpy method)."""
        ahead = pos.clone()
        ahead[:, 0] += v * t
        ground, pitch = self._ground_plane(ahead, yaw)
        pitch = self.cfg.pitch_gain * pitch
        hx = self.legs.centers[None, :, 1, 0]                          # HFE x, base frame
        hip_x = ahead[:, None, 0] + hx * torch.cos(pitch)[:, None]
        hip_z = (ground + self.body_height)[:, None] - hx * torch.sin(pitch)[:, None]
        return hip_x, hip_z

    def _safe_foothold(self, xy: torch.Tensor, hips=()) -> torch.Tensor:
        """Move footholds (n, 4, 2) along x to the nearest spot whose surroundings have no
        height edge, and with ``hips`` whose stance keeps the leg clear of the terrain (see
        the numpy method). (n, 4, 2)."""
        cfg = self.cfg
        shifts = self._shifts                                             # (K,) m
        cx = xy[..., None, 0] + shifts                                    # (n, 4, K)
        cy = xy[..., None, 1].expand(cx.shape)
        m = cfg.edge_margin
        back, front = self._back, self._front
        h0 = self.height_fn(cx, cy)
        bad = torch.zeros(cx.shape, dtype=torch.bool, device=self.device)
        for ox, oy in ((front, 0.0), (-back, 0.0), (-0.5 * back, 0.0), (0.5 * front, 0.0),
                       (0.0, m), (0.0, -m)):
            bad |= torch.abs(self.height_fn(cx + ox, cy + oy) - h0) > cfg.edge_jump
        if len(hips):  # and the shanks clear of stair noses over the stance
            cz = h0 + self.robot.foot_radius
            leg_bad = bad.clone()
            for hip_x, hip_z in hips:
                leg_bad |= self._leg_hits(cx, cy, cz, hip_x, hip_z)
            bad = torch.where(leg_bad.all(-1, keepdim=True), bad, leg_bad)
        k = shifts.shape[0]
        idx = torch.arange(k, device=self.device).expand(cx.shape)
        first = torch.where(bad, k, idx).min(-1).values                  # first good candidate
        first = torch.where(first == k, 0, first)                         # none good: no shift
        out = xy.clone()
        out[..., 0] += shifts[first]
        return out

    # ------------------------------------------------------------------ main
    def __call__(self, qpos: torch.Tensor, qvel: torch.Tensor) -> torch.Tensor:
        """One control tick. ``qpos`` (n, 19), ``qvel`` (n, 18) (MuJoCo free-joint layout).
        Returns ctrl (n, 12) for position servos (rad). Advances the clock by ``control_dt``."""
        cfg, rb = self.cfg, self.robot
        n, dt = self.n, cfg.control_dt
        qpos, qvel = self._t(qpos), self._t(qvel)
        pos, quat, q = qpos[:, :3], qpos[:, 3:7], qpos[:, 7:19]
        vel, omega_b = qvel[:, :3], qvel[:, 3:6]
        rot = quat_to_mat(quat)
        rpy = rpy_from_mat(rot)
        yaw = rpy[:, 2]
        omega = torch.einsum("nij,nj->ni", rot, omega_b)

        # --- trot clock (float64, see __init__)
        t_gait64 = torch.clamp(self.t - cfg.stand_time, min=0.0)
        standing = self.t < cfg.stand_time
        phase64 = gait_phase(self.cycle, self._offsets64)                 # (n, 4)
        duty64 = self.duty[:, None]                                       # (n, 1) this tick's
        stance = (phase64 < duty64) | standing[:, None]
        t_gait, phase = t_gait64.to(self.dtype), phase64.to(self.dtype)
        period = self.period.to(self.dtype)   # this tick's (before the step-speed update)
        duty = duty64.to(self.dtype)
        t_swing = (1.0 - duty) * period[:, None]                          # (n, 1) s
        t_stance = duty * period[:, None]
        s_swing = torch.clamp((phase - duty) / (1.0 - duty), 0.0, 1.0)

        # --- body reference
        z_ground, pitch_ground = self._ground_plane(pos, yaw)
        self.z_ground = z_ground
        self.pitch_ref = self.pitch_ref + 0.2 * (cfg.pitch_gain * pitch_ground - self.pitch_ref)
        ramp = torch.clamp(t_gait / 0.5, 0.0, 1.0)
        guard = rb.name in cfg.swing_guard
        steps = self._steps_near(pos, yaw) if cfg.step_speed > 0 or guard else None
        if cfg.step_speed > 0:  # slow down (and step slower) where the map shows steps
            v_cap = torch.where(steps,
                                torch.clamp(self._v_cmd64, max=cfg.step_speed), self._v_cmd64)
            if cfg.step_speed_down > 0:  # slower still down the stairs
                down = steps & (pitch_ground > cfg.descent_pitch)
                v_cap = torch.where(down, torch.clamp(v_cap, max=cfg.step_speed_down), v_cap)
            self.v_gait = self.v_gait + torch.clamp(v_cap - self.v_gait, -cfg.accel * dt,
                                                    cfg.accel * dt)
        self.v_ref = torch.minimum(self.v_gait.to(self.dtype), self.v_cmd * ramp)
        v_des = self._zeros(n, 3)
        walking = (~standing).to(self.dtype)
        self.v_int = self.v_int + dt * (self.v_ref - vel[:, 0]) * walking * (
            self.hold_t == 0.0).to(self.dtype)
        self.v_int = torch.clamp(self.v_int, -cfg.v_int_max, cfg.v_int_max)
        v_des[:, 0] = self.v_ref + cfg.ki_v * self.v_int
        v_des[:, 1] = torch.clamp(cfg.kp_y * (self.y_ref - pos[:, 1]), -0.3, 0.3)
        z_des = z_ground + self.body_height
        yaw_err = -yaw
        zero = self._zeros(n)
        rpy_des = torch.stack([zero, self.pitch_ref, zero], -1)
        rot_des = rpy_to_mat(rpy_des)

        # --- kinematics
        feet_b, jac_b = self.legs.fk_jac(q)                               # (n,4,3), (n,4,3,3)
        feet_w = pos[:, None, :] + torch.einsum("nij,nkj->nki", rot, feet_b)
        jac_w = torch.einsum("nij,nkjl->nkil", rot, jac_b)

        # --- swing bookkeeping: footholds at lift-off (computed for all, kept where lifting)
        lift = self.was_stance & ~stance
        c, s = torch.cos(yaw), torch.sin(yaw)
        nom = self._nominal_stance()                                      # heading frame
        shift = (v_des[:, None, :2] * (t_swing + 0.5 * t_stance)[..., None]
                 + cfg.k_raibert * (vel[:, None, :2] - v_des[:, None, :2]))
        hx = pos[:, None, 0] + c[:, None] * nom[..., 0] - s[:, None] * nom[..., 1]
        hy = pos[:, None, 1] + s[:, None] * nom[..., 0] + c[:, None] * nom[..., 1]
        shift = torch.clamp(shift, -cfg.max_step, cfg.max_step)
        tgt_xy = torch.stack([hx, hy], -1) + shift
        hips = ()
        if cfg.leg_clearance > 0:  # HFE joints at touch-down and at lift-off
            hips = (self._hips_ahead(pos, yaw, v_des[:, 0], t_swing[:, 0]),
                    self._hips_ahead(pos, yaw, v_des[:, 0], (t_swing + t_stance)[:, 0]))
        tgt_xy = self._safe_foothold(tgt_xy, hips)
        tgt_z = self.height_fn(tgt_xy[..., 0], tgt_xy[..., 1]) + rb.foot_radius
        start = feet_w
        # highest terrain along the swing path (+ around it)
        ss = self._ss
        px = start[..., None, 0] + (tgt_xy[..., None, 0] - start[..., None, 0]) * ss
        py = start[..., None, 1] + (tgt_xy[..., None, 1] - start[..., None, 1]) * ss
        hmax = torch.maximum(self.height_fn(px + 0.04, py).max(-1).values,
                             self.height_fn(px - 0.04, py).max(-1).values)
        apex = torch.maximum(hmax + rb.foot_radius + cfg.swing_clearance,
                             torch.maximum(start[..., 2], tgt_z) + 0.04)
        m3 = lift[..., None]
        self.swing_start = torch.where(m3, start, self.swing_start)
        self.swing_target = torch.where(m3, torch.cat([tgt_xy, tgt_z[..., None]], -1),
                                        self.swing_target)
        self.swing_apex = torch.where(lift, apex, self.swing_apex)
        self.was_stance = stance
        # contact estimate from the height map: stance forces only on feet that touch down
        clearance = feet_w[..., 2] - self.height_fn(feet_w[..., 0], feet_w[..., 1]) \
            - rb.foot_radius
        if cfg.contact_aware:
            support = stance & ((clearance < cfg.contact_tol) | standing[:, None])
        else:
            support = stance.clone()
        lift_done = torch.abs(feet_w[..., 0] - self.swing_target[..., 0]) > 0.03

        # --- foot targets one tick ahead (world), then into the desired body frame
        s_next = torch.clamp(s_swing + cfg.lead_ticks * dt / t_swing, 0.0, 1.0)
        swing_w = self._swing_at(s_next)
        riser = rb.name in cfg.riser_guard
        if riser or cfg.hold_max > 0:  # step edges between the feet and their references
            edge_dist, edge_top = self._edge_ahead(feet_w, swing_w)
        if riser:  # front feet only (numpy)
            guarded = self._guard_riser(swing_w, feet_w, edge_dist, edge_top)
            swing_w = torch.cat([guarded[:, :2], swing_w[:, 2:]], 1)
        if guard:  # on stairs only
            swing_w = torch.where(steps[:, None, None], self._guard_swing(swing_w, feet_w),
                                  swing_w)
        # swing-foot velocity (world) for the servo's velocity feed-forward
        swing_v = (self._swing_at(torch.clamp(s_next + 0.5 * dt / t_swing, 0.0, 1.0))
                   - self._swing_at(torch.clamp(s_next - 0.5 * dt / t_swing, 0.0, 1.0))) / dt
        stance_w = feet_w.clone()
        stance_w[..., 2] = (self.height_fn(feet_w[..., 0], feet_w[..., 1]) + rb.foot_radius
                            - cfg.press_depth)
        # scheduled stance but still in the air (late touch-down): keep descending in place
        late_w = stance_w.clone()
        late_w[..., :2] = torch.where(lift_done[..., None], self.swing_target[..., :2],
                                      feet_w[..., :2])
        foot_tgt_w = torch.where(support[..., None], stance_w,
                                 torch.where(stance[..., None], late_w, swing_w))
        pos_next = pos + v_des * dt
        pos_next[:, 2] = z_des
        rel_st = torch.einsum("nji,nkj->nki", rot_des, foot_tgt_w - pos_next[:, None, :])
        rel_sw = torch.einsum("nji,nkj->nki", rot, foot_tgt_w - (pos + vel * dt)[:, None, :])
        rel = torch.where(support[..., None], rel_st, rel_sw)
        if cfg.reach < 1.0:  # keep targets reachable: a straight leg flips its knee
            rel = self.legs.clamp_reach(rel, cfg.reach)
        # one damped Gauss-Newton IK step from the current joint angles (targets are close)
        err = rel - feet_b
        jac_bt = jac_b.transpose(-1, -2)
        jjt = jac_b @ jac_bt + cfg.ik_damping ** 2 * self._eye3
        dq = (jac_bt @ torch.linalg.solve(jjt, err[..., None]))[..., 0]
        q_des = q + torch.clamp(dq, -0.5, 0.5).reshape(n, 12)
        if cfg.haa_limit > 0:  # swing legs: abduction targets within +-haa_limit
            q_des[:, 0::3] = torch.where(support, q_des[:, 0::3],
                                         torch.clamp(q_des[:, 0::3], -cfg.haa_limit,
                                                     cfg.haa_limit))

        # --- stance force distribution
        acc = self._zeros(n, 3)
        acc[:, 0] = cfg.kd_xy * (v_des[:, 0] - vel[:, 0])
        acc[:, 1] = cfg.kd_xy * (v_des[:, 1] - vel[:, 1])
        acc[:, 2] = cfg.kp_z * (z_des - pos[:, 2]) + cfg.kd_z * (0.0 - vel[:, 2])
        att_err = rpy_des - rpy
        att_err[:, 2] = yaw_err
        att_err = torch.remainder(att_err + np.pi, 2 * np.pi) - np.pi
        self.att_int = torch.clamp(self.att_int + dt * att_err * walking[:, None], -0.2, 0.2)
        alpha = cfg.kp_att * (att_err + cfg.ki_att * self.att_int) - cfg.kd_att * omega
        force = self.mass[:, None] * (acc + self._gravity)
        torque = alpha * self._inertia
        wrench = torch.cat([force, torque], -1)                           # (n, 6)
        r = feet_w - pos[:, None, :]
        if cfg.decoupled_wrench:
            f = self._distribute_decoupled(wrench, r, support)
        else:
            a_mat = torch.cat([self._eye3.expand(n, 4, 3, 3), _skew(r)], -2)
            a_mat = a_mat * support[..., None, None].to(self.dtype)       # (n, 4, 6, 3)
            am = None
            if cfg.torque_weight > 0:  # a M, M block-diagonal per leg
                am = a_mat @ torque_metric_inverse(jac_w, cfg.torque_weight, self._leg_scale)
                am = am.permute(0, 2, 1, 3).reshape(n, 6, 12)
            a_mat = a_mat.permute(0, 2, 1, 3).reshape(n, 6, 12)
            f = _min_norm(a_mat, wrench, cfg.force_reg, am).reshape(n, 4, 3)
        fz = torch.clamp(f[..., 2], min=0.0)
        fxy = f[..., :2]
        lim = cfg.friction * fz
        norm = torch.linalg.norm(fxy, dim=-1)
        fxy = fxy * torch.clamp(lim / torch.clamp(norm, min=1e-9), max=1.0)[..., None]
        f = torch.cat([fxy, fz[..., None]], -1) * support[..., None].to(self.dtype)
        tau = -torch.einsum("nkij,nki->nkj", jac_w, f).reshape(n, 12) * cfg.stance_ff
        tau = torch.clamp(tau, -rb.torque_limit, rb.torque_limit)

        # per-joint servo gains: stiff swing legs, compliant stance legs
        swing12 = torch.repeat_interleave(~support, 3, dim=1)
        self.kp_joint = torch.where(swing12, self._full(cfg.swing_kp), self._full(cfg.joint_kp))
        self.kd_joint = torch.where(swing12, self._full(cfg.swing_kd), self._full(cfg.joint_kd))
        # swing legs: velocity feed-forward through the servo damping (kd + joint damping)
        foot_rel = feet_w - pos[:, None, :]
        v_rel = swing_v - vel[:, None, :] - _cross(omega[:, None, :], foot_rel)
        v_rel_b = torch.einsum("nji,nkj->nki", rot, v_rel)
        qd_des = (jac_bt @ torch.linalg.solve(jjt, v_rel_b[..., None]))[..., 0]
        qd_des = torch.clamp(qd_des, -20.0, 20.0).reshape(n, 12) * swing12.to(self.dtype)
        tau = tau + cfg.vel_ff * (self.kd_joint + rb.joint_damping) * qd_des
        self.t = self.t + dt
        walk64 = (~standing).to(torch.float64)
        if cfg.hold_max > 0:  # a foot ending its swing below an edge before its foothold
            ending = ~stance & (s_swing + dt / t_swing >= 1.0 - 1e-9)
            caught = (ending & torch.isfinite(edge_dist)).any(-1)
            hold = caught & (self.hold_t < cfg.hold_max - 0.5 * dt)  # (round(hold_max / dt) ticks)
            self.hold_t = torch.where(hold, self.hold_t + dt, torch.zeros_like(self.hold_t))
            walk64 = walk64 * (~hold).to(torch.float64)
        self.cycle = self.cycle + dt / self.period * walk64
        return q_des + tau / self.kp_joint

    def _full(self, value: float) -> torch.Tensor:
        return torch.full((), value, dtype=self.dtype, device=self.device)

    def _swing_at(self, s: torch.Tensor) -> torch.Tensor:
        """Swing-foot world positions (n, 4, 3) at swing progress ``s`` (n, 4)."""
        cfg = self.cfg
        out = swing_position(self.swing_start, self.swing_target, self.swing_apex,
                             torch.clamp(s / cfg.touchdown_frac, 0.0, 1.0), cfg.swing_lift_frac,
                             cfg.swing_descent)
        out[..., 2] -= cfg.press_depth * torch.clamp(
            (s - cfg.touchdown_frac) / max(1.0 - cfg.touchdown_frac, 1e-6), 0.0, 1.0)
        return out

    def _edge_ahead(self, feet: torch.Tensor, ref: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Distance (n, 4) m from each foot (n, 4, 3) to the first step edge above its sole on
        the way to its reference (n, 4, 3) (inf: none), and the highest terrain on the way
        (n, 4) m (numpy ``_edge_ahead``)."""
        rad = self.robot.foot_radius
        d = ref[..., :2] - feet[..., :2]
        dist = torch.linalg.norm(d, dim=-1)
        u = d / torch.clamp(dist, min=1e-9)[..., None]
        reach = dist[..., None] * self._edge_ss + self._edge_off               # (n, 4, 13) m
        h = self.height_fn(feet[..., None, 0] + u[..., None, 0] * reach,
                           feet[..., None, 1] + u[..., None, 1] * reach)
        jump = torch.cummax(torch.abs(torch.diff(h, dim=-1)), dim=-1).values > self.cfg.edge_jump
        above = jump & (h[..., 1:] > feet[..., None, 2] - rad + 0.01)
        first = torch.argmax(above.to(torch.int8), dim=-1)
        at_first = torch.gather(reach[..., 1:], -1, first[..., None])[..., 0]
        dist_edge = torch.where(above.any(-1), at_first, torch.full_like(at_first, torch.inf))
        return dist_edge, h.amax(-1)

    def _guard_riser(self, ref: torch.Tensor, feet: torch.Tensor, edge_dist: torch.Tensor,
                     edge_top: torch.Tensor) -> torch.Tensor:
        """Swing references (n, 4, 3) m held short of a step edge the foot (n, 4, 3) is below
        and raised over it (numpy ``_guard_riser``)."""
        rad = self.robot.foot_radius
        blocked = torch.isfinite(edge_dist)
        d = ref[..., :2] - feet[..., :2]
        dist = torch.linalg.norm(d, dim=-1)
        allowed = torch.minimum(torch.clamp(edge_dist - 2 * rad - 0.02, min=0.0), dist)
        held = feet[..., :2] + d * (allowed / torch.clamp(dist, min=1e-9))[..., None]
        out = ref.clone()
        out[..., :2] = torch.where(blocked[..., None], held, ref[..., :2])
        out[..., 2] = torch.where(blocked, torch.maximum(ref[..., 2], edge_top + rad + 0.03),
                                  ref[..., 2])
        return out

    def _guard_swing(self, ref: torch.Tensor, feet: torch.Tensor) -> torch.Tensor:
        """Swing references (n, 4, 3) m raised above an edge next to the actual foot (n, 4, 3)
        that it has not yet passed (numpy ``_guard_swing``)."""
        cfg, rad = self.cfg, self.robot.foot_radius
        m = rad + 0.02
        fx, fy = feet[..., 0], feet[..., 1]
        ss = torch.linspace(0.0, 1.0, 9, dtype=ref.dtype, device=ref.device)
        around = torch.tensor([-m, 0.0, m], dtype=ref.dtype, device=ref.device)
        px = torch.cat([fx[..., None] + around,
                        fx[..., None] + (ref[..., None, 0] - fx[..., None]) * ss], -1)
        py = torch.cat([fy[..., None].expand(*fy.shape, 3),
                        fy[..., None] + (ref[..., None, 1] - fy[..., None]) * ss], -1)
        h = self.height_fn(px, py)                                             # (n, 4, 12) m
        h_near = h[..., :3].amax(-1)
        jumps = torch.abs(torch.diff(h, dim=-1))
        jumps[..., 2] = 0.0
        edge = jumps.amax(-1) > cfg.edge_jump
        h_ref = self.height_fn(ref[..., 0], ref[..., 1])
        out = ref.clone()
        out[..., 2] = torch.where(edge & (h_near > h_ref + cfg.edge_jump),
                                  torch.maximum(ref[..., 2], h_near + rad + cfg.guard_clearance),
                                  ref[..., 2])
        return out

    def _distribute_decoupled(self, wrench, r, stance):
        """Virtual-model split (see the numpy method). (n, 4, 3) N."""
        reg = self.cfg.force_reg
        m = stance.to(self.dtype)
        ones = torch.ones_like(m)
        a_v = torch.stack([ones, r[..., 1], -r[..., 0]], 1) * m[:, None, :]   # (n, 3, 4)
        fz = _min_norm(a_v, wrench[:, [2, 3, 4]], reg)
        z = torch.zeros_like(m)
        a_h = torch.cat([torch.stack([ones, z], -1), torch.stack([z, ones], -1),
                         torch.stack([-r[..., 1], r[..., 0]], -1)], 1)        # (n, 3*4, 2)
        a_h = (a_h.reshape(-1, 3, 4, 2) * m[:, None, :, None]).reshape(-1, 3, 8)
        fxy = _min_norm(a_h, wrench[:, [0, 1, 5]], reg).reshape(-1, 4, 2)
        return torch.cat([fxy, fz[..., None]], -1)

    def write_gains(self, gainprm: torch.Tensor, biasprm: torch.Tensor) -> None:
        """Write this tick's servo gains into per-simulation actuator parameters
        (``gainprm``/``biasprm`` (n, 12, 10) tensors, e.g. views of MuJoCo Warp's batched
        ``actuator_gainprm`` / ``actuator_biasprm``)."""
        gainprm[:, :, 0] = self.kp_joint
        biasprm[:, :, 1] = -self.kp_joint
        biasprm[:, :, 2] = -self.kd_joint

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, torch.Tensor]:
        """The controller state (:data:`STATE_FIELDS`) as tensors (no copies)."""
        return {k: getattr(self, k) for k in STATE_FIELDS}

    def load_state(self, state: dict) -> None:
        """Set the controller state from arrays or tensors (e.g. the numpy controller's
        attributes: ``{k: getattr(np_ctl, k) for k in STATE_FIELDS}``)."""
        for k in STATE_FIELDS:
            v = state[k]
            if k == "was_stance":
                v = torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v,
                                    device=self.device).to(torch.bool)
            elif k in CLOCK_FIELDS:
                v = torch.as_tensor(np.asarray(v, dtype=np.float64) if not isinstance(
                    v, torch.Tensor) else v, device=self.device).to(torch.float64)
            else:
                v = self._t(v)
            setattr(self, k, v.clone())
