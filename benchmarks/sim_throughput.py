"""Simulation throughput: control steps per second of the whole rollout loop vs raw physics.

One control step = one robot advanced by 0.02 s (4 physics steps of 0.005 s) and, in the whole
loop, one recorded frame. Every figure is ``n robots x n frames / wall s`` of one run.

Rows (same run, same scene, same n robots, one batch, one thread):

* ``raw physics, standing`` (old baseline): bare batch stepping with constant controls
  (standing joint targets, servo kp 100, kd 2) from the spawn poses: cheap, few contacts.
* ``raw physics, replay of the loop``: the whole loop's own controls (``ctrl`` per control
  step) and per-tick servo gains, recorded, then replayed open loop through bare batch
  stepping of the same scene from the same initial state. Only the step calls are timed.
  Physics is deterministic, so the replay visits the very states the closed loop did (checked:
  ``replay reproduces the loop``): same robots, same walking contacts. This is the fair
  baseline: the whole loop minus everything that is not physics.
* ``whole loop``: :func:`behaviorbench.simulation.rollout.simulate` (physics + trot controller
  + recording + failure checks + labels). ``--stop-failed`` adds the row with robots no longer
  stepped once they fail (what a dataset that drops failures needs).
* ``VectorEnv, random actions``: :class:`behaviorbench.simulation.env.TerrainVecEnv` (the
  Gymnasium environment: same robot, terrain and number of robots) stepped with actions drawn
  uniformly from [-1, 1] (joint offsets of +-0.5 rad; robots that fall are reset by the env),
  against ``raw physics, VectorEnv's own steps``: the time of the same run's
  ``mujoco.batch.Batch.step`` calls alone (timed inside the env's steps). Their ratio is the
  share of the env's time that is physics; the env's overhead (observations with the height
  scan, rewards, failure checks, labels, resets) is one minus it (target <= 25 %).
* Workers: the same simulate call over 2 n robots with ``workers=1`` (one batch of 2 n, and
  the same two batches of n one after the other as the generator's single worker steps its
  shards), ``workers=2`` (two
  threads, the default) and ``workers=2, processes=True`` (two spawned processes; their
  start-up: imports, terrain, model build, is included), and on two spawned processes that
  are already warm (started, imported, scene built, one short rollout done; only the chunks
  and the transfer of their results are timed): the dataset generator's process pool once
  past its first shards, the case the 1.8x target is about.

Usage::

    python benchmarks/sim_throughput.py                # 32 robots, 4 s episodes, 3 repeats
    python benchmarks/sim_throughput.py --robots 64 --seconds 8 --repeats 5
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import multiprocessing as mp
import os
import time
from dataclasses import dataclass, field

import mujoco
import mujoco.batch
import numpy as np

from behaviorbench.simulation import height_sampling
from behaviorbench.simulation.rollout import (
    DECIMATION,
    RunSpec,
    _limit_threads,
    _model,
    _new_batch,
    _simulate_chunk,
    _worker,
    draw_spawns,
    run_terrain,
    simulate,
)
from behaviorbench.simulation.terrain import TerrainConfig


def _run_model(run: RunSpec) -> mujoco.MjModel:
    return _model(run.robot, run.terrain, run.seed, run.controller, run.foot_condim)


def raw_physics_standing(run: RunSpec) -> tuple[float, float]:
    """Control steps per wall s and per CPU s of bare batch stepping (constant standing
    targets)."""
    terrain = run_terrain(run)
    model = _run_model(run)
    spawn = draw_spawns(run, terrain, range(run.n_robots))
    batch = mujoco.batch.Batch(model, run.n_robots, 1, persistent=True)
    batch.bind("qpos")[:] = spawn.qpos
    batch.bind("ctrl")[:] = spawn.qpos[:, 7:]
    batch.expand("body_mass")[:, model.body("base").id] += spawn.added_mass
    gain, bias = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
    gain[:, :, 0], bias[:, :, 1], bias[:, :, 2] = 100.0, -100.0, -2.0  # stiff enough to stand
    batch.set_const()
    batch.forward()
    t0, c0 = time.perf_counter(), time.thread_time()
    for _ in range(run.n_frames):
        batch.step(nstep=DECIMATION)
    steps = run.n_robots * run.n_frames
    return steps / (time.perf_counter() - t0), steps / (time.thread_time() - c0)


@dataclass
class Trace:
    """What the closed loop fed the physics, per control step k: ``ctrl`` (T, n, 12) rad,
    servo ``gain`` = gainprm[..., 0], ``bias1`` / ``bias2`` = biasprm[..., 1 / 2] (T, n, 12),
    stepped robots ``ids`` (None: all) and the state ``qpos`` (T, n, 19) before the step."""

    ctrl: list[np.ndarray] = field(default_factory=list)
    gain: list[np.ndarray] = field(default_factory=list)
    bias1: list[np.ndarray] = field(default_factory=list)
    bias2: list[np.ndarray] = field(default_factory=list)
    ids: list[np.ndarray | None] = field(default_factory=list)
    qpos: list[np.ndarray] = field(default_factory=list)

    def __call__(self, k: int, batch: mujoco.batch.Batch, ids: np.ndarray | None) -> None:
        gainprm, biasprm = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
        self.ctrl.append(batch.bind("ctrl").copy())
        self.gain.append(gainprm[:, :, 0].copy())
        self.bias1.append(biasprm[:, :, 1].copy())
        self.bias2.append(biasprm[:, :, 2].copy())
        self.ids.append(None if ids is None else ids.copy())
        self.qpos.append(batch.bind("qpos").copy())


def record_trace(run: RunSpec, stop_failed: bool = False) -> Trace:
    """Run the whole loop once (untimed) and record what it fed the physics."""
    trace = Trace()
    _simulate_chunk(run, range(run.n_robots), stop_failed=stop_failed, on_tick=trace)
    return trace


def raw_physics_replay(run: RunSpec, trace: Trace,
                       model: mujoco.MjModel | None = None
                       ) -> tuple[float, float, bool, float]:
    """Control steps per wall s and per CPU s of replaying ``trace`` open loop (step calls
    timed), whether the replay reproduced the loop's states bit for bit, and its largest base
    xy drift (m) from the loop's states. ``model``: another scene (variant)."""
    terrain = run_terrain(run)
    model = _run_model(run) if model is None else model
    batch = _new_batch(model, draw_spawns(run, terrain, range(run.n_robots)))
    qpos, ctrl = batch.bind("qpos"), batch.bind("ctrl")
    gainprm, biasprm = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
    same, drift = True, 0.0
    elapsed = cpu = 0.0
    for k in range(len(trace.ctrl)):
        same &= bool(np.array_equal(qpos, trace.qpos[k]))
        drift = max(drift, float(np.abs(qpos[:, :2] - trace.qpos[k][:, :2]).max()))
        ctrl[:] = trace.ctrl[k]
        gainprm[:, :, 0] = trace.gain[k]
        biasprm[:, :, 1] = trace.bias1[k]
        biasprm[:, :, 2] = trace.bias2[k]
        ids = trace.ids[k]
        t0, c0 = time.perf_counter(), time.thread_time()
        batch.step(ids=ids, nstep=DECIMATION)
        elapsed += time.perf_counter() - t0
        cpu += time.thread_time() - c0
    steps = run.n_robots * run.n_frames
    return steps / elapsed, steps / cpu, same, drift


# physics options the controller is NOT tuned for: measured only, never defaults
VARIANTS: dict[str, dict] = {
    "solver CG": {"solver": mujoco.mjtSolver.mjSOL_CG},
    "tolerance 1e-6": {"tolerance": 1e-6},
    "iterations 20": {"iterations": 20},
    "pyramidal cones": {"cone": mujoco.mjtCone.mjCONE_PYRAMIDAL},
    "impratio 1": {"impratio": 1.0},
}


def variant_model(run: RunSpec, options: dict) -> mujoco.MjModel:
    """A copy of the run's scene with ``model.opt`` fields changed."""
    model = copy.copy(_run_model(run))
    for name, value in options.items():
        setattr(model.opt, name, value)
    return model


def whole_loop(run: RunSpec, workers: int = 1, **kw) -> tuple[float, float]:
    """Control steps per wall s and per CPU s (this process's threads; not the pool
    processes') of simulate() (everything the dataset generator does)."""
    t0, c0 = time.perf_counter(), time.process_time()
    simulate(run, workers=workers, **kw)
    steps = run.n_robots * run.n_frames
    return steps / (time.perf_counter() - t0), steps / (time.process_time() - c0)


def whole_loop_numpy_heights(run: RunSpec) -> tuple[float, float]:
    """:func:`whole_loop` with the terrain sampled by numpy instead of the numba kernel."""
    before = height_sampling.USE_NUMBA
    height_sampling.USE_NUMBA = False
    try:
        return whole_loop(run)
    finally:
        height_sampling.USE_NUMBA = before


def _warm_worker(run: RunSpec, barrier) -> None:
    """Pool initializer: what a dataset worker has done before its second shard (imports,
    the run's terrain and scene built and cached, one short rollout), then wait for the
    timer."""
    _limit_threads()
    # a short copy of the run: it builds and caches the very terrain and scene the run uses
    _simulate_chunk(dataclasses.replace(run, n_robots=2, episode_s=0.2), range(2))
    barrier.wait()


def warm_processes(run: RunSpec, workers: int = 2) -> tuple[float, float]:
    """Control steps per wall s of simulate()'s chunks of ``run`` on a pool of ``workers``
    spawned processes that are already started and warm (the generator's pool after its
    first shards): the pool's start-up is not timed, the chunks and their results' transfer
    back are. Second value: NaN (the CPU time is the pool's, not this process's)."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers + 1)
    chunks = [list(c) for c in np.array_split(np.arange(run.n_robots), workers)]
    with ctx.Pool(workers, initializer=_warm_worker, initargs=(run, barrier)) as pool:
        barrier.wait()  # every worker is warm
        t0 = time.perf_counter()
        parts = pool.map(_worker, [(run, c, False) for c in chunks], chunksize=1)
        elapsed = time.perf_counter() - t0
    assert sum(len(p.success) for p in parts) == run.n_robots
    return run.n_robots * run.n_frames / elapsed, float("nan")


def vector_env(run: RunSpec, seed: int = 0) -> tuple[float, float, float, int]:
    """Steps per wall s of :class:`~behaviorbench.simulation.env.TerrainVecEnv` with
    ``run.n_robots`` robots on the run's terrain for ``run.n_frames`` steps of random actions
    (uniform in [-1, 1]), steps per s of the physics alone in that run (its batch step calls,
    timed where the env makes them), the CPU-time figure of the env, and the episodes that
    ended (falls, stalls) and were reset."""
    from behaviorbench.simulation.env import EnvConfig, TerrainVecEnv

    env = TerrainVecEnv(EnvConfig(robot=run.robot, num_envs=run.n_robots,
                                  terrain=run.terrain, terrain_seed=run.seed,
                                  episode_s=run.episode_s + 1.0))
    physics = [0.0]
    step = env.batch.step

    def timed_step(*args, **kw):
        t = time.perf_counter()
        step(*args, **kw)
        physics[0] += time.perf_counter() - t

    env.batch.step = timed_step  # the Batch object's attribute: this env's calls only
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1.0, 1.0, (run.n_frames, run.n_robots, 12)).astype(np.float32)
    env.reset(seed=seed)
    ended = 0
    t0, c0 = time.perf_counter(), time.thread_time()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        ended += int(term.sum() + trunc.sum())
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    env.close()
    steps = run.n_robots * run.n_frames
    return steps / wall, steps / physics[0], steps / cpu, ended


def _load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "load average unknown"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--robot", default="anymal_c")
    ap.add_argument("--robots", type=int, default=32, help="robots per batch")
    ap.add_argument("--seconds", type=float, default=4.0, help="simulated s per episode")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-workers", action="store_true")
    ap.add_argument("--physics-variants", action="store_true",
                    help="also replay the loop's controls under other physics options (open "
                         "loop, so the states drift from the loop's; figures are indicative)")
    ap.add_argument("--stop-failed", action="store_true",
                    help="also time the loop that stops stepping failed robots")
    ap.add_argument("--numpy-heights", action="store_true",
                    help="also time the loop with the terrain sampled by numpy, not numba")
    ap.add_argument("--skip-env", action="store_true",
                    help="do not time the Gymnasium VectorEnv")
    a = ap.parse_args(argv)
    run = RunSpec(robot=a.robot, command_vel=1.0, n_robots=a.robots, episode_s=a.seconds,
                  terrain=TerrainConfig.small(), seed=0)
    run2 = RunSpec(robot=a.robot, command_vel=1.0, n_robots=2 * a.robots, episode_s=a.seconds,
                   terrain=TerrainConfig.small(), seed=0)
    print(f"start: {_load()} on {os.cpu_count()} CPUs; terrain sampled by "
          f"{'numba' if height_sampling.USE_NUMBA else 'numpy'}; MuJoCo {mujoco.__version__}")
    whole_loop(RunSpec(robot=a.robot, n_robots=2, episode_s=0.2, terrain=run.terrain))  # warm
    trace = record_trace(run)
    trace_sf = record_trace(run, stop_failed=True) if a.stop_failed else None
    stand, replay, loop = ("raw physics, standing", "raw physics, replay of the loop",
                           "whole loop")
    rows: dict[str, list[float]] = {stand: [], replay: [], loop: []}
    cpu: dict[str, list[float]] = {stand: [], replay: [], loop: []}  # single-thread rows
    if a.stop_failed:
        rows.update({"raw physics, replay, stop_failed": [], "whole loop, stop_failed": []})
        cpu.update({"raw physics, replay, stop_failed": [], "whole loop, stop_failed": []})
    w1, w1b, w2t, w2p, w2w = ("whole loop, 2n robots, 1 worker",
                              "whole loop, 2n robots, 1 worker, 2 batches",
                              "whole loop, 2n robots, 2 threads",
                              "whole loop, 2n robots, 2 processes",
                              "whole loop, 2n robots, 2 warm processes")
    np_loop = "whole loop, numpy height sampling"
    if a.numpy_heights:
        rows[np_loop], cpu[np_loop] = [], []
    if not a.skip_workers:
        rows.update({w1: [], w1b: [], w2t: [], w2p: [], w2w: []})
    venv, venv_raw = "VectorEnv, random actions", "raw physics, VectorEnv's own steps"
    ended: list[int] = []
    if not a.skip_env:
        rows.update({venv: [], venv_raw: []})
        cpu[venv] = []

    def add(name: str, wall_cpu: tuple[float, ...]) -> None:
        rows[name].append(wall_cpu[0])
        if name in cpu:
            cpu[name].append(wall_cpu[1])

    reproduced = True
    for _ in range(a.repeats):
        add(stand, raw_physics_standing(run))
        res = raw_physics_replay(run, trace)
        add(replay, res)
        reproduced &= res[2]
        add(loop, whole_loop(run))
        if a.numpy_heights:
            add(np_loop, whole_loop_numpy_heights(run))
        if a.stop_failed:
            res = raw_physics_replay(run, trace_sf)
            add("raw physics, replay, stop_failed", res)
            reproduced &= res[2]
            add("whole loop, stop_failed", whole_loop(run, stop_failed=True))
        if not a.skip_env:
            env_sps, raw_sps, env_cpu, n_ended = vector_env(run)
            add(venv, (env_sps, env_cpu))
            add(venv_raw, (raw_sps,))
            ended.append(n_ended)
        if not a.skip_workers:
            add(w1, whole_loop(run2, 1))
            add(w1b, whole_loop(run2, 1, batch_size=a.robots))
            add(w2t, whole_loop(run2, 2))
            add(w2p, whole_loop(run2, 2, processes=True))
            add(w2w, warm_processes(run2, 2))
    med = {k: float(np.median(v)) for k, v in rows.items()}
    med_cpu = {k: float(np.median(v)) for k, v in cpu.items()}
    print(f"\nsim throughput: {a.robot}, {a.robots} robots, {a.seconds:g} s episodes on a "
          f"{run.terrain.num_rows}x{run.terrain.num_cols} terrain grid, sim dt 0.005 s, "
          f"{DECIMATION} physics steps per control step; median of {a.repeats}")
    if a.stop_failed:
        last = trace_sf.ids[-1]
        stopped = 0 if last is None else a.robots - len(last)
        print(f"stop_failed: {stopped} of {a.robots} robots failed and were no longer stepped")
    print(f"{'measurement':40s} {'ctrl steps/s':>13s} {'per CPU s':>10s}   runs (wall)")
    for k, v in rows.items():
        c = f"{med_cpu[k]:10.0f}" if k in med_cpu else f"{'':10s}"
        print(f"{k:40s} {med[k]:13.0f} {c}   " + " ".join(f"{x:.0f}" for x in v))
    print(f"replay reproduces the loop's states bit for bit: {'yes' if reproduced else 'NO'}")
    print(f"whole loop / raw physics, replay   = {med[loop] / med[replay]:.2f} wall, "
          f"{med_cpu[loop] / med_cpu[replay]:.2f} CPU (target >= 0.75)")
    # each repeat measures replay and loop back to back: their ratio cancels the slow drift of
    # a shared machine's speed that the medians of the two rows keep
    paired = np.array(rows[loop]) / np.array(rows[replay])
    print(f"whole loop / raw physics, replay, paired by repeat = {np.median(paired):.2f} median "
          f"({paired.min():.2f}-{paired.max():.2f} over {len(paired)} repeats)")
    if a.numpy_heights:
        pn = np.array(rows[np_loop]) / np.array(rows[replay])
        print(f"whole loop, numpy height sampling / raw physics, replay, paired = "
              f"{np.median(pn):.2f} ({pn.min():.2f}-{pn.max():.2f})")
    print(f"whole loop / raw physics, standing = {med[loop] / med[stand]:.2f} wall, "
          f"{med_cpu[loop] / med_cpu[stand]:.2f} CPU")
    if a.stop_failed:
        sl, sr = "whole loop, stop_failed", "raw physics, replay, stop_failed"
        print(f"whole loop / raw physics, replay, stop_failed = {med[sl] / med[sr]:.2f} wall, "
              f"{med_cpu[sl] / med_cpu[sr]:.2f} CPU")
    if not a.skip_env:
        pe = np.array(rows[venv]) / np.array(rows[venv_raw])
        print(f"VectorEnv / raw physics, its own steps, paired by repeat = {np.median(pe):.2f} "
              f"median ({pe.min():.2f}-{pe.max():.2f}): env overhead {1 - np.median(pe):.0%} "
              f"(target <= 25 %); {int(np.median(ended))} episodes ended and were reset per "
              f"run")
    if not a.skip_workers:
        # two baselines: one batch of 2n (fewer, larger controller calls: a stronger baseline
        # than the generator's) and the same two batches of n one after the other (what the
        # generator's one worker does with its shards)
        print("2 workers / 1 worker (target >= 1.8), medians and paired by repeat:")
        for base, what in ((w1, "1 batch of 2n"), (w1b, "the same 2 batches of n in turn")):
            for name in (w2t, w2p, w2w):
                pr = np.array(rows[name]) / np.array(rows[base])
                print(f"  {name.split(', ')[-1]:18s} / 1 worker, {what:31s} = "
                      f"{med[name] / med[base]:.2f}; paired {np.median(pr):.2f} "
                      f"({pr.min():.2f}-{pr.max():.2f})")
        print("  (2 processes: start-up included; 2 warm processes: the dataset generator's "
              "pool after its first shards)")
    if a.physics_variants:
        print("\nopen-loop replay under physics options the controller is not tuned for")
        print(f"{'variant':40s} {'ctrl steps/s':>13s}   x default replay   max xy drift m")
        for name, opts in VARIANTS.items():
            res = [raw_physics_replay(run, trace, variant_model(run, opts))
                   for _ in range(a.repeats)]
            sps = float(np.median([r[0] for r in res]))
            print(f"{name:40s} {sps:13.0f}   {sps / med[replay]:16.2f}   {res[0][3]:.2f}")
    print(f"end: {_load()} (other processes share the cores)")


if __name__ == "__main__":
    main()
