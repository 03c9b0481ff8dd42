"""Store layer on the synthetic backend: layout, failures, reproducibility, partial reads."""

from __future__ import annotations

import numpy as np
import pytest

from behaviorbench.datasets import load_terrain_dataset, schema, store
from behaviorbench.datasets.generate import generate, plan_runs, plan_shards, run_shard
from behaviorbench.datasets.loader import DatasetError
from behaviorbench.datasets.validate import validate_store
from tests.datasets import synthetic
from tests.datasets.helpers import synth_config, tree_bytes


def _expected(cfg):
    """Concatenate the synthetic backend's output directly, in store order."""
    rows = [synthetic.one(p, i) for p in plan_runs(cfg) for i in range(p.n_robots)]
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def test_generate_matches_backend_output_and_drops_failures(tmp_path):
    cfg = synth_config()
    attrs = generate(tmp_path / "s", cfg)
    exp = _expected(cfg)
    ok = exp["success"]
    assert 0 < ok.sum() < ok.size  # the synthetic backend fails ~25%: both paths exercised
    d = load_terrain_dataset(tmp_path / "s")
    assert d.features.shape == (ok.sum(), 200, 24) and d.features.dtype == np.float32
    np.testing.assert_array_equal(d.features[:, :, :12], exp["dof_pos"][ok])
    np.testing.assert_array_equal(d.features[:, :, 12:], exp["dof_vel"][ok])
    np.testing.assert_array_equal(d.frame_labels["terrain_type"], exp["terrain_type"][ok])
    np.testing.assert_array_equal(d.sequence_labels["robot_type"], exp["robot_type"][ok])
    np.testing.assert_array_equal(d.kinematics["base_pos"], exp["base_pos"][ok])
    assert d.success.all()
    c = attrs["counts"]
    assert c["n_failures"] == int((~ok).sum()) and c["n_sequences"] == int(ok.sum())
    assert c["n_attempted"] == 20 and not c["failures_stored"]
    assert attrs["feature_names"] == list(schema.FEATURE_NAMES)
    assert attrs["vocabularies"]["terrain_type_2"] == list(schema.TERRAIN_TYPES_2)
    assert attrs["config"] == cfg.to_dict()
    assert not store.staging_path(tmp_path / "s").exists()
    assert validate_store(tmp_path / "s") == []


def test_keep_failures_stores_them_flagged(tmp_path):
    cfg = synth_config(keep_failures=True)
    generate(tmp_path / "s", cfg)
    d = load_terrain_dataset(tmp_path / "s")
    exp = _expected(cfg)
    assert len(d) == 20
    np.testing.assert_array_equal(d.success, exp["success"])
    assert validate_store(tmp_path / "s") == []


def test_bit_identical_whatever_the_number_of_workers(tmp_path):
    cfg = synth_config()
    generate(tmp_path / "w1", cfg, workers=1)
    generate(tmp_path / "w2", cfg, workers=2)
    a, b = tree_bytes(tmp_path / "w1"), tree_bytes(tmp_path / "w2")
    assert a.keys() == b.keys() and len(a) > 15
    assert all(a[k] == b[k] for k in a)


def test_other_seed_changes_data(tmp_path):
    generate(tmp_path / "a", synth_config(seed=1))
    generate(tmp_path / "b", synth_config(seed=2))
    assert not np.array_equal(load_terrain_dataset(tmp_path / "a").features[0],
                              load_terrain_dataset(tmp_path / "b").features[0])


def test_readers_see_only_committed_shards(tmp_path):
    cfg = synth_config()
    out = tmp_path / "s"
    store.create_root(out, cfg.to_dict())
    store.create_staging(out, cfg.n_attempted, cfg.n_frames, cfg.shard_size)
    shards, plans = plan_shards(cfg), plan_runs(cfg)
    # shard 0 and 2 written and committed; shard 1 written but never committed (a crash)
    for t in (shards[0], shards[1], shards[2]):
        res = run_shard(str(out), cfg.backend, plans, t, cfg.n_frames)
        if t.shard_id != 1:
            store.commit_shards(out, {t.shard_id: res})
    with pytest.raises(DatasetError, match="incomplete"):
        load_terrain_dataset(out)
    part = load_terrain_dataset(out, allow_partial=True)
    exp = _expected(cfg)
    rows = np.r_[0:3, 6:9]
    ok = rows[exp["success"][rows]]
    np.testing.assert_array_equal(part.seed, exp["seed"][ok])
    np.testing.assert_array_equal(part.features[:, :, :12], exp["dof_pos"][ok])
    assert "not 'complete'" in validate_store(out)[0]
