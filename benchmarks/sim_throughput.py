"""Simulation throughput: control steps per second of the whole rollout loop vs raw physics.

Baseline (same run, same scene, same n robots): raw MuJoCo stepping of the batch with constant
controls (standing joint targets, servo kp 100), 4 physics steps per control step, no Python
work between.
Whole loop: :func:`behaviorbench.simulation.rollout.simulate` (physics + trot controller +
recording + failure checks + labels). Workers: the same simulate call over 2 n robots with
``workers=1`` vs ``workers=2`` processes (process start-up included).

One control step = one robot advanced by 0.02 s (4 physics steps) and one recorded frame.

Usage::

    python benchmarks/sim_throughput.py                # 32 robots, 4 s episodes, 3 repeats
    python benchmarks/sim_throughput.py --robots 64 --seconds 8 --repeats 5
"""

from __future__ import annotations

import argparse
import time

import mujoco
import mujoco.batch
import numpy as np

from behaviorbench.simulation.rollout import (
    DECIMATION,
    RunSpec,
    _model,
    draw_spawns,
    run_terrain,
    simulate,
)
from behaviorbench.simulation.terrain import TerrainConfig


def raw_physics(run: RunSpec) -> float:
    """Control steps / s of bare batch stepping (constant standing targets)."""
    terrain = run_terrain(run)
    model = _model(run.robot, run.terrain, run.seed, run.controller, run.foot_condim)
    spawn = draw_spawns(run, terrain, range(run.n_robots))
    batch = mujoco.batch.Batch(model, run.n_robots, 1, persistent=True)
    batch.bind("qpos")[:] = spawn.qpos
    batch.bind("ctrl")[:] = spawn.qpos[:, 7:]
    batch.expand("body_mass")[:, model.body("base").id] += spawn.added_mass
    gain, bias = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
    gain[:, :, 0], bias[:, :, 1], bias[:, :, 2] = 100.0, -100.0, -2.0  # stiff enough to stand
    batch.set_const()
    batch.forward()
    t0 = time.perf_counter()
    for _ in range(run.n_frames):
        batch.step(nstep=DECIMATION)
    return run.n_robots * run.n_frames / (time.perf_counter() - t0)


def whole_loop(run: RunSpec, workers: int = 1) -> float:
    """Control steps / s of simulate() (everything the dataset generator does)."""
    t0 = time.perf_counter()
    simulate(run, workers=workers)
    return run.n_robots * run.n_frames / (time.perf_counter() - t0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--robot", default="anymal_c")
    ap.add_argument("--robots", type=int, default=32, help="robots per batch")
    ap.add_argument("--seconds", type=float, default=4.0, help="simulated s per episode")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-workers", action="store_true")
    a = ap.parse_args(argv)
    run = RunSpec(robot=a.robot, command_vel=1.0, n_robots=a.robots, episode_s=a.seconds,
                  terrain=TerrainConfig.small(), seed=0)
    run2 = RunSpec(robot=a.robot, command_vel=1.0, n_robots=2 * a.robots, episode_s=a.seconds,
                   terrain=TerrainConfig.small(), seed=0)
    whole_loop(RunSpec(robot=a.robot, n_robots=2, episode_s=0.2, terrain=run.terrain))  # warm
    rows: dict[str, list[float]] = {"raw physics": [], "whole loop": []}
    if not a.skip_workers:
        rows.update({"whole loop, 2n robots, 1 worker": [],
                     "whole loop, 2n robots, 2 workers": []})
    for _ in range(a.repeats):
        rows["raw physics"].append(raw_physics(run))
        rows["whole loop"].append(whole_loop(run))
        if not a.skip_workers:
            rows["whole loop, 2n robots, 1 worker"].append(whole_loop(run2, 1))
            rows["whole loop, 2n robots, 2 workers"].append(whole_loop(run2, 2))
    med = {k: float(np.median(v)) for k, v in rows.items()}
    print(f"\nsim throughput: {a.robot}, {a.robots} robots, {a.seconds:g} s episodes on a "
          f"{run.terrain.num_rows}x{run.terrain.num_cols} terrain grid, sim dt 0.005 s, "
          f"{DECIMATION} physics steps per control step; median of {a.repeats}")
    print(f"{'measurement':36s} {'ctrl steps/s':>13s}   runs")
    for k, v in rows.items():
        print(f"{k:36s} {med[k]:13.0f}   " + " ".join(f"{x:.0f}" for x in v))
    print(f"whole loop / raw physics = {med['whole loop'] / med['raw physics']:.2f} "
          "(target >= 0.75)")
    if not a.skip_workers:
        r = med["whole loop, 2n robots, 2 workers"] / med["whole loop, 2n robots, 1 worker"]
        print(f"2 workers / 1 worker = {r:.2f} (target >= 1.8; other processes share the cores)")


if __name__ == "__main__":
    main()
