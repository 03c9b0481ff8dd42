"""generate-terrain-data and validate-dataset on bad input: exit 2, one line, nothing changed
(an existing store passed with --overwrite included); a failed or SIGKILLed --overwrite run
leaves the old store as it was."""

from __future__ import annotations

import shutil
import sys

import pytest

from behaviorbench.datasets import store
from behaviorbench.datasets.cli import main as generate_main
from behaviorbench.datasets.generate import (
    GenerationError,
    GenerationInterrupted,
    generate,
    overwrite_path,
)
from behaviorbench.datasets.validate import validate_store
from behaviorbench.datasets.validate_cli import main as validate_main
from tests.bad_input import assert_refused, snapshot
from tests.datasets.helpers import committed_shards, kill_mid_run, synth_config, tree_bytes
from tests.datasets.synthetic import FAILING_BACKEND, INTERRUPTING_BACKEND


@pytest.fixture(scope="module")
def complete_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "old.zarr"
    generate(out, synth_config(), workers=1)
    return out


@pytest.fixture(scope="module")
def policy_files(tmp_path_factory):
    """Policy files that cannot walk the robots: wrong input size, wrong output size, not a
    model (TorchScript and ONNX); and a good one."""
    import torch

    d = tmp_path_factory.mktemp("policies")
    torch.jit.script(torch.nn.Linear(10, 12)).save(str(d / "bad_in.pt"))
    torch.jit.script(torch.nn.Linear(235, 3)).save(str(d / "bad_out.pt"))
    torch.jit.script(torch.nn.Linear(235, 12)).save(str(d / "good.pt"))
    (d / "notmodel.pt").write_text("not a model")
    (d / "notmodel.onnx").write_bytes(b"\x00\x01 not a model")
    return d


@pytest.fixture
def workdir(tmp_path, complete_store, monkeypatch):
    """cwd with a complete store ``old.zarr``, a non-store folder ``junk/`` and a file."""
    shutil.copytree(complete_store, tmp_path / "old.zarr")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("a")
    (tmp_path / "notes.txt").write_text("notes")
    monkeypatch.chdir(tmp_path)
    return tmp_path


NEW = ["--out", "new/store.zarr", "--no-progress"]
OLD = ["--out", "old.zarr", "--no-progress"]

GENERATE_CASES = [
    # jobs far beyond the machine: refused from the estimate, the existing store untouched
    (OLD + ["--overwrite", "--episode-s", "1e9"], "pass --force"),
    (OLD + ["--overwrite", "--trajectories-per-run", "1000000000"], "pass --force"),
    (NEW + ["--trajectories-per-run", "1000000000"], "pass --force"),
    (NEW + ["--episode-s", "1e9"], "memory"),
    # values out of range or of the wrong kind
    (NEW + ["--robots", "spot"], "unknown robot 'spot'"),
    (NEW + ["--terrains", "lava"], "unknown terrain 'lava'"),
    (NEW + ["--episode-s", "-1"], "episode length"),
    (NEW + ["--episode-s", "nan"], "episode length"),
    (NEW + ["--command-vels", "0.5,-1"], "command velocity"),
    (NEW + ["--difficulties", "2"], "difficulties must be in [0, 1], got [2.0]"),
    (NEW + ["--seed", "-1"], "seed"),
    (NEW + ["--workers", "0"], "--workers"),
    (NEW + ["--shard-size", "0"], "shard size"),
    (NEW + ["--terrain-proportions", "1,2"], "one value per terrain kind (8), got 2"),
    (NEW + ["--added-mass", "5", "-5"], "added mass range"),
    (NEW + ["--trajectories-per-run", "x"], "invalid int"),
    (NEW + ["--backend", "bullet"], "invalid choice"),
    (NEW + ["--preset", "huge"], "invalid choice"),
    (["--no-progress"], "--out"),
    # targets that must not be touched
    (OLD, "--resume"),
    (OLD + ["--resume", "--overwrite"], "exclude each other"),
    (OLD + ["--resume", "--seed", "5"], "another config"),
    (["--out", "junk", "--overwrite", "--no-progress"], "not a behaviorbench store"),
    (["--out", "notes.txt", "--no-progress"], "not a directory"),
    (["--out", "notes.txt/store.zarr", "--no-progress"], "cannot write"),
]


@pytest.mark.parametrize(("argv", "message"), GENERATE_CASES,
                         ids=[" ".join(a) for a, _ in GENERATE_CASES])
def test_generate_bad_input(workdir, capsys, argv, message):
    assert_refused(generate_main, argv, workdir, capsys, message)


# controllers that cannot walk the robots: refused before anything is written
CONTROLLER_CASES = [
    (NEW + ["--controller", "bad_in.pt"], "takes neither the 235-value observation"),
    (NEW + ["--controller", "bad_out.pt"], "returns actions of shape (2, 3)"),
    (NEW + ["--controller", "notmodel.pt"], "notmodel.pt is not a TorchScript model"),
    (NEW + ["--controller", "notmodel.onnx"], "notmodel.onnx is not an ONNX model"),
    (NEW + ["--controller", "missing.pt"], "missing.pt does not exist"),
    (NEW + ["--controller", "walk_fast"], "unknown controller 'walk_fast'"),
    (NEW + ["--controller", "no_such_module:Policy"], "cannot be imported"),
    (NEW + ["--controller", "good.pt", "--backend", "mujoco-warp"], "mujoco backend only"),
    (OLD + ["--resume", "--controller", "good.pt"], "controller: None != 'good.pt'"),
    (OLD + ["--overwrite", "--controller", "bad_out.pt"], "returns actions of shape (2, 3)"),
]


@pytest.fixture
def policy_workdir(workdir, policy_files):
    """``workdir`` with the policy files of ``policy_files`` beside the store."""
    for f in policy_files.iterdir():
        shutil.copy(f, workdir / f.name)
    return workdir


@pytest.mark.parametrize(("argv", "message"), CONTROLLER_CASES,
                         ids=[" ".join(a) for a, _ in CONTROLLER_CASES])
def test_generate_bad_controller(policy_workdir, capsys, argv, message):
    assert_refused(generate_main, argv, policy_workdir, capsys, message)


VALIDATE_CASES = [
    (["missing.zarr"], "does not exist"),
    (["notes.txt"], "is not a directory"),
    (["junk"], "zarr.json missing"),
    (["old.zarr", "--bogus"], "unrecognized arguments"),
]


@pytest.mark.parametrize(("argv", "message"), VALIDATE_CASES,
                         ids=[" ".join(a) for a, _ in VALIDATE_CASES])
def test_validate_bad_input(workdir, capsys, argv, message):
    assert_refused(validate_main, argv, workdir, capsys, message)


def test_a_worker_failure_keeps_the_old_store_and_writes_nothing(workdir):
    """A failure once the workers run: the old store is unchanged under --overwrite, and a
    new store none of whose shards was committed is removed, parents included."""
    before = snapshot(workdir)
    with pytest.raises(GenerationError, match="synthetic simulator failure; old.zarr is "
                                              "unchanged"):
        generate("old.zarr", synth_config(backend=FAILING_BACKEND), overwrite=True)
    with pytest.raises(GenerationError, match="nothing was written"):
        generate("new/deeper/store.zarr", synth_config(backend=FAILING_BACKEND))
    with pytest.raises(GenerationInterrupted, match="old.zarr is unchanged"):
        generate("old.zarr", synth_config(backend=INTERRUPTING_BACKEND), overwrite=True,
                 executor="serial")
    assert snapshot(workdir) == before
    assert validate_store(workdir / "old.zarr") == []


def test_overwrite_swaps_in_the_new_store(workdir):
    generate("old.zarr", synth_config(seed=3), overwrite=True)
    assert store.read_root_attrs(workdir / "old.zarr")["config"]["seed"] == 3
    assert validate_store(workdir / "old.zarr") == []
    assert sorted(p.name for p in workdir.iterdir()) == ["junk", "notes.txt", "old.zarr"]


SCRIPT = """
import sys
from behaviorbench.datasets.generate import generate
from tests.datasets.helpers import synth_config
generate(sys.argv[1], synth_config(seed=7), workers=2, overwrite=True)
"""


def test_sigkill_during_overwrite_leaves_the_old_store_intact(workdir):
    out = workdir / "old.zarr"
    before = tree_bytes(out)
    side = overwrite_path(out)
    kill_mid_run([sys.executable, "-c", SCRIPT, str(out)], watch=side,
                 env={"SYNTH_SLEEP_S": "0.15"})  # 0.15 s per trajectory
    assert 2 <= committed_shards(side) < 7  # killed mid-run, while building beside the old store
    assert tree_bytes(out) == before and validate_store(out) == []
    # the next --overwrite run replaces what the killed one left beside the store
    generate(out, synth_config(seed=7), overwrite=True, workers=1)
    assert store.read_root_attrs(out)["config"]["seed"] == 7 and not side.exists()
