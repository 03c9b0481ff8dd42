"""Gymnasium environments: ANYmal robots walking +x on the generator's procedural terrain.

:class:`TerrainVecEnv` (a ``gymnasium.vector.VectorEnv``) steps ``num_envs`` robots of one
type on one terrain together in a ``mujoco.batch.Batch`` (MuJoCo on the CPU); :class:`TerrainEnv`
(a ``gymnasium.Env``) is one robot of it. The scene, terrain, spawns, added base masses, seeds
and failure rules are the generator's (:mod:`.rollout`): robot ``i``'s ``j``-th episode after a
``reset(seed=s)`` is trajectory ``i + j * num_envs`` of a run with seed ``s``
(:func:`~.rollout.draw_spawns`), its forward command drawn uniformly from
``EnvConfig.command_vels``.

Spaces, units, scales and actuation: :mod:`.policy` and ``docs/environment.md``. In short:
observations (235,) float32 in legged_gym's rough-terrain layout (48 without the height scan);
actions (12,) float32 joint-position offsets, x 0.5 plus the default pose, tracked by PD
servos (kp 80 N m/rad, kd 2 N m s/rad, 200 Hz, torques clipped at the robot's limits);
one step = 0.02 s (4 physics steps of 0.005 s).

Episodes end (``terminated``) when the generator would fail the robot at that frame
(:func:`~.rollout.failure_codes`: base too low or tilted, off the grid, unstable; and, with
``terminate_on_stall``, a stall: forward progress over the last
:data:`~.progress.STALL_WINDOW_S` s below :data:`~.progress.STALL_FRACTION` of the command),
and are ``truncated`` after ``episode_s``. The vector env resets robots on the step after
their episode ended (``AutoresetMode.NEXT_STEP``): that step ignores their actions and returns
their first observation with reward 0.

``info`` (vector env: arrays over robots; single env: scalars) holds the per-frame labels of
the terrain under the base (``terrain_type``, ``terrain_type_2`` int class indices of
:data:`~.labels.TERRAIN_TYPES` / ``TERRAIN_TYPES_2``, ``terrain_slope``, ``terrain_difficulty``),
``failure_reason`` (index into :data:`~.progress.FAILURE_REASONS`; the single env adds its
name as ``failure_name``), ``success`` (True when an episode reached its end without failing),
``command_vel`` m/s, ``added_mass`` kg and ``base_pos`` m.

Reward: legged_gym's rough-terrain terms that need no extra sensors, times the step's 0.02 s,
clipped at 0 from below (its ``only_positive_rewards``): velocity tracking exp(-|v_xy - c|^2 /
0.25) x 1.0, yaw-rate tracking x 0.5, vertical velocity^2 x -2, roll/pitch rate^2 x -0.05,
torque^2 x -1e-5, joint acceleration^2 x -2.5e-7, action change^2 x -0.01.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import gymnasium as gym
import mujoco
import mujoco.batch
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .controller import ControllerConfig, quat_to_mat
from .policy import (
    N_ACTIONS,
    ActuationConfig,
    ObservationConfig,
    Observer,
    action_targets,
    write_pd_gains,
)
from .progress import FAILURE_REASONS, NONE, STALL_FRACTION, STALL_WINDOW_S, STALLED
from .recording import FRAME_DT
from .robots import ROBOTS
from .rollout import (
    DECIMATION,
    RunSpec,
    build_run_model,
    draw_spawns,
    failure_codes,
    run_terrain,
)
from .terrain import TerrainConfig

FLAT_PROPORTIONS = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # TerrainConfig.proportions: flat


@dataclass(frozen=True)
class EnvConfig:
    """Settings of a terrain environment (validated on construction)."""

    robot: str = "anymal_c"                       # "anymal_b" | "anymal_c"
    num_envs: int = 16                            # robots stepped together (vector env)
    command_vels: tuple[float, ...] = (0.5, 1.0)  # m/s, forward commands drawn per episode
    episode_s: float = 20.0                       # s, episode length (truncation)
    terrain: TerrainConfig = field(default_factory=TerrainConfig)  # the generator's grid
    terrain_seed: int = 0                         # terrain generator seed
    added_mass_range: tuple[float, float] = (-5.0, 5.0)  # kg, uniform added base mass
    max_init_terrain_level: int = 15              # highest spawn row (as the generator)
    observation: ObservationConfig = field(default_factory=ObservationConfig)
    actuation: ActuationConfig = field(default_factory=ActuationConfig)
    terminate_on_stall: bool = True               # end episodes that stall (progress.py)
    nthread: int = 1                              # MuJoCo threads stepping the batch

    def __post_init__(self):
        if self.robot not in ROBOTS:
            raise ValueError(f"EnvConfig.robot = {self.robot!r}: one of {sorted(ROBOTS)}")
        for name in ("num_envs", "nthread"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"EnvConfig.{name} = {v!r}: a positive integer")
        if not self.command_vels or any(
                isinstance(v, bool) or not math.isfinite(v) or not 0 < v <= 3.0
                for v in self.command_vels):
            raise ValueError(f"EnvConfig.command_vels = {self.command_vels!r}: speeds in "
                             f"(0, 3] m/s")
        if not math.isfinite(self.episode_s) or self.episode_s < 2 * FRAME_DT:
            raise ValueError(f"EnvConfig.episode_s = {self.episode_s!r}: >= 0.04 s")
        lo, hi = self.added_mass_range
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise ValueError(f"EnvConfig.added_mass_range = {self.added_mass_range!r}: "
                             f"lo <= hi, kg")
        if isinstance(self.terrain_seed, bool) or int(self.terrain_seed) != self.terrain_seed \
                or self.terrain_seed < 0:
            raise ValueError(f"EnvConfig.terrain_seed = {self.terrain_seed!r}: an integer >= 0")

    @property
    def n_frames(self) -> int:
        """Steps per episode (50 Hz)."""
        return int(round(self.episode_s / FRAME_DT))

    def run_spec(self, seed: int) -> RunSpec:
        """The generator's run this environment draws its episodes from (``seed``: spawns,
        masses, commands)."""
        return RunSpec(robot=self.robot, command_vel=float(self.command_vels[0]),
                       n_robots=self.num_envs, episode_s=self.episode_s,
                       terrain=self.terrain, added_mass_range=tuple(self.added_mass_range),
                       seed=int(seed), terrain_seed=int(self.terrain_seed),
                       max_init_terrain_level=self.max_init_terrain_level)


def flat_terrain(**overrides) -> TerrainConfig:
    """A small all-flat terrain (tests, standing checks): ``TerrainConfig.small`` with only
    flat sub-terrains."""
    return TerrainConfig.small(proportions=FLAT_PROPORTIONS, **overrides)


class TerrainVecEnv(VectorEnv):
    """``num_envs`` robots on one procedural terrain (see the module docstring).

    Spaces: ``single_observation_space`` Box(-clip, clip, (235,) or (48,), float32);
    ``single_action_space`` Box(-clip_actions, clip_actions, (12,), float32); batched:
    (num_envs, ...). ``step`` returns observations (num_envs, D) float32, rewards
    (num_envs,) float64, terminated / truncated (num_envs,) bool and the info dict."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, config: EnvConfig | None = None, **overrides):
        cfg = config or EnvConfig()
        if overrides:
            cfg = replace(cfg, **overrides)
        self.config = cfg
        self.num_envs = n = cfg.num_envs
        self.robot = ROBOTS[cfg.robot]
        self.terrain = run_terrain(cfg.run_spec(0))  # the generator's (cached per process)
        self.model = build_run_model(cfg.robot, self.terrain, ControllerConfig())
        write_pd_gains(self.model.actuator_gainprm, self.model.actuator_biasprm, cfg.actuation)
        self._base_id = self.model.body("base").id
        self._base_mass = float(self.model.body_mass[self._base_id])
        self.batch = mujoco.batch.Batch(self.model, n, cfg.nthread, persistent=True)
        self._qpos, self._qvel = self.batch.bind("qpos"), self.batch.bind("qvel")
        self._ctrl, self._force = self.batch.bind("ctrl"), self.batch.bind("actuator_force")
        self._mass = self.batch.expand("body_mass")

        d = cfg.observation.size
        clip, amax = cfg.observation.clip, cfg.actuation.clip_actions
        self.single_observation_space = gym.spaces.Box(-clip, clip, (d,), np.float32)
        self.single_action_space = gym.spaces.Box(-amax, amax, (N_ACTIONS,), np.float32)
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)

        self.observer = Observer(self.robot, np.full(n, cfg.command_vels[0]),
                                 self.terrain.height_at, cfg.observation)
        self._default = self.observer.default
        self._stall_w = max(1, int(round(STALL_WINDOW_S / FRAME_DT)))
        self._x_hist = np.zeros((n, self._stall_w + 1))  # base x over the stall window, m
        self._t = np.zeros(n, np.int64)                 # steps into each robot's episode
        self._episode = np.zeros(n, np.int64)           # episodes started since reset(seed)
        self._added = np.zeros(n)
        self._prev_xy = np.zeros((n, 2))
        self._prev_dof_vel = np.zeros((n, 12))
        self._autoreset = np.zeros(n, bool)
        self._seed = 0
        self._run = cfg.run_spec(0)
        self._obs = np.zeros((n, d), np.float32)

    # ------------------------------------------------------------------ episodes
    def trajectory_index(self, rows: np.ndarray) -> np.ndarray:
        """Run trajectory index of the next episode each robot of ``rows`` starts (robot
        ``i``'s ``j``-th episode since ``reset(seed=...)``: ``i + j * num_envs``)."""
        return np.asarray(rows) + self._episode[rows] * self.num_envs

    def _command(self, k: int) -> float:
        vels = self.config.command_vels
        rng = np.random.default_rng(np.random.SeedSequence(self._seed, spawn_key=(int(k), 1)))
        return float(vels[int(rng.integers(len(vels)))])

    def _start(self, rows: np.ndarray) -> None:
        """Start a new episode for robots ``rows`` (int array): spawn pose at rest, added
        mass, command, counters."""
        idx = self.trajectory_index(rows)
        spawn = draw_spawns(self._run, self.terrain, idx.tolist())
        ids = rows.astype(np.int64)
        self.batch.reset(ids=ids, stage=mujoco.mjtStage.mjSTAGE_NONE)
        self._mass[rows, self._base_id] = self._base_mass + spawn.added_mass
        self.batch.set_const(ids=ids)
        self._qpos[rows] = spawn.qpos
        self._qvel[rows] = 0.0
        self._ctrl[rows] = self._default
        self.batch.forward(ids=ids)
        self._added[rows] = spawn.added_mass
        cmd = np.array([self._command(k) for k in idx])
        self.observer.reset_rows(rows, cmd)
        self._x_hist[rows] = spawn.qpos[:, 0:1]
        self._prev_xy[rows] = spawn.qpos[:, :2]
        self._prev_dof_vel[rows] = 0.0
        self._t[rows] = 0
        self._episode[rows] += 1

    def reset(self, *, seed: int | None = None, options: dict | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every robot's episode. ``seed`` (int >= 0) restarts the episode sequence of
        the run with that seed (the same seed gives the same spawns, masses and commands);
        without it the robots start their next episodes."""
        super().reset(seed=seed)
        if seed is not None:
            self._seed = int(seed)
            self._run = self.config.run_spec(self._seed)
            self._episode[:] = 0
        self._start(np.arange(self.num_envs))
        self._autoreset[:] = False
        qp, qv = self._qpos.copy(), self._qvel.copy()
        rot = quat_to_mat(qp[:, 3:7])
        obs = self.observer.observe(qp, qv, rot).copy()
        info = self._info(qp, rot, np.zeros(self.num_envs, np.int8),
                          np.zeros(self.num_envs, bool))
        return obs, info

    # ------------------------------------------------------------------ stepping
    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Advance every robot by 0.02 s under ``actions`` (num_envs, 12); robots whose
        episode ended at the last step are reset instead (their actions ignored)."""
        return self._step(actions, autoreset=True)

    def _step(self, actions, autoreset: bool):
        cfg, n = self.config, self.num_envs
        actions = np.asarray(actions, np.float64).reshape(n, N_ACTIONS)
        restart = np.flatnonzero(self._autoreset) if autoreset else np.zeros(0, np.int64)
        a, target = action_targets(actions, self._default, cfg.actuation)
        moving = ~self._autoreset if autoreset else np.ones(n, bool)
        prev_actions = self.observer.last_actions.copy()
        self._ctrl[moving] = target[moving]
        self.observer.last_actions[moving] = a[moving]
        if moving.all():
            self.batch.step(nstep=DECIMATION)
        elif moving.any():
            self.batch.step(ids=np.flatnonzero(moving), nstep=DECIMATION)
        if len(restart):
            self._start(restart)
        self._t[moving] += 1

        qp, qv = self._qpos.copy(), self._qvel.copy()
        rot = quat_to_mat(qp[:, 3:7])
        obs = self.observer.observe(qp, qv, rot).copy()
        code = failure_codes(self._run, self.terrain, qp, rot, self._prev_xy)
        self._prev_xy[moving] = qp[moving, :2]
        self._x_hist[moving] = np.roll(self._x_hist[moving], -1, axis=1)
        self._x_hist[moving, -1] = qp[moving, 0]
        if cfg.terminate_on_stall:
            full = self._t >= self._stall_w
            need = STALL_FRACTION * self.observer.command_vel * self._stall_w * FRAME_DT
            stall = full & (self._x_hist[:, -1] - self._x_hist[:, 0] < need) & (code == NONE)
            code[stall] = STALLED
        code[~moving] = NONE
        terminated = code != NONE
        truncated = moving & ~terminated & (self._t >= cfg.n_frames)
        reward = self._reward(qv, rot, a, prev_actions)
        reward[~moving] = 0.0
        self._prev_dof_vel[:] = qv[:, 6:18]
        self._autoreset = terminated | truncated
        info = self._info(qp, rot, code, truncated)
        return obs, reward, terminated, truncated, info

    def _reward(self, qv: np.ndarray, rot: np.ndarray, a: np.ndarray,
                prev_a: np.ndarray) -> np.ndarray:
        """(n,) legged_gym rough-terrain reward terms (module docstring) x 0.02 s, >= 0."""
        rt = np.swapaxes(rot, 1, 2)
        v_b = np.einsum("nij,nj->ni", rt, qv[:, 0:3])
        w_b = qv[:, 3:6]
        cmd = self.observer.commands(rot)
        lin = np.exp(-np.sum((cmd[:, :2] - v_b[:, :2]) ** 2, axis=1) / 0.25)
        ang = np.exp(-(cmd[:, 2] - w_b[:, 2]) ** 2 / 0.25)
        acc = (self._prev_dof_vel - qv[:, 6:18]) / FRAME_DT
        r = (1.0 * lin + 0.5 * ang - 2.0 * v_b[:, 2] ** 2
             - 0.05 * np.sum(w_b[:, :2] ** 2, axis=1)
             - 1e-5 * np.sum(np.asarray(self._force) ** 2, axis=1)
             - 2.5e-7 * np.sum(acc ** 2, axis=1)
             - 0.01 * np.sum((prev_a - a) ** 2, axis=1)) * FRAME_DT
        return np.maximum(r, 0.0)

    def _info(self, qp: np.ndarray, rot: np.ndarray, code: np.ndarray,
              truncated: np.ndarray) -> dict[str, np.ndarray]:
        labels = self.terrain.labels_at(qp[:, 0], qp[:, 1])
        return {
            "terrain_type": labels["terrain_type"],
            "terrain_type_2": labels["terrain_type_2"],
            "terrain_slope": labels["terrain_slope"],
            "terrain_difficulty": labels["terrain_difficulty"],
            "failure_reason": code.astype(np.int8),
            "success": truncated & (code == NONE),
            "command_vel": self.observer.command_vel.copy(),
            "added_mass": self._added.copy(),
            "base_pos": qp[:, 0:3].copy(),
        }

    def close(self, **kwargs: Any) -> None:
        self.batch = None
        super().close(**kwargs)


class TerrainEnv(gym.Env):
    """One robot of :class:`TerrainVecEnv` (``num_envs`` 1) as a ``gymnasium.Env``: after an
    episode ends, call :meth:`reset`. ``info`` holds scalars (``failure_name``: the
    :data:`~.progress.FAILURE_REASONS` entry)."""

    metadata = {"render_modes": [], "render_fps": int(round(1 / FRAME_DT))}

    def __init__(self, config: EnvConfig | None = None, **overrides):
        cfg = replace(config or EnvConfig(), **{**overrides, "num_envs": 1})
        self.vec = TerrainVecEnv(cfg)
        self.config = cfg
        self.observation_space = self.vec.single_observation_space
        self.action_space = self.vec.single_action_space

    @staticmethod
    def _scalar_info(info: dict) -> dict:
        out = {k: (v[0].copy() if v.ndim > 1 else v[0].item()) for k, v in info.items()}
        out["failure_name"] = FAILURE_REASONS[out["failure_reason"]]
        return out

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs, info = self.vec.reset(seed=seed, options=options)
        return obs[0], self._scalar_info(info)

    def step(self, action):
        obs, r, term, trunc, info = self.vec._step(np.asarray(action)[None], autoreset=False)
        return obs[0], float(r[0]), bool(term[0]), bool(trunc[0]), self._scalar_info(info)

    def close(self) -> None:
        self.vec.close()
        super().close()


# ----------------------------------------------------------------------------- registry
ENV_IDS: dict[str, str] = {
    "behaviorbench/AnymalC-Terrain-v0": "anymal_c",
    "behaviorbench/AnymalB-Terrain-v0": "anymal_b",
}


def register_envs() -> None:
    """Register :data:`ENV_IDS` with gymnasium (``gymnasium.make`` gives a
    :class:`TerrainEnv`, ``gymnasium.make_vec(id, num_envs=N,
    vectorization_mode="vector_entry_point")`` a :class:`TerrainVecEnv`); idempotent."""
    for env_id, robot in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(id=env_id, entry_point=f"{__name__}:TerrainEnv",
                     vector_entry_point=f"{__name__}:TerrainVecEnv",
                     kwargs={"robot": robot}, disable_env_checker=False,
                     max_episode_steps=None)


register_envs()
