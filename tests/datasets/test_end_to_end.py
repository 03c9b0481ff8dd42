"""End to end with the real MuJoCo simulator: CLI -> store -> validate -> load, and a real
SIGKILL of a 2-worker CLI run resumed with 1 worker to the same bytes as an uninterrupted run;
the stored arrays do not depend on the shard size (the batch robots step in).

Skipped only while ``behaviorbench.simulation.rollout`` does not exist.
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest

from behaviorbench.datasets import load_terrain_dataset, schema, store
from behaviorbench.datasets.cli import main
from behaviorbench.datasets.config import preset
from behaviorbench.datasets.generate import generate
from behaviorbench.datasets.validate_cli import main as validate_main
from tests.datasets.helpers import committed_shards, kill_mid_run, tree_bytes

pytest.importorskip("behaviorbench.simulation.rollout", reason="simulator not merged yet")

ARGS = ["--trajectories-per-run", "2", "--command-vels", "0.6", "--episode-s", "4",
        "--shard-size", "1", "--keep-failures", "--no-progress", "--seed", "3"]


@pytest.mark.slow
def test_tiny_real_dataset_kill_and_resume(tmp_path):
    ref, killed = tmp_path / "ref", tmp_path / "killed"
    assert main(["--out", str(ref), "--workers", "1", *ARGS]) == 0
    assert validate_main([str(ref)]) == 0
    d = load_terrain_dataset(ref)
    assert d.features.shape == (4, 200, 24) and d.features.dtype == np.float32
    np.testing.assert_array_equal(d.sequence_labels["robot_type"], [0, 0, 1, 1])
    assert np.isfinite(d.features).all()
    assert d.features[:, :, 12:].std() > 0.05  # joints move
    vx = d.kinematics["base_lin_vel"][:, 50:, 0].mean(axis=1)
    assert (vx[d.success] > 0.1).all()  # successful robots walk forward
    np.testing.assert_array_equal(d.failure_reason == 0, d.success)
    assert (d.progress[d.success] > 0.25).all()  # the stall rule's floor over the episode

    cmd = [sys.executable, "-m", "behaviorbench.datasets.cli", "--out", str(killed),
           "--workers", "2", *ARGS]
    kill_mid_run(cmd, watch=killed, shards=1, timeout_s=120)
    assert 1 <= committed_shards(killed) < 4
    assert store.read_root_attrs(killed)["status"] == store.STATUS_GENERATING
    assert len(load_terrain_dataset(killed, allow_partial=True)) < 4
    assert main(["--out", str(killed), "--workers", "1", "--resume", *ARGS]) == 0
    a, b = tree_bytes(ref), tree_bytes(killed)
    assert a.keys() == b.keys() and [k for k in a if a[k] != b[k]] == []


def test_mujoco_arrays_do_not_depend_on_the_shard_size(tmp_path):
    """With the real MuJoCo backend, one robot per batch (shards of 1) and all of a run's
    robots in one batch (shards of 4) store the same arrays, bit for bit: the shard size is
    a unit of work (and batch size), never part of the data."""
    cfg = preset("tiny", trajectories_per_run=4, episode_s=1.0, keep_failures=True)
    arrays = []
    for size in (1, 4):
        generate(tmp_path / f"s{size}", replace(cfg, shard_size=size), workers=1)
        arrays.append(store.open_root(tmp_path / f"s{size}"))
    assert store.read_root_attrs(tmp_path / "s1")["config"]["shard_size"] == 1
    for name in schema.ARRAYS:
        a, b = arrays[0][name][...], arrays[1][name][...]
        assert a.shape[0] == 2 * 4 and a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name, strict=True)
