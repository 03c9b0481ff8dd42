"""validate-dataset on good and deliberately corrupted stores."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import zarr

from behaviorbench.datasets import store
from behaviorbench.datasets.generate import generate
from behaviorbench.datasets.validate import validate_store
from behaviorbench.datasets.validate_cli import main as validate_main
from tests.datasets.helpers import synth_config


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "good"
    generate(path, synth_config())
    return path


@pytest.fixture
def copy(good, tmp_path):
    dst = tmp_path / "s"
    shutil.copytree(good, dst)
    return dst


def test_good_store_passes(good, capsys):
    assert validate_store(good) == []
    assert validate_main([str(good)]) == 0
    assert "OK" in capsys.readouterr().out


def _set(path, name, fn):
    arr = zarr.open_group(str(path), mode="r+")[name]
    data = arr[...]
    fn(data)
    arr[...] = data


def test_nan_is_reported(copy, capsys):
    _set(copy, "features", lambda a: a.__setitem__((0, 5, 3), np.nan))
    problems = validate_store(copy)
    assert any("'features' contains 1 NaN/Inf" in p for p in problems)
    assert any("'features' checksum mismatch" in p for p in problems)
    assert validate_main([str(copy)]) == 1
    assert "features" in capsys.readouterr().err


def test_label_out_of_range(copy):
    _set(copy, "terrain_type", lambda a: a.__setitem__((1, 0), 9))
    problems = validate_store(copy, checksums=False)
    assert problems and "'terrain_type' values in [0, 9] outside allowed range" in problems[0]


def test_corrupted_chunk_bytes(copy):
    chunk = next(p for p in (copy / "base_pos").rglob("*") if p.is_file() and p.name != "zarr.json")
    raw = bytearray(chunk.read_bytes())
    raw[len(raw) // 2:len(raw) // 2 + 64] = b"\xff" * 64
    chunk.write_bytes(bytes(raw))
    problems = validate_store(copy)
    assert len(problems) == 1 and "'base_pos'" in problems[0]


def test_missing_array_wrong_dtype_and_shape(copy):
    shutil.rmtree(copy / "terrain_slope")
    root = zarr.open_group(str(copy), mode="r+")
    n = root["command_vel"].shape[0]
    root.create_array("command_vel", shape=(n,), dtype="float64", overwrite=True)
    root.create_array("body_mass", shape=(n + 1,), dtype="float32", overwrite=True)
    problems = validate_store(copy)
    assert "array 'terrain_slope' missing" in problems
    assert any("'command_vel' has dtype float64, expected float32" in p for p in problems)
    assert any("'body_mass' has shape" in p for p in problems)


def test_schema_and_status(copy, tmp_path):
    meta = json.loads((copy / "zarr.json").read_text())
    meta["attributes"]["schema_version"] = "99.0"
    meta["attributes"]["feature_names"][0] = "oops"
    (copy / "zarr.json").write_text(json.dumps(meta))
    problems = validate_store(copy)
    assert any("schema_version" in p for p in problems)
    assert any("feature_names" in p for p in problems)
    assert "no Zarr v3 group" in validate_store(tmp_path / "nothing")[0]
    meta["attributes"]["status"] = store.STATUS_GENERATING
    (copy / "zarr.json").write_text(json.dumps(meta))
    assert any("not 'complete'" in p for p in validate_store(copy))
