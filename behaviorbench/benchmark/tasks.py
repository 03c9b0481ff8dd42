"""Task registry: ``TASKS = {name: TaskSpec}``, the benchmark's master table (as OGB's).

A task names the dataset kind it runs on, the label it reads, the label's level, the readout
kind and the metric that ranks models. Adding a task is one entry in ``TASKS``. The 13 MABe 2022
mouse-triplet tasks are registered with ``dataset="mabe"`` and ``split="official"`` (level and
kind from ``mabe.protocol.MABE_TASKS``; metric ``mean_mse`` for the 2 regressions, lower is
better, ``f1_binary`` for the 11 classifications); they run through ``load.PIPELINES["mabe"]``
(the official MABe evaluator), not through the generic readouts.

Levels and pooling
- ``frame`` labels (N, T) are scored per frame: the readout is trained on the frames of the train
  sequences and scored on the frames of the test sequences.
- ``sequence`` labels (N,) on per-frame embeddings use ``pooling``:
  ``"frame"`` (default, as the reference BAMS readout) broadcasts the sequence label to every
  frame, trains and scores per frame; ``"mean"`` mean-pools each sequence's frame embeddings
  over time and trains/scores one row per sequence.
Frames of both levels are subsampled deterministically to at most the run's frame caps.

Choices (documented in docs/benchmark.md)
- ``command_vel`` is a regression (ridge, R^2): the velocity is a continuous command, and a
  regression stays valid whatever set of velocities a generated dataset uses.
- ``terrain_slope`` / ``terrain_difficulty`` / ``body_mass``: ridge regression, R^2.
- ``foot_contact`` / ``stride_phase`` / ``stride_frequency`` read the physics labels of schema
  1.2 stores (``physics_tasks.py``); stores without them skip the three with a note.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

TERRAIN_TYPES = (
    "flat",
    "pyramid_slope",
    "inverted_pyramid_slope",
    "pyramid_stairs",
    "inverted_pyramid_stairs",
)
TERRAIN_TYPES_2 = ("flat", "slope_up", "slope_down", "stairs_up", "stairs_down")
ROBOT_TYPES = ("anymal_b", "anymal_c")


#: Metrics where a smaller value is better; every other metric ranks descending.
LOWER_IS_BETTER_METRICS = frozenset({"mse", "mean_mse", "mae"})


@dataclass(frozen=True)
class TaskSpec:
    """One benchmark task.

    ``metric`` is the headline score; ``higher_is_better`` follows from it (MSE-like metrics rank
    ascending);
    ``class_names`` lists the vocabulary of a classification label (index -> name).
    """

    name: str
    dataset: str  # dataset kind, a key of load.DATASET_LOADERS ("terrain", "mabe", ...)
    label: str  # label name in the dataset's sequence_labels / frame_labels
    level: Literal["sequence", "frame"]
    kind: Literal["classification", "regression"]
    metric: str  # "f1_weighted" (classification) | "r2" (regression)
    split: str = "paper"  # "paper" | "random" (random_split(seed)) | "official" (MABe split file)
    pooling: Literal["frame", "mean"] = "frame"  # sequence labels only, see module docstring
    class_names: tuple[str, ...] | None = None
    description: str = ""

    @property
    def higher_is_better(self) -> bool:
        """False for error metrics (MSE, MAE), True for scores (F1, R^2)."""
        return self.metric not in LOWER_IS_BETTER_METRICS

    def to_dict(self) -> dict:
        d = asdict(self)
        d["class_names"] = list(self.class_names) if self.class_names else None
        return d


def _terrain(name: str, **kw) -> TaskSpec:
    metric = kw.pop("metric", "f1_weighted" if kw["kind"] == "classification" else "r2")
    return TaskSpec(name=name, dataset="terrain", label=kw.pop("label", name), metric=metric, **kw)


TASKS: dict[str, TaskSpec] = {
    "robot_type": _terrain(
        "robot_type", level="sequence", kind="classification", class_names=ROBOT_TYPES,
        description="which robot (ANYmal B or C) produced the frame",
    ),
    "terrain_type": _terrain(
        "terrain_type", level="frame", kind="classification", class_names=TERRAIN_TYPES,
        description="terrain under the robot, 5 classes (pyramid / inverted pyramid)",
    ),
    "terrain_type_2": _terrain(
        "terrain_type_2", level="frame", kind="classification", class_names=TERRAIN_TYPES_2,
        description="terrain under the robot, 5 classes (up / down)",
    ),
    "command_vel": _terrain(
        "command_vel", level="sequence", kind="regression",
        description="commanded forward velocity of the run (m/s), ridge R^2",
    ),
    "terrain_slope": _terrain(
        "terrain_slope", level="frame", kind="regression",
        description="terrain gradient under the robot, ridge R^2",
    ),
    "terrain_difficulty": _terrain(
        "terrain_difficulty", level="frame", kind="regression",
        description="sub-terrain difficulty in [0, 1], ridge R^2",
    ),
    "body_mass": _terrain(
        "body_mass", level="sequence", kind="regression",
        description="robot body mass incl. added mass (kg), ridge R^2",
    ),
    # physics labels (dataset schema 1.2; benchmark/physics_tasks.py): skipped with a note on
    # stores without foot contacts
    "foot_contact": _terrain(
        "foot_contact", level="frame", kind="classification", metric="f1_binary_mean",
        class_names=("swing", "contact"),
        description="which feet touch the ground (LF, RF, LH, RH), 4 binary labels, binary F1 "
                    "of contact per leg averaged over the legs",
    ),
    "stride_phase": _terrain(
        "stride_phase", level="frame", kind="regression",
        description="sin / cos of each leg's phase within its stride (8 targets), ridge R^2 "
                    "averaged over the targets; frames with an undefined phase left out",
    ),
    "stride_frequency": _terrain(
        "stride_frequency", level="frame", kind="regression",
        description="stride frequency (Hz), mean over the legs inside a stride, ridge R^2; "
                    "frames with no stride left out",
    ),
}

#: tasks run when ``--tasks`` is not given, per dataset kind
DEFAULT_TASKS: dict[str, tuple[str, ...]] = {
    "terrain": tuple(n for n, t in TASKS.items() if t.dataset == "terrain"),
}


def register_task(spec: TaskSpec, default: bool = True) -> TaskSpec:
    """Add ``spec`` to ``TASKS`` (and to its dataset's defaults); returns it."""
    if spec.name in TASKS and TASKS[spec.name] != spec:
        raise ValueError(f"task {spec.name!r} already registered with a different spec")
    TASKS[spec.name] = spec
    if default and spec.name not in DEFAULT_TASKS.get(spec.dataset, ()):
        DEFAULT_TASKS[spec.dataset] = (*DEFAULT_TASKS.get(spec.dataset, ()), spec.name)
    return spec


def get_task(name: str) -> TaskSpec:
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; choose from {sorted(TASKS)}")
    return TASKS[name]


def _register_mabe_tasks() -> None:
    """The 13 MABe 2022 tasks (official order), scored by the MABe pipeline's evaluator."""
    from .mabe.protocol import MABE_TASKS

    for t in MABE_TASKS.values():
        reg = t.kind == "regression"
        register_task(TaskSpec(
            name=t.name, dataset="mabe", label=t.name, level=t.level, kind=t.kind,
            metric="mean_mse" if reg else "f1_binary", split="official",
            description=(f"MABe 2022 mouse triplets, {t.level}-level "
                         f"{'ridge regression, MSE' if reg else 'balanced ridge classifier, F1'}"
                         ", official Private Score at alpha 1.0"),
        ))


_register_mabe_tasks()
