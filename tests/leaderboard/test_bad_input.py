"""leaderboard on bad input: exit 2, one line on stderr, nothing written; a --dir that is not a
leaderboard is refused by show, compare and render (add may create one)."""

from __future__ import annotations

import pytest

from behaviorbench.leaderboard.cli import main
from tests.bad_input import assert_refused


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """cwd with a non-leaderboard folder ``junk/`` and a file ``notes.txt``."""
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("a")
    (tmp_path / "notes.txt").write_text("notes")
    monkeypatch.chdir(tmp_path)
    return tmp_path


CASES = [
    (["show", "--dir", "leaderbaord"], "--dir leaderbaord does not exist"),
    (["show", "--dir", "notes.txt"], "is not a directory"),
    (["show", "--dir", "junk"], "junk is not a leaderboard (no index.json)"),
    (["render", "--dir", "missing", "--out", "site"], "does not exist"),
    (["render", "--dir", "junk", "--out", "site"], "not a leaderboard"),
    (["render", "--out", "notes.txt"], "--out notes.txt exists and is not a directory"),
    (["compare", "a", "b", "--dir", "missing"], "does not exist"),
    (["compare", "a", "b", "--alpha", "2"], "--alpha must be in (0, 1), got 2.0"),
    (["add", "notes.txt", "--dir", "junk"], "junk is not a leaderboard"),
    (["add", "notes.txt", "--dir", "notes.txt"], "is not a directory"),
    (["frob"], "invalid choice"),
    (["show", "--bogus"], "unrecognized arguments"),
    (["add"], "the following arguments are required"),
]


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_leaderboard_bad_input(workdir, capsys, argv, message):
    assert_refused(main, argv, workdir, capsys, message)


def test_show_without_dir_and_without_a_store_lists_the_published_rows(workdir, capsys):
    assert main(["show"]) == 0
    assert "published" in capsys.readouterr().out
    assert not (workdir / "leaderboard").exists()
