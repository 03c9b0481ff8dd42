"""Realism report of a terrain store: do the trajectories do what their labels say, and did
dropping the failed ones bias the terrain-class mix?

``dataset_report(path) -> DatasetReport``; ``format_report(report) -> str`` (plain text).

Per robot type (and over all robots) the report gives:

- attempted / kept trajectories and the kept fraction (kept = ``success`` True);
- failure reasons with counts over the attempted trajectories;
- the median ``progress`` of the kept trajectories (forward distance / commanded distance);
- the fraction of kept frames at which the robot is stalled
  (:func:`behaviorbench.simulation.progress.stalled_frames`);
- per ``terrain_type_2`` class, its share of the kept frames next to its share along the
  commanded paths of *all attempted* robots on the generated layout (each robot walking
  straight +x at its command from its spawn), and the difference in percentage points;
  differences over :data:`FLAG_PP` points are flagged.

Only sequence arrays, ``base_pos`` and ``terrain_type_2`` are read, ``BLOCK`` rows at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from behaviorbench.datasets import schema, store
from behaviorbench.simulation import progress as prog

FRAME_DT = 1.0 / schema.FRAME_RATE_HZ  # s between frames (0.02)
FLAG_PP = 5.0  # percentage points: |kept share - path share| above this is flagged
BLOCK = 64  # sequences read at a time
ALL = "all"  # name of the row over every robot
N_CLASSES = len(schema.TERRAIN_TYPES_2)


@dataclass(frozen=True)
class RobotReport:
    """Report row of one robot type (or of all robots, ``robot == "all"``).

    ``attempted``, ``kept``: trajectories (int). ``failure_reasons``: reason -> attempted
    trajectories that failed for it (reasons of ``progress.FAILURE_REASONS`` other than
    "none", or "failed" where a store did not record the reason); None when unknown for this
    row. ``median_progress``: median over kept trajectories of forward distance / commanded
    distance (dimensionless, NaN without kept trajectories). ``stalled_fraction``: stalled
    kept frames / kept frames, in [0, 1] (NaN without kept frames). ``kept_shares``,
    ``path_shares``: (5,) float64, fraction of kept frames / of commanded-path frames per
    ``schema.TERRAIN_TYPES_2`` class, each summing to 1 (NaN where there are no frames);
    ``path_shares`` is None when the store has no generated layout."""

    robot: str
    attempted: int
    kept: int
    failure_reasons: dict[str, int] | None
    median_progress: float
    stalled_fraction: float
    kept_shares: np.ndarray
    path_shares: np.ndarray | None

    @property
    def kept_fraction(self) -> float:
        """kept / attempted in [0, 1] (NaN if nothing was attempted)."""
        return self.kept / self.attempted if self.attempted else float("nan")

    @property
    def share_diff_pp(self) -> np.ndarray | None:
        """(5,) float64 percentage points: kept share minus path share per class."""
        if self.path_shares is None:
            return None
        return 100.0 * (self.kept_shares - self.path_shares)

    def flagged(self, limit_pp: float = FLAG_PP) -> tuple[str, ...]:
        """Classes whose kept share differs from their path share by over ``limit_pp``."""
        diff = self.share_diff_pp
        if diff is None:
            return ()
        return tuple(c for c, d in zip(schema.TERRAIN_TYPES_2, diff, strict=True)
                     if np.isfinite(d) and abs(d) > limit_pp)


@dataclass(frozen=True)
class DatasetReport:
    """Realism report of one store: ``rows`` per robot type present (schema order), then the
    row over all robots (``robot == "all"``); ``notes``: how missing data was filled in."""

    path: str
    schema_version: str
    n_frames: int  # T, frames per trajectory (50 Hz)
    rows: tuple[RobotReport, ...]
    notes: tuple[str, ...] = field(default=())
    flag_pp: float = FLAG_PP

    def row(self, robot: str) -> RobotReport:
        """The row of ``robot`` (a ``schema.ROBOT_TYPES`` name or "all")."""
        for r in self.rows:
            if r.robot == robot:
                return r
        raise KeyError(robot)

    @property
    def flagged(self) -> dict[str, tuple[str, ...]]:
        """robot -> classes flagged (rows with none left out)."""
        return {r.robot: r.flagged(self.flag_pp) for r in self.rows if r.flagged(self.flag_pp)}


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RowStats:
    """Per stored trajectory (N rows): ``robot_type`` (N,) int8, ``success`` (N,) bool,
    ``failure_reason`` (N,) int8 or None (store without the array), ``progress`` (N,)
    float32 (stored, or computed from ``base_pos``), ``stalled`` (N,) int64 stalled frames,
    ``classes`` (N, 5) int64 frames per ``terrain_type_2`` class."""

    robot_type: np.ndarray
    success: np.ndarray
    failure_reason: np.ndarray | None
    progress: np.ndarray
    stalled: np.ndarray
    classes: np.ndarray


def class_counts(labels: np.ndarray) -> np.ndarray:
    """(n, T) int terrain_type_2 labels -> (n, 5) int64 frames per class."""
    labels = np.asarray(labels, np.int64)
    out = np.zeros((labels.shape[0], N_CLASSES), np.int64)
    for c in range(N_CLASSES):
        out[:, c] = (labels == c).sum(axis=1)
    return out


def frame_stats(x: np.ndarray, command: np.ndarray, labels: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One block of trajectories: ``x`` (n, T) m forward base position, ``command`` (n,) m/s,
    ``labels`` (n, T) terrain_type_2 -> (progress (n,) float32, stalled frames (n,) int64,
    frames per class (n, 5) int64)."""
    progress = prog.progress_ratio(x, command, FRAME_DT)
    stalled = prog.stalled_frames(x, command, FRAME_DT).sum(axis=1).astype(np.int64)
    return progress, stalled, class_counts(labels)


def read_row_stats(root) -> RowStats:
    """:class:`RowStats` of every row of the opened store ``root`` (block-wise reads)."""
    n = root["robot_type"].shape[0]
    command = np.asarray(root["command_vel"][:], np.float64)
    progress = np.zeros(n, np.float32)
    stalled = np.zeros(n, np.int64)
    classes = np.zeros((n, N_CLASSES), np.int64)
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        progress[lo:hi], stalled[lo:hi], classes[lo:hi] = frame_stats(
            np.asarray(root["base_pos"][lo:hi, :, 0]), command[lo:hi],
            np.asarray(root["terrain_type_2"][lo:hi]))
    if "progress" in root:
        progress = np.asarray(root["progress"][:], np.float32)
    reason = np.asarray(root["failure_reason"][:]) if "failure_reason" in root else None
    return RowStats(np.asarray(root["robot_type"][:]), np.asarray(root["success"][:], bool),
                    reason, progress, stalled, classes)


# ----------------------------------------------------------------------------- layout


def generation_config(attrs: dict):
    """The store's ``GenerationConfig``, or None for a store without a generated layout
    (imported, or a config this version cannot read)."""
    from behaviorbench.datasets.config import ConfigError, GenerationConfig

    conf = attrs.get("config") or {}
    if "imported_from" in conf:
        return None
    try:
        return GenerationConfig.from_dict(dict(conf))
    except (ConfigError, TypeError):
        return None


def run_path_labels(plan, n_frames: int) -> np.ndarray:
    """(n_robots, n_frames) int8 terrain_type_2 labels along the commanded paths of every
    robot of run ``plan`` (a ``RunPlan``): the run's terrain and spawns rebuilt as the
    generator builds them, then x_k = x0 + command * k * FRAME_DT m, y = y0, k < n_frames."""
    from behaviorbench.datasets.backends import to_run_spec
    from behaviorbench.simulation.rollout import draw_spawns, run_terrain

    spec = to_run_spec(plan)
    terrain = run_terrain(spec)
    spawn = draw_spawns(spec, terrain, range(spec.n_robots))
    x0, y0 = spawn.qpos[:, 0], spawn.qpos[:, 1]
    steps = np.arange(n_frames, dtype=np.float64) * FRAME_DT
    x = x0[:, None] + float(spec.command_vel) * steps[None, :]
    y = np.broadcast_to(y0[:, None], x.shape)
    return np.asarray(terrain.labels_at(x, y)["terrain_type_2"], np.int8)


def path_class_counts(cfg) -> dict[str, np.ndarray]:
    """robot -> (5,) int64 commanded-path frames per terrain_type_2 class, over all attempted
    robots of every run of ``cfg`` (a ``GenerationConfig``)."""
    from behaviorbench.datasets.generate import plan_runs

    out: dict[str, np.ndarray] = {}
    for plan in plan_runs(cfg):
        counts = class_counts(run_path_labels(plan, cfg.n_frames)).sum(axis=0)
        out[plan.robot] = out.get(plan.robot, np.zeros(N_CLASSES, np.int64)) + counts
    return out


# ----------------------------------------------------------------------------- per robot


def attempted_per_robot(attrs: dict, rows: RowStats, cfg) -> tuple[dict[str, int], str | None]:
    """robot -> attempted trajectories, and a note when they are not recorded in
    ``counts["attempted_per_robot"]`` (older stores)."""
    counts = attrs.get("counts", {})
    if "attempted_per_robot" in counts:
        return {k: int(v) for k, v in counts["attempted_per_robot"].items()}, None
    stored = {r: int((rows.robot_type == i).sum()) for i, r in enumerate(schema.ROBOT_TYPES)}
    if counts.get("failures_stored", False):
        return stored, None  # every attempted trajectory is a stored row
    if cfg is not None:
        per: dict[str, int] = dict.fromkeys(schema.ROBOT_TYPES, 0)
        for robot, _ in cfg.runs:
            per[robot] += int(cfg.trajectories_per_run)
        return per, None
    return stored, "attempted per robot not recorded: the stored rows are counted"


def failure_reasons(attrs: dict, rows: RowStats, robots: list[str]
                    ) -> tuple[dict[str, dict[str, int] | None], str | None]:
    """robot (and "all") -> {reason: attempted trajectories failed for it} (None: unknown),
    with a note when the per-robot record ``counts["failure_reasons_per_robot"]`` is missing.
    Fallbacks, in order: the stored rows' ``failure_reason`` ("failed" without that array)
    when failures were stored; else the overall ``counts["failure_reasons"]``."""
    counts = attrs.get("counts", {})
    per = counts.get("failure_reasons_per_robot")
    note = None
    if per is not None:
        out = {r: _failures_only(per.get(r, {})) for r in robots}
    elif counts.get("failures_stored", False):
        out = {r: _stored_reasons(rows, schema.ROBOT_TYPES.index(r)) for r in robots}
        note = "failure reasons per robot not recorded: counted from the stored failed rows"
    else:
        out = dict.fromkeys(robots, None)
        note = ("failure reasons per robot not recorded and failures not stored: "
                "only the overall counts (counts.failure_reasons) are known")
        out[ALL] = _failures_only(counts.get("failure_reasons", {}))
        return out, note
    out[ALL] = _sum_reasons(out.values())
    return out, note


def _failures_only(reasons: dict) -> dict[str, int]:
    """Drop "none" and zero counts; order as ``progress.FAILURE_REASONS``, unknown names last."""
    order = {r: i for i, r in enumerate(prog.FAILURE_REASONS)}
    items = [(k, int(v)) for k, v in reasons.items() if k != "none" and int(v)]
    return dict(sorted(items, key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def _stored_reasons(rows: RowStats, robot_index: int) -> dict[str, int]:
    """Failure reasons of the stored failed rows of one robot type."""
    failed = (rows.robot_type == robot_index) & ~rows.success
    if rows.failure_reason is None:
        return _failures_only({"failed": int(failed.sum())})
    names = [prog.FAILURE_REASONS[c] if 0 < c < len(prog.FAILURE_REASONS) else "failed"
             for c in rows.failure_reason[failed].astype(np.int64)]
    uniq, n = np.unique(np.asarray(names, dtype=str), return_counts=True)
    return _failures_only(dict(zip(uniq.tolist(), n.tolist(), strict=True)))


def _sum_reasons(per: Iterable[dict[str, int] | None]) -> dict[str, int]:
    """Reason counts summed over rows (None rows count nothing)."""
    total: dict[str, int] = {}
    for reasons in per:
        for k, v in (reasons or {}).items():
            total[k] = total.get(k, 0) + v
    return _failures_only(total)


def shares(counts: np.ndarray) -> np.ndarray:
    """(5,) frame counts -> (5,) float64 fractions summing to 1 (NaN if there are none)."""
    counts = np.asarray(counts, np.float64)
    total = counts.sum()
    return counts / total if total > 0 else np.full(N_CLASSES, np.nan)


def median_finite(values: np.ndarray) -> float:
    """Median of the finite values (NaN if there are none)."""
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def robot_row(name: str, mask: np.ndarray, rows: RowStats, n_frames: int, attempted: int,
              reasons: dict[str, int] | None, path_counts: np.ndarray | None) -> RobotReport:
    """The report row over the stored trajectories selected by ``mask`` (N,) bool."""
    kept = mask & rows.success
    n_kept = int(kept.sum())
    frames = n_kept * n_frames
    return RobotReport(
        robot=name, attempted=int(attempted), kept=n_kept, failure_reasons=reasons,
        median_progress=median_finite(rows.progress[kept]),
        stalled_fraction=float(rows.stalled[kept].sum() / frames) if frames else float("nan"),
        kept_shares=shares(rows.classes[kept].sum(axis=0)),
        path_shares=None if path_counts is None else shares(path_counts))


# ----------------------------------------------------------------------------- report


def dataset_report(path: str | Path) -> DatasetReport:
    """Realism report of the complete store at ``path`` (see the module docstring).

    Raises ``ValueError`` when ``path`` holds no terrain store."""
    path = Path(path)
    attrs = store.read_root_attrs(path)
    if attrs is None or attrs.get("generator") != "behaviorbench":
        raise ValueError(f"{path}: not a behaviorbench terrain store")
    root = store.open_root(path)
    rows = read_row_stats(root)
    n_frames = int(root["terrain_type_2"].shape[1])
    notes: list[str] = []
    if "progress" not in root:
        notes.append("no 'progress' array (older store): progress computed from base_pos x")
    cfg = generation_config(attrs)
    attempted, note = attempted_per_robot(attrs, rows, cfg)
    notes += [note] if note else []
    robots = [r for r in schema.ROBOT_TYPES
              if attempted.get(r, 0) > 0 or (rows.robot_type == schema.ROBOT_TYPES.index(r)).any()]
    reasons, note = failure_reasons(attrs, rows, robots)
    notes += [note] if note else []
    paths = path_class_counts(cfg) if cfg is not None else None
    if paths is None:
        why = ("imported store" if "imported_from" in (attrs.get("config") or {})
               else "config not readable by this version")
        notes.append(f"no generated layout ({why}): commanded-path shares skipped")
    out = []
    for r in robots:
        mask = rows.robot_type == schema.ROBOT_TYPES.index(r)
        pc = None if paths is None else paths.get(r, np.zeros(N_CLASSES, np.int64))
        out.append(robot_row(r, mask, rows, n_frames, attempted.get(r, 0), reasons[r], pc))
    total_paths = None if paths is None else sum(paths.values(), np.zeros(N_CLASSES, np.int64))
    n_attempted = int(attrs.get("counts", {}).get("n_attempted", sum(attempted.values())))
    out.append(robot_row(ALL, np.ones(len(rows.success), bool), rows, n_frames, n_attempted,
                         reasons[ALL], total_paths))
    return DatasetReport(str(path), str(attrs.get("schema_version")), n_frames, tuple(out),
                         tuple(notes))


# ----------------------------------------------------------------------------- text


def _num(v: float, fmt: str) -> str:
    return format(v, fmt) if np.isfinite(v) else "-"


def _reasons_text(reasons: dict[str, int] | None) -> str:
    if reasons is None:
        return "?"
    return ", ".join(f"{k} {v}" for k, v in reasons.items()) or "-"


def format_outcomes(report: DatasetReport) -> list[str]:
    """Lines of the per-robot outcome table."""
    head = (f"{'robot':<10}{'attempted':>10}{'kept':>7}{'kept %':>8}{'median progress':>17}"
            f"{'stalled frames %':>18}  failures")
    lines = [head, "-" * len(head)]
    for r in report.rows:
        lines.append(f"{r.robot:<10}{r.attempted:>10}{r.kept:>7}"
                     f"{_num(100 * r.kept_fraction, '.1f'):>8}"
                     f"{_num(r.median_progress, '.3f'):>17}"
                     f"{_num(100 * r.stalled_fraction, '.1f'):>18}  "
                     f"{_reasons_text(r.failure_reasons)}")
    return lines


def format_shares(report: DatasetReport) -> list[str]:
    """Lines of the terrain_type_2 share table (kept frames vs commanded paths)."""
    head = f"{'robot':<10}{'class':<13}{'kept %':>8}{'paths %':>9}{'diff pp':>9}"
    lines = [head, "-" * len(head)]
    for r in report.rows:
        diff = r.share_diff_pp
        for c, cls in enumerate(schema.TERRAIN_TYPES_2):
            path = "-" if r.path_shares is None else _num(100 * r.path_shares[c], '.1f')
            d = "-" if diff is None else _num(diff[c], '+.1f')
            flag = ("  <- over 5 pp" if diff is not None and np.isfinite(diff[c])
                    and abs(diff[c]) > report.flag_pp else "")
            name = r.robot if c == 0 else ""
            lines.append(f"{name:<10}{cls:<13}{_num(100 * r.kept_shares[c], '.1f'):>8}"
                         f"{path:>9}{d:>9}{flag}")
    return lines


def format_report(report: DatasetReport) -> str:
    """The report as a plain-text table (fits 80 columns but for long failure lists)."""
    lines = [f"Realism report: {report.path} (schema {report.schema_version}, "
             f"{report.n_frames} frames per trajectory at {schema.FRAME_RATE_HZ:g} Hz)", ""]
    lines += format_outcomes(report)
    lines += ["", "terrain_type_2 share of kept frames vs of the attempted robots' commanded "
              "paths", ""]
    lines += format_shares(report)
    flagged = report.flagged
    lines += [""]
    if flagged:
        lines += [f"FLAGGED (|diff| > {report.flag_pp:g} pp): " + "; ".join(
            f"{r}: {', '.join(c)}" for r, c in flagged.items())]
    elif report.rows[-1].path_shares is not None:
        lines += [f"no class differs by over {report.flag_pp:g} pp"]
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines).rstrip() + "\n"
