"""Results JSON schema (versioned, pydantic v2): written by `run-benchmark`, read by `leaderboard`.

One results file = one model evaluated on one dataset over one or more seeds. Layout (version 1.1)::

    {
      "schema_version": "1.1",
      "model":    {"name": "bams", "config": {...}, "n_parameters": 123456,
                   "origin": "builtin", "target": "behaviorbench.models.bams:BAMS"},
      "dataset":  {"name": "terrain-small", "kind": "quadruped", "path": "data/x.zarr",
                   "schema_version": "1.1", "checksum": "sha256:...", "config_hash": "sha256:..."},
      "protocol": {"name": "quadruped-frozen-readout", "version": "1", "split": "paper",
                   "readout": {...}, "frames": {...}, "hash": "sha256:..."},
      "seeds":    [0, 1, 2],
      "tasks":    [{"name": "terrain_type", "metric": "f1_weighted", "higher_is_better": true,
                    "level": "frame", "values": [0.71, 0.73, 0.72], "seeds": [0, 1, 2],
                    "mean": 0.72, "std": 0.01, "extra": {"confusion_matrix": [[...]]},
                    "note": "frames subsampled to 200000 per split"}],
      "train_time_s": 812.3, "eval_time_s": 40.1, "peak_memory_bytes": 2147483648,
      "hardware": {"cpu_model": "...", "gpu_model": null, "device": "cpu"},
      "package_versions": {"torch": "2.13.0", ...}, "git_commit": "abc123...",
      "date": "2025-01-01T12:00:00Z",
      "published": false, "source": null, "artifacts": ["pca_terrain_type.png"], "notes": null
    }

Conventions:
- Scores are plain floats in the metric's natural unit (F1 in [0, 1], never percent; MSE in the
  label's squared unit). Non-finite numbers are rejected (JSON has no NaN).
- `mean` is the arithmetic mean of `values`; `std` is the sample standard deviation (ddof=1) of
  `values`, `null` when there are fewer than two values. Both are checked on load (tolerance 1e-9
  relative), so a hand-edited file whose summary disagrees with its per-seed values is rejected.
- `published: true` marks reference rows copied from papers/slides (not measured here); they must
  name a `source` and may omit measured-run metadata (hardware, times, package versions, date).
  Measured rows (`published: false`) must carry `hardware`, `package_versions` and `date`.
- Version 1.1 adds what ties a result to its data and protocol: `dataset.config_hash`,
  `protocol` (readout settings, split, frame selection, and their `hash`, checked on load) and
  where the model came from (`model.origin`: builtin | entry-point | import-path | embeddings,
  `model.target`, `model.package`, `model.embeddings_sha256`). Measured 1.1 rows must carry
  `protocol` and `model.origin`. Files of version 1.0 still load; those fields are then null.

Version 1.2 adds `provenance` (how the numbers were produced, see `BenchmarkResults`) and, in
each task's `extra`: `metrics` (macro F1, balanced accuracy, ... mean/std over seeds), `chance`
(majority-class and class-prior-random predictors on the same test rows), `interval`
(bootstrap 95 % over test sequences), `class_counts` per split and `missing_in_train`, and with
`--splits K` `repetitions` (scores per split and seed, std over splits and over seeds).

Public API: `SCHEMA_VERSION`, `BenchmarkResults`, `ModelInfo`, `DatasetInfo`, `ProtocolInfo`,
`TaskScore`, `Hardware`, `save_results`, `load_results`, `parse_results`,
`ResultsValidationError`, `canonical_hash`, `atomic_write_bytes`, `atomic_write_text`, `utc_now`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .fileio import atomic_write_bytes, atomic_write_text, utc_now

__all__ = [
    "SCHEMA_VERSION", "BenchmarkResults", "DatasetInfo", "Hardware", "ModelInfo",
    "ProtocolInfo", "ResultsValidationError", "TaskScore", "atomic_write_bytes",
    "atomic_write_text", "canonical_hash", "load_results", "parse_results", "save_results",
    "utc_now",
]

SCHEMA_VERSION = "1.2"
"""Version written by this code (minor bump: additive optional fields; major: anything else)."""

SUPPORTED_SCHEMA_VERSIONS = ("1.0", "1.1", "1.2")
"""Versions `load_results` accepts."""

DatasetKind = Literal["quadruped", "mabe22"]
ModelOrigin = Literal["builtin", "entry-point", "import-path", "embeddings"]
TaskLevel = Literal["sequence", "frame", "aggregate"]  # aggregate: summary over several tasks

_REL_TOL = 1e-9  # relative tolerance when checking mean/std against the per-seed values
_ABS_TOL = 1e-12  # absolute tolerance for the same check


class ResultsValidationError(ValueError):
    """A results file or object does not follow the schema; the message lists every problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=False)


def canonical_hash(obj: Any) -> str:
    """'sha256:<hex>' of the canonical JSON of `obj` (sorted keys, compact separators)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_digest(name: str, value: str | None) -> None:
    if value is not None:
        algo, sep, digest = value.partition(":")
        if not sep or not algo or not digest:
            raise ValueError(f"{name} must look like 'algo:hexdigest', got {value!r}")


class ModelInfo(_Strict):
    """The evaluated model: its name, config (JSON-able dict), parameter count and origin."""

    name: str = Field(min_length=1, description="registry name, e.g. 'bams', 'pca'")
    config: dict[str, Any] = Field(default_factory=dict, description="model config as a dict")
    n_parameters: int | None = Field(
        default=None, ge=0, description="number of trainable parameters; null if unknown"
    )
    display_name: str | None = Field(
        default=None, description="label for tables, e.g. 'BAMS (short-term only)'"
    )
    origin: ModelOrigin | None = Field(
        default=None,
        description="builtin | entry-point | import-path | embeddings (precomputed); "
                    "null in schema 1.0 files",
    )
    target: str | None = Field(
        default=None, description="'package.module:ClassName' of the model class, or the "
                                  "embeddings file for origin 'embeddings'")
    package: str | None = Field(
        default=None, description="'distribution version' that declared the entry point")
    embeddings_sha256: str | None = Field(
        default=None, description="'sha256:<hex>' of the embeddings file (origin 'embeddings')")

    @property
    def label(self) -> str:
        """Name shown in tables: `display_name` if set, else `name`."""
        return self.display_name or self.name

    @property
    def external(self) -> bool:
        """True when the model was not defined in behaviorbench (or is not a model at all)."""
        return self.origin not in (None, "builtin")

    @model_validator(mode="after")
    def _origin_fields(self) -> ModelInfo:
        _check_digest("model.embeddings_sha256", self.embeddings_sha256)
        if self.origin == "embeddings" and not self.embeddings_sha256:
            raise ValueError("model.origin 'embeddings' needs model.embeddings_sha256")
        if self.embeddings_sha256 and self.origin != "embeddings":
            raise ValueError("model.embeddings_sha256 is only for model.origin 'embeddings'")
        return self


class DatasetInfo(_Strict):
    """The dataset the model was evaluated on."""

    name: str = Field(min_length=1, description="dataset name, e.g. 'terrain-default'")
    kind: DatasetKind = Field(description="'quadruped' (terrain robots) or 'mabe22' (mice)")
    path: str | None = Field(default=None, description="path given on the command line")
    schema_version: str | None = Field(default=None, description="the dataset's format version")
    checksum: str | None = Field(
        default=None, description="content checksum as 'algo:hexdigest', e.g. 'sha256:ab12...'"
    )
    config_hash: str | None = Field(
        default=None, description="'sha256:<hex>' of the generator config (canonical JSON); "
                                  "null for data without one (MABe) and in schema 1.0 files")

    @model_validator(mode="after")
    def _checksum_format(self) -> DatasetInfo:
        _check_digest("dataset.checksum", self.checksum)
        _check_digest("dataset.config_hash", self.config_hash)
        return self


class ProtocolInfo(_Strict):
    """How the tasks were scored: what must be equal for two results to rank side by side.

    `hash` is `canonical_hash` of the other fields; it is checked on load.
    """

    name: str = Field(min_length=1, description="e.g. 'quadruped-frozen-readout'")
    version: str = Field(min_length=1, description="version of that protocol's definition")
    split: str = Field(min_length=1, description="'paper', 'random', 'official md5:...', ...")
    readout: dict[str, Any] = Field(default_factory=dict, description="readout settings")
    frames: dict[str, Any] = Field(default_factory=dict, description="scored-frame selection")
    hash: str = Field(description="'sha256:<hex>' of the fields above")

    @staticmethod
    def digest(name: str, version: str, split: str, readout: dict, frames: dict) -> str:
        return canonical_hash({"name": name, "version": version, "split": split,
                               "readout": readout, "frames": frames})

    @classmethod
    def build(cls, name: str, version: str, split: str, readout: dict[str, Any],
              frames: dict[str, Any] | None = None) -> ProtocolInfo:
        """A ProtocolInfo with its hash computed."""
        frames = dict(frames or {})
        return cls(name=name, version=version, split=split, readout=readout, frames=frames,
                   hash=cls.digest(name, version, split, readout, frames))

    @model_validator(mode="after")
    def _hash_matches(self) -> ProtocolInfo:
        want = self.digest(self.name, self.version, self.split, self.readout, self.frames)
        if self.hash != want:
            raise ValueError(f"protocol.hash {self.hash!r} does not match its fields ({want})")
        return self

    def differences(self, other: ProtocolInfo) -> list[str]:
        """'field: mine != other' for each top-level or readout/frames key that differs."""
        out = []
        for key in ("name", "version", "split"):
            if getattr(self, key) != getattr(other, key):
                out.append(f"{key} {getattr(other, key)!r} != {getattr(self, key)!r}")
        for part in ("readout", "frames"):
            a, b = getattr(self, part), getattr(other, part)
            for k in sorted(set(a) | set(b)):
                if a.get(k) != b.get(k):
                    out.append(f"{part}.{k} {b.get(k)!r} != {a.get(k)!r}")
        return out


class TaskScore(_Strict):
    """Scores of one task over seeds.

    `values[i]` is the score for seed `seeds[i]` (when seeds are known). A single value is allowed
    (one seed, an ensembled score, or a published figure).
    """

    name: str = Field(min_length=1, description="task name from the task registry")
    metric: str = Field(min_length=1, description="e.g. 'f1_weighted', 'f1_binary', 'mse'")
    higher_is_better: bool
    level: TaskLevel
    values: list[float] = Field(min_length=1, description="one score per seed")
    seeds: list[int] | None = Field(default=None, description="seed of each value, same length")
    mean: float
    std: float | None = Field(default=None, ge=0, description="sample std (ddof=1); null if n<2")
    extra: dict[str, Any] = Field(
        default_factory=dict,
        description="optional task-specific data: confusion_matrix, alpha_scores, public, ...",
    )
    note: str | None = Field(default=None, description="e.g. how frames were subsampled")

    @classmethod
    def from_values(
        cls,
        name: str,
        metric: str,
        higher_is_better: bool,
        level: TaskLevel,
        values: list[float],
        seeds: list[int] | None = None,
        **kwargs: Any,
    ) -> TaskScore:
        """Build a TaskScore computing `mean` and `std` (ddof=1) from the per-seed `values`."""
        vals = [float(v) for v in values]
        mean, std = _mean_std(vals)
        return cls(
            name=name,
            metric=metric,
            higher_is_better=higher_is_better,
            level=level,
            values=vals,
            seeds=None if seeds is None else [int(s) for s in seeds],
            mean=mean,
            std=std,
            **kwargs,
        )

    @model_validator(mode="after")
    def _consistent(self) -> TaskScore:
        if self.seeds is not None and len(self.seeds) != len(self.values):
            raise ValueError(
                f"task {self.name!r}: {len(self.seeds)} seeds but {len(self.values)} values"
            )
        mean, std = _mean_std(self.values)
        if not math.isclose(self.mean, mean, rel_tol=_REL_TOL, abs_tol=_ABS_TOL):
            raise ValueError(
                f"task {self.name!r}: mean {self.mean!r} != mean of values {mean!r}"
            )
        if std is None and self.std is not None:
            raise ValueError(f"task {self.name!r}: std must be null with a single value")
        if std is not None and (
            self.std is None or not math.isclose(self.std, std, rel_tol=1e-6, abs_tol=_ABS_TOL)
        ):
            raise ValueError(
                f"task {self.name!r}: std {self.std!r} != sample std (ddof=1) of values {std!r}"
            )
        return self


class Hardware(_Strict):
    """Where the run happened."""

    cpu_model: str = Field(min_length=1, description="e.g. 'AMD EPYC 7B13'")
    gpu_model: str | None = Field(default=None, description="e.g. 'NVIDIA H100'; null if none")
    device: str = Field(min_length=1, description="torch device used: 'cpu', 'cuda', 'cuda:0'")
    cpu_count: int | None = Field(default=None, ge=1, description="logical CPUs visible")


class BenchmarkResults(_Strict):
    """One results file: a model evaluated on a dataset (see the module docstring)."""

    schema_version: str = SCHEMA_VERSION
    model: ModelInfo
    dataset: DatasetInfo
    protocol: ProtocolInfo | None = Field(default=None, description="null in schema 1.0 files")
    tasks: list[TaskScore] = Field(min_length=1)
    seeds: list[int] | None = Field(default=None, description="seeds of the run (training/readout)")
    train_time_s: float | None = Field(
        default=None, ge=0, description="training wall time summed over all seeds, s")
    eval_time_s: float | None = Field(
        default=None, ge=0, description="embed + readout wall time summed over all seeds, s")
    peak_memory_bytes: int | None = Field(default=None, ge=0, description="peak RSS/GPU, bytes")
    hardware: Hardware | None = None
    package_versions: dict[str, str] = Field(default_factory=dict)
    git_commit: str | None = None
    date: datetime | None = Field(default=None, description="ISO 8601, e.g. 2025-01-01T12:00:00Z")
    published: bool = Field(default=False, description="true: reference row, not measured here")
    source: str | None = Field(default=None, description="citation for published rows")
    provenance: dict[str, Any] = Field(
        default_factory=dict,
        description="schema 1.2: precision, epochs and optimiser steps run, final loss per "
                    "term, time per seed (train_s, embed_s, score_s), sequence length vs "
                    "receptive fields, failed sequences excluded, extra splits")
    artifacts: list[str] = Field(
        default_factory=list,
        description="plot files (PNG/SVG) relative to the results file's folder, e.g. 'pca.png'",
    )
    notes: str | None = None

    @model_validator(mode="after")
    def _check(self) -> BenchmarkResults:
        if self.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
            raise ValueError(
                f"unsupported schema_version {self.schema_version!r}; this behaviorbench reads "
                f"{', '.join(SUPPORTED_SCHEMA_VERSIONS)}"
            )
        names = [t.name for t in self.tasks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate task names: {dupes}")
        for a in self.artifacts:
            parts = Path(a).parts
            if not a or Path(a).is_absolute() or ".." in parts:
                raise ValueError(f"artifact {a!r} must be a relative path inside the results dir")
        if self.published:
            if not self.source:
                raise ValueError("published rows must name their `source`")
        else:
            missing = [
                f
                for f, v in (
                    ("hardware", self.hardware),
                    ("package_versions", self.package_versions or None),
                    ("date", self.date),
                )
                if v is None
            ]
            if missing:
                raise ValueError(f"measured results (published=false) must have {missing}")
            if self.schema_version != "1.0":
                missing = [f for f, v in (("protocol", self.protocol),
                                          ("model.origin", self.model.origin)) if v is None]
                if missing:
                    raise ValueError(f"measured results of schema {self.schema_version} must "
                                     f"have {missing}")
        return self

    def task(self, name: str) -> TaskScore:
        """The TaskScore called `name` (KeyError if absent)."""
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"no task {name!r} in results of {self.model.name!r}")

    def to_json(self) -> str:
        """Pretty JSON text (2-space indent, trailing newline)."""
        return self.model_dump_json(indent=2) + "\n"


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    """Arithmetic mean and sample std (ddof=1; None for fewer than 2 values)."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var)


def _format_errors(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "<root>"
        lines.append(f"  - {loc}: {e['msg']}")
    return "\n".join(lines)


def parse_results(
    data: dict[str, Any] | str | bytes, *, origin: str = "<data>"
) -> BenchmarkResults:
    """Validate a dict or JSON text into `BenchmarkResults`; raise `ResultsValidationError`."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as e:
            raise ResultsValidationError(f"{origin}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ResultsValidationError(
            f"{origin}: a results file must hold a JSON object, got {type(data).__name__}"
        )
    version = data.get("schema_version")
    if version is None:
        raise ResultsValidationError(f"{origin}: missing 'schema_version' (not a results file?)")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ResultsValidationError(
            f"{origin}: unsupported schema_version {version!r}; this behaviorbench reads "
            f"{', '.join(SUPPORTED_SCHEMA_VERSIONS)}"
        )
    try:
        return BenchmarkResults.model_validate(data)
    except ValidationError as e:
        raise ResultsValidationError(
            f"{origin}: invalid results file ({e.error_count()} problem(s)):\n{_format_errors(e)}"
        ) from None


def load_results(path: str | os.PathLike[str]) -> BenchmarkResults:
    """Read and validate a results JSON file; raise `ResultsValidationError` with every problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ResultsValidationError(f"{path}: cannot read ({e.strerror or e})") from None
    return parse_results(raw, origin=str(path))


def save_results(res: BenchmarkResults, path: str | os.PathLike[str]) -> Path:
    """Validate `res` again and write it as JSON to `path` atomically; returns the path."""
    res = BenchmarkResults.model_validate(res.model_dump())
    atomic_write_text(path, res.to_json())
    return Path(path)
