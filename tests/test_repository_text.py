"""Rules on the repository's tracked text: docs and code speak to users, so they carry no
internal work vocabulary, and package modules stay small enough to read."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import REPO_ROOT

# The word is assembled so that this file does not match itself.
BANNED_WORD = "sess" + "ion"
# Library names that contain the word and are not prose (CEBRA's API).
ALLOWED_LINE = re.compile(r"\bcebra\b.*import|import\b.*\bcebra\b", re.IGNORECASE)
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".yml", ".yaml", ".json", ".sh", ".html",
                 ".js", ".css", ".ini", ""}
MAX_MODULE_LINES = 450


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return out.stdout.splitlines()


def test_no_internal_work_vocabulary_in_tracked_text():
    word = re.compile(BANNED_WORD, re.IGNORECASE)
    hits = []
    for rel in tracked_files():
        path = REPO_ROOT / rel
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if word.search(line) and not ALLOWED_LINE.search(line):
                hits.append(f"{rel}:{n}: {line.strip()[:80]}")
    assert not hits, f"{len(hits)} line(s) use the word {BANNED_WORD!r}:\n" + "\n".join(hits[:40])


def test_package_modules_are_at_most_450_lines():
    long = []
    for rel in tracked_files():
        if rel.startswith("behaviorbench/") and rel.endswith(".py"):
            n = len((REPO_ROOT / rel).read_text(encoding="utf-8").splitlines())
            if n > MAX_MODULE_LINES:
                long.append(f"{rel}: {n} lines")
    assert not long, "modules over 450 lines:\n" + "\n".join(long)
