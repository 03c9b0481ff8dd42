"""Read a terrain dataset: ``load_terrain_dataset(path) -> TerrainDataset``.

``TerrainDataset`` exposes numpy arrays (``features`` (N, T, 24) float32, ``sequence_labels``
{name: (N,)}, ``frame_labels`` {name: (N, T)}, ``feature_names``), the paper split, seeded random
splits and a windowed torch ``Dataset`` for training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from behaviorbench.datasets import schema, store


class DatasetError(ValueError):
    """The path does not hold a readable terrain dataset."""


@dataclass
class TerrainDataset:
    """A terrain dataset in memory (numpy).

    features: (N, T, 24) float32, dof_pos (rad) then dof_vel (rad/s).
    sequence_labels: robot_type int8, command_vel float32 m/s, body_mass / added_mass float32 kg.
    frame_labels: terrain_type / terrain_type_2 int8, terrain_slope / terrain_difficulty float32,
    terrain_rough bool, each (N, T).
    kinematics: base_pos (m), base_lin_vel (m/s), base_ang_vel (rad/s), each (N, T, 3) float32.
    physics: foot_contact (N, T, 4) bool (LF, RF, LH, RH), joint_torque (N, T, 12) float32 N m,
    base_quat (N, T, 4) float32 (w, x, y, z); only those the store holds (schema 1.2 on) and
    recorded (not in the root attribute ``missing_fields``). :meth:`gait_labels` derives the
    stance, stride phase and stride frequency labels from ``foot_contact``.
    """

    features: np.ndarray
    sequence_labels: dict[str, np.ndarray]
    frame_labels: dict[str, np.ndarray]
    kinematics: dict[str, np.ndarray] = field(default_factory=dict)
    physics: dict[str, np.ndarray] = field(default_factory=dict)
    seed: np.ndarray | None = None  # (N,) uint64 per-trajectory seeds
    success: np.ndarray | None = None  # (N,) bool
    # (N,) int8 index into schema.FAILURE_REASONS, and (N,) float32 forward distance /
    # commanded distance; None for stores written before schema 1.1
    failure_reason: np.ndarray | None = None
    progress: np.ndarray | None = None
    feature_names: tuple[str, ...] = schema.FEATURE_NAMES
    vocabularies: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(schema.VOCABULARIES))
    attrs: dict = field(default_factory=dict)  # root attributes of the store

    def __len__(self) -> int:
        return int(self.features.shape[0])

    @property
    def n_frames(self) -> int:
        return int(self.features.shape[1])

    def gait_labels(self) -> dict[str, np.ndarray] | None:
        """Stance (N, T, 4) bool, stride phase (N, T, 4) float32 in [0, 1) or NaN and stride
        frequency (N, T) float32 Hz or NaN, from ``foot_contact``
        (:func:`behaviorbench.simulation.gait_labels.gait_labels`); None without contacts."""
        if "foot_contact" not in self.physics:
            return None
        from behaviorbench.simulation.gait_labels import gait_labels

        return gait_labels(self.physics["foot_contact"], schema.FRAME_RATE_HZ)

    # ------------------------------------------------------------------ splits

    def paper_split(self) -> tuple[np.ndarray, np.ndarray]:
        """(train_idx, test_idx) as the BAMS paper: ``train_test_split(arange(N), 0.8, 42)``."""
        from sklearn.model_selection import train_test_split

        if len(self) < 5:  # 20 % of fewer than 5 sequences leaves no training sequence
            raise DatasetError(f"the paper split (20 % train / 80 % test) needs at least 5 "
                               f"sequences; this dataset has {len(self)}")
        train, test = train_test_split(np.arange(len(self)), test_size=0.8, random_state=42)
        return np.asarray(train), np.asarray(test)

    def random_split(self, seed: int, test_size: float = 0.8,
                     stratify: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Seeded (train_idx, test_idx); ``stratify`` names a sequence label (e.g. robot_type)."""
        from sklearn.model_selection import train_test_split

        strat = self.sequence_labels[stratify] if stratify else None
        train, test = train_test_split(np.arange(len(self)), test_size=test_size,
                                       random_state=int(seed), stratify=strat)
        return np.asarray(train), np.asarray(test)

    def subset(self, idx: Sequence[int] | np.ndarray) -> TerrainDataset:
        """The sequences ``idx`` (numpy fancy indexing, copies)."""
        idx = np.asarray(idx)
        return TerrainDataset(
            features=self.features[idx],
            sequence_labels={k: v[idx] for k, v in self.sequence_labels.items()},
            frame_labels={k: v[idx] for k, v in self.frame_labels.items()},
            kinematics={k: v[idx] for k, v in self.kinematics.items()},
            physics={k: v[idx] for k, v in self.physics.items()},
            seed=None if self.seed is None else self.seed[idx],
            success=None if self.success is None else self.success[idx],
            failure_reason=None if self.failure_reason is None else self.failure_reason[idx],
            progress=None if self.progress is None else self.progress[idx],
            feature_names=self.feature_names, vocabularies=self.vocabularies, attrs=self.attrs,
        )

    # ------------------------------------------------------------------ torch

    def torch_features(self):
        """features as a torch float32 tensor (N, T, 24), sharing memory."""
        import torch

        return torch.from_numpy(self.features)

    def torch_windows(self, window: int = 400, *, indices: Sequence[int] | None = None,
                      samples_per_epoch: int | None = None, seed: int = 0,
                      labels: Sequence[str] = ()):
        """A torch ``Dataset`` of random fixed-length windows (see ``WindowDataset``)."""
        return WindowDataset(self, window, indices=indices, samples_per_epoch=samples_per_epoch,
                             seed=seed, labels=labels)


class WindowDataset:
    """Random ``window``-frame windows of the sequences ``indices`` of a ``TerrainDataset``.

    A map-style dataset for ``torch.utils.data.DataLoader`` (torch is imported lazily).

    Item ``k`` of epoch ``e`` (``set_epoch``) is a deterministic function of (seed, e, k):
    a dict with ``x`` (window, 24) float32 tensor, ``seq`` and ``start`` ints, and each
    requested label (sequence labels as scalars, frame labels as (window,) tensors).
    """

    def __init__(self, data: TerrainDataset, window: int = 400, *,
                 indices: Sequence[int] | None = None, samples_per_epoch: int | None = None,
                 seed: int = 0, labels: Sequence[str] = ()):
        if not 1 <= window <= data.n_frames:
            raise ValueError(f"window {window} must be in [1, {data.n_frames}]")
        self.data = data
        self.window = int(window)
        self.indices = np.arange(len(data)) if indices is None else np.asarray(indices)
        self.samples_per_epoch = int(samples_per_epoch or len(self.indices))
        self.seed = int(seed)
        self.epoch = 0
        for name in labels:
            if name not in data.sequence_labels and name not in data.frame_labels:
                raise KeyError(f"unknown label {name!r}")
        self.labels = tuple(labels)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, k: int) -> dict:
        import torch

        rng = np.random.default_rng([self.seed, self.epoch, int(k)])
        seq = int(self.indices[rng.integers(len(self.indices))])
        start = int(rng.integers(self.data.n_frames - self.window + 1))
        sl = slice(start, start + self.window)
        item = {"x": torch.from_numpy(np.ascontiguousarray(self.data.features[seq, sl])),
                "seq": seq, "start": start}
        for name in self.labels:
            if name in self.data.sequence_labels:
                item[name] = torch.as_tensor(self.data.sequence_labels[name][seq])
            else:
                item[name] = torch.from_numpy(np.ascontiguousarray(
                    self.data.frame_labels[name][seq, sl]))
        return item


def _optional(arrays: Mapping[str, np.ndarray], name: str) -> np.ndarray | None:
    return np.asarray(arrays[name]) if name in arrays else None


def _from_arrays(arrays: Mapping[str, np.ndarray], attrs: dict) -> TerrainDataset:
    return TerrainDataset(
        features=np.asarray(arrays["features"], dtype=np.float32),
        sequence_labels={k: np.asarray(arrays[k]) for k in schema.SEQUENCE_LABELS},
        frame_labels={k: np.asarray(arrays[k]) for k in schema.FRAME_LABELS},
        kinematics={k: np.asarray(arrays[k]) for k in schema.KINEMATICS},
        physics={k: np.asarray(arrays[k]) for k in schema.PHYSICS
                 if k in arrays and k not in attrs.get("missing_fields", ())},
        seed=np.asarray(arrays["seed"]), success=np.asarray(arrays["success"]),
        failure_reason=_optional(arrays, "failure_reason"),
        progress=_optional(arrays, "progress"),
        feature_names=tuple(attrs.get("feature_names", schema.FEATURE_NAMES)),
        vocabularies={k: tuple(v) for k, v in attrs.get("vocabularies",
                                                        schema.VOCABULARIES).items()},
        attrs=attrs,
    )


def load_terrain_dataset(path: str | Path, *, allow_partial: bool = False) -> TerrainDataset:
    """Load the store at ``path`` into memory.

    A store still being generated raises ``DatasetError`` unless ``allow_partial``, in which
    case only the trajectories of committed shards are returned (never a partial one).
    """
    path = Path(path)
    attrs = store.read_root_attrs(path)
    if attrs is None or attrs.get("generator") != "behaviorbench":
        raise DatasetError(f"{path} is not a behaviorbench terrain dataset")
    major = str(attrs.get("schema_version", "0")).split(".")[0]
    if major != schema.SCHEMA_VERSION.split(".")[0]:
        raise DatasetError(f"{path}: schema version {attrs.get('schema_version')} is not "
                           f"supported (this reader: {schema.SCHEMA_VERSION})")
    if attrs.get("status") != store.STATUS_COMPLETE:
        if not allow_partial:
            raise DatasetError(f"{path} is incomplete (status {attrs.get('status')!r}); finish "
                               f"it with generate-terrain-data --resume, or pass "
                               f"allow_partial=True")
        keep = bool(attrs.get("config", {}).get("keep_failures", False))
        return _from_arrays(store.read_committed(path, keep_failures=keep), attrs)
    root = store.open_root(path)
    optional = schema.optional_in(attrs.get("schema_version"))
    return _from_arrays({name: root[name][...] for name in schema.ARRAYS
                         if name in root or name not in optional}, attrs)
