"""The physics tasks (foot_contact, stride_phase, stride_frequency) on a hand-made dataset with
known contacts, their skip-with-note on stores without contacts, and the timescale profile."""

from __future__ import annotations

import json

import numpy as np
import pytest

from behaviorbench.benchmark import load as load_module
from behaviorbench.benchmark.cli import main
from behaviorbench.benchmark.physics_tasks import chance_multi, label_array, missing_reason
from behaviorbench.benchmark.results import load_results
from behaviorbench.benchmark.tasks import TASKS
from behaviorbench.benchmark.timescale import SCALES, TASK_SCALE, ordered_tasks
from behaviorbench.datasets.loader import TerrainDataset
from behaviorbench.models import RawFeatures

N, T = 15, 200  # sequences, frames (50 Hz)
# frames per stride (2.5, 2, 1.67 Hz); the paper split's 3 train sequences (3, 6, 12) get one each
PERIODS = (20, 25, 30, 20, 25, 30, 25, 20, 30, 25, 20, 25, 30, 20, 30)
DUTY = 0.6  # fraction of the stride in stance
TROT = (0.0, 0.5, 0.5, 0.0)  # phase offset of LF, RF, LH, RH
PHYSICS = ["foot_contact", "stride_phase", "stride_frequency"]


def hand_dataset() -> TerrainDataset:
    """A trot of known period per sequence: contact = (t / period + offset) mod 1 < DUTY.

    Features: contacts (0:4), sin / cos of the true phase (4:12, 0 where undefined), one-hot of
    the period (12:15), so a 'model' can embed exactly the label it is tested on."""
    contact = np.zeros((N, T, 4), bool)
    feats = np.zeros((N, T, 24), np.float32)
    for i, p in enumerate(PERIODS):
        t = np.arange(T) + 3 * i
        for leg, off in enumerate(TROT):
            contact[i, :, leg] = ((t / p + off) % 1.0) < DUTY
        feats[i, :, 12 + (20, 25, 30).index(p)] = 1.0
    ds = TerrainDataset(
        features=feats,
        sequence_labels={"robot_type": (np.arange(N) % 2).astype(np.int8)},
        frame_labels={},
        physics={"foot_contact": contact},
    )
    feats[..., 0:4] = contact
    feats[..., 4:12] = np.nan_to_num(label_array(ds, "stride_phase"))
    return ds


class ContactEmbedding(RawFeatures):
    """The embedding is the foot contact itself (N, T, 4)."""

    def _embed(self, x):
        return np.ascontiguousarray(x[..., 0:4])


class GaitEmbedding(RawFeatures):
    """The embedding is the true phase (sin / cos) and the period class (N, T, 11)."""

    def _embed(self, x):
        return np.ascontiguousarray(x[..., 4:15])


class ConstantEmbedding(RawFeatures):
    """Every frame embeds to the same vector: no information at all."""

    def _embed(self, x):
        return np.ones((*x.shape[:2], 4), np.float32)


@pytest.fixture
def hand_loader(monkeypatch):
    """run-benchmark reads ``hand_dataset()`` whatever --data says."""
    ds = hand_dataset()
    handle = load_module.DatasetHandle(data=ds, name="hand", kind="quadruped", path="hand",
                                       schema_version="1.2", checksum=None)
    monkeypatch.setitem(load_module.DATASET_LOADERS, "terrain", lambda path: handle)
    return ds


def _run(tmp_path, model, tasks, *extra):
    out = tmp_path / model
    code = main(["--model", f"{__name__}:{model}", "--data", str(tmp_path), "--out", str(out),
                 "--seeds", "0", "--device", "cpu", "--tasks", *tasks, *extra])
    assert code == 0
    (path,) = out.glob("*.json")
    return load_results(path), out


def test_labels_of_the_hand_dataset_are_what_was_planted():
    ds = hand_dataset()
    freq = label_array(ds, "stride_frequency")
    for i, p in enumerate(PERIODS):
        assert np.allclose(freq[i][np.isfinite(freq[i])], 50.0 / p)
    phase = label_array(ds, "stride_phase")
    assert phase.shape == (N, T, 8) and np.isnan(phase[:, 0]).any()  # before a first touchdown
    assert np.nanmax(np.abs(phase)) <= 1.0


def test_contact_embedding_scores_f1_one_and_constant_no_better_than_chance(
        tmp_path, hand_loader, capsys):
    res, out = _run(tmp_path, "ContactEmbedding", ["foot_contact"])
    task = res.task("foot_contact")
    assert task.metric == "f1_binary_mean" and task.mean == pytest.approx(1.0)
    assert all(task.extra["metrics"][f"f1_{leg}"]["mean"] == 1.0 for leg in "LF RF LH RH".split())
    assert {"majority", "prior_random", "always_contact"} <= set(task.extra["chance"])
    assert "interval" in task.extra and "always contact" in capsys.readouterr().out

    res, _ = _run(tmp_path, "ConstantEmbedding", ["foot_contact", "stride_phase"])
    for name in ("foot_contact", "stride_phase"):
        t = res.task(name)
        best = max(c[t.metric] for c in t.extra["chance"].values())
        assert t.mean <= best + 1e-9, (name, t.mean, t.extra["chance"])


def test_stride_phase_and_frequency_leave_undefined_frames_out(tmp_path, hand_loader):
    res, _ = _run(tmp_path, "GaitEmbedding", ["stride_phase", "stride_frequency"])
    phase, freq = res.task("stride_phase"), res.task("stride_frequency")
    assert phase.metric == freq.metric == "r2"
    assert phase.mean > 0.9 and freq.mean > 0.95
    assert phase.extra["chance"]["train_mean"]["r2"] <= 0.05
    ds = hand_loader
    tr, te = ds.paper_split()
    defined = np.isfinite(label_array(ds, "stride_phase")).all(axis=-1)
    assert phase.extra["n_test_rows"] == int(defined[te].sum()) < te.size * T
    assert freq.extra["n_test_rows"] == int(np.isfinite(label_array(ds, "stride_frequency"))[te]
                                            .sum())


def test_chance_of_contacts_by_hand():
    ytr = np.array([[1, 0, 1, 1]] * 3 + [[0, 0, 1, 1]])  # LF in contact 3 / 4 of the train rows
    yte = np.array([[1, 1, 0, 1], [0, 1, 0, 1]])
    ch = chance_multi(TASKS["foot_contact"], ytr, yte)
    # majority: LF 1 (F1 2/3), RF 0 (F1 0), LH 1 (F1 0, no positive), RH 1 (F1 1)
    assert ch["majority"]["f1_binary_mean"] == pytest.approx((2 / 3 + 0 + 0 + 1) / 4)
    # always contact: F1 = 2p / (1 + p) per leg with p the positive fraction
    assert ch["always_contact"]["f1_binary_mean"] == pytest.approx((2 / 3 + 1 + 0 + 1) / 4)


def test_stores_without_contacts_skip_the_tasks_with_a_note(tiny_store, tmp_path, capsys):
    from behaviorbench.datasets import load_terrain_dataset

    data = load_terrain_dataset(tiny_store)  # the synthetic backend records no contacts
    assert "foot_contact" not in data.physics
    for name in PHYSICS:
        assert missing_reason(TASKS[name], data).startswith(f"skipped: {name} needs")
    assert missing_reason(TASKS["robot_type"], data) is None
    listed = TerrainDataset(features=data.features, sequence_labels={}, frame_labels={},
                            attrs={"missing_fields": ["foot_contact"]})
    assert "missing_fields" in missing_reason(TASKS["foot_contact"], listed)

    out = tmp_path / "out"
    assert main(["--model", "raw", "--data", str(tiny_store), "--out", str(out), "--seeds", "0",
                 "--device", "cpu", "--readout-steps", "20", "--bootstrap", "0",
                 "--tasks", "robot_type", *PHYSICS]) == 0
    printed = capsys.readouterr().out
    assert all(f"skipped: {n}" in printed.replace("\n", " ") for n in PHYSICS)
    (path,) = out.glob("*.json")
    res = load_results(path)
    assert [t.name for t in res.tasks] == ["robot_type"]
    assert sorted(res.provenance["skipped_tasks"]) == sorted(PHYSICS)
    assert "skipped: foot_contact" in res.notes
    assert json.loads(path.read_text())["provenance"]["skipped_tasks"]

    code = main(["--model", "raw", "--data", str(tiny_store), "--out", str(tmp_path / "none"),
                 "--seeds", "0", "--device", "cpu", "--tasks", "foot_contact"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no requested task" in err
    assert not (tmp_path / "none").exists()


def test_timescale_order_covers_every_quadruped_task():
    terrain = [n for n, t in TASKS.items() if t.dataset == "terrain"]
    assert set(TASK_SCALE) == set(terrain)  # a new quadruped task must get a timescale
    order = ordered_tasks(list(reversed(terrain)) + ["strain"])  # MABe tasks have none
    assert order[0] == "foot_contact" and set(order[1:3]) == {"stride_phase", "stride_frequency"}
    ranks = [TASK_SCALE[n][0] for n in order]
    assert ranks == sorted(ranks) and [s[0] for s in SCALES] == [
        "contact", "stride", "terrain", "sequence"]
    assert set(order[-3:]) == {"robot_type", "command_vel", "body_mass"}


def test_timescale_profile_figure_is_written_and_listed(tmp_path, hand_loader):
    res, out = _run(tmp_path, "ContactEmbedding", ["robot_type", "foot_contact"],
                    "--readout-steps", "50", "--bootstrap", "0")
    (png,) = [a for a in res.artifacts if a.endswith("_timescale.png")]
    assert (out / png).stat().st_size > 1000
