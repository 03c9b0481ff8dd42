"""Structured synthetic sequences for the model tests: sinusoids with regime switches."""

from __future__ import annotations

import numpy as np


def regime_sinusoids(n: int = 8, t_len: int = 300, seed: int = 0, fps: float = 50.0):
    """(n, t_len, 24) float32: 12 phase-continuous sinusoidal "joint angles" (rad) whose
    frequency/amplitude switch regime every 60-150 frames, then their 12 velocities (rad/s).

    Returns (features, regime) with regime (n, t_len) int in {0, 1, 2}.
    """
    rng = np.random.default_rng(seed)
    freqs = np.array([0.8, 2.0, 3.5])  # Hz
    amps = np.array([0.3, 0.6, 0.2])  # rad
    regime = np.zeros((n, t_len), dtype=np.int64)
    for i in range(n):
        t = 0
        while t < t_len:
            d = int(rng.integers(60, 150))
            regime[i, t : t + d] = rng.integers(0, 3)
            t += d
    phase_offsets = rng.uniform(0, 2 * np.pi, size=(n, 1, 12))
    joint_scale = rng.uniform(0.7, 1.3, size=(n, 1, 12))
    omega = 2 * np.pi * freqs[regime] / fps  # rad per frame
    phase = np.cumsum(omega, axis=1)[..., None] + phase_offsets
    pos = amps[regime][..., None] * joint_scale * np.sin(phase)
    pos += 0.01 * rng.normal(size=pos.shape)
    vel = np.gradient(pos, axis=1) * fps
    return np.concatenate([pos, vel], axis=-1).astype(np.float32), regime
