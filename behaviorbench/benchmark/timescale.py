"""The timescale profile: the quadruped tasks ordered by how long their label lasts.

Scales, shortest first (``SCALES``; docs/benchmark.md):

1. ``contact``: a foot's contact state, changes every 0.1 - 0.3 s (``foot_contact``);
2. ``stride``: the gait cycle, about 0.3 - 1 s per stride (``stride_phase``,
   ``stride_frequency``);
3. ``terrain``: the sub-terrain under the robot, changes every few seconds (``terrain_type``,
   ``terrain_type_2``, ``terrain_slope``, ``terrain_difficulty``);
4. ``sequence``: fixed for the whole run (``robot_type``, ``command_vel``, ``body_mass``).

``profile(results)`` gives, for each embedding view of a model (``bams``, ``bams-short``,
``bams-long`` for BAMS with ``--spaces``; the model alone otherwise), the score of every task it
has in that order: it shows whether a short-term space wins at short timescales and a long-term
one at long timescales. Tasks of other datasets (MABe) have no scale and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: (scale, what it is, typical duration of the label, its tasks), shortest scale first
SCALES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("contact", "foot contact", "0.1-0.3 s", ("foot_contact",)),
    ("stride", "gait cycle", "0.3-1 s", ("stride_phase", "stride_frequency")),
    ("terrain", "terrain under the robot", "a few s",
     ("terrain_type", "terrain_type_2", "terrain_slope", "terrain_difficulty")),
    ("sequence", "whole run", "the run", ("robot_type", "command_vel", "body_mass")),
)

#: task -> (rank of its scale, 0 = shortest; scale name)
TASK_SCALE: dict[str, tuple[int, str]] = {
    task: (rank, scale) for rank, (scale, _, _, tasks) in enumerate(SCALES) for task in tasks}


def ordered_tasks(names: list[str] | tuple[str, ...]) -> list[str]:
    """The names that have a timescale, shortest scale first (``SCALES`` order within one)."""
    order = [t for _, _, _, tasks in SCALES for t in tasks]
    return sorted((n for n in names if n in TASK_SCALE), key=order.index)


@dataclass(frozen=True)
class ProfilePoint:
    """One task's score in one view (``mean`` in the metric's unit; ``chance``: the better
    trivial predictor's score on the same test rows, None when not recorded)."""

    task: str
    scale: str
    metric: str
    mean: float
    std: float | None
    chance: float | None


def best_chance(task: Any) -> float | None:
    """The better of the trivial predictors' scores recorded in a ``TaskScore``'s extra."""
    vals = [c.get(task.metric) for c in (task.extra.get("chance") or {}).values()
            if isinstance(c, dict) and isinstance(c.get(task.metric), (int, float))]
    if not vals:
        return None
    return max(vals) if task.higher_is_better else min(vals)


def profile(results: dict[str, Any]) -> dict[str, list[ProfilePoint]]:
    """{view: its points, shortest timescale first} of ``results`` ({view: BenchmarkResults})."""
    out: dict[str, list[ProfilePoint]] = {}
    for view, res in results.items():
        by_name = {t.name: t for t in res.tasks}
        out[view] = [ProfilePoint(n, TASK_SCALE[n][1], by_name[n].metric, by_name[n].mean,
                                  by_name[n].std, best_chance(by_name[n]))
                     for n in ordered_tasks(list(by_name))]
    return out
