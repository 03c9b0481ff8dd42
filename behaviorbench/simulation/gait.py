"""Trot clock and swing-foot trajectories, vectorised over robots.

Legs are in :data:`behaviorbench.simulation.robots.LEG_NAMES` order (LF, RF, LH, RH). A trot moves
the diagonal pairs LF+RH and RF+LH half a period apart. Arrays are numpy arrays or torch
tensors (:mod:`.array_ops`; numpy: the same numpy calls whatever the caller).
"""

from __future__ import annotations

import numpy as np

from .array_ops import clamp, namespace

__all__ = ["TROT_OFFSETS", "clamp", "gait_phase", "smoothstep", "swing_position"]

TROT_OFFSETS = np.array([0.0, 0.5, 0.5, 0.0])  # fraction of a period, per leg (LF, RF, LH, RH)


def gait_phase(cycles, offsets=TROT_OFFSETS):
    """Leg phases in [0, 1), shape (n, 4), from the gait cycles elapsed ``cycles`` (n,) (time
    integrated over ``1 / period``, so the period may change from tick to tick) and the per-leg
    ``offsets`` (4,) (period fractions; a tensor of ``cycles``' dtype for tensor cycles)."""
    return (cycles[:, None] + offsets[None, :]) % 1.0   # np.mod / torch.remainder: in [0, 1)


def smoothstep(s, xp=None):
    """Quintic 0->1 ramp, zero velocity and acceleration at both ends; ``s`` clipped to [0, 1]
    (``xp``: the namespace of ``s``, found if not given)."""
    s = (xp or namespace(s)).clamp(s, 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


def swing_position(start, target, apex_z, s, lift_frac: float = 0.2,
                   descent_start: float = 0.5):
    """Swing-foot position at swing progress ``s`` (..., ) in [0, 1].

    ``start``/``target`` (..., 3) m world lift-off and touch-down points; ``apex_z`` (...,) m the
    world height the foot must clear. The foot first rises (horizontal motion starts after
    ``lift_frac`` of the swing), reaches the apex at half the swing, stays there until
    ``descent_start`` (>= 0.5) of the swing, then descends onto the target (the horizontal
    motion ends ``lift_frac`` before touch-down), so it steps over edges and obstacles between
    lift-off and touch-down. Returns (..., 3) m world."""
    xp = namespace(s)
    sxy = smoothstep((s - lift_frac) / (1.0 - 2.0 * lift_frac), xp)
    xy = start[..., :2] + (target[..., :2] - start[..., :2]) * sxy[..., None]
    up = smoothstep(s / 0.5, xp)
    down = smoothstep((s - descent_start) / (1.0 - descent_start), xp)
    z_up = start[..., 2] + (apex_z - start[..., 2]) * up
    z = z_up + (target[..., 2] - apex_z) * down
    return xp.concatenate([xy, z[..., None]], axis=-1)
