"""Swing-foot trajectories of the trot controller (a mixin of
:class:`~behaviorbench.simulation.controller.TrotController`): the timed swing path, and the
guards that keep a foot lagging its path off stair noses (the riser guard raises a foot below
an edge before it moves on; the swing guard holds a foot above an edge it has not passed)."""

from __future__ import annotations

import numpy as np

from .gait import swing_position


class SwingMixin:
    """Methods of :class:`~behaviorbench.simulation.controller.TrotController` for swing feet;
    they use the controller's ``cfg``, ``robot``, ``xp``, ``height_fn``, the swing state
    (``swing_start``, ``swing_target``, ``swing_apex``) and the sample offsets of its
    ``__init__``."""

    def _swing_targets(self, s_swing, t_swing, feet_w, stance, steps):
        """Swing-foot references one tick ahead (``lead_ticks``), world (n, 4, 3) m, with the
        riser and swing guards applied, their velocities (n, 4, 3) m/s (for the servos'
        velocity feed-forward) and the distance (n, 4) m from each swing foot to a step edge
        between it and its reference (:meth:`_edge_ahead`; inf where none; None where neither
        ``riser_guard`` nor ``hold_max`` needs it). ``s_swing`` (n, 4) swing progress,
        ``t_swing`` (n, 1) s, ``feet_w`` (n, 4, 3) m, ``stance`` (n, 4) bool, ``steps`` (n,)
        bool (stairs near, :meth:`_steps_near`; None where no guard needs it)."""
        cfg, rb, xp = self.cfg, self.robot, self.xp
        n, dt = self.n, cfg.control_dt
        s_next = xp.clamp(s_swing + cfg.lead_ticks * dt / t_swing, 0.0, 1.0)
        # the target and, half a tick either side, the points of the velocity feed-forward
        swing_w, sw_plus, sw_minus = self._swing_at(xp.stack(
            [s_next, xp.clamp(s_next + 0.5 * dt / t_swing, 0.0, 1.0),
             xp.clamp(s_next - 0.5 * dt / t_swing, 0.0, 1.0)]))
        guard = rb.name in cfg.swing_guard
        edge_dist = None
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
        if guard and xp.sync_free:  # swing feet on stairs only (not among obstacles)
            swing_w = xp.where(steps[:, None, None], self._guard_swing(swing_w, feet_w), swing_w)
        elif guard:
            sel = steps[:, None] & ~stance
            swing_w[sel] = self._guard_swing(swing_w[sel], feet_w[sel])
        # swing-foot velocity (world) for the servo's velocity feed-forward
        swing_v = (sw_plus - sw_minus) / dt
        return swing_w, swing_v, edge_dist

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
