"""The task registry is complete and consistent with the dataset schema."""

from __future__ import annotations

import pytest

from behaviorbench.benchmark.tasks import DEFAULT_TASKS, TASKS, TaskSpec, get_task, register_task
from behaviorbench.datasets import schema

EXPECTED = {
    "robot_type": ("sequence", "classification"),
    "terrain_type": ("frame", "classification"),
    "terrain_type_2": ("frame", "classification"),
    "command_vel": ("sequence", "regression"),
    "terrain_slope": ("frame", "regression"),
    "terrain_difficulty": ("frame", "regression"),
    "body_mass": ("sequence", "regression"),
}


def test_quadruped_tasks_complete():
    for name, (level, kind) in EXPECTED.items():
        t = TASKS[name]
        assert (t.level, t.kind, t.dataset) == (level, kind, "terrain")
        assert t.metric == ("f1_weighted" if kind == "classification" else "r2")
    physics = {"foot_contact", "stride_phase", "stride_frequency"}  # test_physics_tasks.py
    assert set(DEFAULT_TASKS["terrain"]) == set(EXPECTED) | physics


def test_labels_exist_in_dataset_schema():
    for name in EXPECTED:
        t = TASKS[name]
        pool = schema.FRAME_LABELS if t.level == "frame" else schema.SEQUENCE_LABELS
        assert t.label in pool, t
        if t.kind == "classification":
            assert tuple(t.class_names) == tuple(schema.VOCABULARIES[t.label])


def test_register_task_hook():
    spec = TaskSpec(name="_test_task", dataset="_kind", label="x", level="frame",
                    kind="classification", metric="f1_weighted")
    try:
        register_task(spec)
        assert get_task("_test_task") is spec
        assert DEFAULT_TASKS["_kind"] == ("_test_task",)
        with pytest.raises(ValueError):
            register_task(TaskSpec(name="_test_task", dataset="_kind", label="y", level="frame",
                                   kind="regression", metric="r2"))
    finally:
        TASKS.pop("_test_task", None)
        DEFAULT_TASKS.pop("_kind", None)
    with pytest.raises(KeyError):
        get_task("_test_task")
