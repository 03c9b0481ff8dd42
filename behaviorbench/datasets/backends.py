"""Simulator backends: name -> function ``(RunPlan, indices) -> TrajectoryBatch``.

``RunPlan`` is the dataset layer's description of one (robot, command velocity) run; a backend
turns it into its simulator's own run description. Imports are lazy so that the dataset layer
(reading, validating, converting) never needs a simulator.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from behaviorbench.datasets.config import TERRAIN_KINDS, ConfigError


@dataclass(frozen=True)
class RunPlan:
    """One run: ``n_robots`` trajectories of one robot under one constant command."""

    run_index: int  # position of the run in the store
    robot: str  # robot name (schema.ROBOT_TYPES)
    command_vel: float  # m/s, forward command
    n_robots: int  # trajectories in the run
    episode_s: float  # s per trajectory
    terrain_mix: tuple[tuple[str, float], ...]  # (kind, proportion), proportions sum to 1
    difficulties: tuple[float, ...]  # sub-terrain difficulties drawn from, [0, 1]
    added_mass_range: tuple[float, float]  # kg
    seed: int  # run seed (derived from the dataset seed and run_index)
    keep_failures: bool = True  # False: failed trajectories are dropped, may be cut short
    vertical_walls: bool = True  # stairs and obstacles with vertical walls (False: ramps)
    controller: str = "trot"  # controller name, module:Class or policy file (mujoco backend)


Simulate = Callable[[RunPlan, Sequence[int]], object]

BACKENDS: dict[str, str] = {
    "mujoco": "behaviorbench.datasets.backends:simulate_mujoco",
    "mujoco-warp": "behaviorbench.datasets.backends:simulate_mujoco_warp",
    "isaacgym": "behaviorbench.datasets.backends:simulate_isaacgym",
}
# optional simulators: backend -> (modules it needs, how to get them)
OPTIONAL: dict[str, tuple[tuple[str, ...], str]] = {
    "mujoco-warp": (("warp", "mujoco_warp"),
                    "pip install 'behaviorbench[gpu]' (mujoco-warp, warp-lang)"),
    "isaacgym": (("isaacgym",),
                 "Isaac Gym is not on PyPI: install NVIDIA's Isaac Gym Preview 4 package "
                 "(https://developer.nvidia.com/isaac-gym), see docs/scaling.md"),
}


def check_available(name: str) -> None:
    """Raise ``ConfigError`` (one line, with how to install) if backend ``name`` needs a
    simulator that is not installed; cheap (no import)."""
    if name in OPTIONAL:
        modules, hint = OPTIONAL[name]
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            raise ConfigError(f"backend {name!r} is not available: {', '.join(missing)} not "
                              f"installed; {hint}")


def resolve_backend(name: str) -> Simulate:
    """Backend name (or ``"module:function"``, used by tests) -> simulate function."""
    check_available(name)
    target = BACKENDS.get(name, name)
    if ":" not in target:
        raise ConfigError(f"unknown backend {name!r} (available: {', '.join(BACKENDS)})")
    if name == "mujoco" and importlib.util.find_spec("behaviorbench.simulation.rollout") is None:
        raise ConfigError("backend 'mujoco': behaviorbench.simulation.rollout is not available")
    mod, fn = target.split(":")
    return getattr(importlib.import_module(mod), fn)


def to_run_spec(plan: RunPlan):
    """RunPlan -> ``behaviorbench.simulation.rollout.RunSpec`` (the MuJoCo simulator's run)."""
    from behaviorbench.simulation import rollout, terrain

    tcfg = terrain.TerrainConfig(**_terrain_kwargs(terrain.TerrainConfig, plan))
    return rollout.RunSpec(
        robot=plan.robot, command_vel=plan.command_vel, n_robots=plan.n_robots,
        episode_s=plan.episode_s, terrain=tcfg, added_mass_range=plan.added_mass_range,
        seed=plan.seed, controller_name=plan.controller,
    )


def _terrain_kwargs(cls, plan: RunPlan) -> dict:
    """Map our terrain mix onto the simulator's ``TerrainConfig`` fields."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)}
    kw: dict = {}
    mix = dict(plan.terrain_mix)
    props = tuple(mix.get(k, 0.0) for k in TERRAIN_KINDS)  # legged_gym order
    for key in ("proportions", "terrain_proportions"):
        if key in names:
            kw[key] = props
    if "difficulties" in names:
        kw["difficulties"] = tuple(plan.difficulties)
    if "vertical_walls" in names:
        kw["vertical_walls"] = bool(plan.vertical_walls)
    return kw


def simulate_mujoco(plan: RunPlan, indices: Sequence[int]):
    """Simulate trajectories ``indices`` of ``plan`` with the MuJoCo CPU simulator."""
    try:
        from behaviorbench.simulation.rollout import simulate
    except ImportError as e:  # pragma: no cover - depends on the simulation package
        raise ConfigError(f"MuJoCo simulator unavailable: {e}") from e
    return simulate(to_run_spec(plan), list(indices), workers=1,
                    stop_failed=not plan.keep_failures)


def simulate_mujoco_warp(plan: RunPlan, indices: Sequence[int]):
    """Simulate trajectories ``indices`` of ``plan`` together on MuJoCo Warp (one world each,
    on warp's default device: the GPU if there is one)."""
    from behaviorbench.simulation.warp_backend import WarpUnavailableError, simulate

    try:
        return simulate(to_run_spec(plan), list(indices), stop_failed=not plan.keep_failures)
    except WarpUnavailableError as e:
        raise ConfigError(str(e)) from e


def simulate_isaacgym(plan: RunPlan, indices: Sequence[int]):
    """Simulate trajectories ``indices`` of ``plan`` in Isaac Gym (one env each). Isaac Gym
    is imported first: it refuses to load after torch."""
    from behaviorbench.simulation import isaacgym_backend as ig

    try:
        ig.import_isaacgym()
    except ig.IsaacGymUnavailableError as e:
        raise ConfigError(str(e)) from e
    return ig.simulate(to_run_spec(plan), list(indices), stop_failed=not plan.keep_failures)
