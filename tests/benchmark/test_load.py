"""Sequences kept, splits and class counts (``benchmark.load``) on a hand-made dataset."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from behaviorbench.benchmark.load import (
    class_counts,
    kept_sequences,
    missing_in_train,
    random_splits,
    strata,
    task_split,
)
from behaviorbench.benchmark.tasks import TASKS, TERRAIN_TYPES
from behaviorbench.datasets import DatasetError


def _data(n=40, t=10, failed=()):
    terrain = np.zeros((n, t), np.int8)
    terrain[: n // 2] = 3  # half the sequences on pyramid_stairs
    terrain[0, :4] = 1  # sequence 0 also shows pyramid_slope on 4 frames
    robot = (np.arange(n) % 2).astype(np.int8)
    success = np.ones(n, bool)
    success[list(failed)] = False
    return SimpleNamespace(
        features=np.zeros((n, t, 2), np.float32),
        frame_labels={"terrain_type": terrain}, sequence_labels={"robot_type": robot},
        success=success,
        paper_split=lambda: (np.arange(0, n, 5), np.setdiff1d(np.arange(n), np.arange(0, n, 5))),
        random_split=lambda seed: (np.arange(8), np.arange(8, n)),
    )


def test_failed_sequences_are_left_out_of_both_parts_unless_included():
    data = _data(failed=(0, 7))
    kept = kept_sequences(data, include_failures=False)
    assert kept.sum() == 38
    sp = task_split(data, "paper", 0, kept)
    assert 0 not in sp.train and 7 not in sp.test
    assert len(sp.train) == 7 and len(sp.test) == 31  # the paper's split, minus the failures
    assert kept_sequences(data, include_failures=True).all()
    everything = np.zeros(40, bool)
    with pytest.raises(DatasetError, match="no train sequence"):
        task_split(data, "paper", 0, everything)


def test_random_splits_are_seeded_20_80_partitions_of_the_kept_sequences():
    data = _data(failed=(3,))
    kept = kept_sequences(data, False)
    a = random_splits(data, kept, 4, stratified=False)
    b = random_splits(data, kept, 4, stratified=False)
    assert [s.name for s in a] == ["random-0", "random-1", "random-2", "random-3"]
    for s, s2 in zip(a, b, strict=True):
        np.testing.assert_array_equal(s.train, s2.train)
        assert len(s.train) == round(0.2 * 39) and len(s.train) + len(s.test) == 39
        assert not set(s.train) & set(s.test) and 3 not in s.train and 3 not in s.test
    assert len({tuple(s.train) for s in a}) == 4  # the splits differ


def test_stratified_splits_put_every_stratum_in_train():
    data = _data()
    kept = kept_sequences(data, False)
    key = strata(data, kept)
    assert len(np.unique(key)) == 4  # (flat | stairs) x (robot 0 | 1)
    for s in random_splits(data, kept, 5, stratified=True):
        assert set(key[s.train]) == set(np.unique(key))
        assert len(s.train) == 8


def test_class_counts_count_sequences_and_frames_and_flag_missing_classes():
    data = _data()
    spec = TASKS["terrain_type"]
    train = class_counts(spec, data, np.array([5, 30]), 0, TERRAIN_TYPES)
    test = class_counts(spec, data, np.array([0, 1, 35]), 2, TERRAIN_TYPES)
    assert train["sequences"] == {"flat": 1, "pyramid_slope": 0, "inverted_pyramid_slope": 0,
                                  "pyramid_stairs": 1, "inverted_pyramid_stairs": 0}
    assert train["frames"]["pyramid_stairs"] == 10 and train["frames"]["flat"] == 10
    # frames t >= 2: sequence 0 keeps 2 pyramid_slope frames
    assert test["frames"]["pyramid_slope"] == 2 and test["sequences"]["pyramid_slope"] == 1
    assert test["frames"]["pyramid_stairs"] == 6 + 8
    assert missing_in_train({"train": train, "test": test}) == ["pyramid_slope"]
    robot = class_counts(TASKS["robot_type"], data, np.array([0, 1, 3]), 0, ("b", "c"))
    assert robot == {"sequences": {"b": 1, "c": 2}, "frames": {"b": 10, "c": 20}}
