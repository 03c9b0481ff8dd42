"""A deterministic stand-in simulator producing TrajectoryBatch-shaped arrays (store tests only).

Trajectory i of a run depends only on (run seed, i), like the real simulator's contract.
``SYNTH_SLEEP_S`` (env var, s per trajectory) slows it down for the kill/resume test.
"""

from __future__ import annotations

import os
import time

import numpy as np

from behaviorbench.datasets import schema

BACKEND = "tests.datasets.synthetic:simulate"


def one(plan, i: int) -> dict:
    rng = np.random.default_rng([plan.seed, i])
    t = int(round(plan.episode_s * schema.FRAME_RATE_HZ))
    tt = np.arange(t, dtype=np.float32) / 50.0
    phase = rng.uniform(0, 2 * np.pi, 12).astype(np.float32)
    dof_pos = (0.3 * np.sin(2 * np.pi * 1.5 * tt[:, None] + phase)).astype(np.float32)
    dof_pos += rng.normal(0, 0.01, dof_pos.shape).astype(np.float32)
    dof_vel = np.gradient(dof_pos, axis=0).astype(np.float32) * 50
    x = (plan.command_vel * tt).astype(np.float32)
    base_pos = np.stack([x, np.zeros_like(x), 0.5 + 0 * x], -1).astype(np.float32)
    seg = (x // 6).astype(int)
    tt1 = ((seg * 7 + i) % 5).astype(np.int8)
    added = rng.uniform(*plan.added_mass_range)
    return dict(
        dof_pos=dof_pos, dof_vel=dof_vel, base_pos=base_pos,
        base_lin_vel=np.tile(np.float32([plan.command_vel, 0, 0]), (t, 1)),
        base_ang_vel=rng.normal(0, 0.1, (t, 3)).astype(np.float32),
        terrain_type=tt1, terrain_type_2=((tt1 + 1) % 5).astype(np.int8),
        terrain_slope=(0.1 * (tt1 % 2)).astype(np.float32),
        terrain_difficulty=np.full(t, 0.5, np.float32), terrain_rough=(tt1 % 2 == 0),
        robot_type=np.int8(schema.ROBOT_TYPES.index(plan.robot)),
        command_vel=np.float32(plan.command_vel),
        body_mass=np.float32(33.33 + added), added_mass=np.float32(added),
        seed=np.uint64(plan.seed + i), success=bool(rng.uniform() > 0.25),
    )


def simulate(plan, indices):
    sleep = float(os.environ.get("SYNTH_SLEEP_S", "0"))
    rows = []
    for i in indices:
        if sleep:
            time.sleep(sleep)
        rows.append(one(plan, i))
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


FAILING_BACKEND = "tests.datasets.synthetic:fail"


def fail(plan, indices):
    """A simulator that always fails: stands for a worker error once generation has started."""
    raise RuntimeError("synthetic simulator failure")


INTERRUPTING_BACKEND = "tests.datasets.synthetic:interrupt"


def interrupt(plan, indices):
    """A simulator interrupted by Ctrl-C (run it with the serial executor)."""
    raise KeyboardInterrupt
