"""Shared helpers for the dataset tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
