"""MABe 2022 mouse-triplet evaluation protocol: the 13 tasks, split/tasks files, seeds, alphas.

The official metadata (``jax_split.json``, ``jax_tasks.json``) is *read from files the user gives*;
nothing official is bundled except the task table (names, level, kind, metric), which is part of
the published protocol. When no split file is given, :func:`fallback_split` builds a documented
split of our own; results computed with it are marked ``official_split = False``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

SPLIT_KEYS = ("SubmissionTrain", "publicTest", "privateTest")
"""Split keys the evaluator uses (``UserTrain`` may be present in the file but is not used)."""

OFFICIAL_SPLIT_SIZES = {"SubmissionTrain": 2668, "publicTest": 533, "privateTest": 535}
"""Clip counts of the official ``jax_split.json`` (3736 test-set clips)."""


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """One MABe 2022 mouse task.

    ``level``: "sequence" (one label per clip) or "frame"; ``kind``: "regression" (``Ridge``,
    metric ``mean_mse``, labels already scaled to [0, 1]) or "classification"
    (``RidgeClassifier(class_weight='balanced')``, metric ``f1_score`` binary).
    ``label_task_type`` is the spelling used in the labels file (``'Continious'``/``'Discrete'``).
    """

    name: str
    level: str
    kind: str

    @property
    def metric(self) -> str:
        return "mean_mse" if self.kind == "regression" else "f1_score"

    @property
    def label_task_type(self) -> str:
        return "Continious" if self.kind == "regression" else "Discrete"


def _t(name: str, level: str, kind: str) -> TaskSpec:
    return TaskSpec(name=name, level=level, kind=kind)


MABE_TASKS: dict[str, TaskSpec] = {
    t.name: t
    for t in (
        _t("experiment_day", "sequence", "regression"),
        _t("time_of_day", "frame", "regression"),
        _t("strain", "sequence", "classification"),
        _t("approaches", "frame", "classification"),
        _t("chases", "frame", "classification"),
        _t("close", "frame", "classification"),
        _t("contact", "frame", "classification"),
        _t("huddles", "frame", "classification"),
        _t("oral_ear_contact", "frame", "classification"),
        _t("oral_genital_contact", "frame", "classification"),
        _t("oral_oral_contact", "frame", "classification"),
        _t("watching", "frame", "classification"),
        _t("lights", "sequence", "classification"),
    )
}
"""The 13 tasks in the official order (``jax_tasks.json``'s ``task_id_list``)."""

OFFICIAL_SEEDS = (42, 43, 44)
OFFICIAL_ALPHAS = (0.1, 0.5, 1.0, 2.0, 5.0)
REPORT_ALPHA = 1.0
TEST_SIZE = 0.1


@dataclasses.dataclass
class TasksInfo:
    """Contents of a tasks file (``jax_tasks.json`` layout)."""

    task_ids: list[str]  # evaluation order
    sequence_level_tasks: list[str]
    seeds: list[int]  # train_test_split random_state values

    @classmethod
    def default(cls) -> TasksInfo:
        """The published MABe 2022 mouse task list (same content as ``jax_tasks.json``)."""
        return cls(
            task_ids=list(MABE_TASKS),
            sequence_level_tasks=[t.name for t in MABE_TASKS.values() if t.level == "sequence"],
            seeds=list(OFFICIAL_SEEDS),
        )


def load_tasks(path: str | Path) -> TasksInfo:
    """Read a ``jax_tasks.json``-style file: ``{seeds, task_id_list, sequence_level_tasks}``."""
    with open(path) as fp:
        raw = json.load(fp)
    missing = {"seeds", "task_id_list", "sequence_level_tasks"} - set(raw)
    if missing:
        raise ValueError(f"tasks file {path} lacks keys {sorted(missing)}")
    return TasksInfo(
        task_ids=list(raw["task_id_list"]),
        sequence_level_tasks=list(raw["sequence_level_tasks"]),
        seeds=[int(s) for s in raw["seeds"]],
    )


def load_split(path: str | Path) -> dict[str, list[str]]:
    """Read a ``jax_split.json``-style file: ``{split_key: [clip_id, ...]}`` (list order kept)."""
    with open(path) as fp:
        raw = json.load(fp)
    missing = set(SPLIT_KEYS) - set(raw)
    if missing:
        raise ValueError(f"split file {path} lacks keys {sorted(missing)}")
    return {k: [str(c) for c in v] for k, v in raw.items()}


def fallback_split(clip_ids, seed: int = 0) -> dict[str, list[str]]:
    """Our own split when no official split file is given. **Not official.**

    Clip ids are sorted, permuted with ``np.random.default_rng(seed)``, and cut in the official
    proportions 2668 : 533 : 535 (SubmissionTrain : publicTest : privateTest), rounding the two
    test parts to the nearest clip (each at least 1 when there are >= 3 clips).
    """
    ids = sorted(str(c) for c in clip_ids)
    if len(ids) < 3:
        raise ValueError("the fallback split needs at least 3 clips")
    order = np.random.default_rng(seed).permutation(len(ids))
    ids = [ids[i] for i in order]
    total = sum(OFFICIAL_SPLIT_SIZES.values())
    n_pub = max(1, round(len(ids) * OFFICIAL_SPLIT_SIZES["publicTest"] / total))
    n_priv = max(1, round(len(ids) * OFFICIAL_SPLIT_SIZES["privateTest"] / total))
    n_train = len(ids) - n_pub - n_priv
    if n_train < 2:
        raise ValueError("too few clips for the fallback split")
    return {
        "SubmissionTrain": ids[:n_train],
        "publicTest": ids[n_train : n_train + n_pub],
        "privateTest": ids[n_train + n_pub :],
    }


def seed_train_clips(train_clips: list[str], seed: int, test_size: float = TEST_SIZE) -> list[str]:
    """The 90% of ``SubmissionTrain`` a probe is fit on for one seed (official call, exactly).

    ``sklearn.model_selection.train_test_split(train_clips, test_size=test_size,
    random_state=seed)[0]``; the held-out part is unused by the protocol.
    """
    from sklearn.model_selection import train_test_split

    if test_size <= 0:
        return list(train_clips)
    return list(train_test_split(list(train_clips), test_size=test_size, random_state=seed)[0])
