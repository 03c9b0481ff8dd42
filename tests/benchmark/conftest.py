"""Tiny terrain stores written by the real dataset writer from the synthetic backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from .synthetic_backend import BACKEND


def write_tiny_store(out: Path, seed: int = 0) -> Path:
    """20 sequences x 200 frames (2 robots x 2 velocities x 5), generated from ``seed``."""
    from behaviorbench.datasets import generate_dataset
    from behaviorbench.datasets.config import preset

    cfg = preset("tiny", backend=BACKEND, trajectories_per_run=5, command_vels=(0.5, 1.0),
                 episode_s=4.0, shard_size=10, seed=seed)
    generate_dataset(out, cfg, executor="serial")
    return out


@pytest.fixture(scope="package")
def tiny_store(tmp_path_factory) -> Path:
    return write_tiny_store(tmp_path_factory.mktemp("data") / "tiny.zarr")


@pytest.fixture(scope="package")
def other_store(tmp_path_factory) -> Path:
    """Same shape and settings as ``tiny_store`` but another seed: other data."""
    return write_tiny_store(tmp_path_factory.mktemp("data") / "tiny.zarr", seed=1)
