"""A deterministic stand-in simulator for the benchmark's end-to-end tests.

Writes TrajectoryBatch-shaped arrays through the real dataset writer (``datasets.generate``) so
the CLI test exercises the real store, loader, models, readouts and results schema without
MuJoCo. Signals are planted on purpose, each linear in the per-frame features (a posture offset
on its own joints): robot type (joints 0-2), terrain type (one-hot on joints 3-7), command
velocity (joint 8), added mass (joint 9); gait frequency and amplitude also vary. A pipeline that
keeps frames aligned with their labels therefore scores near perfectly with raw features.
"""

from __future__ import annotations

import numpy as np

from behaviorbench.datasets import schema

BACKEND = "tests.benchmark.synthetic_backend:simulate"


def one(plan, i: int) -> dict:
    rng = np.random.default_rng([plan.seed, i])
    t = int(round(plan.episode_s * schema.FRAME_RATE_HZ))
    tt = np.arange(t, dtype=np.float32) / schema.FRAME_RATE_HZ
    robot = schema.ROBOT_TYPES.index(plan.robot)
    x = (plan.command_vel * tt).astype(np.float32)
    seg = (x // 0.5).astype(int) + i
    terrain = (seg % 5).astype(np.int8)
    freq = 1.2 if robot == 0 else 2.0  # Hz
    amp = (0.05 + 0.02 * terrain).astype(np.float32)[:, None]
    phase = rng.uniform(0, 2 * np.pi, 12).astype(np.float32)
    added = rng.uniform(*plan.added_mass_range)
    dof_pos = amp * np.sin(2 * np.pi * freq * tt[:, None] + phase)
    offset = np.zeros((t, 12), np.float32)
    offset[:, 0:3] = 0.5 * robot
    offset[np.arange(t), 3 + terrain] = 0.5
    offset[:, 8] = 0.5 * plan.command_vel
    offset[:, 9] = 0.1 * added
    dof_pos = (offset + dof_pos + rng.normal(0, 0.01, dof_pos.shape)).astype(np.float32)
    dof_vel = (np.gradient(dof_pos, axis=0) * schema.FRAME_RATE_HZ).astype(np.float32)
    return dict(
        dof_pos=dof_pos, dof_vel=dof_vel,
        base_pos=np.stack([x, 0 * x, 0.5 + 0 * x], -1).astype(np.float32),
        base_lin_vel=np.tile(np.float32([plan.command_vel, 0, 0]), (t, 1)),
        base_ang_vel=np.zeros((t, 3), np.float32),
        terrain_type=terrain, terrain_type_2=((terrain + 1) % 5).astype(np.int8),
        terrain_slope=(0.1 * terrain).astype(np.float32),
        terrain_difficulty=(0.25 * (terrain % 4)).astype(np.float32),
        terrain_rough=(terrain % 2 == 0),
        robot_type=np.int8(robot), command_vel=np.float32(plan.command_vel),
        body_mass=np.float32(33.3 + added), added_mass=np.float32(added),
        seed=np.uint64(plan.seed + i), success=True,
    )


def simulate(plan, indices):
    rows = [one(plan, i) for i in indices]
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}
