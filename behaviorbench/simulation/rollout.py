"""Batched closed-loop rollouts: many robots on one terrain, recorded at 50 Hz.

One :class:`RunSpec` is one legged_gym-style launch: one robot type, one forward command
velocity, ``n_robots`` robots spawned at sub-terrain origins (random row up to
``max_init_terrain_level``, random column, heading +x) that walk +x through successive
sub-terrains for ``episode_s`` seconds. Robots step together in a ``mujoco.batch.Batch`` (one
``MjData`` each; physics dt 0.005 s, control/recording every 4 steps = 50 Hz) under a
:class:`~behaviorbench.simulation.controller_protocol.Controller`: by default the vectorised
:class:`~behaviorbench.simulation.controller.TrotController` (``"trot"``), or the one
``RunSpec.controller_name`` names (a ``.pt`` / ``.onnx`` policy file, ``module:Class``); every
controller goes through the same recording loop. Parallel runs split
the robots into batches stepped on threads (MuJoCo releases the GIL while stepping) or, on
request, spawned processes. With ``stop_failed`` robots stop being stepped once they fail.

Determinism: trajectory ``i`` depends only on (run spec, ``i``): its spawn, added mass and
seed come from ``numpy.random.SeedSequence(run.seed, spawn_key=(i,))``, the terrain from
``run.terrain_seed``, and every simulation of a batch evolves independently; so results are
bit-identical whatever the batching or the number of worker processes. A TorchScript policy
(``controller_name`` a ``.pt`` file) keeps that only for the same batches: torch's
matrix products on fewer than about 5 rows take other kernels (docs/environment.md).
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

import mujoco
import mujoco.batch
import numpy as np

from .controller import ControllerConfig, configure_servos, quat_to_mat
from .controller_protocol import BUILTIN_DEFAULT, ControlContext, load_controller
from .progress import FELL, LEFT_TERRAIN, NONE, UNSTABLE, failure_reasons, progress_ratio
from .recording import FRAME_DT, FrameRecorder, TrajectoryBatch
from .robots import ROBOT_NAMES, ROBOTS, RobotSpec
from .scene import SIM_DT, build_scene, foot_contact_adr, foot_geom_ids
from .terrain import Terrain, TerrainConfig, generate_terrain

DECIMATION = int(round(FRAME_DT / SIM_DT))  # physics steps per control tick / frame (4)
ProgressFn = Callable[[int], None]
# foot contact impedance of runs (MuJoCo solimp dmin, dmax, width m); the reference models'
# (0.015, 1, 0.031) is soft enough for feet to sink 2-3 cm into the terrain
RUN_FOOT_SOLIMP = (0.9, 0.95, 0.001)
RUN_FOOT_TIMECONST = 0.01  # s, foot contact solref time constant (2 x physics dt; default 0.02)


@dataclass(frozen=True)
class RunSpec:
    """One (robot, command velocity) run, like one launch of the original data generator."""

    robot: str = "anymal_c"                       # "anymal_b" | "anymal_c"
    command_vel: float = 1.0                      # m/s, forward (+x) command, constant
    n_robots: int = 200                           # trajectories in the run (original 200)
    episode_s: float = 20.0                       # s, episode length (original 180)
    terrain: TerrainConfig = field(default_factory=TerrainConfig)  # legged_gym grid
    added_mass_range: tuple[float, float] = (-5.0, 5.0)  # kg, uniform added base mass
    seed: int = 0                                 # root of every random draw of the run
    terrain_seed: int | None = None               # terrain generator seed; None -> seed
    max_init_terrain_level: int = 15              # highest spawn row (original 15)
    spawn_jitter: float = 1.0                     # m, uniform xy offset around the origin
    min_base_height: float = 0.22                 # m, base above ground below which = fall
    max_tilt: float = 1.0                         # rad, |roll| or |pitch| above which = fall
    foot_condim: int = 3                          # foot contact dimensionality (reference 6)
    controller: ControllerConfig = field(default_factory=ControllerConfig)  # of "trot"
    # which controller walks the robots (controller_protocol.load_controller): "trot", a .pt /
    # .onnx policy file or module:Class
    controller_name: str = BUILTIN_DEFAULT

    @property
    def n_frames(self) -> int:
        """Frames per trajectory (50 Hz)."""
        return int(round(self.episode_s / FRAME_DT))


# ----------------------------------------------------------------------------- per trajectory
def trajectory_seed_sequence(run: RunSpec, i: int) -> np.random.SeedSequence:
    """The SeedSequence of trajectory ``i`` (independent of batching)."""
    return np.random.SeedSequence(run.seed, spawn_key=(int(i),))


@dataclass
class Spawn:
    """Per-trajectory initial conditions: arrays over the trajectories of a chunk."""

    qpos: np.ndarray        # (n, 19)
    added_mass: np.ndarray  # (n,) kg
    seed: np.ndarray        # (n,) uint64


def draw_spawns(run: RunSpec, terrain: Terrain, indices: Sequence[int]) -> Spawn:
    """Spawn sub-terrain (row <= max_init_terrain_level, column uniform), xy jitter, added
    mass and seed of each trajectory in ``indices``; the standing pose follows the ground."""
    cfg = terrain.config
    max_row = min(run.max_init_terrain_level, cfg.num_rows - 1)
    xy, mass, seeds = [], [], []
    for i in indices:
        ss = trajectory_seed_sequence(run, i)
        rng = np.random.default_rng(ss)
        row = int(rng.integers(0, max_row + 1))
        col = int(rng.integers(0, cfg.num_cols))
        jitter = rng.uniform(-run.spawn_jitter, run.spawn_jitter, 2)
        mass.append(rng.uniform(*run.added_mass_range))
        seeds.append(ss.generate_state(1, np.uint64)[0])
        xy.append(terrain.spawn_origins[row, col, :2] + jitter)
    qpos = standing_poses(terrain, ROBOTS[run.robot], np.array(xy))
    return Spawn(qpos, np.array(mass), np.array(seeds, dtype=np.uint64))


def standing_poses(terrain: Terrain, robot: RobotSpec, xy: np.ndarray,
                   max_offset: float = 0.08) -> np.ndarray:
    """Level standing poses facing +x at ``xy`` (n, 2) m with each foot on the ground under
    it (clipped to +-``max_offset`` m around the feet's mean ground height), as
    :func:`~behaviorbench.simulation.scene.terrain_stance` but vectorised. Returns (n, 19)."""
    feet = np.broadcast_to(robot.default_foot_positions, (len(xy), 4, 3)).copy()
    ground = terrain.height_at(xy[:, None, 0] + feet[..., 0], xy[:, None, 1] + feet[..., 1])
    mean = ground.mean(1, keepdims=True)
    base_z = mean + robot.nominal_base_height
    feet[..., 2] = np.clip(ground - mean, -max_offset, max_offset) + mean + robot.foot_radius \
        - base_z
    q = robot.leg_ik(feet)
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (len(xy), 1))
    return np.concatenate([xy, base_z, quat, q], axis=1)


# ----------------------------------------------------------------------------- caches
@functools.lru_cache(maxsize=4)
def _terrain(cfg: TerrainConfig, seed: int) -> Terrain:
    return generate_terrain(cfg, seed)


def build_run_model(robot: str, terrain: Terrain, ctrl_cfg: ControllerConfig,
                    foot_condim: int = 3) -> mujoco.MjModel:
    """The scene of a run: position servos with the controller's gains; foot contacts with
    ``foot_condim`` (3: sliding friction only, ~1.5x faster than the reference 6) and
    :data:`RUN_FOOT_SOLIMP` / :data:`RUN_FOOT_TIMECONST`; the ``implicitfast`` integrator."""
    model = build_scene(robot, terrain, actuator="position", contact_sensors=True)
    configure_servos(model, ctrl_cfg.for_robot(robot))
    feet = foot_geom_ids(model)
    model.geom_condim[feet] = foot_condim
    # stiff foot contacts: the reference's soft foot solimp (0.015, 1, 0.031) lets a loaded foot
    # sink 2-3 cm, deeper than a height-field prism's top, where it snags on the prisms' inner
    # walls (feet stuck at stair edges, stumbles on rough ground)
    model.geom_solimp[feet, :3] = RUN_FOOT_SOLIMP
    model.geom_solref[feet, 0] = RUN_FOOT_TIMECONST
    # implicit servo damping: with explicit Euler the stiff swing servos make the light shanks
    # chatter (knee velocities then disagree with the recorded angles)
    model.opt.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    return model


@functools.lru_cache(maxsize=4)
def _model(robot: str, cfg: TerrainConfig, seed: int, ctrl_cfg: ControllerConfig,
           foot_condim: int):
    return build_run_model(robot, _terrain(cfg, seed), ctrl_cfg, foot_condim)


def run_terrain(run: RunSpec) -> Terrain:
    """The run's terrain (cached per process)."""
    return _terrain(run.terrain, run.seed if run.terrain_seed is None else run.terrain_seed)


# ----------------------------------------------------------------------------- simulation
TickHook = Callable[[int, "mujoco.batch.Batch", "np.ndarray | None"], None]


def _new_batch(model: mujoco.MjModel, spawn: Spawn, nthread: int = 1) -> mujoco.batch.Batch:
    """A persistent batch of ``len(spawn.qpos)`` robots at their spawn poses (at rest), with
    their added base masses; forward stages computed."""
    n = len(spawn.qpos)
    batch = mujoco.batch.Batch(model, n, nthread, persistent=True)
    batch.expand("body_mass")[:, model.body("base").id] += spawn.added_mass
    batch.set_const()
    batch.bind("qpos")[:] = spawn.qpos
    batch.bind("qvel")[:] = 0.0
    batch.forward()
    return batch


def failure_codes(run: RunSpec, terrain: Terrain, qpos: np.ndarray, rot: np.ndarray,
                  prev_xy: np.ndarray) -> np.ndarray:
    """(n,) int8 failure reason of each robot at this frame (:data:`~.progress.NONE` where it
    has not failed): :data:`~.progress.FELL`, the base below ``min_base_height`` m above the
    ground or |roll| / |pitch| above ``max_tilt`` rad; :data:`~.progress.LEFT_TERRAIN`,
    outside the sub-terrain grid; :data:`~.progress.UNSTABLE`, a non-finite state or a
    respawn-like jump of more than 1 m in xy since the last frame (``prev_xy`` (n, 2) m).
    Where several hold, the later in that list wins. ``qpos`` (n, 19), ``rot`` (n, 3, 3)
    base orientation."""
    x_max = terrain.grid_size[0] - 0.5
    y_max = terrain.grid_size[1]
    ground = terrain.height_at(qpos[:, 0], qpos[:, 1])
    tilt = np.maximum(np.abs(np.arctan2(rot[:, 2, 1], rot[:, 2, 2])),
                      np.abs(np.arcsin(np.clip(rot[:, 2, 0], -1, 1))))
    jump = np.linalg.norm(qpos[:, :2] - prev_xy, axis=1) > 1.0
    off = (qpos[:, 0] > x_max) | (qpos[:, 0] < 0) | (qpos[:, 1] < 0) | (qpos[:, 1] > y_max)
    code = np.zeros(len(qpos), np.int8)
    code[(qpos[:, 2] - ground < run.min_base_height) | (tilt > run.max_tilt)] = FELL
    code[off] = LEFT_TERRAIN
    code[jump | ~np.isfinite(qpos).all(1)] = UNSTABLE
    return code


def failed(run: RunSpec, terrain: Terrain, qpos: np.ndarray, rot: np.ndarray,
           prev_xy: np.ndarray) -> np.ndarray:
    """(n,) bool: robots that fail at this frame (any reason of :func:`failure_codes`)."""
    return failure_codes(run, terrain, qpos, rot, prev_xy) != NONE


def _simulate_chunk(run: RunSpec, indices: Sequence[int], terrain: Terrain | None = None,
                    progress: ProgressFn | None = None, nthread: int = 1, *,
                    stop_failed: bool = False, on_tick: TickHook | None = None
                    ) -> TrajectoryBatch:
    """Simulate trajectories ``indices`` together in one ``mujoco.batch.Batch``.

    ``stop_failed``: robots stop being stepped from the frame at which they fail (their later
    frames repeat the failure frame's state); the others are bit-identical either way.
    ``on_tick(k, batch, ids)`` (benchmarks, tests) runs before each control tick's physics
    steps, once ``ctrl`` and the servo gains are written; ``ids`` are the stepped robots
    (None: all)."""
    tseed = run.seed if run.terrain_seed is None else run.terrain_seed
    if terrain is None:
        terrain = _terrain(run.terrain, tseed)
        model = _model(run.robot, run.terrain, tseed, run.controller, run.foot_condim)
    else:
        model = build_run_model(run.robot, terrain, run.controller, run.foot_condim)
    n, n_frames = len(indices), run.n_frames
    spawn = draw_spawns(run, terrain, indices)
    robot = ROBOTS[run.robot]

    batch = _new_batch(model, spawn, nthread)
    qpos, qvel, ctrl = batch.bind("qpos"), batch.bind("qvel"), batch.bind("ctrl")
    sensordata, torque = batch.bind("sensordata"), batch.bind("actuator_force")
    contact_adr = foot_contact_adr(model)
    gainprm, biasprm = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")

    command = np.full(n, run.command_vel)
    ctl = load_controller(run.controller_name, run.controller)
    ctl.reset(ControlContext(robot, command, spawn.added_mass, terrain.height_at, qpos.copy()))
    rec = FrameRecorder(n, n_frames)
    ok = np.ones(n, dtype=bool)
    reason = np.zeros(n, np.int8)  # first failure reason of each robot (progress.NONE: none)
    ids = None  # robots stepped (None: all)
    prev_xy = qpos[:, :2].copy()
    reported = 0  # frames passed to progress
    for k in range(n_frames):
        qp, qv = qpos.copy(), qvel.copy()
        rot = quat_to_mat(qp[:, 3:7])
        rec.record(k, qp, qv, np.einsum("nij,nj->ni", rot, qv[:, 3:6]),
                   foot_contact=sensordata[:, contact_adr] > 0, joint_torque=torque)
        code = failure_codes(run, terrain, qp, rot, prev_xy)
        reason[ok] = code[ok]
        ok &= code == NONE
        prev_xy = qp[:, :2]
        if stop_failed and not ok.all():
            ids = np.flatnonzero(ok)
            if not len(ids):  # all failed: nothing left to simulate
                rec.hold(k + 1)
                break
        ctrl[:] = ctl.act(qp, qv, rot)
        ctl.write_gains(gainprm, biasprm)
        if on_tick is not None:
            on_tick(k, batch, ids)
        batch.step(ids=ids, nstep=DECIMATION)
        if progress is not None and (k + 1) % 50 == 0:
            progress(n * 50)
            reported += 50
    if progress is not None and n_frames > reported:
        progress(n * (n_frames - reported))

    return assemble_batch(run, terrain, spawn, rec, ok, reason)


def assemble_batch(run: RunSpec, terrain: Terrain, spawn: Spawn, frames: FrameRecorder,
                   success: np.ndarray, reason: np.ndarray | None = None) -> TrajectoryBatch:
    """The :class:`TrajectoryBatch` of recorded ``frames`` (host arrays, n robots), with the
    per-frame terrain labels under each base, the run's per-trajectory labels and each
    trajectory's outcome; shared by every simulator backend. ``success`` (n,) bool: no failure
    while simulated; ``reason`` (n,) int8 index into :data:`~.progress.FAILURE_REASONS` of
    those failures (None: ``fell`` for every unsuccessful robot). Robots that did not fail
    but stalled (:func:`~.progress.stalled`) fail here with reason ``stalled``."""
    labels = terrain.labels_at(frames.base_pos[..., 0].astype(np.float64),
                               frames.base_pos[..., 1].astype(np.float64))
    n = len(success)
    command = np.full(n, run.command_vel)
    x = frames.base_pos[..., 0]
    reason = failure_reasons(success, x, command, FRAME_DT, reason)
    return TrajectoryBatch(
        dof_pos=frames.dof_pos, dof_vel=frames.dof_vel, base_pos=frames.base_pos,
        base_lin_vel=frames.base_lin_vel, base_ang_vel=frames.base_ang_vel,
        terrain_type=labels["terrain_type"], terrain_type_2=labels["terrain_type_2"],
        terrain_slope=labels["terrain_slope"], terrain_difficulty=labels["terrain_difficulty"],
        terrain_rough=labels["terrain_rough"],
        robot_type=np.full(n, ROBOT_NAMES.index(run.robot)),
        command_vel=command,
        body_mass=ROBOTS[run.robot].base_mass + spawn.added_mass,
        added_mass=spawn.added_mass, success=reason == NONE, seed=spawn.seed,
        failure_reason=reason, progress=progress_ratio(x, command, FRAME_DT),
        foot_contact=frames.foot_contact, joint_torque=frames.joint_torque,
        base_quat=frames.base_quat)


# ----------------------------------------------------------------------------- parallel
def _limit_threads() -> None:
    """Pool-process initializer: one BLAS/OpenMP thread per worker (the workers already use
    every core; nested library threads would only compete with them)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    threadpool_limits(1)


def _worker(args) -> TrajectoryBatch:
    run, indices, stop_failed = args
    return _simulate_chunk(run, indices, stop_failed=stop_failed)


def _run_processes(run: RunSpec, chunks: list[list[int]], workers: int,
                   progress: ProgressFn | None, stop_failed: bool) -> list[TrajectoryBatch]:
    """Chunks on a pool of ``workers`` spawned processes (each imports, builds the terrain and
    model, then simulates its chunk)."""
    ctx = mp.get_context("spawn")
    parts = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                             initializer=_limit_threads) as pool:
        tasks = [(run, c, stop_failed) for c in chunks]
        for c, part in zip(chunks, pool.map(_worker, tasks), strict=True):
            parts.append(part)
            if progress is not None:
                progress(len(c) * run.n_frames)
    return parts


def _run_threads(run: RunSpec, chunks: list[list[int]], workers: int,
                 progress: ProgressFn | None, terrain: Terrain | None,
                 stop_failed: bool) -> list[TrajectoryBatch]:
    """Chunks on ``workers`` threads of this process: MuJoCo steps a batch without the GIL,
    so one thread's physics runs while another's controller does; no start-up cost."""
    if terrain is None:  # build the cached terrain and model once, before the threads
        tseed = run.seed if run.terrain_seed is None else run.terrain_seed
        _model(run.robot, run.terrain, tseed, run.controller, run.foot_condim)
    lock = threading.Lock()

    def locked_progress(m: int) -> None:
        with lock:
            progress(m)

    prog = None if progress is None else locked_progress
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_simulate_chunk, run, c, terrain, prog, stop_failed=stop_failed)
                   for c in chunks]
        return [f.result() for f in futures]


def simulate(run: RunSpec, indices: Sequence[int] | None = None, *, workers: int = 1,
             progress: ProgressFn | None = None, batch_size: int | None = None,
             terrain: Terrain | None = None, stop_failed: bool = False,
             processes: bool = False) -> TrajectoryBatch:
    """Simulate trajectories ``indices`` (default: all ``run.n_robots``) of ``run``.

    ``workers`` > 1 splits the trajectories into that many batches stepped in parallel: on
    threads of this process (default; MuJoCo releases the GIL while stepping), or with
    ``processes=True`` on a pool of spawned processes (each pays its imports and model build).
    ``batch_size`` caps the robots stepped together per batch (small batches cost more
    controller time per robot). ``progress(n)`` is called with the number of
    trajectory-frames just finished (sum them for a total of ``len(indices) * run.n_frames``).
    ``terrain`` overrides the run's generated terrain (not with ``processes``).
    ``stop_failed``: stop simulating robots once they fail (for callers that drop failed
    trajectories): their frames after the failure repeat the failure frame; every other
    trajectory, and all ``success`` flags, are bit-identical to ``stop_failed=False``.
    Returns the trajectories in ``indices`` order; results are bit-identical whatever
    ``workers``, ``batch_size`` or ``processes``."""
    idx = list(range(run.n_robots) if indices is None else indices)
    if not idx:
        raise ValueError("no trajectories to simulate")
    if processes and terrain is not None:
        raise ValueError("a terrain override cannot be sent to worker processes")
    n_chunks = max(workers, 1)
    if batch_size:
        n_chunks = max(n_chunks, -(-len(idx) // batch_size))
    chunks = [list(c) for c in np.array_split(np.asarray(idx), n_chunks) if len(c)]
    if workers <= 1:
        parts = [_simulate_chunk(run, c, terrain, progress, stop_failed=stop_failed)
                 for c in chunks]
    elif processes:
        parts = _run_processes(run, chunks, workers, progress, stop_failed)
    else:
        parts = _run_threads(run, chunks, workers, progress, terrain, stop_failed)
    return TrajectoryBatch.concatenate(parts)
