"""Crash safety: SIGKILL a real generating subprocess, then --resume to the same bytes."""

from __future__ import annotations

import sys

import mujoco
import numpy as np
import pytest

from behaviorbench.datasets import ConfigError, load_terrain_dataset, store
from behaviorbench.datasets.generate import generate
from behaviorbench.datasets.loader import DatasetError
from behaviorbench.datasets.provenance import controller_record, simulator_record
from tests.datasets.helpers import committed_shards, kill_mid_run, synth_config, tree_bytes

SCRIPT = """
import sys
from behaviorbench.datasets.generate import generate
from behaviorbench.datasets.provenance import controller_record
from tests.datasets.helpers import synth_config
generate(sys.argv[1], synth_config(), workers=2)
"""


def test_sigkill_then_resume_gives_identical_bytes(tmp_path):
    out = tmp_path / "killed"
    kill_mid_run([sys.executable, "-c", SCRIPT, str(out)], watch=out,
                 env={"SYNTH_SLEEP_S": "0.15"})  # 0.15 s per trajectory
    n_done = committed_shards(out)
    assert 2 <= n_done < 7  # 7 shards in all: killed mid-run
    assert store.read_root_attrs(out)["status"] == store.STATUS_GENERATING
    with pytest.raises(DatasetError):
        load_terrain_dataset(out)
    partial = load_terrain_dataset(out, allow_partial=True)  # committed shards only
    assert 0 < len(partial) <= 3 * n_done

    with pytest.raises(ConfigError, match="another config"):
        generate(out, synth_config(seed=5), resume=True)
    with pytest.raises(ConfigError, match="--resume"):
        generate(out, synth_config())
    generate(out, synth_config(), resume=True, workers=1)
    generate(tmp_path / "clean", synth_config(), workers=1)
    a, b = tree_bytes(out), tree_bytes(tmp_path / "clean")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    # resuming a complete store is a no-op
    generate(out, synth_config(), resume=True)
    assert tree_bytes(out) == a


def test_interrupted_finalize_is_redone(tmp_path):
    cfg = synth_config()
    generate(tmp_path / "ref", cfg)
    out = tmp_path / "s"
    store.create_root(out, cfg.to_dict(), {"controller": controller_record()})
    store.create_staging(out, cfg.n_attempted, cfg.n_frames, cfg.shard_size)
    from behaviorbench.datasets.generate import plan_runs, plan_shards, run_shard

    for t in plan_shards(cfg):
        store.commit_shards(out, {t.shard_id: run_shard(str(out), cfg.backend, plan_runs(cfg),
                                                        t, cfg.n_frames)})
    # a half-written final array left by a crash during finalize
    root = store.open_root(out, "r+")
    root.create_array("features", shape=(3, 200, 24), dtype="float32", chunks=(1, 200, 24))
    root["features"][:] = 7.0
    generate(out, cfg, resume=True)
    assert tree_bytes(out) == tree_bytes(tmp_path / "ref")


@pytest.mark.parametrize("record", [None, "retuned"])
def test_resume_refuses_a_store_from_another_controller(tmp_path, record):
    """A store started by another controller version (or one that did not record it) is not
    resumed: its finished and its new sequences would walk with different gaits."""
    cfg = synth_config()
    out = tmp_path / "s"
    extra = {}
    if record == "retuned":
        extra = {"controller": {**controller_record(), "leg_clearance": 0.0}}
    store.create_root(out, cfg.to_dict(), extra)
    store.create_staging(out, cfg.n_attempted, cfg.n_frames, cfg.shard_size)
    with pytest.raises(ConfigError, match="controller.*--overwrite"):
        generate(out, cfg, resume=True)
    generate(out, cfg, overwrite=True)                                  # replaced, recorded
    assert store.read_root_attrs(out)["controller"] == controller_record()


def test_resume_refuses_a_store_from_other_physics_versions(tmp_path):
    """A store begun with another MuJoCo release is not resumed (contacts, and so falls,
    differ between releases); the record names the versions."""
    cfg = synth_config()
    out = tmp_path / "s"
    current = simulator_record(cfg.backend)
    assert current["mujoco"] == mujoco.__version__ and current["numpy"] == np.__version__
    store.create_root(out, cfg.to_dict(), {"controller": controller_record(),
                                           "simulator": {**current, "mujoco": "0.0.1"}})
    store.create_staging(out, cfg.n_attempted, cfg.n_frames, cfg.shard_size)
    with pytest.raises(ConfigError, match=f"mujoco 0.0.1 -> {mujoco.__version__}"):
        generate(out, cfg, resume=True)
    generate(out, cfg, overwrite=True)
    assert store.read_root_attrs(out)["simulator"] == current
