"""Parallel rollouts: threads and processes give the serial run's arrays bit for bit."""

from __future__ import annotations

import threading
from dataclasses import fields

import numpy as np
import pytest

from behaviorbench.simulation.recording import TrajectoryBatch
from behaviorbench.simulation.rollout import RunSpec, run_terrain, simulate
from behaviorbench.simulation.terrain import TerrainConfig

RUN = RunSpec(robot="anymal_b", command_vel=1.0, n_robots=5, episode_s=1.2,
              terrain=TerrainConfig.small(num_rows=3, num_cols=2), seed=11,
              max_init_terrain_level=1)


@pytest.fixture(scope="module")
def serial() -> TrajectoryBatch:
    return simulate(RUN)


def _same(a: TrajectoryBatch, b: TrajectoryBatch, what: str) -> None:
    for f in fields(TrajectoryBatch):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name),
                                      err_msg=f"{f.name} ({what})")


def test_threads_identical(serial):
    _same(simulate(RUN, workers=2), serial, "2 threads")
    _same(simulate(RUN, workers=3, batch_size=1), serial, "3 threads, 5 batches")


def test_processes_identical(serial):
    _same(simulate(RUN, workers=2, processes=True), serial, "2 processes")


def test_threads_with_terrain_override(serial):
    terrain = run_terrain(RUN)
    _same(simulate(RUN, workers=2, terrain=terrain), serial, "threads, terrain override")
    with pytest.raises(ValueError, match="terrain"):
        simulate(RUN, workers=2, terrain=terrain, processes=True)


def test_threads_progress_counts_every_frame_once():
    done, callers = [], set()

    def progress(n):
        done.append(n)
        callers.add(threading.get_ident())

    run = RunSpec(robot="anymal_b", n_robots=4, episode_s=1.1, terrain=RUN.terrain, seed=1)
    simulate(run, workers=2, progress=progress)
    assert sum(done) == 4 * 55
    assert threading.get_ident() not in callers  # called from the worker threads
