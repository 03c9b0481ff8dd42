"""Load what a run scores: the dataset, its tasks, the sequences kept and the splits.

- ``DATASET_LOADERS`` (dataset kind -> loader) and ``PIPELINES`` (kinds with their own protocol,
  e.g. MABe) are the registries ``RunConfig`` validates against.
- Failed sequences (the store's ``success`` array false) are left out of training and scoring
  unless ``include_failures`` (``kept_sequences``); splits are computed on the whole store first
  and the failed sequences removed afterwards, so the paper split stays the paper's.
- Splits (``Split``): the task's own split (``"paper"``, or ``"random"`` seeded by the model
  seed) and, with ``--splits K``, K seeded random 20 % train / 80 % test sequence splits
  (``random_splits``), optionally stratified by dominant terrain class and robot.
- ``class_counts`` counts sequences and frames per class of a split (frames ``t >= skip``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .identity import store_identity
from .tasks import DEFAULT_TASKS, TASKS, TaskSpec

#: fraction of sequences in the train part of every split (the BAMS paper's 20 / 80)
TRAIN_FRACTION = 0.2
#: labels a stratified split balances (dominant class per sequence for frame labels)
STRATIFY_LABELS = ("terrain_type", "robot_type")


@dataclass
class DatasetHandle:
    """A loaded dataset plus what the results file records about it.

    ``data`` has ``.features`` (N, T, F) float32, ``.sequence_labels[name]`` (N,),
    ``.frame_labels[name]`` (N, T), ``.paper_split()``, ``.random_split(seed)`` and optionally
    ``.success`` (N,) bool.
    """

    data: Any
    name: str
    kind: str  # results.DatasetInfo.kind ("quadruped", "mabe22")
    path: str
    schema_version: str | None
    checksum: str | None  # "sha256:<hex>" of the data
    vocabularies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    config_hash: str | None = None  # "sha256:<hex>" of the generator config


def load_terrain(path: str | Path) -> DatasetHandle:
    """Load a terrain store (``behaviorbench.datasets``) as a ``DatasetHandle``."""
    from behaviorbench.datasets import load_terrain_dataset

    ds = load_terrain_dataset(path)
    attrs = getattr(ds, "attrs", {}) or {}
    cfg = attrs.get("config") or {}
    ident = store_identity(
        path, arrays={"features": ds.features, **ds.sequence_labels, **ds.frame_labels})
    return DatasetHandle(
        data=ds,
        name=str(cfg.get("name") or cfg.get("preset") or Path(path).stem),
        kind="quadruped",
        path=str(path),
        schema_version=ident.schema_version,
        checksum=ident.checksum,
        vocabularies=dict(getattr(ds, "vocabularies", {}) or {}),
        config_hash=ident.config_hash,
    )


#: dataset kind (TaskSpec.dataset) -> loader(path) -> DatasetHandle
DATASET_LOADERS: dict[str, Callable[[str | Path], DatasetHandle]] = {"terrain": load_terrain}


def _mabe_pipeline(cfg: Any, specs: list[TaskSpec], log: Callable[[str], None]) -> Any:
    from .mabe.run import run_mabe_pipeline

    return run_mabe_pipeline(cfg, specs, log)


#: dataset kind -> pipeline(cfg, specs, log) -> write.RunOutcome, for kinds with their own
#: protocol ("mabe" runs the official MABe evaluator, see mabe/run.py); such kinds need no
#: DATASET_LOADERS entry.
PIPELINES: dict[str, Callable[..., Any]] = {"mabe": _mabe_pipeline}


def resolve_tasks(cfg: Any) -> tuple[str, list[TaskSpec]]:
    """(dataset kind, task specs) of the run; all tasks must use one dataset kind."""
    if cfg.tasks:
        unknown = [t for t in cfg.tasks if t not in TASKS]
        if unknown:
            raise KeyError(f"unknown task {unknown[0]!r}; choose from {sorted(TASKS)}")
        specs = [TASKS[t] for t in cfg.tasks]
        kinds = {s.dataset for s in specs}
        if len(kinds) != 1:
            from .preflight import BenchmarkConfigError

            raise BenchmarkConfigError(f"tasks {list(cfg.tasks)} span several dataset kinds "
                                       f"{sorted(kinds)}; give tasks of one kind")
        return kinds.pop(), specs
    return cfg.dataset_kind, [TASKS[t] for t in DEFAULT_TASKS[cfg.dataset_kind]]


def kept_sequences(data: Any, include_failures: bool) -> np.ndarray:
    """(N,) bool: the sequences a run trains and scores on (all, or the successful ones)."""
    n = len(data.features)
    success = getattr(data, "success", None)
    if include_failures or success is None:
        return np.ones(n, dtype=bool)
    return np.asarray(success, dtype=bool).reshape(n)


@dataclass(frozen=True)
class Split:
    """One train / test partition of the kept sequences (sorted int64 indices into the store)."""

    name: str  # "paper", "random seed 3" (task split) or "random-k" (--splits)
    train: np.ndarray
    test: np.ndarray


def task_split(data: Any, split: str, seed: int, kept: np.ndarray) -> Split:
    """The task's own split (``"paper"`` or ``"random"`` seeded by ``seed``), kept sequences only.

    Raises ``datasets.DatasetError`` (one line) when the split leaves a part empty.
    """
    if split == "paper":
        tr, te = data.paper_split()
        name = "paper"
    elif split == "random":
        tr, te = data.random_split(seed)
        name = f"random seed {seed}"
    else:
        raise ValueError(f"unknown split {split!r}")
    return _checked(name, tr[kept[tr]], te[kept[te]])


def _checked(name: str, train: np.ndarray, test: np.ndarray) -> Split:
    from behaviorbench.datasets import DatasetError

    if len(train) == 0 or len(test) == 0:
        raise DatasetError(f"the {name} split leaves no {'train' if not len(train) else 'test'} "
                           f"sequence once failed sequences are left out (--include-failures "
                           f"keeps them)")
    return Split(name, np.sort(train).astype(np.int64), np.sort(test).astype(np.int64))


def strata(data: Any, kept: np.ndarray) -> np.ndarray:
    """(n_kept,) int64 stratum of each kept sequence: dominant class of every label in
    ``STRATIFY_LABELS`` the data has (frame labels: the most frequent class over frames)."""
    idx = np.flatnonzero(kept)
    key = np.zeros(len(idx), dtype=np.int64)
    for name in STRATIFY_LABELS:
        if name in data.sequence_labels:
            lab = np.asarray(data.sequence_labels[name])[idx].astype(np.int64)
        elif name in data.frame_labels:
            frames = np.asarray(data.frame_labels[name])[idx].astype(np.int64)
            width = int(frames.max(initial=0)) + 2
            counts = np.stack([(frames == c).sum(axis=1) for c in range(-1, width - 1)], axis=1)
            counts[:, 0] = -1  # never pick the "no label" (-1) class
            lab = counts.argmax(axis=1) - 1
        else:
            continue
        key = key * 1000 + (lab + 1)
    return key


def random_splits(data: Any, kept: np.ndarray, k: int, stratified: bool) -> list[Split]:
    """K seeded random 20 % / 80 % splits of the kept sequences (split seed 0 .. k-1).

    ``stratified``: sequences of each stratum (``strata``) are split separately, with at least
    one train sequence per stratum of two or more sequences.
    """
    idx = np.flatnonzero(kept)
    n_train = max(1, round(TRAIN_FRACTION * len(idx)))
    key = strata(data, kept) if stratified else np.zeros(len(idx), dtype=np.int64)
    out = []
    for s in range(k):
        rng = np.random.default_rng([s, 20_80])
        train: list[np.ndarray] = []
        for g in np.unique(key):
            members = rng.permutation(idx[key == g])
            share = n_train * len(members) / len(idx) if stratified else n_train
            take = int(round(share))
            if stratified and len(members) >= 2:
                take = min(max(take, 1), len(members) - 1)
            train.append(members[:take])
        tr = np.concatenate(train) if train else idx[:0]
        out.append(_checked(f"random-{s}", tr, np.setdiff1d(idx, tr)))
    return out


def class_counts(spec: TaskSpec, data: Any, idx: np.ndarray, skip: int,
                 names: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """{"sequences": {class: n}, "frames": {class: n}} over sequences ``idx`` (frames t >= skip;
    a sequence counts for every class it shows at least once). Classes of count 0 included."""
    if spec.level == "frame":
        lab = np.asarray(data.frame_labels[spec.label])[idx, skip:].astype(np.int64)
    else:
        n_frames = max(np.shape(data.features)[1] - skip, 0)
        seq = np.asarray(data.sequence_labels[spec.label])[idx].astype(np.int64)
        lab = np.repeat(seq[:, None], n_frames, axis=1)
    n_classes = max(len(names), int(lab.max(initial=-1)) + 1)
    frames = np.bincount(lab[lab >= 0].ravel(), minlength=n_classes)
    seqs = np.array([int(np.any(lab == c, axis=1).sum()) for c in range(n_classes)])
    label = [names[c] if c < len(names) else str(c) for c in range(n_classes)]
    return {"sequences": dict(zip(label, seqs.tolist(), strict=True)),
            "frames": dict(zip(label, frames.tolist(), strict=True))}


def missing_in_train(counts: dict[str, dict[str, dict[str, int]]]) -> list[str]:
    """Classes with test frames but no train frame (``counts``: {"train": .., "test": ..})."""
    tr, te = counts["train"]["frames"], counts["test"]["frames"]
    return [c for c, n in te.items() if n > 0 and tr.get(c, 0) == 0]
