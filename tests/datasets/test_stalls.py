"""Stalled trajectories fail with reason ``stalled``: dropped by default, kept with
``keep_failures``, counted per robot; every store carries ``progress`` and
``failure_reason`` (derived by the writer when a backend returns only ``success``)."""

from __future__ import annotations

import numpy as np

from behaviorbench.datasets import load_terrain_dataset, schema
from behaviorbench.datasets.generate import generate
from behaviorbench.datasets.validate import validate_store
from tests.datasets import synthetic
from tests.datasets.helpers import synth_config

BACKEND = "tests.datasets.test_stalls:simulate"
STALLS = {1, 4}  # trajectory indices (per run) that stop after 2 s
EPISODE_S = 12.0  # s, longer than the stall rule's 10 s window


def simulate(plan, indices):
    """The synthetic backend, with trajectories :data:`STALLS` standing still after 2 s and
    every trajectory successful (so the writer's stall rule is what fails them)."""
    rows = []
    for i in indices:
        r = synthetic.one(plan, i)
        r["success"] = True
        if i in STALLS:
            x = r["base_pos"][:, 0]
            r["base_pos"][:, 0] = np.minimum(x, x[100])
        rows.append(r)
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def test_stalled_trajectories_are_dropped_and_counted(tmp_path):
    cfg = synth_config(backend=BACKEND, episode_s=EPISODE_S)
    attrs = generate(tmp_path / "s", cfg)
    counts = attrs["counts"]
    n_runs = len(cfg.runs)
    assert counts["n_failures"] == n_runs * len(STALLS)
    assert counts["failure_reasons"] == {"stalled": n_runs * len(STALLS)}
    per_robot = {r: {"stalled": len(cfg.command_vels) * len(STALLS)} for r in cfg.robots}
    assert counts["failure_reasons_per_robot"] == per_robot
    assert counts["attempted_per_robot"] == {r: len(cfg.command_vels) * 5 for r in cfg.robots}
    assert validate_store(tmp_path / "s") == []
    d = load_terrain_dataset(tmp_path / "s")
    assert len(d) == n_runs * (5 - len(STALLS))
    assert (d.failure_reason == 0).all() and d.progress.dtype == np.float32
    np.testing.assert_allclose(d.progress, 1.0, atol=1e-5)  # the synthetic robots keep pace


def test_kept_failures_carry_their_reason_and_progress(tmp_path):
    cfg = synth_config(backend=BACKEND, episode_s=EPISODE_S, keep_failures=True)
    attrs = generate(tmp_path / "s", cfg)
    assert attrs["schema_version"] == schema.SCHEMA_VERSION
    d = load_terrain_dataset(tmp_path / "s")
    stalled = d.failure_reason == schema.FAILURE_REASONS.index("stalled")
    assert stalled.sum() == attrs["counts"]["n_failures"] > 0
    np.testing.assert_array_equal(d.success, ~stalled)
    x = d.kinematics["base_pos"][..., 0]
    want = (x[:, -1] - x[:, 0]) / (d.sequence_labels["command_vel"] * (d.n_frames - 1) / 50)
    np.testing.assert_allclose(d.progress, want, rtol=1e-5)
    assert (d.progress[stalled] < 0.3).all() and (d.progress[~stalled] > 0.99).all()


def test_a_store_whose_reasons_disagree_with_success_is_invalid(tmp_path):
    import zarr

    generate(tmp_path / "s", synth_config(backend=BACKEND, episode_s=EPISODE_S,
                                           keep_failures=True))
    group = zarr.open_group(str(tmp_path / "s"), mode="r+", zarr_format=3)
    reason = group["failure_reason"][:]
    reason[:] = 0
    group["failure_reason"][:] = reason
    problems = validate_store(tmp_path / "s", checksums=False)
    assert any("'failure_reason' and 'success' disagree" in p for p in problems)
