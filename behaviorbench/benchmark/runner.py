"""Benchmark runner: train (or load) a model per seed -> embed -> read out every task -> results.

Protocol (documented in docs/benchmark.md)
- Seeds: for each seed ``s`` the model is trained from scratch with ``seed=s`` (when its config
  has a ``seed`` field) and every readout is initialised with ``s``; per-seed scores are reported
  with their mean and sample std. With ``checkpoint`` the model is loaded once and only the
  readouts vary with the seed.
- Training data: self-supervised models are fitted on the features of *all* sequences (labels
  are never seen), as the reference BAMS; ``fit_on="train"`` restricts fitting to the train split.
- Split: each task's ``split`` ("paper": ``dataset.paper_split()``, 20 % train / 80 % test
  sequences; "random": ``dataset.random_split(seed)``).
- Frames: scored frames are drawn deterministically (``numpy.random.default_rng(frame_seed)``,
  independent of the model seed so every model is scored on the same frames) from the frames
  ``t >= skip_frames`` of the train / test sequences, at most ``max_train_frames`` /
  ``max_test_frames`` of each; the counts are recorded in each task's ``extra``.
- Embeddings are computed in batches of sequences and only the selected frames (plus the
  per-sequence mean for ``pooling="mean"`` tasks) are kept, so memory is bounded by the caps.
- Models: a built-in name, an entry-point name or ``package.module:ClassName``
  (``sources.py``); or, with ``embeddings``, no model at all: the (N, T, D) embeddings of a file
  (``embeddings.py``) are scored with the same frames, readouts and seeds.
- Every results file records the dataset's identity and the protocol (``identity.py``).
- Nothing is written before the inputs are checked: model name and config, dataset, splits and
  the embeddings file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import hardware
from .identity import quadruped_protocol, split_name, store_identity
from .readout import (
    LinearReadoutConfig,
    RidgeReadoutConfig,
    fit_linear_classifier,
    fit_ridge,
)
from .tasks import DEFAULT_TASKS, TASKS, TaskSpec


@dataclass
class DatasetHandle:
    """A loaded dataset plus what the results file records about it.

    ``data`` has ``.features`` (N, T, F) float32, ``.sequence_labels[name]`` (N,),
    ``.frame_labels[name]`` (N, T), ``.paper_split()`` and ``.random_split(seed)``.
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

def _mabe_pipeline(cfg: RunConfig, specs: list[TaskSpec], log: Callable[[str], None]) -> Any:
    from .mabe.run import run_mabe_pipeline

    return run_mabe_pipeline(cfg, specs, log)


#: dataset kind -> pipeline(cfg, specs, log) -> RunOutcome, for kinds with their own protocol
#: ("mabe" runs the official MABe evaluator, see mabe/run.py); such kinds need no
#: DATASET_LOADERS entry.
PIPELINES: dict[str, Callable[..., Any]] = {"mabe": _mabe_pipeline}


@dataclass
class RunConfig:
    """One ``run-benchmark`` invocation."""

    model: str  # MODELS key, entry-point name or package.module:ClassName; with embeddings: name
    data: str  # dataset path
    tasks: tuple[str, ...] | None = None  # None: DEFAULT_TASKS of the dataset kind
    dataset_kind: str = "terrain"  # key of DATASET_LOADERS when no task names one
    seeds: tuple[int, ...] = (0, 1, 2)  # one model training + readout per seed
    device: str = "auto"  # model training/embedding and readout device
    out: str = "results"  # output folder (results JSON, plots, checkpoints)
    checkpoint: str | None = None  # load this model file instead of training
    model_overrides: dict[str, Any] = field(default_factory=dict)  # model config fields
    fit_on: str = "all"  # "all" sequences (reference) | "train" split only
    max_train_frames: int = 200_000  # cap on scored train frames per split (frames)
    max_test_frames: int = 200_000  # cap on scored test frames per split (frames)
    skip_frames: int = 0  # first frames of each sequence never scored (frames)
    frame_seed: int = 0  # seed of the deterministic frame subsampling
    embed_batch: int = 32  # sequences per embed() call
    readout: LinearReadoutConfig = field(default_factory=LinearReadoutConfig)
    ridge: RidgeReadoutConfig = field(default_factory=RidgeReadoutConfig)
    plots: bool = True  # write PCA and confusion-matrix PNGs beside the results
    spaces: bool = False  # BAMS: also score the short/long spaces of the same trained model
    save_checkpoint: bool = True  # write out/checkpoints/<model>_seed<s>.pt
    mabe_split: str | None = None  # MABe: official jax_split.json (None: fallback, unofficial)
    mabe_tasks: str | None = None  # MABe: jax_tasks.json (None: the published 13 tasks, seeds)
    embeddings: str | None = None  # (N, T, D) .npy / Zarr file scored instead of a model
    n_parameters: int | None = None  # with embeddings: the producing model's size, if known
    force: bool = False  # run even when the estimated memory exceeds the machine's

    def __post_init__(self) -> None:
        """Raise ``preflight.BenchmarkConfigError`` (one line: field, value, valid range) on
        the first invalid field; task names and the dataset kind are checked against
        ``TASKS`` and the loaders."""
        from .preflight import BenchmarkConfigError, at_least, device_problem, raise_first

        seeds = tuple(self.seeds) if isinstance(self.seeds, (tuple, list)) else None
        raise_first(
            None if seeds else f"seeds must be a non-empty list of integers, got {self.seeds!r}",
            *(at_least("seed", s, 0) for s in seeds or ()),
            None if seeds is None or len(set(seeds)) == len(seeds)
            else f"seeds must be distinct, got {list(seeds)}",
            device_problem(self.device),
            None if self.fit_on in ("all", "train")
            else f"fit_on must be all or train, got {self.fit_on!r}",
            at_least("max_train_frames", self.max_train_frames, 1),
            at_least("max_test_frames", self.max_test_frames, 1),
            at_least("skip_frames", self.skip_frames, 0),
            at_least("frame_seed", self.frame_seed, 0),
            at_least("embed_batch", self.embed_batch, 1),
            None if self.n_parameters is None else at_least("n_parameters", self.n_parameters, 0),
            None if self.dataset_kind in {*DATASET_LOADERS, *PIPELINES}
            else f"dataset_kind must be one of {sorted({*DATASET_LOADERS, *PIPELINES})}, got "
                 f"{self.dataset_kind!r}",
            *(None if t in TASKS else f"unknown task {t!r} (known: {', '.join(sorted(TASKS))})"
              for t in self.tasks or ()),
        )
        if not isinstance(self.readout, LinearReadoutConfig):
            raise BenchmarkConfigError(f"readout must be a LinearReadoutConfig, got "
                                       f"{type(self.readout).__name__}")
        if not isinstance(self.ridge, RidgeReadoutConfig):
            raise BenchmarkConfigError(f"ridge must be a RidgeReadoutConfig, got "
                                       f"{type(self.ridge).__name__}")
        self.seeds = seeds


@dataclass
class Selection:
    """Scored frames of one split: sequence index and frame index per row (both (n,) int64)."""

    seq: np.ndarray
    t: np.ndarray
    n_available: int


def select_frames(
    seq_idx: np.ndarray, n_frames: int, cap: int, skip: int, seed: int
) -> Selection:
    """Deterministic subsample of the frames ``t >= skip`` of sequences ``seq_idx``.

    At most ``cap`` (seq, t) pairs drawn without replacement by ``default_rng(seed)``, sorted.
    """
    seq_idx = np.sort(np.asarray(seq_idx, dtype=np.int64))
    per = max(n_frames - skip, 0)
    total = len(seq_idx) * per
    if total <= cap:
        flat = np.arange(total, dtype=np.int64)
    else:
        flat = np.sort(np.random.default_rng(seed).choice(total, size=cap, replace=False))
    per = max(per, 1)
    return Selection(seq=seq_idx[flat // per], t=flat % per + skip, n_available=total)


@dataclass
class Embedded:
    """Embeddings of one split's selection: rows (n, D) float32 and per-sequence means."""

    rows: np.ndarray  # (n_selected, D)
    seq_mean: dict[int, np.ndarray]  # sequence index -> (D,) mean over frames t >= skip


def embed_selection(
    embed: Callable[[np.ndarray], np.ndarray], sel: Selection, skip: int, batch: int
) -> Embedded:
    """Embed the sequences of ``sel`` in batches, keeping only the selected frames.

    ``embed`` maps sorted sequence indices (b,) to their embeddings (b, T, D).
    """
    seqs = np.unique(sel.seq)
    rows: np.ndarray | None = None
    means: dict[int, np.ndarray] = {}
    for s in range(0, len(seqs), batch):
        chunk = seqs[s : s + batch]
        z = embed(chunk)  # (b, T, D)
        if rows is None:
            rows = np.empty((len(sel.seq), z.shape[-1]), dtype=np.float32)
        elif z.shape[-1] != rows.shape[1]:
            from .sources import ModelProtocolError

            raise ModelProtocolError(f"embedding size changed between batches: D = "
                                     f"{rows.shape[1]}, then {z.shape[-1]}")
        for j, q in enumerate(chunk):
            means[int(q)] = z[j, skip:].mean(axis=0)
        lo, hi = np.searchsorted(sel.seq, [chunk[0], chunk[-1] + 1])
        pos = np.searchsorted(chunk, sel.seq[lo:hi])
        rows[lo:hi] = z[pos, sel.t[lo:hi]]
    if rows is None:
        rows = np.zeros((0, 0), dtype=np.float32)
    return Embedded(rows=rows, seq_mean=means)


@dataclass
class TaskRun:
    """Per-seed outcome of one task."""

    spec: TaskSpec
    values: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    per_seed: list[dict[str, float]] = field(default_factory=list)
    confusions: list[np.ndarray] = field(default_factory=list)
    n_train: int = 0
    n_test: int = 0
    n_available: tuple[int, int] = (0, 0)


def _task_rows(
    spec: TaskSpec, data: Any, sel: Selection, emb: Embedded
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (n, D), y (n,), sequence id (n,)) rows of one split for ``spec``.

    Rows with invalid labels (negative class, non-finite value) are dropped.
    """
    if spec.level == "frame":
        y = np.asarray(data.frame_labels[spec.label])[sel.seq, sel.t]
        x, g = emb.rows, sel.seq
    elif spec.pooling == "mean":
        g = np.unique(sel.seq)
        y = np.asarray(data.sequence_labels[spec.label])[g]
        x = np.stack([emb.seq_mean[int(q)] for q in g]) if len(g) else emb.rows[:0]
    else:
        y = np.asarray(data.sequence_labels[spec.label])[sel.seq]
        x, g = emb.rows, sel.seq
    if spec.kind == "classification":
        ok = y >= 0 if np.issubdtype(y.dtype, np.integer) else np.isfinite(y) & (y >= 0)
        y = y.astype(np.int64)
    else:
        y = y.astype(np.float64)
        ok = np.isfinite(y)
    return x[ok], y[ok], g[ok]


def _splits(data: Any, split: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if split == "paper":
        return data.paper_split()
    if split == "random":
        return data.random_split(seed)
    raise ValueError(f"unknown split {split!r}")


def _n_classes(spec: TaskSpec, handle: DatasetHandle, data: Any) -> int:
    if spec.class_names:
        return len(handle.vocabularies.get(spec.label, spec.class_names))
    src = data.frame_labels if spec.level == "frame" else data.sequence_labels
    return int(np.max(src[spec.label])) + 1


def resolve_tasks(cfg: RunConfig) -> tuple[str, list[TaskSpec]]:
    """(dataset kind, task specs) of the run; all tasks must use one dataset kind."""
    if cfg.tasks:
        specs = [TASKS[t] if t in TASKS else _unknown(t) for t in cfg.tasks]
        kinds = {s.dataset for s in specs}
        if len(kinds) != 1:
            from .preflight import BenchmarkConfigError

            raise BenchmarkConfigError(f"tasks {list(cfg.tasks)} span several dataset kinds "
                                       f"{sorted(kinds)}; give tasks of one kind")
        return kinds.pop(), specs
    kind = cfg.dataset_kind
    return kind, [TASKS[t] for t in DEFAULT_TASKS[kind]]


def _unknown(name: str) -> TaskSpec:
    raise KeyError(f"unknown task {name!r}; choose from {sorted(TASKS)}")


@dataclass
class RunOutcome:
    """What ``run_benchmark`` produced (``results``/``results_path``: the main model's)."""

    results: Any  # results.BenchmarkResults
    results_path: Path
    checkpoints: list[Path]
    artifacts: list[Path]
    task_runs: dict[str, TaskRun]
    extra_results: dict[str, Path] = field(default_factory=dict)  # view name -> results file
    files: dict[str, Path] = field(default_factory=dict)  # other outputs (MABe submissions, CSVs)


#: model name -> {view name: embedding-space name} scored from the same trained model (--spaces)
SPACE_VIEWS: dict[str, dict[str, str]] = {"bams": {"bams-short": "short", "bams-long": "long"}}


def score_views(cfg: RunConfig, model: Any) -> dict[str, slice]:
    """{result name: embedding-dim slice}: the model itself, plus its spaces with ``spaces``."""
    from .plots import embedding_spaces

    views = {cfg.model: slice(None)}
    if cfg.spaces:
        spaces = embedding_spaces(model)
        for view, space in SPACE_VIEWS.get(cfg.model, {}).items():
            if space in spaces:
                views[view] = spaces[space]
    return views




def run_provenance(device: str) -> dict[str, Any]:
    """Where and when a run happened: the results fields every pipeline fills the same way."""
    from . import results as R

    return {
        "peak_memory_bytes": max(hardware.peak_rss_bytes(), hardware.peak_gpu_bytes() or 0),
        "hardware": _hardware(device),
        "package_versions": hardware.package_versions(),
        "git_commit": hardware.git_commit(),
        "date": R.utc_now(),
    }


def run_benchmark(cfg: RunConfig, log: Callable[[str], None] = print) -> RunOutcome:
    """Run the whole protocol (module docstring) and write results JSON, plots, checkpoints.

    Bad input (unknown model, invalid config, missing device, unwritable ``out``, a
    checkpoint that is not one of ``cfg.model``, unusable dataset, split or embeddings file,
    an estimated memory above the machine's unless ``cfg.force``) raises before anything is
    written. A failure during the work removes what the run had written under ``cfg.out``
    (and ``cfg.out`` itself when the run created it) and re-raises.
    """
    from .embeddings import open_embeddings
    from .preflight import BenchmarkConfigError, check_device, check_output
    from .sources import check_overrides

    kind, specs = resolve_tasks(cfg)
    if cfg.embeddings and kind in PIPELINES:
        raise BenchmarkConfigError(f"--embeddings scores the quadruped tasks only, not {kind!r} "
                                   f"tasks")
    check_device(cfg.device)
    check_output(cfg.out)
    source = None if cfg.embeddings else check_overrides(cfg)
    if kind in PIPELINES:
        return PIPELINES[kind](cfg, specs, log)
    if kind not in DATASET_LOADERS:
        raise KeyError(f"no loader for dataset kind {kind!r}; have {sorted(DATASET_LOADERS)}")
    readout_cfg = dataclasses.replace(cfg.readout, device=_readout_device(cfg.device))
    out = Path(cfg.out)
    seeds = [int(s) for s in cfg.seeds]
    model = None
    if cfg.checkpoint and not cfg.embeddings:  # the right model's checkpoint, before any data
        from .sources import checkpoint_model

        model = checkpoint_model(cfg, None, log)

    log(f"loading {cfg.data}")
    handle = DATASET_LOADERS[kind](cfg.data)
    data = handle.data
    _check_memory(cfg, data, source, model)
    features = np.asarray(data.features, dtype=np.float32)
    n_frames = features.shape[1]
    precomputed = None
    if cfg.embeddings:
        log(f"checking {cfg.embeddings}")
        precomputed = open_embeddings(cfg.embeddings, features.shape[0], n_frames)

    for spec in specs:  # an unusable split fails here, before any time is spent on training
        _splits(data, spec.split, seeds[0])
    with _removed_on_failure(out):
        return _run(cfg, kind, specs, source, handle, features, precomputed, readout_cfg,
                    seeds, model, log)


def _check_memory(cfg: RunConfig, data: Any, source: Any, model: Any) -> None:
    """Refuse (``datasets.resources.ResourceError``) a run whose estimated memory exceeds the
    machine's physical memory, unless ``cfg.force``."""
    from behaviorbench.datasets import resources

    from .preflight import TYPICAL_EMBEDDING_DIM, run_estimate

    n, t, f = (int(x) for x in np.shape(data.features))
    dim = TYPICAL_EMBEDDING_DIM
    conf = getattr(model, "config", None) or (
        source.cls.config_class() if source is not None else None)
    for name in ("n_components", "output_dimension"):  # models whose D is a config field
        if isinstance(getattr(conf, name, None), int):
            dim = getattr(conf, name)
    memory = run_estimate(n, t, f, cfg.max_train_frames, cfg.max_test_frames, dim)
    resources.check(resources.Estimate(memory=memory, disk=0.0, seconds=0.0), cfg.out,
                    force=cfg.force, what=f"scoring {n} sequences x {t} frames")


@contextlib.contextmanager
def _removed_on_failure(out: Path) -> Iterator[None]:
    """Create ``out`` (and missing parents); if the body raises, remove every file and folder
    the body created under it (and ``out`` itself if it was created here), then re-raise."""
    first_missing = out.absolute()
    if first_missing.exists():
        first_missing = None
    else:
        while not first_missing.parent.exists():
            first_missing = first_missing.parent
    before = set(out.rglob("*")) if out.exists() else set()
    out.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        if first_missing is not None:
            shutil.rmtree(first_missing, ignore_errors=True)
        else:
            for p in sorted(set(out.rglob("*")) - before, key=lambda q: -len(q.parts)):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
        raise


def _run(cfg: RunConfig, kind: str, specs: list[TaskSpec], source: Any, handle: DatasetHandle,
         features: np.ndarray, precomputed: Any, readout_cfg: LinearReadoutConfig,
         seeds: list[int], model: Any, log: Callable[[str], None]) -> RunOutcome:
    """Train (or use ``model``, loaded from the checkpoint) per seed, embed, score every task
    and write results, plots and checkpoints into ``cfg.out`` (which exists)."""
    from . import results as R

    out = Path(cfg.out)
    data = handle.data
    n_frames = features.shape[1]

    runs: dict[str, dict[str, TaskRun]] = {}
    checkpoints: list[Path] = []
    train_time = 0.0
    eval_time = 0.0
    plot_payload: dict[str, Any] = {}
    for i, seed in enumerate(seeds):
        t0 = time.perf_counter()
        if precomputed is None:
            model = _seed_model(cfg, model, seed, features, data, specs, out, checkpoints, log)
            embed = _model_embedder(model, features, cfg.model)
        else:
            embed = precomputed.embed_sequences
        train_time += time.perf_counter() - t0 if not cfg.checkpoint else 0.0

        t0 = time.perf_counter()
        cache: dict[tuple, tuple[Selection, Embedded, Selection, Embedded]] = {}
        for spec in specs:
            key = (spec.split, seed if spec.split != "paper" else None)
            if key not in cache:
                tr_idx, te_idx = _splits(data, spec.split, seed)
                parts = []
                for idx, cap in ((tr_idx, cfg.max_train_frames), (te_idx, cfg.max_test_frames)):
                    sel = select_frames(idx, n_frames, cap, cfg.skip_frames, cfg.frame_seed)
                    parts += [sel, embed_selection(embed, sel, cfg.skip_frames, cfg.embed_batch)]
                cache[key] = tuple(parts)
            sel_tr, emb_tr, sel_te, emb_te = cache[key]
            for view, dims in score_views(cfg, model).items():
                run = runs.setdefault(view, {}).setdefault(spec.name, TaskRun(spec=spec))
                _score_task(cfg, spec, handle, readout_cfg, seed, run, sel_tr,
                            _slice(emb_tr, dims), sel_te, _slice(emb_te, dims))
                log(f"[seed {seed}] {view} {spec.name}: {spec.metric} = {run.values[-1]:.4f}")
            if i == 0 and "test" not in plot_payload:
                plot_payload["test"] = (sel_te, emb_te)
        eval_time += time.perf_counter() - t0

    from .plots import embedding_spaces
    from .sources import embeddings_info, model_info, safe_name

    protocol = quadruped_protocol(
        split_name([s.split for s in specs]), cfg.readout, cfg.ridge, cfg.max_train_frames,
        cfg.max_test_frames, cfg.skip_frames, cfg.frame_seed)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    paths: dict[str, Path] = {}
    results: dict[str, Any] = {}
    all_artifacts: list[Path] = []
    for view, view_runs in runs.items():
        stem = f"{safe_name(view)}_{handle.name}_{stamp}"
        artifacts: list[Path] = []
        if cfg.plots:
            spaces = embedding_spaces(model) if view == cfg.model else None
            artifacts = _plots(cfg, view, spaces, data, handle, view_runs, plot_payload, out,
                               stem, log)
        notes = _notes(cfg)
        if view != cfg.model:
            notes = (f"{view}: the {SPACE_VIEWS[cfg.model][view]}-term space of the {cfg.model} "
                     f"model trained in this run (no separate training); " + notes)
        if precomputed is not None:
            info = embeddings_info(view, cfg.embeddings, precomputed.sha256, cfg.n_parameters)
        else:
            info = model_info(view, model, source, per_seed=not cfg.checkpoint)
            if view != cfg.model:
                info = info.model_copy(update={"target": None, "package": None})
        res = R.BenchmarkResults(
            model=info,
            dataset=R.DatasetInfo(name=handle.name, kind=handle.kind, path=handle.path,
                                  schema_version=handle.schema_version,
                                  checksum=handle.checksum, config_hash=handle.config_hash),
            protocol=protocol,
            tasks=[_task_score(run, cfg) for run in view_runs.values()],
            seeds=seeds,
            train_time_s=train_time if not (cfg.checkpoint or precomputed) else None,
            eval_time_s=eval_time,
            **run_provenance(cfg.device),
            artifacts=[str(a.relative_to(out)) for a in artifacts],
            notes=notes,
        )
        paths[view] = R.save_results(res, out / f"{stem}.json")
        results[view] = res
        all_artifacts += artifacts
    return RunOutcome(results=results[cfg.model], results_path=paths[cfg.model],
                      checkpoints=checkpoints, artifacts=all_artifacts,
                      task_runs=runs[cfg.model],
                      extra_results={v: p for v, p in paths.items() if v != cfg.model})


def _seed_model(cfg: RunConfig, model: Any, seed: int, features: np.ndarray, data: Any,
                specs: list[TaskSpec], out: Path, checkpoints: list[Path],
                log: Callable[[str], None]) -> Any:
    """The model of ``seed``: loaded from ``cfg.checkpoint`` once, or trained from scratch."""
    from .sources import build_model, checkpoint_model, safe_name

    if cfg.checkpoint:
        return checkpoint_model(cfg, model, log)
    model = build_model(cfg, seed)
    fit_idx = None
    if cfg.fit_on == "train":
        fit_idx = np.unique(np.concatenate([_splits(data, s.split, seed)[0] for s in specs]))
    log(f"[seed {seed}] training {cfg.model} on "
        f"{len(features) if fit_idx is None else len(fit_idx)} sequences")
    model.fit(features if fit_idx is None else features[fit_idx])
    if cfg.save_checkpoint:
        ck = out / "checkpoints" / f"{safe_name(cfg.model)}_seed{seed}.pt"
        model.save(ck)
        checkpoints.append(ck)
    return model


def _model_embedder(model: Any, features: np.ndarray, name: str
                    ) -> Callable[[np.ndarray], np.ndarray]:
    """Sequence indices (b,) -> the model's checked embeddings (b, T, D) of those sequences."""
    from .sources import checked_embed

    return lambda idx: checked_embed(model, features[idx], name)


def _slice(emb: Embedded, dims: slice) -> Embedded:
    if dims == slice(None):
        return emb
    return Embedded(rows=np.ascontiguousarray(emb.rows[:, dims]),
                    seq_mean={k: v[dims] for k, v in emb.seq_mean.items()})


def _score_task(cfg: RunConfig, spec: TaskSpec, handle: DatasetHandle,
                readout_cfg: LinearReadoutConfig, seed: int, run: TaskRun,
                sel_tr: Selection, emb_tr: Embedded, sel_te: Selection, emb_te: Embedded) -> None:
    """Fit and score one readout; appends the seed's scores to ``run``."""
    data = handle.data
    xtr, ytr, gtr = _task_rows(spec, data, sel_tr, emb_tr)
    xte, yte, _ = _task_rows(spec, data, sel_te, emb_te)
    if spec.kind == "classification":
        sc = fit_linear_classifier(xtr, ytr, xte, yte, _n_classes(spec, handle, data),
                                   readout_cfg, seed=seed)
        run.confusions.append(sc.confusion)
    else:
        sc = fit_ridge(xtr, ytr, xte, yte, cfg.ridge, groups=gtr)
    metrics = sc.metrics()
    run.values.append(float(metrics[spec.metric]))
    run.seeds.append(seed)
    run.per_seed.append(metrics)
    run.n_train, run.n_test = sc.n_train, sc.n_test
    run.n_available = (sel_tr.n_available, sel_te.n_available)


def _readout_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _hardware(device: str) -> Any:
    from .results import Hardware

    gpus = hardware.gpu_models()
    return Hardware(cpu_model=hardware.cpu_model() or "unknown",
                    gpu_model=gpus[0] if gpus else None,
                    device=_readout_device(device), cpu_count=hardware.hardware_info()["cpu_count"])


def _notes(cfg: RunConfig) -> str:
    if cfg.embeddings:
        what = f"precomputed embeddings from {cfg.embeddings} (no model trained here)"
    else:
        what = (f"model fitted on {cfg.fit_on} sequences per seed"
                f"{' (loaded from ' + cfg.checkpoint + ')' if cfg.checkpoint else ''}")
    return (f"{what}; "
            f"{_readout_note(cfg.readout)}, "
            f"ridge alpha by {cfg.ridge.cv_folds}-fold CV grouped by sequence over "
            f"{list(cfg.ridge.alphas)}; frames t >= {cfg.skip_frames}, caps "
            f"{cfg.max_train_frames} train / {cfg.max_test_frames} test frames "
            f"(rng seed {cfg.frame_seed})")


def _readout_note(r: LinearReadoutConfig) -> str:
    if r.solver == "lbfgs":
        return (f"linear readout L-BFGS to convergence (tol {r.lbfgs_tol}, max {r.lbfgs_max_iter} "
                f"iterations, l2 {r.lbfgs_l2}, class-balanced cross-entropy)")
    return (f"linear readout {r.steps} full-batch AdamW steps (lr {r.lr}, wd {r.weight_decay}, "
            f"class-balanced cross-entropy)")


def _task_score(run: TaskRun, cfg: RunConfig) -> Any:
    from .results import TaskScore

    spec = run.spec
    extra: dict[str, Any] = {
        "kind": spec.kind,
        "split": spec.split,
        "pooling": spec.pooling if spec.level == "sequence" else "frame",
        "n_train_rows": run.n_train,
        "n_test_rows": run.n_test,
        "n_train_frames_available": run.n_available[0],
        "n_test_frames_available": run.n_available[1],
        "max_train_frames": cfg.max_train_frames,
        "max_test_frames": cfg.max_test_frames,
        "per_seed": run.per_seed,
    }
    if run.confusions:
        extra["confusion_matrix"] = np.mean(run.confusions, axis=0).round(6).tolist()
        extra["class_names"] = list(spec.class_names or [])
    sub = run.n_available[1] > cfg.max_test_frames or run.n_available[0] > cfg.max_train_frames
    note = (f"{spec.kind} readout on {'mean-pooled sequences' if spec.pooling == 'mean' and spec.level == 'sequence' else 'frames'}; "  # noqa: E501
            f"{run.n_train} train / {run.n_test} test rows"
            + (" (frames subsampled deterministically)" if sub else ""))
    return TaskScore.from_values(spec.name, spec.metric, spec.higher_is_better, spec.level,
                                 run.values, run.seeds, extra=extra, note=note)


def _plots(cfg, view, spaces, data, handle, runs, payload, out, stem, log) -> list[Path]:
    """PCA projections (main result only, ``spaces``: one figure per named embedding slice)
    and confusion matrices."""
    try:
        from . import plots
    except Exception as e:  # noqa: BLE001 - plots are optional
        log(f"plots skipped: {e}")
        return []
    files: list[Path] = []
    if spaces is not None and "test" in payload:
        sel, emb = payload["test"]
        files += plots.embedding_projections(
            emb.rows, sel, data, handle.vocabularies, spaces, out, stem, seed=cfg.frame_seed,
        )
    for run in runs.values():
        if run.confusions:
            names = list(handle.vocabularies.get(run.spec.label, run.spec.class_names or ()))
            png = out / f"{stem}_confusion_{run.spec.name}.png"
            files.append(plots.confusion_matrix_png(
                np.mean(run.confusions, axis=0), names, png,
                title=f"{view}: {run.spec.name} (mean over {len(run.values)} seed(s))",
            ))
    return files
