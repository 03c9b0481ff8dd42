"""Benchmark runner: train (or load) a model per seed -> embed -> read out every task -> results.

Protocol (documented in docs/benchmark.md)
- Seeds: for each seed ``s`` the model is trained from scratch with ``seed=s`` (when its config
  has a ``seed`` field) and every readout is initialised with ``s``; per-seed scores are reported
  with their mean and sample std. With ``checkpoint`` the model is loaded once and only the
  readouts vary with the seed.
- Training data: self-supervised models are fitted on the features of *all* kept sequences
  (labels are never seen), as the reference BAMS; ``fit_on="train"`` restricts fitting to the
  train split. Failed sequences (``success`` false) are kept out of training and scoring unless
  ``include_failures`` (``load.kept_sequences``).
- Split: each task's ``split`` ("paper": ``dataset.paper_split()``, 20 % train / 80 % test
  sequences; "random": ``dataset.random_split(seed)``); with ``splits=K`` every seed is also
  scored on K seeded random 20 / 80 splits (``load.random_splits``) and the results report the
  spread over splits and over seeds separately (``score.py``).
- Frames: scored frames are drawn deterministically (``embed.select_frames``) from the frames
  ``t >= skip_frames`` of the train / test sequences, at most ``max_train_frames`` /
  ``max_test_frames`` of each; the counts are recorded in each task's ``extra``.
- Models: a built-in name, an entry-point name or ``package.module:ClassName``
  (``sources.py``); or, with ``embeddings``, no model at all: the (N, T, D) embeddings of a file
  (``embeddings.py``) are scored with the same frames, readouts and seeds.
- Every results file records the dataset's identity and the protocol (``identity.py``), chance
  levels, class counts per split, a bootstrap interval and the training provenance.
- Nothing is written before the inputs are checked: model name and config, dataset, splits and
  the embeddings file; a failure during the work removes what the run wrote.

Modules: ``load`` (data, tasks, splits), ``config`` (``RunConfig``), ``embed`` (frames and
embeddings), ``score`` (readouts, chance, uncertainty), ``write`` (results, plots, provenance);
this module runs them in order. Their public names are re-exported here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .config import RunConfig
from .embed import (
    SPACE_VIEWS,
    Embedded,
    Selection,
    embed_selection,
    model_embedder,
    score_views,
    select_frames,
    slice_dims,
)
from .identity import quadruped_protocol, split_name
from .load import (
    DATASET_LOADERS,
    PIPELINES,
    DatasetHandle,
    Split,
    class_counts,
    kept_sequences,
    load_terrain,
    missing_in_train,
    random_splits,
    resolve_tasks,
    task_split,
)
from .physics_tasks import is_multi
from .score import TaskRun, class_names, n_classes, score_task, task_score
from .tasks import TaskSpec
from .write import (
    RunOutcome,
    notes,
    plots,
    readout_device,
    removed_on_failure,
    run_provenance,
    seed_training,
    stamp,
    training_provenance,
)

__all__ = [
    "DATASET_LOADERS", "PIPELINES", "SPACE_VIEWS", "DatasetHandle", "Embedded", "RunConfig",
    "RunOutcome", "Selection", "TaskRun", "embed_selection", "load_terrain", "resolve_tasks",
    "run_benchmark", "run_provenance", "score_views", "select_frames",
]


def run_benchmark(cfg: RunConfig, log: Callable[[str], None] = print) -> RunOutcome:
    """Run the whole protocol (module docstring) and write results JSON, plots, checkpoints.

    Bad input (unknown model, invalid config, missing device, unwritable ``out``, a
    checkpoint that is not one of ``cfg.model``, unusable dataset, split or embeddings file,
    an estimated memory above the machine's unless ``cfg.force``) raises before anything is
    written. A failure during the work (a non-finite training loss or embedding included)
    removes what the run had written under ``cfg.out`` (and ``cfg.out`` itself when the run
    created it) and re-raises.
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
    readout_cfg = dataclasses.replace(cfg.readout, device=readout_device(cfg.device))
    model = None
    if cfg.checkpoint and not cfg.embeddings:  # the right model's checkpoint, before any data
        from .sources import checkpoint_model

        model = checkpoint_model(cfg, None, log)

    log(f"loading {cfg.data}")
    handle = DATASET_LOADERS[kind](cfg.data)
    data = handle.data
    _check_memory(cfg, data, source, model)
    features = np.asarray(data.features, dtype=np.float32)
    precomputed = None
    if cfg.embeddings:
        log(f"checking {cfg.embeddings}")
        precomputed = open_embeddings(cfg.embeddings, features.shape[0], features.shape[1])
    specs, skipped = _scorable(specs, data, log)
    kept = kept_sequences(data, cfg.include_failures)
    if not kept.all():
        log(f"leaving out {int((~kept).sum())} failed sequence(s) (--include-failures keeps "
            f"them)")
    seeds = [int(s) for s in cfg.seeds]
    # an unusable split fails here, before any time is spent on training
    extra = random_splits(data, kept, cfg.splits, cfg.split_strategy == "stratified")
    for spec in specs:
        task_split(data, spec.split, seeds[0], kept)
    with removed_on_failure(Path(cfg.out)):
        return _run(cfg, specs, source, handle, features, precomputed, readout_cfg, seeds,
                    model, kept, extra, log, skipped)


def _scorable(specs: list[TaskSpec], data: Any, log: Callable[[str], None]
              ) -> tuple[list[TaskSpec], dict[str, str]]:
    """(the tasks ``data`` can score, {skipped task: one-line reason}); the physics tasks are
    skipped on stores without foot contacts (``physics_tasks.missing_reason``), with a note.
    Raises ``BenchmarkConfigError`` when no task is left."""
    from .physics_tasks import missing_reason
    from .preflight import BenchmarkConfigError

    skipped = {s.name: why for s in specs if (why := missing_reason(s, data))}
    for why in skipped.values():
        log(why)
    left = [s for s in specs if s.name not in skipped]
    if not left:
        raise BenchmarkConfigError(f"no requested task can be scored on this store: "
                                   f"{'; '.join(skipped.values())}")
    return left, skipped


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


def _run(cfg: RunConfig, specs: list[TaskSpec], source: Any, handle: DatasetHandle,
         features: np.ndarray, precomputed: Any, readout_cfg: Any, seeds: list[int],
         model: Any, kept: np.ndarray, extra_splits: list[Split],
         log: Callable[[str], None], skipped: dict[str, str]) -> RunOutcome:
    """Train (or use ``model``, loaded from the checkpoint) per seed, embed, score every task
    on its own split and on ``extra_splits``, and write results, plots and checkpoints."""
    out = Path(cfg.out)
    data = handle.data
    n_frames = features.shape[1]
    runs: dict[str, dict[str, TaskRun]] = {}
    checkpoints: list[Path] = []
    per_seed: list[dict[str, Any]] = []
    plot_payload: dict[str, Any] = {}
    for i, seed in enumerate(seeds):
        t0 = time.perf_counter()
        if precomputed is None:
            model = _seed_model(cfg, model, seed, features, data, specs, kept, out,
                                checkpoints, log)
            embed = model_embedder(model, features, cfg.model)
        else:
            embed = precomputed.embed_sequences
        timing = {"seed": seed, "train_s": None if cfg.checkpoint or precomputed else
                  round(time.perf_counter() - t0, 3), "embed_s": 0.0, "score_s": 0.0}
        cache: dict[str, tuple[Selection, Embedded, Selection, Embedded]] = {}

        for spec in specs:
            own = task_split(data, spec.split, seed, kept)
            for split in (own, *extra_splits):
                sel_tr, emb_tr, sel_te, emb_te = _embedded(cfg, embed, split, n_frames, cache,
                                                          timing)
                t1 = time.perf_counter()
                for view, dims in score_views(cfg, model).items():
                    run = runs.setdefault(view, {}).setdefault(spec.name, TaskRun(spec=spec))
                    counted = spec.kind == "classification" and not is_multi(spec)
                    if split is own and not run.counts and counted:
                        run.counts = _counts(spec, handle, split, cfg.skip_frames)
                    elif split is not own and counted and i == 0:
                        run.split_missing[split.name] = missing_in_train(
                            _counts(spec, handle, split, cfg.skip_frames))
                    value = score_task(cfg, spec, handle, readout_cfg, seed, run, split.name,
                                       split is own, sel_tr, slice_dims(emb_tr, dims), sel_te,
                                       slice_dims(emb_te, dims))
                    log(f"[seed {seed}] {view} {spec.name} ({split.name}): {spec.metric} = "
                        f"{value:.4f}")
                timing["score_s"] += time.perf_counter() - t1
                if i == 0 and "test" not in plot_payload and split is own:
                    plot_payload["test"] = (sel_te, emb_te)
        timing.update(seed_training(model) if precomputed is None and not cfg.checkpoint
                      else {})
        timing["embed_s"] = round(timing["embed_s"], 3)
        timing["score_s"] = round(timing["score_s"], 3)
        per_seed.append(timing)

    scored_t = plot_payload["test"][0].t if "test" in plot_payload else np.zeros(0)
    provenance = training_provenance(cfg, model, per_seed, n_frames, scored_t,
                                     int((~kept).sum()))
    if skipped:
        provenance["skipped_tasks"] = dict(skipped)
    return _write(cfg, source, handle, precomputed, model, runs, seeds, per_seed, provenance,
                  plot_payload, checkpoints, log)


def _embedded(cfg: RunConfig, embed: Callable[[np.ndarray], np.ndarray], split: Split,
              n_frames: int, cache: dict[str, Any], timing: dict[str, Any]
              ) -> tuple[Selection, Embedded, Selection, Embedded]:
    """(train selection, its embeddings, test selection, its embeddings) of ``split``, embedded
    once per seed (``cache``); the time spent is added to ``timing["embed_s"]``."""
    if split.name not in cache:
        t1 = time.perf_counter()
        parts: list[Any] = []
        for idx, cap in ((split.train, cfg.max_train_frames), (split.test, cfg.max_test_frames)):
            sel = select_frames(idx, n_frames, cap, cfg.skip_frames, cfg.frame_seed)
            parts += [sel, embed_selection(embed, sel, cfg.skip_frames, cfg.embed_batch,
                                           cfg.model)]
        cache[split.name] = tuple(parts)
        timing["embed_s"] += time.perf_counter() - t1
    return cache[split.name]


def _counts(spec: TaskSpec, handle: DatasetHandle, split: Split, skip: int) -> dict[str, Any]:
    names = class_names(spec, handle)
    return {part: class_counts(spec, handle.data, idx, skip, names)
            for part, idx in (("train", split.train), ("test", split.test))}


def _write(cfg: RunConfig, source: Any, handle: DatasetHandle, precomputed: Any, model: Any,
           runs: dict[str, dict[str, TaskRun]], seeds: list[int], per_seed: list[dict],
           provenance: dict[str, Any], plot_payload: dict[str, Any], checkpoints: list[Path],
           log: Callable[[str], None]) -> RunOutcome:
    """One results file (plus plots) per scored view."""
    from . import results as R
    from .plots import embedding_spaces
    from .sources import embeddings_info, model_info, safe_name

    out = Path(cfg.out)
    specs = [r.spec for r in next(iter(runs.values())).values()]
    protocol = quadruped_protocol(
        split_name([s.split for s in specs]), cfg.readout, cfg.ridge, cfg.max_train_frames,
        cfg.max_test_frames, cfg.skip_frames, cfg.frame_seed, cfg.include_failures)
    when = stamp()
    paths: dict[str, Path] = {}
    results: dict[str, Any] = {}
    all_artifacts: list[Path] = []
    trained = not (cfg.checkpoint or precomputed)
    for view, view_runs in runs.items():
        stem = f"{safe_name(view)}_{handle.name}_{when}"
        artifacts: list[Path] = []
        if cfg.plots:
            spaces = embedding_spaces(model) if view == cfg.model else None
            artifacts = plots(cfg, view, spaces, handle.data, handle, view_runs, plot_payload,
                              out, stem, log)
        text = notes(cfg)
        if provenance.get("skipped_tasks"):
            text += "; " + "; ".join(provenance["skipped_tasks"].values())
        if view != cfg.model:
            text = (f"{view}: the {SPACE_VIEWS[cfg.model][view]}-term space of the {cfg.model} "
                    f"model trained in this run (no separate training); " + text)
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
            tasks=[task_score(run, cfg, n_classes(run.spec, handle, handle.data))
                   for run in view_runs.values()],
            seeds=seeds,
            train_time_s=sum(p["train_s"] for p in per_seed) if trained else None,
            eval_time_s=sum(p["embed_s"] + p["score_s"] for p in per_seed),
            **run_provenance(cfg.device),
            provenance=provenance,
            artifacts=[str(a.relative_to(out)) for a in artifacts],
            notes=text,
        )
        results[view] = res
        all_artifacts += artifacts
    if cfg.plots:
        fig = _timescale_figure(results, out, f"{safe_name(cfg.model)}_{handle.name}_{when}",
                                f"{cfg.model} on {handle.name}", log)
        if fig is not None:
            all_artifacts.append(fig)
            for res in results.values():
                res.artifacts.append(str(fig.relative_to(out)))
    for view, res in results.items():
        paths[view] = R.save_results(res, out / f"{safe_name(view)}_{handle.name}_{when}.json")
    return RunOutcome(results=results[cfg.model], results_path=paths[cfg.model],
                      checkpoints=checkpoints, artifacts=all_artifacts,
                      task_runs=runs[cfg.model],
                      extra_results={v: p for v, p in paths.items() if v != cfg.model})


def _timescale_figure(results: dict[str, Any], out: Path, stem: str, title: str,
                      log: Callable[[str], None]) -> Path | None:
    """The timescale profile PNG of every scored view (``timescale.py``), or None when no
    task has a timescale or plotting fails."""
    from .timescale import profile

    points = profile(results)
    if not any(points.values()):
        return None
    try:
        from .plots import timescale_profile_png
    except Exception as e:  # noqa: BLE001 - plots are optional
        log(f"timescale profile skipped: {e}")
        return None
    return timescale_profile_png(points, out / f"{stem}_timescale.png",
                                 title=f"{title}: score by the timescale of the label")


def _seed_model(cfg: RunConfig, model: Any, seed: int, features: np.ndarray, data: Any,
                specs: list[TaskSpec], kept: np.ndarray, out: Path, checkpoints: list[Path],
                log: Callable[[str], None]) -> Any:
    """The model of ``seed``: loaded from ``cfg.checkpoint`` once, or trained from scratch on
    the kept sequences (``fit_on="train"``: the train parts of the tasks' own splits)."""
    from .sources import build_model, checkpoint_model, safe_name

    if cfg.checkpoint:
        return checkpoint_model(cfg, model, log)
    model = build_model(cfg, seed)
    fit_idx = np.flatnonzero(kept)
    if cfg.fit_on == "train":
        fit_idx = np.unique(np.concatenate([task_split(data, s.split, seed, kept).train
                                            for s in specs]))
    log(f"[seed {seed}] training {cfg.model} on {len(fit_idx)} sequences")
    model.fit(features if len(fit_idx) == len(features) else features[fit_idx])
    if cfg.save_checkpoint:
        ck = out / "checkpoints" / f"{safe_name(cfg.model)}_seed{seed}.pt"
        model.save(ck)
        checkpoints.append(ck)
    return model
