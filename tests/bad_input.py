"""Shared checks of the bad-input tests (``tests/<package>/test_bad_input.py``).

Each case runs a console script's ``main(argv)`` in-process, in a working directory that holds
the inputs, and requires: exit code 2, exactly one line on stderr without "Traceback", and
every file and folder under the working directory unchanged (same paths, same bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Relative path -> file bytes (None for a folder) of everything under ``root``."""
    root = Path(root)
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def assert_refused(main: Callable[[list[str]], int], argv: Sequence[str], cwd: Path,
                   capsys, message: str | None = None) -> str:
    """Run ``main(argv)``; assert exit 2, one stderr line (containing ``message``) without a
    traceback, and ``cwd`` unchanged. Returns the stderr line."""
    before = snapshot(cwd)
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse
        code = e.code
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    if message is not None:
        assert message in lines[0], lines[0]
    after = snapshot(cwd)
    assert after.keys() == before.keys(), sorted(set(after) ^ set(before))
    assert [k for k in after if after[k] != before[k]] == []
    return lines[0]
