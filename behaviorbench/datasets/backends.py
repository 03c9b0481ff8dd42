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

from behaviorbench.datasets.config import BACKENDS_RESERVED, ConfigError


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


Simulate = Callable[[RunPlan, Sequence[int]], object]

BACKENDS: dict[str, str] = {
    "mujoco": "behaviorbench.datasets.backends:simulate_mujoco",
}


def resolve_backend(name: str) -> Simulate:
    """Backend name (or ``"module:function"``, used by tests) -> simulate function."""
    if name in BACKENDS_RESERVED:
        raise ConfigError(f"backend {name!r} is not available yet (only 'mujoco')")
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
        seed=plan.seed,
    )


def _terrain_kwargs(cls, plan: RunPlan) -> dict:
    """Map our terrain mix onto the simulator's ``TerrainConfig`` fields."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)}
    kw: dict = {}
    mix = dict(plan.terrain_mix)
    from behaviorbench.datasets.config import TERRAIN_KINDS

    props = tuple(mix.get(k, 0.0) for k in TERRAIN_KINDS)  # legged_gym order
    for key in ("proportions", "terrain_proportions"):
        if key in names:
            kw[key] = props
    if "difficulties" in names:
        kw["difficulties"] = tuple(plan.difficulties)
    return kw


def simulate_mujoco(plan: RunPlan, indices: Sequence[int]):
    """Simulate trajectories ``indices`` of ``plan`` with the MuJoCo CPU simulator."""
    try:
        from behaviorbench.simulation.rollout import simulate
    except ImportError as e:  # pragma: no cover - depends on the simulation package
        raise ConfigError(f"MuJoCo simulator unavailable: {e}") from e
    return simulate(to_run_spec(plan), list(indices), workers=1)
