"""Leg kinematics as products of exponentials: forward kinematics, Jacobians and inverse
kinematics of one leg, vectorised over robots (numpy, float64)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parts import Link, Vec3


def _quat_to_mat(q) -> np.ndarray:
    """(4,) w-x-y-z quaternion (normalised here, as MuJoCo's compiler does) -> (3, 3)."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def _rodrigues(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices about unit ``axis`` (3,) by ``angle`` (...,) rad -> (..., 3, 3)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    s = np.sin(angle)[..., None, None]
    c = np.cos(angle)[..., None, None]
    return np.eye(3) + s * k + (1.0 - c) * (k @ k)


def _dot(v: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``v @ a`` for points ``v`` (..., 3) and one vector ``a`` (3,), element by element: BLAS's
    matrix-vector product rounds a row differently with the number of rows, and a trajectory
    must not depend on the batch it is simulated in."""
    return v[..., 0] * a[0] + v[..., 1] * a[1] + v[..., 2] * a[2]


def _rotate_about(v: np.ndarray, axis: np.ndarray, center: np.ndarray,
                  angle: np.ndarray) -> np.ndarray:
    """Rotate points ``v`` (..., 3) about the line (``center``, unit ``axis``) by ``angle``."""
    r = v - center
    c = np.cos(angle)[..., None]
    s = np.sin(angle)[..., None]
    rot = r * c + np.cross(axis, r) * s + axis * _dot(r, axis)[..., None] * (1.0 - c)
    return rot + center


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2.0 * np.pi) - np.pi


@dataclass(frozen=True, eq=False)
class LegKinematics:
    """Zero-configuration screw description of one leg, in the base frame.

    ``centers`` (3, 3) m: HAA, HFE, KFE joint positions at q = 0; ``axes`` (3, 3): unit joint
    axes at q = 0; ``foot0`` (3,) m: foot-sphere centre at q = 0. Forward kinematics is the
    product of exponentials foot(q) = e^{xi_1 q_1} e^{xi_2 q_2} e^{xi_3 q_3} foot0, which equals
    MuJoCo's tree kinematics for this chain exactly."""

    centers: np.ndarray
    axes: np.ndarray
    foot0: np.ndarray

    def fk(self, q: np.ndarray) -> np.ndarray:
        """(..., 3) joint angles rad -> (..., 3) foot centre in the base frame, m."""
        q = np.asarray(q, dtype=np.float64)
        p = np.broadcast_to(self.foot0, q.shape[:-1] + (3,))
        for k in (2, 1, 0):
            p = _rotate_about(p, self.axes[k], self.centers[k], q[..., k])
        return p

    def jacobian(self, q: np.ndarray) -> np.ndarray:
        """(..., 3) rad -> (..., 3, 3) d foot / d q (base frame; column k = joint k)."""
        q = np.asarray(q, dtype=np.float64)
        foot = self.fk(q)
        cols = []
        axis_w = np.broadcast_to(self.axes[0], q.shape[:-1] + (3,))
        center_w = np.broadcast_to(self.centers[0], q.shape[:-1] + (3,))
        # joint k's axis/centre are moved by joints < k
        for k in range(3):
            if k > 0:
                a = np.broadcast_to(self.axes[k], q.shape[:-1] + (3,))
                c = np.broadcast_to(self.centers[k], q.shape[:-1] + (3,))
                for j in range(k - 1, -1, -1):
                    a = _rotate_about(a, self.axes[j], np.zeros(3), q[..., j])
                    c = _rotate_about(c, self.axes[j], self.centers[j], q[..., j])
                axis_w, center_w = a, c
            cols.append(np.cross(axis_w, foot - center_w))
        return np.stack(cols, axis=-1)

    # --- analytic inverse kinematics -----------------------------------------------------
    def _planar_setup(self):
        u = self.axes[0]
        a1 = self.axes[1] - u * (self.axes[1] @ u)
        a1 /= np.linalg.norm(a1)
        w = np.cross(u, a1)
        return u, a1, w

    def ik(self, foot: np.ndarray, q_ref: np.ndarray, refine: int = 3) -> np.ndarray:
        """Foot centre (..., 3) m in the base frame -> joint angles (..., 3) rad.

        Closed form (HAA about ``axes[0]``, then a planar two-link HFE/KFE chain) on the branch
        of ``q_ref`` (the standing pose: knees in), followed by ``refine`` damped Gauss-Newton
        steps on :meth:`fk` that absorb the tiny (~1e-6) non-orthogonality of the transcribed
        axes. Unreachable targets are clipped to the workspace boundary."""
        foot = np.asarray(foot, dtype=np.float64)
        h = self.centers[0]
        u, a1, w = self._planar_setup()
        t = foot - h
        # HAA: in the plane normal to u, the foot has a fixed coordinate d along a1.
        p0 = self.foot0 - h
        d = p0 @ a1
        f_ref = _rotate_about(self.fk(q_ref) - h, u, np.zeros(3), np.asarray(-q_ref[0]))
        beta_sign = -1.0 if f_ref @ w < 0 else 1.0
        ta, tw = _dot(t, a1), _dot(t, w)
        rho2 = ta * ta + tw * tw
        beta = beta_sign * np.sqrt(np.maximum(rho2 - d * d, 1e-12))
        q0 = np.arctan2(tw, ta) - np.arctan2(beta, d)
        # undo HAA, then solve the sagittal two-link problem in the plane normal to a1.
        g = _rotate_about(t, u, np.zeros(3), -q0) + h
        s2 = np.sign(self.axes[2] @ self.axes[1])
        e1 = u
        e2 = np.cross(self.axes[1], e1)  # rotation about axes[1] is CCW in (e1, e2)

        def plane(v):
            return np.stack([_dot(v, e1), _dot(v, e2)], axis=-1)

        c1, c2 = self.centers[1], self.centers[2]
        P1, P2, P3 = plane(c1), plane(c2), plane(self.foot0)
        G = plane(g)
        L1v, L2v = P2 - P1, P3 - P2
        L1, L2 = np.linalg.norm(L1v), np.linalg.norm(L2v)
        ang = np.arctan2
        gamma0 = ang(L2v[1], L2v[0]) - ang(L1v[1], L1v[0])
        gamma_ref = _wrap(gamma0 + s2 * q_ref[2])
        dv = G - P1
        D2 = np.sum(dv * dv, axis=-1)
        cg = np.clip((D2 - L1 * L1 - L2 * L2) / (2 * L1 * L2), -1.0, 1.0)
        gamma = np.sign(gamma_ref) * np.arccos(cg)
        q2 = _wrap(s2 * (gamma - gamma0) - q_ref[2]) + q_ref[2]
        rot = s2 * q2
        cr, sr = np.cos(rot), np.sin(rot)
        v = np.stack([L1v[0] + cr * L2v[0] - sr * L2v[1], L1v[1] + sr * L2v[0] + cr * L2v[1]],
                     axis=-1)
        q1 = _wrap(ang(dv[..., 1], dv[..., 0]) - ang(v[..., 1], v[..., 0]) - q_ref[1]) + q_ref[1]
        q0 = _wrap(q0 - q_ref[0]) + q_ref[0]
        q = np.stack([np.broadcast_to(q0, q1.shape), q1, q2], axis=-1)
        err = foot - self.fk(q)
        for _ in range(refine):
            jac = self.jacobian(q)
            jt = np.swapaxes(jac, -1, -2)
            lhs = jt @ jac + 1e-6 * np.eye(3)
            q_new = q + np.linalg.solve(lhs, (jt @ err[..., None]))[..., 0]
            err_new = foot - self.fk(q_new)
            # accept only improving steps (unreachable targets stay at the clipped solution)
            better = (np.sum(err_new ** 2, axis=-1) < np.sum(err ** 2, axis=-1))[..., None]
            q = np.where(better, q_new, q)
            err = np.where(better, err_new, err)
        return q


def leg_kinematics(links: tuple[Link, Link, Link], foot_pos: Vec3) -> LegKinematics:
    rot = np.eye(3)
    pos = np.zeros(3)
    centers, axes = [], []
    for link in links:
        pos = pos + rot @ np.asarray(link.pos)
        rot = rot @ _quat_to_mat(link.quat)
        ax = np.asarray(link.axis, dtype=np.float64)
        centers.append(pos.copy())
        axes.append(rot @ (ax / np.linalg.norm(ax)))
    foot0 = pos + rot @ np.asarray(foot_pos)
    return LegKinematics(np.array(centers), np.array(axes), foot0)

