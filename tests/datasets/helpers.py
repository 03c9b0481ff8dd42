"""Shared helpers for the dataset tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from behaviorbench.datasets import store
from behaviorbench.datasets.config import preset
from tests.datasets.synthetic import BACKEND


def synth_config(**kw):
    """A small config on the synthetic backend: 2 robots x 2 velocities x 5 trajectories x 4 s."""
    base = preset("tiny", backend=BACKEND, trajectories_per_run=5, command_vels=(0.5, 1.0),
                  shard_size=3)
    return replace(base, **kw)


def tree_bytes(path: Path) -> dict[str, bytes]:
    """Relative path -> file content of every file under ``path``."""
    path = Path(path)
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def committed_shards(path: Path) -> int:
    """Shards committed so far in the staging manifest of the store at ``path`` (0 if none)."""
    try:
        with open(store.staging_path(path) / store.MANIFEST) as f:
            return len(json.load(f)["committed"])
    except (OSError, ValueError):
        return 0


def kill_mid_run(argv: list[str], watch: Path, shards: int = 2, *,
                 env: dict[str, str] | None = None, timeout_s: float = 60.0) -> None:
    """Run the command ``argv`` from the repository root (the repository on ``PYTHONPATH``,
    ``env`` added to the environment) and SIGKILL its process group (the driver and its pool
    workers) once the store at ``watch`` has ``shards`` committed shards. Fails if the run ends
    first or ``timeout_s`` s pass."""
    from tests.conftest import REPO_ROOT

    full_env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **(env or {}))
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=full_env, process_group=0)
    try:
        deadline = time.time() + timeout_s
        while committed_shards(watch) < shards and time.time() < deadline \
                and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, "generation finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
