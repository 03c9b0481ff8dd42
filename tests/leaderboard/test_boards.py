"""One board per dataset kind: results on other data or another protocol are refused; results
of schema 1.0 and stores written before boards existed still load, apart from the boards."""

from __future__ import annotations

import json
import shutil

import pytest
from rich.console import Console

from behaviorbench.leaderboard.cli import main
from behaviorbench.leaderboard.compare import compare_results
from behaviorbench.leaderboard.render import render
from behaviorbench.leaderboard.rows import Row, collect_rows, group_rows
from behaviorbench.leaderboard.show import show
from behaviorbench.leaderboard.store import LeaderboardError, LeaderboardStore
from tests.leaderboard.helpers import make_results, protocol, write

OTHER = "sha256:" + "1" * 64


def _store_with_one(tmp_path):
    store = LeaderboardStore(tmp_path / "lb")
    store.add([write(make_results("bams", {"terrain_type": [0.6, 0.62]}), tmp_path / "a.json")])
    return store


@pytest.mark.parametrize(("kw", "message"), [
    ({"checksum": OTHER}, "dataset checksum sha256:111111111111 != sha256:000000000000"),
    ({"config_hash": OTHER}, "dataset config_hash sha256:111111111111 != sha256:cccccccccccc"),
    ({"proto": protocol(solver="lbfgs")}, "protocol readout.linear.solver 'lbfgs' != 'adamw'"),
    ({"proto": protocol(max_train_frames=400)},
     "protocol frames.max_train_frames 400 != 200000"),
])
def test_other_dataset_or_protocol_is_refused(tmp_path, capsys, kw, message):
    store = _store_with_one(tmp_path)
    index = store.index_path.read_bytes()
    other = write(make_results("pca", {"terrain_type": [0.4, 0.5]}, **kw), tmp_path / "b.json")
    assert main(["add", "--dir", str(store.root), str(other)]) == 1
    err = capsys.readouterr().err
    problem = next(line for line in err.splitlines() if "b.json" in line)
    assert "rejected: scored on another dataset or protocol than this store's quadruped board " \
           "(terrain-test)" in problem and message in problem
    assert store.index_path.read_bytes() == index  # nothing changed


def test_board_is_per_kind_and_recorded(tmp_path):
    store = _store_with_one(tmp_path)
    mabe = write(make_results("raw", {"lights": [0.5]}, dataset="mabe22-mouse-triplets",
                              kind="mabe22", config_hash=None, checksum=OTHER), tmp_path / "m.json")
    store.add([mabe])  # another kind: its own board
    boards = store.boards()
    assert set(boards) == {"quadruped", "mabe22"}
    assert boards["quadruped"].checksum == "sha256:" + "0" * 64
    assert boards["quadruped"].protocol["hash"] == protocol().hash
    assert "quadruped board: dataset terrain-test" in boards["quadruped"].describe()


@pytest.mark.parametrize(("kw", "message"), [
    ({"legacy": True}, "results schema 1.0 records no protocol"),
    ({"config": {"epochs": -3}}, "invalid model config (epochs must be an integer >= 1, got -3)"),
    ({"config": {"dropout": 1.5}}, "invalid model config (dropout must be in [0, 1), got 1.5)"),
])
def test_unverifiable_or_invalid_results_are_refused(tmp_path, kw, message):
    bad = write(make_results("bams", {"terrain_type": [0.6, 0.62]}, **kw), tmp_path / "x.json")
    with pytest.raises(LeaderboardError) as err:
        LeaderboardStore(tmp_path / "lb").add([bad])
    assert message in str(err.value)


def test_embeddings_results_need_no_parameter_count(tmp_path):
    res = make_results("mine", {"terrain_type": [0.6]}, n_parameters=None)
    res = res.model_copy(update={"model": res.model.model_copy(update={
        "origin": "embeddings", "target": "emb.npy", "embeddings_sha256": OTHER, "config": {}})})
    (entry,) = LeaderboardStore(tmp_path / "lb").add([write(res, tmp_path / "e.json")])
    assert entry.model == "mine"


def _old_store(tmp_path):
    """A store as written before boards existed: store_version 1, a schema 1.0 submission."""
    old = make_results("old-bams", {"terrain_type": [0.9, 0.91]}, legacy=True)
    root = tmp_path / "old"
    (root / "submissions").mkdir(parents=True)
    write(old, root / "submissions" / "0123456789abcdef.json")
    from behaviorbench.leaderboard.store import content_hash

    entry = {"id": "0123456789abcdef", "sha256": content_hash(old),
             "file": "submissions/0123456789abcdef.json", "model": "old-bams",
             "dataset": "terrain-test", "kind": "quadruped", "added": "2025-01-01T00:00:00Z",
             "original_path": "/x/old.json", "artifacts": []}
    (root / "index.json").write_text(json.dumps({"store_version": 1, "entries": [entry]}))
    return LeaderboardStore(root)


def test_old_store_loads_and_its_results_rank_apart(tmp_path):
    store = _old_store(tmp_path)
    assert store.check() == [] and store.boards() == {}
    new = write(make_results("bams", {"terrain_type": [0.6, 0.62]}), tmp_path / "n.json")
    store.add([new])  # creates the quadruped board; the old entry stays
    index = json.loads(store.index_path.read_text())
    assert index["store_version"] == 2 and len(index["entries"]) == 2

    rows = collect_rows(store, include_published=False)
    groups = group_rows(rows)
    assert [(g.status, [r.label for r in g.rows]) for g in groups] == [
        ("board", ["bams"]), ("unverified", ["old-bams"])]
    assert "protocol not recorded" in groups[1].identity()
    assert "protocol quadruped-frozen-readout v2, split paper" in groups[0].identity()

    console = Console(record=True, width=250)
    assert show(rows, console=console) == 2  # one table each: never ranked together
    text = console.export_text()
    assert "terrain-test [quadruped] (unverified protocol)" in text
    page = render(rows, tmp_path / "site").read_text()
    assert 'id="ds-terrain-test"' in page and 'id="ds-terrain-test-unverified"' in page

    old_row, new_row = (Row(key=r.key, results=r.results) for r in rows)
    with pytest.raises(LeaderboardError, match="records no protocol"):
        compare_results(old_row, new_row)


def test_compare_refuses_other_data(tmp_path, capsys):
    a = write(make_results("a", {"terrain_type": [0.6, 0.62]}), tmp_path / "a.json")
    b = write(make_results("b", {"terrain_type": [0.5, 0.52]}, checksum=OTHER), tmp_path / "b.json")
    assert main(["compare", str(a), str(b), "--dir", str(tmp_path / "lb")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "different data or protocols: dataset checksum" in err
    shutil.copy(a, tmp_path / "a2.json")
    assert main(["compare", str(a), str(tmp_path / "a2.json"), "--dir", str(tmp_path)]) == 0
