"""load_terrain_dataset (splits, torch windows) and the robot_dataset.npy round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from behaviorbench.datasets import TerrainDataset, load_terrain_dataset, schema
from behaviorbench.datasets.generate import generate
from behaviorbench.datasets.interop import export_npy, import_npy
from behaviorbench.datasets.interop import main as interop_main
from behaviorbench.datasets.validate import validate_store
from tests.datasets.helpers import synth_config


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    p = tmp_path_factory.mktemp("l") / "s"
    generate(p, synth_config(episode_s=10.0))
    return p


def test_loader_api(path):
    d = load_terrain_dataset(path)
    assert isinstance(d, TerrainDataset)
    n = len(d)
    assert d.features.shape == (n, 500, 24) and d.features.dtype == np.float32
    assert d.feature_names == schema.FEATURE_NAMES
    assert set(d.sequence_labels) == {"robot_type", "command_vel", "body_mass", "added_mass"}
    assert set(d.frame_labels) == set(schema.FRAME_LABELS)
    assert all(v.shape == (n, 500) for v in d.frame_labels.values())
    assert d.torch_features().shape == (n, 500, 24)
    train, test = d.paper_split()
    ref_train, ref_test = train_test_split(np.arange(n), test_size=0.8, random_state=42)
    np.testing.assert_array_equal(train, ref_train)
    np.testing.assert_array_equal(test, ref_test)
    a, b = d.random_split(3), d.random_split(3)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(d.random_split(4)[1], a[1])
    assert sorted(np.r_[a[0], a[1]]) == list(range(n))
    sub = d.subset(train)
    assert len(sub) == len(train) and np.array_equal(sub.features[0], d.features[train[0]])


def test_torch_windows(path):
    d = load_terrain_dataset(path)
    ds = d.torch_windows(400, samples_per_epoch=12, seed=1, labels=("terrain_type", "robot_type"))
    assert len(ds) == 12
    item = ds[3]
    assert item["x"].shape == (400, 24) and item["x"].dtype == torch.float32
    s, st = item["seq"], item["start"]
    np.testing.assert_array_equal(item["x"].numpy(), d.features[s, st:st + 400])
    np.testing.assert_array_equal(item["terrain_type"].numpy(),
                                  d.frame_labels["terrain_type"][s, st:st + 400])
    assert int(item["robot_type"]) == d.sequence_labels["robot_type"][s]
    assert ds[3]["start"] == st  # deterministic per (seed, epoch, k)
    starts = {ds[k]["start"] for k in range(12)}
    assert len(starts) > 1
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["x"].shape == (4, 400, 24)
    with pytest.raises(ValueError):
        d.torch_windows(501)


def test_export_import_round_trip(path, tmp_path):
    npy = export_npy(path, tmp_path / "robot_dataset.npy")
    data = np.load(npy, allow_pickle=True).item()
    d = load_terrain_dataset(path)
    n, t = len(d), d.n_frames
    assert data["dof_pos"].shape == (n, 12, t) and data["dof_vel"].shape == (n, 12, t)
    assert data["base_pos"].shape == (n, 3, t)
    assert data["terrain_type"].shape == (n, t) and data["robot_type"].shape == (n,)
    assert data["names"]["terrain_names_2"] == list(schema.TERRAIN_TYPES_2)
    assert data["names"]["dof_names"][0] == "LF_HAA"
    # the original README's usage: state = dof_pos, action = dof_vel, swapped to (N, T, 12)
    state = np.swapaxes(data["dof_pos"], 1, 2)
    np.testing.assert_array_equal(state, d.features[:, :, :12])
    assert interop_main(["import", str(npy), str(tmp_path / "back")]) == 0
    e = load_terrain_dataset(tmp_path / "back")
    np.testing.assert_array_equal(e.features, d.features)
    for k in d.sequence_labels:
        np.testing.assert_array_equal(e.sequence_labels[k], d.sequence_labels[k])
    for k in d.frame_labels:
        np.testing.assert_array_equal(e.frame_labels[k], d.frame_labels[k])
    for k in d.kinematics:
        np.testing.assert_array_equal(e.kinematics[k], d.kinematics[k])
    np.testing.assert_array_equal(e.seed, d.seed)
    assert validate_store(tmp_path / "back") == []


def test_import_of_original_keys_only(path, tmp_path):
    data = np.load(export_npy(path, tmp_path / "o.npy"), allow_pickle=True).item()
    del data["added_mass"], data["seed"]
    data["reward"] = np.zeros(data["terrain_type"].shape, np.float32)  # the original has it
    np.save(tmp_path / "orig.npy", data, allow_pickle=True)
    attrs = import_npy(tmp_path / "orig.npy", tmp_path / "imp")
    assert attrs["missing_fields"] == ["added_mass", "seed", *schema.PHYSICS]
    e = load_terrain_dataset(tmp_path / "imp")
    assert np.isnan(e.sequence_labels["added_mass"]).all()
    assert e.physics == {} and e.gait_labels() is None  # the original has no contacts
    assert validate_store(tmp_path / "imp") == []  # NaN allowed only in missing fields
    with pytest.raises(FileExistsError):
        import_npy(tmp_path / "orig.npy", tmp_path / "imp")
