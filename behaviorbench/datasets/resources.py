"""What a job will need (memory, disk, time) against what the machine has, checked before work.

``Estimate`` holds a job's peak memory (bytes), disk (bytes) and wall time (s), each an upper
bound from the array sizes; ``check(estimate, path, force=...)`` raises ``ResourceError`` (a
``ConfigError``: one line) when the memory exceeds the machine's physical memory or the disk
exceeds the free space of ``path``'s file system, unless ``force``.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from behaviorbench.datasets import schema
from behaviorbench.datasets.config import ConfigError, GenerationConfig

# simulated seconds per wall-clock second of one generation worker on the MuJoCo backend
# (the default preset, 3840 simulated s, takes about 1.5 min on 2 workers: about 20 per worker)
SIM_S_PER_WALL_S_PER_WORKER = 20.0
# resident memory of one worker before it holds any trajectory (Python, numpy, MuJoCo models)
WORKER_BASE_BYTES = 400 * 2**20
# copies of a shard's frames a worker holds at once (simulator buffers, batch arrays,
# concatenated shard, encoded chunk)
SHARD_COPIES = 4
# jobs estimated to take longer than this are announced with their estimate (s)
ANNOUNCE_AFTER_S = 60.0


class ResourceError(ConfigError):
    """A job needs more memory or disk than the machine has (one line; ``--force`` skips)."""


@dataclass(frozen=True)
class Estimate:
    """A job's needs: ``memory`` and ``disk`` in bytes, ``seconds`` of wall time."""

    memory: float
    disk: float
    seconds: float

    def describe(self) -> str:
        """``"memory ~1.2 GiB, disk ~3.4 GiB, time ~5 min"``."""
        return (f"memory ~{human_bytes(self.memory)}, disk ~{human_bytes(self.disk)}, "
                f"time ~{human_seconds(self.seconds)}")


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def human_seconds(s: float) -> str:
    if not math.isfinite(s):
        return "forever"
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.1f} {unit}"
    return f"{s:.0f} s"


def physical_memory_bytes() -> int | None:
    """Total physical memory of the machine, bytes (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def free_disk_bytes(path: str | os.PathLike) -> int:
    """Free bytes on the file system of ``path`` (or of its nearest existing ancestor)."""
    p = Path(path).absolute()
    while not p.exists():
        p = p.parent
    return int(shutil.disk_usage(p).free)


def bytes_per_trajectory(n_frames: int) -> int:
    """Uncompressed bytes of one stored trajectory of ``n_frames`` frames (every array)."""
    total = 0
    for spec in schema.ARRAYS.values():
        cells = math.prod(spec.shape(1, n_frames))
        total += cells * _itemsize(spec.dtype)
    return total


def _itemsize(dtype: str) -> int:
    import numpy as np

    return int(np.dtype(dtype).itemsize)


def generation_estimate(cfg: GenerationConfig, workers: int) -> Estimate:
    """Upper bounds for generating ``cfg`` with ``workers`` workers.

    Disk: the staging arrays plus the final arrays, both uncompressed (compression only lowers
    it). Memory: per worker its base plus ``SHARD_COPIES`` copies of one shard's frames.
    Time: simulated seconds over ``SIM_S_PER_WALL_S_PER_WORKER`` per worker.
    """
    per = bytes_per_trajectory(cfg.n_frames)
    disk = 2.0 * cfg.n_attempted * per
    n_workers = max(1, min(workers, -(-cfg.n_attempted // cfg.shard_size)))
    memory = n_workers * (WORKER_BASE_BYTES + SHARD_COPIES * cfg.shard_size * per)
    seconds = cfg.n_attempted * float(cfg.episode_s) / (SIM_S_PER_WALL_S_PER_WORKER * n_workers)
    return Estimate(memory=float(memory), disk=disk, seconds=seconds)


def check(estimate: Estimate, path: str | os.PathLike, *, force: bool = False,
          what: str = "this job") -> None:
    """Raise ``ResourceError`` when ``estimate`` exceeds the machine's memory or the free disk
    under ``path`` (unless ``force``)."""
    if force:
        return
    mem = physical_memory_bytes()
    if mem is not None and estimate.memory > mem:
        raise ResourceError(f"{what} needs {estimate.describe()}; this machine has "
                            f"{human_bytes(mem)} of memory: make it smaller, or pass --force")
    free = free_disk_bytes(path)
    if estimate.disk > free:
        raise ResourceError(f"{what} needs {estimate.describe()}; {human_bytes(free)} are free "
                            f"under {path}: make it smaller, or pass --force")
