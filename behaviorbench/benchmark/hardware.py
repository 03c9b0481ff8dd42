"""Provenance of a run: CPU/GPU model, peak memory, package versions, git commit, date.

Everything here is best effort and never raises: a missing ``git`` or ``/proc`` gives ``None``.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import resource
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "behaviorbench", "numpy", "scipy", "torch", "scikit-learn", "mujoco", "zarr", "pydantic",
)


def cpu_model() -> str:
    """CPU model name (from /proc/cpuinfo on Linux, else ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_models() -> list[str]:
    """Names of the visible CUDA devices (empty without CUDA)."""
    try:
        import torch

        if torch.cuda.is_available():
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # noqa: BLE001 - provenance must never fail a run
        pass
    return []


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def peak_gpu_bytes() -> int | None:
    """Peak CUDA memory allocated by torch in this process (bytes), None without CUDA."""
    try:
        import torch

        if torch.cuda.is_available():
            return int(max(torch.cuda.max_memory_allocated(i)
                           for i in range(torch.cuda.device_count())))
    except Exception:  # noqa: BLE001
        pass
    return None


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            continue
    out["python"] = platform.python_version()
    return out


def git_commit(repo: str | Path | None = None) -> str | None:
    """HEAD commit of the repository holding this package (suffix ``-dirty`` if modified)."""
    repo = Path(repo) if repo else Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "") if sha else None
    except (OSError, subprocess.SubprocessError):
        return None


def hardware_info() -> dict:
    """{"cpu", "cpu_count", "gpus", "platform", "torch_threads"} of this machine."""
    try:
        import torch

        threads = torch.get_num_threads()
    except Exception:  # noqa: BLE001
        threads = None
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpus": gpu_models(),
        "platform": platform.platform(),
        "torch_threads": threads,
    }


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
