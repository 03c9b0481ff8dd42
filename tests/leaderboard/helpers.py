"""Test fixtures for the leaderboard: hand-built results objects (test data, not scores)."""

from __future__ import annotations

from pathlib import Path

from behaviorbench.benchmark.identity import quadruped_protocol
from behaviorbench.benchmark.readout import LinearReadoutConfig, RidgeReadoutConfig
from behaviorbench.benchmark.results import (
    BenchmarkResults,
    DatasetInfo,
    Hardware,
    ModelInfo,
    TaskScore,
    save_results,
    utc_now,
)

CONFIG_HASH = "sha256:" + "c" * 64


def protocol(solver: str = "adamw", max_train_frames: int = 200_000):
    """The quadruped protocol with default settings (or another solver / frame cap)."""
    return quadruped_protocol("paper", LinearReadoutConfig(solver=solver), RidgeReadoutConfig(),
                              max_train_frames, 200_000, 0, 0)

# task -> (metric, higher_is_better, level)
TASK_META = {
    "terrain_type": ("f1_weighted", True, "frame"),
    "robot_type": ("f1_weighted", True, "sequence"),
    "body_mass": ("mse", False, "sequence"),
}


def make_results(
    model: str,
    scores: dict[str, list[float]],
    *,
    dataset: str = "terrain-test",
    kind: str = "quadruped",
    n_parameters: int | None = 1000,
    checksum: str | None = "sha256:" + "0" * 64,
    train_time_s: float | None = 10.0,
    artifacts: list[str] | None = None,
    display_name: str | None = None,
    config_hash: str | None = CONFIG_HASH,
    proto=None,
    legacy: bool = False,
    config: dict | None = None,
) -> BenchmarkResults:
    """A valid measured results object with the given per-seed scores (seeds 0..n-1).

    ``legacy``: a schema 1.0 object (no protocol, origin or config hash), as written before
    results recorded them. ``proto``: a ProtocolInfo (default: ``protocol()``).
    """
    tasks = []
    for name, values in scores.items():
        metric, hib, level = TASK_META.get(name, ("f1_binary", True, "frame"))
        tasks.append(
            TaskScore.from_values(name, metric, hib, level, values, list(range(len(values))))
        )
    n = max(len(v) for v in scores.values())
    return BenchmarkResults(
        schema_version="1.0" if legacy else "1.1",
        model=ModelInfo(name=model, display_name=display_name,
                        config={} if config is None else config,
                        n_parameters=n_parameters, origin=None if legacy else "builtin"),
        dataset=DatasetInfo(name=dataset, kind=kind, path="/data/x.zarr", schema_version="1",
                            checksum=checksum, config_hash=None if legacy else config_hash),
        protocol=None if legacy else (proto or protocol()),
        tasks=tasks,
        seeds=list(range(n)),
        train_time_s=train_time_s,
        eval_time_s=1.0,
        peak_memory_bytes=10**8,
        hardware=Hardware(cpu_model="Test CPU", gpu_model=None, device="cpu", cpu_count=2),
        package_versions={"behaviorbench": "0.1.0"},
        git_commit="0" * 40,
        date=utc_now(),
        artifacts=artifacts or [],
    )


def write(res: BenchmarkResults, path: Path) -> Path:
    """Save `res` to `path` and return the path."""
    return save_results(res, path)
