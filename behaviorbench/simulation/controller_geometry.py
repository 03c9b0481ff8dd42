"""Rotations and leg kinematics of the trot controller, on numpy arrays or torch tensors (the
namespace of the input, :mod:`.array_ops`): quaternion / roll-pitch-yaw conversions, cross
products, and :class:`LegModel` (forward kinematics and Jacobians of the four legs at once)."""

from __future__ import annotations

import numpy as np

from .array_ops import NUMPY, namespace
from .robots import RobotSpec


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


def flat_ground(x, y):
    """Height function of a flat floor at z = 0 (broadcast shape of ``x``, ``y``; their kind
    and dtype)."""
    xp = namespace(x)
    return xp.zeros(xp.broadcast_shapes(np.shape(x), np.shape(y)))   # (numbers: shape ())
