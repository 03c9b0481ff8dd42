"""Leaderboard store: validation, duplicates, all-or-nothing adds, crash safety under SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from behaviorbench.leaderboard.cli import main
from behaviorbench.leaderboard.store import PAUSE_ENV, LeaderboardError, LeaderboardStore
from tests.leaderboard.helpers import make_results, write

from ..conftest import REPO_ROOT


@pytest.fixture
def two_files(tmp_path):
    a = write(make_results("bams", {"terrain_type": [0.6, 0.62, 0.64]}), tmp_path / "a.json")
    b = write(make_results("pca", {"terrain_type": [0.4, 0.41, 0.45]}), tmp_path / "b.json")
    return a, b


def test_add_and_read_back(tmp_path, two_files):
    store = LeaderboardStore(tmp_path / "lb")
    added = store.add(two_files)
    assert [e.model for e in added] == ["bams", "pca"]
    assert [e.model for e in store.entries()] == ["bams", "pca"]
    assert store.check() == []
    res = store.load(store.find("pca"))
    assert res.task("terrain_type").values == [0.4, 0.41, 0.45]
    assert store.find(added[0].id[:6]).model == "bams"
    index = json.loads((tmp_path / "lb" / "index.json").read_text())
    assert index["store_version"] == 2 and len(index["entries"]) == 2
    assert set(index["boards"]) == {"quadruped"}


def test_duplicate_rejected_even_if_reformatted(tmp_path, two_files):
    store = LeaderboardStore(tmp_path / "lb")
    store.add([two_files[0]])
    # same content, different whitespace / key order
    data = json.loads(two_files[0].read_text())
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(dict(reversed(list(data.items())))))
    with pytest.raises(LeaderboardError, match="duplicate of submission"):
        store.add([copy])
    with pytest.raises(LeaderboardError, match="same command"):
        LeaderboardStore(tmp_path / "other").add([two_files[1], two_files[1]])
    assert len(store.entries()) == 1


def test_bad_submissions_rejected_and_nothing_added(tmp_path, two_files):
    store = LeaderboardStore(tmp_path / "lb")
    no_checksum = write(
        make_results("x", {"terrain_type": [0.1, 0.2]}, checksum=None), tmp_path / "nc.json"
    )
    no_params = write(
        make_results("y", {"terrain_type": [0.1, 0.2]}, n_parameters=None), tmp_path / "np.json"
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": "1.0", "model": {}}')
    future = tmp_path / "future.json"
    future.write_text(json.dumps({**json.loads(two_files[1].read_text()), "schema_version": "2.0"}))
    with pytest.raises(LeaderboardError) as err:
        store.add([two_files[0], no_checksum, no_params, broken, future])
    msg = str(err.value)
    assert "nothing added" in msg
    assert "dataset.checksum is missing" in msg
    assert "n_parameters is missing" in msg
    assert "broken.json: invalid results file" in msg
    assert "unsupported schema_version '2.0'" in msg
    assert store.entries() == []  # all or nothing: the valid file was not added either
    assert not (tmp_path / "lb" / "submissions").exists()


def test_artifacts_copied_and_missing_artifact_rejected(tmp_path):
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "pca.png").write_bytes(b"png bytes")
    ok = write(
        make_results("bams", {"terrain_type": [0.5, 0.6]}, artifacts=["plots/pca.png"]),
        tmp_path / "ok.json",
    )
    bad = write(
        make_results("pca", {"terrain_type": [0.5, 0.6]}, artifacts=["nope.png"]),
        tmp_path / "bad.json",
    )
    store = LeaderboardStore(tmp_path / "lb")
    (entry,) = store.add([ok])
    assert (store.root / entry.artifacts[0]).read_bytes() == b"png bytes"
    with pytest.raises(LeaderboardError, match="artifact 'nope.png' not found"):
        store.add([bad])


def test_cli_add_reports_errors_with_exit_code(tmp_path, two_files, capsys):
    lb = str(tmp_path / "lb")
    assert main(["add", str(two_files[0]), "--dir", lb]) == 0
    assert "1 submission(s) added" in capsys.readouterr().out
    assert main(["add", str(two_files[0]), "--dir", lb]) == 1
    assert "duplicate of submission" in capsys.readouterr().err


def _add_and_kill(store_dir, path, step, tmp_path):
    flag = tmp_path / f"flag-{step}"
    env = {**os.environ, PAUSE_ENV: f"{step}:{flag}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "behaviorbench.leaderboard.cli", "add", str(path),
         "--dir", str(store_dir)],
        env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not flag.exists():
        if proc.poll() is not None:
            raise AssertionError(f"add exited early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("pause hook never reached")
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("step", ["before_submission", "mid_submission", "before_index",
                                  "mid_index"])
def test_sigkill_during_add_leaves_store_consistent(tmp_path, two_files, step):
    store = LeaderboardStore(tmp_path / "lb")
    store.add([two_files[0]])
    index_before = store.index_path.read_bytes()

    _add_and_kill(store.root, two_files[1], step, tmp_path)

    # the killed add changed nothing visible: same index, every listed file valid
    assert store.index_path.read_bytes() == index_before
    assert [e.model for e in store.entries()] == ["bams"]
    assert store.check() == []
    if step == "mid_index":
        assert list(store.root.glob(".index.json.*.tmp")), "the kill should leave a partial temp"

    # the next add works, cleans temp files and the store is consistent
    store.add([two_files[1]])
    assert [e.model for e in store.entries()] == ["bams", "pca"]
    assert store.check() == []
    assert not list(store.root.rglob(".*.tmp"))
