"""The realism report (``validate-dataset PATH --report``): outcome counts, progress, stalls and
the terrain-class mix of kept frames vs the commanded paths on the generated layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr

from behaviorbench.datasets import schema, store
from behaviorbench.datasets.backends import to_run_spec
from behaviorbench.datasets.config import GenerationConfig, preset
from behaviorbench.datasets.generate import generate, plan_runs
from behaviorbench.datasets.report import dataset_report, format_report
from behaviorbench.datasets.validate_cli import main as validate_main
from behaviorbench.simulation import progress as prog
from behaviorbench.simulation.rollout import draw_spawns, run_terrain

DT = 1.0 / schema.FRAME_RATE_HZ
CLASSES = schema.TERRAIN_TYPES_2


# ----------------------------------------------------------------------------- helpers


def independent_path_labels(cfg: GenerationConfig, run: int) -> tuple[str, np.ndarray]:
    """(robot, (n_robots, T) labels) of run ``run``'s robots walking straight +x at their
    command from their spawns, rebuilt here from the simulator's primitives."""
    plan = plan_runs(cfg)[run]
    spec = to_run_spec(plan)
    terrain = run_terrain(spec)
    qpos = draw_spawns(spec, terrain, list(range(spec.n_robots))).qpos
    t = np.arange(cfg.n_frames) * DT
    x = qpos[:, :1] + spec.command_vel * t[None, :]
    y = np.repeat(qpos[:, 1:2], cfg.n_frames, axis=1)
    return plan.robot, terrain.labels_at(x, y)["terrain_type_2"]


def fraction_per_class(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels).ravel()
    return np.array([(labels == c).mean() for c in range(len(CLASSES))])


def path_store_arrays(cfg: GenerationConfig) -> dict[str, np.ndarray]:
    """Arrays of a store whose every attempted robot walked its commanded path exactly (base
    x on the path, labels those of the path), all kept."""
    rows: list[dict[str, np.ndarray]] = []
    for r in range(len(cfg.runs)):
        robot, labels = independent_path_labels(cfg, r)
        n, t = labels.shape
        plan = plan_runs(cfg)[r]
        spec = to_run_spec(plan)
        qpos = draw_spawns(spec, run_terrain(spec), list(range(n))).qpos
        pos = np.zeros((n, t, 3), np.float32)
        pos[..., 0] = qpos[:, :1] + plan.command_vel * np.arange(t) * DT
        pos[..., 1] = qpos[:, 1:2]
        rows.append(dict(
            features=np.zeros((n, t, schema.N_FEATURES), np.float32), base_pos=pos,
            base_lin_vel=np.zeros((n, t, 3), np.float32),
            base_ang_vel=np.zeros((n, t, 3), np.float32),
            terrain_type=np.zeros((n, t), np.int8), terrain_type_2=labels.astype(np.int8),
            terrain_slope=np.zeros((n, t), np.float32),
            terrain_difficulty=np.zeros((n, t), np.float32),
            terrain_rough=np.zeros((n, t), bool),
            robot_type=np.full(n, schema.ROBOT_TYPES.index(robot), np.int8),
            command_vel=np.full(n, plan.command_vel, np.float32),
            body_mass=np.full(n, 30.0, np.float32), added_mass=np.zeros(n, np.float32),
            seed=np.arange(n, dtype=np.uint64), success=np.ones(n, bool),
            failure_reason=np.zeros(n, np.int8), progress=np.ones(n, np.float32),
            foot_contact=np.ones((n, t, 4), bool),
            joint_torque=np.zeros((n, t, 12), np.float32),
            base_quat=np.tile(np.float32([1, 0, 0, 0]), (n, t, 1))))
    return {k: np.concatenate([r[k] for r in rows]) for k in schema.ARRAYS}


def copy_store(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_root_attrs(path: Path, edit) -> None:
    meta = path / "zarr.json"
    doc = json.loads(meta.read_text())
    edit(doc["attributes"])
    meta.write_text(json.dumps(doc))


# ----------------------------------------------------------------------------- fixtures

SYNTH_CFG = preset("tiny", episode_s=2.0, trajectories_per_run=8, keep_failures=True)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A real tiny store (both robots, 2 trajectories each, 2 s), failures stored."""
    path = tmp_path_factory.mktemp("gen") / "s.zarr"
    generate(path, preset("tiny", keep_failures=True, episode_s=2.0))
    return path


@pytest.fixture(scope="module")
def path_arrays() -> dict[str, np.ndarray]:
    return path_store_arrays(SYNTH_CFG)


@pytest.fixture(scope="module")
def path_store(tmp_path_factory, path_arrays) -> Path:
    """A synthetic store whose kept frames follow the commanded paths exactly."""
    path = tmp_path_factory.mktemp("paths") / "p.zarr"
    store.write_complete_store(path, path_arrays, SYNTH_CFG.to_dict())
    return path


# ----------------------------------------------------------------------------- generated store


def test_counts_match_the_store(generated):
    attrs = store.read_root_attrs(generated)
    counts = attrs["counts"]
    root = zarr.open_group(str(generated), mode="r")
    rt, ok = root["robot_type"][:], root["success"][:]
    rep = dataset_report(generated)
    assert [r.robot for r in rep.rows] == [*schema.ROBOT_TYPES, "all"]
    total = rep.row("all")
    assert (total.attempted, total.kept) == (counts["n_attempted"], counts["n_success"])
    for i, robot in enumerate(schema.ROBOT_TYPES):
        row = rep.row(robot)
        assert row.attempted == counts["attempted_per_robot"][robot] == 2
        assert row.kept == int((ok & (rt == i)).sum())
        assert row.kept_fraction == pytest.approx(row.kept / 2)
        want = {k: v for k, v in counts["failure_reasons_per_robot"].get(robot, {}).items()
                if k != "none" and v}
        assert row.failure_reasons == want
    assert sum(sum(r.failure_reasons.values()) for r in rep.rows[:-1]) == \
        sum(total.failure_reasons.values()) == counts["n_attempted"] - counts["n_success"]
    assert rep.notes == ()


def test_progress_and_stalls_match_a_direct_computation(generated):
    root = zarr.open_group(str(generated), mode="r")
    rt, ok = root["robot_type"][:], root["success"][:]
    x, cmd = root["base_pos"][..., 0], root["command_vel"][:]
    stored = root["progress"][:]
    np.testing.assert_allclose(stored, prog.progress_ratio(x, cmd, DT), rtol=1e-5)
    stalled = prog.stalled_frames(x, cmd, 0.02)
    rep = dataset_report(generated)
    for i, robot in enumerate(schema.ROBOT_TYPES):
        kept = ok & (rt == i)
        row = rep.row(robot)
        if kept.any():
            assert row.median_progress == pytest.approx(float(np.median(stored[kept])))
            assert row.stalled_fraction == pytest.approx(float(stalled[kept].mean()))
            np.testing.assert_allclose(
                row.kept_shares, fraction_per_class(root["terrain_type_2"][:][kept]))
        else:
            assert np.isnan(row.median_progress) and np.isnan(row.stalled_fraction)
    assert rep.row("all").median_progress == pytest.approx(float(np.median(stored[ok])))


def test_path_shares_sum_to_one_and_match_a_recomputation(generated):
    rep = dataset_report(generated)
    cfg = GenerationConfig.from_dict(store.read_root_attrs(generated)["config"])
    for row in rep.rows:
        assert row.path_shares.sum() == pytest.approx(1.0)
    # tiny: one run per robot, so run 0 alone gives its robot's path shares
    robot, labels = independent_path_labels(cfg, 0)
    assert labels.shape == (2, cfg.n_frames)
    np.testing.assert_allclose(rep.row(robot).path_shares, fraction_per_class(labels))
    both = np.concatenate([independent_path_labels(cfg, r)[1] for r in range(len(cfg.runs))])
    np.testing.assert_allclose(rep.row("all").path_shares, fraction_per_class(both))


def test_old_format_store_still_reports(generated, tmp_path, capsys):
    old = copy_store(generated, tmp_path / "old.zarr")
    root = zarr.open_group(str(old), mode="r+")
    del root["progress"]
    del root["failure_reason"]

    def to_old(attrs):
        attrs["schema_version"] = "1.0"
        for k in ("failure_reasons_per_robot", "attempted_per_robot"):
            attrs["counts"].pop(k, None)
        n_fail = attrs["counts"]["n_failures"]
        attrs["counts"]["failure_reasons"] = {"failed": n_fail} if n_fail else {}
        for k in ("progress", "failure_reason"):
            attrs["checksums"].pop(k, None)
        attrs["vocabularies"].pop("failure_reason", None)

    edit_root_attrs(old, to_old)
    new, rep = dataset_report(generated), dataset_report(old)
    assert rep.schema_version == "1.0"
    assert any("progress computed" in n for n in rep.notes)
    assert any("failure reasons per robot not recorded" in n for n in rep.notes)
    for a, b in zip(new.rows, rep.rows, strict=True):
        assert (a.robot, a.attempted, a.kept) == (b.robot, b.attempted, b.kept)
        assert b.median_progress == pytest.approx(a.median_progress, rel=1e-5, nan_ok=True)
        assert sum(b.failure_reasons.values()) == sum(a.failure_reasons.values())
        assert set(b.failure_reasons) <= {"failed"}
        np.testing.assert_allclose(b.path_shares, a.path_shares)
    assert "Realism report" in format_report(rep)
    assert validate_main([str(old), "--report"]) == 0
    assert "note: no 'progress' array" in capsys.readouterr().out


def test_dropped_failures_without_per_robot_reasons(path_store, tmp_path):
    old = copy_store(path_store, tmp_path / "old.zarr")

    def to_old(attrs):
        attrs["schema_version"] = "1.0"
        attrs["counts"].pop("failure_reasons_per_robot")
        attrs["counts"]["failures_stored"] = False
        attrs["counts"]["failure_reasons"] = {"failed": 3}

    edit_root_attrs(old, to_old)
    rep = dataset_report(old)
    assert [r.failure_reasons for r in rep.rows] == [None, None, {"failed": 3}]
    assert any("only the overall counts" in n for n in rep.notes)
    outcome_lines = format_report(rep).split("failures\n", 1)[1].splitlines()[1:4]
    assert [line.split()[-1] for line in outcome_lines] == ["?", "?", "3"]


# ----------------------------------------------------------------------------- synthetic stores


def test_unbiased_store_is_not_flagged(path_store):
    rep = dataset_report(path_store)
    for row in rep.rows:
        np.testing.assert_allclose(row.kept_shares, row.path_shares, atol=1e-12)
        assert row.median_progress == pytest.approx(1.0)
        assert row.stalled_fraction == 0.0
        assert row.failure_reasons == {}
    assert rep.flagged == {}
    assert "no class differs by over 5 pp" in format_report(rep)


def test_dropping_one_class_of_robots_is_flagged(path_store, path_arrays, tmp_path, capsys):
    rep0 = dataset_report(path_store)
    shares = rep0.row("all").path_shares
    target = 1 + int(np.argmax(shares[1:]))  # the commonest non-flat class
    assert shares[target] > 0.05  # else this test could not fail (deterministic layout)
    hit = (path_arrays["terrain_type_2"] == target).any(axis=1)
    assert hit.any() and not hit.all()
    arrays = dict(path_arrays, success=~hit,
                  failure_reason=np.where(hit, prog.STALLED, prog.NONE).astype(np.int8))
    biased = tmp_path / "biased.zarr"
    store.write_complete_store(biased, arrays, SYNTH_CFG.to_dict())
    rep = dataset_report(biased)
    total = rep.row("all")
    assert total.kept == int((~hit).sum()) and total.attempted == hit.size
    assert total.kept_shares[target] == 0.0
    assert total.share_diff_pp[target] == pytest.approx(-100 * shares[target])
    assert CLASSES[target] in total.flagged()
    assert CLASSES[target] in rep.flagged["all"]
    assert total.failure_reasons == {"stalled": int(hit.sum())}
    text = format_report(rep)
    assert "FLAGGED" in text and CLASSES[target] in text.split("FLAGGED")[1]
    assert "<- over 5 pp" in text
    assert validate_main([str(biased), "--report"]) == 0
    assert "FLAGGED" in capsys.readouterr().out


def test_imported_store_skips_the_path_column(tmp_path):
    arrays = path_store_arrays(preset("tiny", episode_s=0.5))
    path = tmp_path / "imp.zarr"
    store.write_complete_store(path, arrays, {"imported_from": "robot_dataset.npy"})
    rep = dataset_report(path)
    assert all(r.path_shares is None and r.share_diff_pp is None for r in rep.rows)
    assert any("imported" in n for n in rep.notes)
    assert rep.row("all").kept == len(arrays["success"])
    text = format_report(rep)
    assert "commanded-path shares skipped" in text


# ----------------------------------------------------------------------------- CLI


def test_cli_report_prints_a_per_robot_table(generated, capsys):
    assert validate_main([str(generated), "--report"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK ") and "Realism report" in out
    table = out.split("failures\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert [line.split()[0] for line in table] == [*schema.ROBOT_TYPES, "all"]
    rep = dataset_report(generated)
    for line, row in zip(table, rep.rows, strict=True):
        assert line.split()[1:3] == [str(row.attempted), str(row.kept)]
    for cls in CLASSES:
        assert cls in out
    # without --report: the one OK line only
    assert validate_main([str(generated)]) == 0
    assert "Realism report" not in capsys.readouterr().out


def test_cli_report_not_printed_for_an_invalid_store(path_store, tmp_path, capsys):
    bad = copy_store(path_store, tmp_path / "bad.zarr")
    root = zarr.open_group(str(bad), mode="r+")
    root["command_vel"][0] = 0.75  # checksum mismatch
    assert validate_main([str(bad), "--report"]) == 1
    cap = capsys.readouterr()
    assert "Realism report" not in cap.out and "checksum mismatch" in cap.err
    assert validate_main([str(tmp_path / "missing.zarr"), "--report"]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and "Traceback" not in cap.err
    assert "missing.zarr does not exist" in cap.err
