"""Leaderboard rows: submissions plus published reference rows, grouped and ranked.

Shared by `show`, `compare` and `render`. A row is one results object (one model on one
dataset). Rows are grouped so that only like is ranked with like (`group_rows`):

- a **board**: measured results with the same dataset identity (checksum, schema version,
  config hash) and the same protocol hash;
- **unverified**: results of schema 1.0 (no protocol recorded), per dataset name and checksum;
  they rank only among themselves;
- **published** reference rows join the board or unverified group of their dataset kind and
  name, else form their own group.

Ranking is per task by the task's mean over seeds, best first, respecting `higher_is_better`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from behaviorbench.benchmark.results import (
    BenchmarkResults,
    DatasetInfo,
    ProtocolInfo,
    TaskScore,
)
from behaviorbench.leaderboard.published import published_results
from behaviorbench.leaderboard.store import LeaderboardStore, short_digest


@dataclass(frozen=True)
class Row:
    """One leaderboard row."""

    key: str  # submission id, or "published-<n>" for reference rows
    results: BenchmarkResults
    json_file: Path | None = None  # results JSON in the store (None for published rows)
    artifacts: tuple[Path, ...] = ()  # plot files in the store

    @property
    def published(self) -> bool:
        return self.results.published

    @property
    def label(self) -> str:
        """The model's label, then every non-default setting in brackets
        (``non_default_settings``), e.g. ``bams (epochs=60, precision=bf16)``."""
        extra = non_default_settings(self.results)
        name = self.results.model.label
        return f"{name} ({', '.join(extra)})" if extra else name

    @property
    def dataset_key(self) -> tuple[str, str]:
        return (self.results.dataset.kind, self.results.dataset.name)

    @property
    def board_key(self) -> tuple:
        """Rows rank together only when these keys are equal (module docstring)."""
        d, p = self.results.dataset, self.results.protocol
        if self.published:
            return ("published", d.kind, d.name)
        if p is None:
            return ("unverified", d.kind, d.name, d.checksum)
        return ("board", d.kind, d.checksum, d.schema_version, d.config_hash, p.hash)


#: model config fields that do not change the numbers (devices, files, progress display)
_NOT_SETTINGS = frozenset({"seed", "device", "progress", "log_path", "checkpoint_dir",
                           "checkpoint_every", "resume_from", "embed_batch_size", "compile"})


def _default_config(name: str) -> dict | None:
    """The built-in model ``name``'s default config as a JSON-like dict, or None."""
    import dataclasses

    try:
        from behaviorbench.models import MODELS

        conf = MODELS[name].config_class()
    except Exception:  # noqa: BLE001 - unknown or unbuildable: no defaults to compare with
        return None
    return {f.name: (list(v) if isinstance(v := getattr(conf, f.name), tuple) else v)
            for f in dataclasses.fields(conf)}


def non_default_settings(res: BenchmarkResults) -> list[str]:
    """'field=value' for every setting of a measured row that differs from the default: the
    built-in model's config fields (those in ``_NOT_SETTINGS`` excepted), a training precision
    other than fp32, ``fit_on``, a loaded checkpoint, kept failures and the readout solver."""
    out: list[str] = []
    if res.published:
        return out
    defaults = _default_config(res.model.name) if res.model.origin == "builtin" else None
    for k, v in sorted(res.model.config.items()):
        if defaults is not None and k in defaults and k not in _NOT_SETTINGS \
                and v != defaults[k]:
            out.append(f"{k}={'-'.join(map(str, v)) if isinstance(v, list) else v}")
    prov = res.provenance or {}
    precision = prov.get("precision")
    if precision and precision != "fp32":
        out.append(f"precision={precision}")
    if prov.get("fit_on") not in (None, "all"):
        out.append(f"fit_on={prov['fit_on']}")
    if prov.get("checkpoint"):
        out.append("checkpoint")
    p = res.protocol
    if p is not None and p.frames.get("include_failures"):
        out.append("include_failures")
    lin = (p.readout.get("linear") or {}) if p is not None else {}
    if lin.get("solver") not in (None, "adamw"):
        out.append(f"readout={lin['solver']}")
    return out


def comparability(a: Row, b: Row) -> str | None:
    """Why `a` and `b` must not be compared (one line), or None when they may."""
    if a.board_key == b.board_key:
        return None
    da, db = a.results.dataset, b.results.dataset
    pa, pb = a.results.protocol, b.results.protocol
    if (pa is None) != (pb is None):
        old = a if pa is None else b
        return (f"{old.label} [{old.key}] records no protocol (results schema "
                f"{old.results.schema_version}); it compares only with such results")
    why = [f"{what} {x or '-'} vs {y or '-'}" for what, x, y in (
        ("dataset checksum", da.checksum, db.checksum),
        ("dataset schema", da.schema_version, db.schema_version),
        ("dataset config hash", da.config_hash, db.config_hash),
        ("protocol hash", pa.hash if pa else None, pb.hash if pb else None)) if x != y]
    return "A and B were scored on different data or protocols: " + "; ".join(why)


@dataclass
class Group:
    """Rows that rank together, and what they were scored on."""

    status: Literal["board", "unverified", "published"]
    kind: str
    name: str  # dataset name (of the first row)
    dataset: DatasetInfo | None  # identity of the measured rows (None: published only)
    protocol: ProtocolInfo | None
    rows: list[Row] = field(default_factory=list)

    def identity(self) -> str:
        """One line: which data and protocol this group's scores belong to."""
        if self.status == "published":
            return "published reference rows only (reported by their source, not measured here)"
        d = self.dataset
        data = (f"dataset {self.name} [{self.kind}], checksum {short_digest(d.checksum)}, schema "
                f"{d.schema_version or '-'}, config {short_digest(d.config_hash)}")
        if self.status == "unverified":
            return (f"{data}; protocol not recorded (results schema 1.0): ranked only among "
                    "themselves")
        p = self.protocol
        return f"{data}; protocol {p.name} v{p.version}, split {p.split}{_readout(p)}"


def _readout(p: ProtocolInfo) -> str:
    lin, fr = p.readout.get("linear") or {}, p.frames
    parts = []
    if lin:
        steps = f" {lin.get('steps')} steps" if lin.get("solver") == "adamw" else ""
        parts.append(f"linear {lin.get('solver')}{steps}")
    if fr:
        parts.append(f"frames {fr.get('max_train_frames')} train / {fr.get('max_test_frames')} "
                     f"test, t >= {fr.get('skip_frames')}")
    return (", " + ", ".join(parts)) if parts else ""


def group_rows(rows: list[Row]) -> list[Group]:
    """Rows grouped as the module docstring says: boards, then unverified, then published."""
    groups: dict[tuple, Group] = {}
    for r in rows:
        if r.published:
            continue
        d = r.results.dataset
        status = "unverified" if r.results.protocol is None else "board"
        g = groups.setdefault(r.board_key, Group(status, d.kind, d.name, d, r.results.protocol))
        g.rows.append(r)
    ordered = sorted(groups.values(), key=lambda g: g.status != "board")
    for r in rows:
        if not r.published:
            continue
        d = r.results.dataset
        home = next((g for g in ordered if (g.kind, g.name) == (d.kind, d.name)), None)
        if home is None:
            home = Group("published", d.kind, d.name, None, None)
            ordered.append(home)
        home.rows.append(r)
    return ordered


def collect_rows(store: LeaderboardStore | None, include_published: bool = True) -> list[Row]:
    """Rows of every submission in `store` (index order), then the published reference rows."""
    rows: list[Row] = []
    if store is not None:
        for entry, res in store.results():
            rows.append(
                Row(
                    key=entry.id,
                    results=res,
                    json_file=store.root / entry.file,
                    artifacts=tuple(store.root / a for a in entry.artifacts),
                )
            )
    if include_published:
        rows += [Row(key=f"published-{i}", results=r) for i, r in enumerate(published_results())]
    return rows


def filter_rows(
    rows: list[Row], dataset: str | None = None, model: str | None = None
) -> list[Row]:
    """Keep rows whose dataset kind or name equals `dataset`, and whose model name/label has
    `model` as a case-insensitive substring (None: no filter)."""
    out = []
    for r in rows:
        if dataset and dataset not in r.dataset_key:
            continue
        if model and model.lower() not in f"{r.results.model.name} {r.label}".lower():
            continue
        out.append(r)
    return out


def task_names(rows: list[Row]) -> list[str]:
    """Task names over `rows`, in first-seen order."""
    seen: dict[str, None] = {}
    for r in rows:
        for t in r.results.tasks:
            seen.setdefault(t.name, None)
    return list(seen)


def task_of(row: Row, name: str) -> TaskScore | None:
    """The row's score for task `name`, or None."""
    for t in row.results.tasks:
        if t.name == name:
            return t
    return None


def ranked(rows: list[Row], task: str) -> list[tuple[int, Row, TaskScore]]:
    """(rank, row, score) for rows that have `task`, best first (ties share a rank)."""
    scored = [(r, t) for r in rows if (t := task_of(r, task)) is not None]
    if not scored:
        return []
    hib = scored[0][1].higher_is_better
    scored.sort(key=lambda rt: -rt[1].mean if hib else rt[1].mean)
    out: list[tuple[int, Row, TaskScore]] = []
    for i, (r, t) in enumerate(scored):
        rank = out[-1][0] if out and out[-1][2].mean == t.mean else i + 1
        out.append((rank, r, t))
    return out


def fmt_score(t: TaskScore | None, digits: int = 3) -> str:
    """'0.731 ± 0.012 (n=3)'; one value: '0.731 (n=1)'; missing: '—'."""
    if t is None:
        return "—"
    s = f"{t.mean:.{digits}f}"
    if t.std is not None:
        s += f" ± {t.std:.{digits}f}"
    return f"{s} (n={len(t.values)})"


def fmt_interval(t: TaskScore | None, digits: int = 3) -> str:
    """'[0.702, 0.760]' (bootstrap 95 % over test sequences); '—' when not recorded."""
    iv = (t.extra.get("interval") if t is not None else None) or None
    return "—" if not iv else f"[{iv['low']:.{digits}f}, {iv['high']:.{digits}f}]"


def chance_of(t: TaskScore | None) -> float | None:
    """The better of the two trivial predictors' scores on the task's metric (classification:
    majority class, class-prior random; regression: train mean), or None if not recorded."""
    chance = (t.extra.get("chance") if t is not None else None) or {}
    vals = [c.get(t.metric) for c in chance.values() if isinstance(c, dict)]
    vals = [v for v in vals if isinstance(v, (int, float))]
    if not vals:
        return None
    return max(vals) if t.higher_is_better else min(vals)


def metric_of(t: TaskScore | None, name: str) -> float | None:
    """Mean over seeds of an extra metric (e.g. f1_macro, balanced_accuracy), or None."""
    m = ((t.extra.get("metrics") if t is not None else None) or {}).get(name) or {}
    return m.get("mean")


def coverage_flag(t: TaskScore | None) -> str:
    """'train lacks X, Y' when the train split misses classes of the test split, else ''."""
    missing = (t.extra.get("missing_in_train") if t is not None else None) or []
    return f"train lacks {', '.join(missing)}" if missing else ""


def fmt_details(t: TaskScore | None) -> str:
    """'95% CI [a, b] · macro F1 m · chance c · train lacks X' (the parts recorded), or ''."""
    if t is None:
        return ""
    parts = []
    if t.extra.get("interval"):
        parts.append(f"95% CI {fmt_interval(t)}")
    macro, chance = metric_of(t, "f1_macro"), chance_of(t)
    if macro is not None:
        parts.append(f"macro F1 {macro:.3f}")
    if chance is not None:
        parts.append(f"chance {chance:.3f}")
    reps = t.extra.get("repetitions")
    if reps:
        sd = reps.get("std_over_splits")
        parts.append(f"{len(reps['splits'])} splits {reps['mean']:.3f}"
                     + ("" if sd is None else f" (sd {sd:.3f})"))
    if coverage_flag(t):
        parts.append(coverage_flag(t))
    return " · ".join(parts)


def fmt_params(n: int | None) -> str:
    """1234567 -> '1.23M'; None -> '—'."""
    if n is None:
        return "—"
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return str(n)


def fmt_seconds(s: float | None) -> str:
    """812.3 -> '13.5 min'; None -> '—'."""
    if s is None or math.isnan(s):
        return "—"
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def fmt_hardware(res: BenchmarkResults) -> str:
    """'cpu (AMD EPYC)' / 'cuda (NVIDIA H100)'; published rows: 'published'."""
    hw = res.hardware
    if hw is None:
        return "published" if res.published else "—"
    return f"{hw.device} ({hw.gpu_model or hw.cpu_model})"
