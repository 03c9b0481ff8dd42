"""Test fixtures for the leaderboard: hand-built results objects (test data, not scores)."""

from __future__ import annotations

from pathlib import Path

from behaviorbench.benchmark.results import (
    BenchmarkResults,
    DatasetInfo,
    Hardware,
    ModelInfo,
    TaskScore,
    save_results,
    utc_now,
)

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
) -> BenchmarkResults:
    """A valid measured results object with the given per-seed scores (seeds 0..n-1)."""
    tasks = []
    for name, values in scores.items():
        metric, hib, level = TASK_META.get(name, ("f1_binary", True, "frame"))
        tasks.append(
            TaskScore.from_values(name, metric, hib, level, values, list(range(len(values))))
        )
    n = max(len(v) for v in scores.values())
    return BenchmarkResults(
        model=ModelInfo(name=model, display_name=display_name, config={"epochs": 1},
                        n_parameters=n_parameters),
        dataset=DatasetInfo(name=dataset, kind=kind, path="/data/x.zarr", schema_version="1",
                            checksum=checksum),
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
