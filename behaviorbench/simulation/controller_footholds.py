"""Terrain queries and footholds of the trot controller (a mixin of
:class:`~behaviorbench.simulation.controller.TrotController`): the ground plane under the feet,
the stairs search ahead, the nominal stance, and the footholds chosen at lift-off (Raibert
heuristic, moved off height edges and away from spots where the shank or thigh would touch the
terrain), with the swing apex over the terrain between lift-off and touch-down."""

from __future__ import annotations


class FootholdMixin:
    """Methods of :class:`~behaviorbench.simulation.controller.TrotController` that query the
    terrain (``height_fn``) and plan footholds; they use the controller's ``cfg``, ``robot``,
    ``xp``, ``legs`` and the sample offsets built in its ``__init__``."""

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
