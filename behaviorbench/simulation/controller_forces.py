"""Stance forces of the trot controller: the body wrench distributed over the feet on the
ground by regularised least squares (optionally weighted by joint torque), mapped to joint
torques (a mixin of :class:`~behaviorbench.simulation.controller.TrotController`, and the
solvers it uses). Arrays or tensors of the input's namespace (:mod:`.array_ops`)."""

from __future__ import annotations

import numpy as np

from .array_ops import namespace
from .controller_geometry import _skew


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


class ForceMixin:
    """Stance-force methods of :class:`~behaviorbench.simulation.controller.TrotController`;
    they use its ``cfg``, ``robot``, ``xp``, ``mass``, ``att_int`` and constants."""

    def _stance_torques(self, pos, vel, omega, rpy, rpy_des, yaw_err, v_des, z_des, standing,
                        feet_w, jac_w, support):
        """Feed-forward joint torques (n, 12) N m of the stance legs: the body wrench (gravity,
        height PD, velocity D, attitude PID; updates the attitude integral ``att_int``)
        distributed over the ``support`` feet (n, 4) bool by regularised least squares, clipped
        to the friction cone, ``tau = -J^T f``, clipped to the torque limit. ``pos``, ``vel``
        (n, 3) m, m/s world; ``omega`` (n, 3) rad/s world; ``rpy``, ``rpy_des`` (n, 3) rad;
        ``yaw_err`` (n,) rad; ``v_des`` (n, 3) m/s; ``z_des`` (n,) m; ``standing`` (n,) bool;
        ``feet_w`` (n, 4, 3) m; ``jac_w`` (n, 4, 3, 3) world-frame foot Jacobians."""
        cfg, rb, xp = self.cfg, self.robot, self.xp
        n, dt = self.n, cfg.control_dt
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
        return tau

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
