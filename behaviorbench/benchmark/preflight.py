"""What ``run-benchmark`` checks before any work: config values, the device, the checkpoint, the
output folder and the memory a run needs.

- ``BenchmarkConfigError``: an invalid run or readout setting (a ``ValueError``, one line naming
  the field, the value and the valid range); raised by ``RunConfig``, ``LinearReadoutConfig``
  and ``RidgeReadoutConfig`` on construction.
- ``device_problem(name)``: why a device name is not ``auto``, ``cpu``, ``mps``, ``cuda`` or
  ``cuda:N`` (syntax only); ``check_device(name)``: the device also exists on this machine.
- ``check_output(out)``: the output folder, or its nearest existing ancestor, is a writable
  directory.
- ``run_estimate(...)``: the memory (bytes) a terrain run needs: the features loaded whole plus
  the scored embedding rows.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class BenchmarkConfigError(ValueError):
    """An invalid run, readout or device setting (one line: field, value, valid range)."""


def device_problem(name: Any, field: str = "device") -> str | None:
    """Why ``name`` is not a device name (auto, cpu, mps, cuda, cuda:N), or None."""
    if not isinstance(name, str) or not _DEVICE.match(name):
        return f"{field} must be auto, cpu, mps, cuda or cuda:N, got {name!r}"
    return None


def check_device(name: str) -> None:
    """Raise ``BenchmarkConfigError`` when ``name`` is malformed or not present here (``cuda``
    without a CUDA build of torch or without a GPU, ``cuda:N`` beyond the GPUs, ``mps``
    without Metal)."""
    import torch

    problem = device_problem(name)
    if problem:
        raise BenchmarkConfigError(problem)
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            why = ("this torch has no CUDA support" if torch.version.cuda is None
                   else "no CUDA GPU is visible")
            raise BenchmarkConfigError(f"device {name!r} is not available: {why} (use cpu or "
                                       f"auto)")
        index = int(name.split(":")[1]) if ":" in name else 0
        count = torch.cuda.device_count()
        if index >= count:
            raise BenchmarkConfigError(f"device {name!r} is not available: {count} CUDA "
                                       f"GPU(s), cuda:0 to cuda:{count - 1}")
    if name == "mps" and not (getattr(torch.backends, "mps", None)
                              and torch.backends.mps.is_available()):
        raise BenchmarkConfigError("device 'mps' is not available on this machine")


def check_output(out: str | os.PathLike) -> None:
    """Raise ``BenchmarkConfigError`` unless ``out`` is (or can be created as) a writable
    directory. Creates nothing."""
    p = Path(out).absolute()
    if p.exists() and not p.is_dir():
        raise BenchmarkConfigError(f"--out {out} exists and is not a directory")
    while not p.exists():
        p = p.parent
    if not p.is_dir():
        raise BenchmarkConfigError(f"cannot write to {out}: {p} is not a directory")
    if not os.access(p, os.W_OK | os.X_OK):
        raise BenchmarkConfigError(f"cannot write to {out}: {p} is not writable")


def at_least(field: str, value: Any, low: int) -> str | None:
    """Why ``value`` is not an integer >= ``low``, or None."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        return f"{field} must be an integer >= {low}, got {value!r}"
    return None


def positive_number(field: str, value: Any) -> str | None:
    """Why ``value`` is not a finite number > 0, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        return f"{field} must be a finite number > 0, got {value!r}"
    return None


def raise_first(*problems: str | None) -> None:
    """Raise ``BenchmarkConfigError`` with the first problem that is not None."""
    for p in problems:
        if p:
            raise BenchmarkConfigError(p)


# bytes of one embedding value of a scored row (float32)
_ROW_ITEM_BYTES = 4
# embedding size D assumed for a model whose D is known only once it is trained (the
# built-in trained models give 64 to 256)
TYPICAL_EMBEDDING_DIM = 256


def run_estimate(n_sequences: int, n_frames: int, n_features: int, max_train_frames: int,
                 max_test_frames: int, embedding_dim: int) -> float:
    """Peak memory of a terrain run, bytes: the (N, T, F) float32 features twice (the store's
    arrays and the float32 copy the models get), the scored rows (at most
    ``max_train_frames + max_test_frames``, of ``embedding_dim`` float32 values) twice (rows
    and their normalised copy in the readout), and one batch of embeddings per sequence."""
    features = 2.0 * n_sequences * n_frames * n_features * 4
    rows = min(max_train_frames + max_test_frames, n_sequences * n_frames)
    return features + 2.0 * rows * embedding_dim * _ROW_ITEM_BYTES + (
        32.0 * n_frames * embedding_dim * _ROW_ITEM_BYTES)
