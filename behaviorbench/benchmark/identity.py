"""What ties a result to its data and protocol: dataset identity and the scoring protocol.

Dataset identity of a terrain store (from its root attributes, ``datasets.store.read_root_attrs``):

- ``checksum``: ``sha256`` over the lines ``array=<its sha256>`` of the store's per-array
  checksums, sorted by array name (stores without checksums: over the arrays' bytes);
- ``schema_version``: the store's format version;
- ``config_hash``: ``sha256`` of the canonical JSON (sorted keys, compact) of the generator
  config (``GenerationConfig``: the settings that decide the data, not how the work was run).

Protocol of the quadruped tasks (``quadruped_protocol``): the linear and ridge readout settings
(the readout device excepted), the split, and the scored-frame selection (caps, skipped frames,
frame seed, whether failed sequences were kept). Two results rank side by side only when
both identities are equal.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .readout import LinearReadoutConfig, RidgeReadoutConfig
from .results import ProtocolInfo, canonical_hash

QUADRUPED_PROTOCOL = "quadruped-frozen-readout"
QUADRUPED_PROTOCOL_VERSION = "2"
"""Bumped whenever the readouts or the frame selection change in a way that changes scores
(2: failed sequences are left out unless ``include_failures``, which the protocol records)."""


@dataclass(frozen=True)
class DatasetIdentity:
    """Checksum of the data, store format version and generator-config hash."""

    checksum: str  # "sha256:<hex>"
    schema_version: str | None
    config_hash: str | None  # "sha256:<hex>", None when the store records no config


def checksum_from_attrs(attrs: dict) -> str | None:
    """'sha256:<hex>' over the store's per-array checksums, or None if it records none."""
    sums = attrs.get("checksums") or {}
    if not sums:
        return None
    h = hashlib.sha256("\n".join(f"{k}={sums[k]}" for k in sorted(sums)).encode())
    return "sha256:" + h.hexdigest()


def checksum_arrays(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the named arrays' bytes (sorted by name) -> 'sha256:<hex>'."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return "sha256:" + h.hexdigest()


def config_hash(attrs: dict) -> str | None:
    """'sha256:<hex>' of the canonical JSON of ``attrs['config']``; None if absent."""
    conf = attrs.get("config")
    return canonical_hash(conf) if conf else None


def store_identity(path: str | Path, arrays: dict[str, np.ndarray] | None = None
                   ) -> DatasetIdentity:
    """Identity of the store at ``path`` (``arrays``: fallback when it records no checksums)."""
    from behaviorbench.datasets.store import read_root_attrs

    attrs = read_root_attrs(Path(path)) or {}
    checksum = checksum_from_attrs(attrs)
    if checksum is None:
        if arrays is None:
            raise ValueError(f"{path} records no checksums; pass its arrays")
        checksum = checksum_arrays(arrays)
    version = attrs.get("schema_version")
    return DatasetIdentity(checksum=checksum,
                           schema_version=None if version is None else str(version),
                           config_hash=config_hash(attrs))


def quadruped_protocol(split: str, linear: LinearReadoutConfig, ridge: RidgeReadoutConfig,
                       max_train_frames: int, max_test_frames: int, skip_frames: int,
                       frame_seed: int, include_failures: bool = False) -> ProtocolInfo:
    """The ``ProtocolInfo`` of a quadruped run (frame counts in frames; ``include_failures``:
    failed sequences were trained and scored on)."""
    lin = {k: list(v) if isinstance(v, tuple) else v
           for k, v in asdict(linear).items() if k != "device"}
    rid = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(ridge).items()}
    return ProtocolInfo.build(
        QUADRUPED_PROTOCOL, QUADRUPED_PROTOCOL_VERSION, split,
        readout={"linear": lin, "ridge": rid},
        frames={"max_train_frames": int(max_train_frames), "max_test_frames": int(max_test_frames),
                "skip_frames": int(skip_frames), "frame_seed": int(frame_seed),
                "include_failures": bool(include_failures)},
    )


def split_name(splits: list[str]) -> str:
    """The protocol's split: the tasks' split, or their sorted names joined by '+'."""
    return "+".join(sorted(set(splits)))

