import json

import pytest

from behaviorbench.benchmark.mabe.protocol import (
    MABE_TASKS,
    OFFICIAL_SPLIT_SIZES,
    TasksInfo,
    fallback_split,
    load_tasks,
    seed_train_clips,
)


def test_official_tasks_file_matches_builtin_table(mabe_ref):
    tasks = load_tasks(mabe_ref / "jax_tasks.json")
    default = TasksInfo.default()
    assert tasks.task_ids == default.task_ids == list(MABE_TASKS)
    assert sorted(tasks.sequence_level_tasks) == sorted(default.sequence_level_tasks)
    assert tasks.seeds == default.seeds == [42, 43, 44]
    assert {t for t, s in MABE_TASKS.items() if s.kind == "regression"} == {
        "experiment_day", "time_of_day"}
    assert MABE_TASKS["strain"].metric == "f1_score"
    assert MABE_TASKS["time_of_day"].label_task_type == "Continious"


def test_official_split_sizes_and_seed_subsets(official_split, mabe_ref):
    for k, n in OFFICIAL_SPLIT_SIZES.items():
        assert len(official_split[k]) == n
    clip_lengths = json.loads((mabe_ref / "clip_lengths_mouse_triplets.json").read_text())
    test_clips = set().union(*(official_split[k] for k in OFFICIAL_SPLIT_SIZES))
    assert test_clips == set(clip_lengths)
    subsets = [seed_train_clips(official_split["SubmissionTrain"], s) for s in (42, 43, 44)]
    assert all(len(s) == 2401 for s in subsets)  # 90% of 2668, sklearn rounding (ceil test part)
    assert len({tuple(s) for s in subsets}) == 3
    assert all(set(s) <= set(official_split["SubmissionTrain"]) for s in subsets)


def test_fallback_split_is_deterministic_disjoint_and_proportional():
    ids = [f"C{i:04d}" for i in range(3736)]
    a, b = fallback_split(ids), fallback_split(list(reversed(ids)))
    assert a == b
    assert [len(a[k]) for k in OFFICIAL_SPLIT_SIZES] == [2668, 533, 535]
    assert sum(len(v) for v in a.values()) == len(set().union(*a.values())) == 3736
    assert fallback_split(ids, seed=1) != a
    with pytest.raises(ValueError):
        fallback_split(["a", "b"])
