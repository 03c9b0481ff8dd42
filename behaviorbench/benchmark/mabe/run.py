"""``run-benchmark --mabe-data DIR``: the MABe 2022 protocol as a ``load.PIPELINES`` entry.

For each training seed in ``cfg.seeds`` a fresh model is built from the registry (the run's
config overrides, ``seed``), fitted on the per-mouse keypoint sequences of the train + test files
(as BAMS), the test clips are embedded into a submission and scored by the official evaluator
(:func:`.pipeline.run_mabe_benchmark`). ``out/mabe_seed<s>/`` receives ``submission.npy``, the
official-layout ``results.csv`` and ``results.json``. One results JSON (``results.py`` schema)
gathers the seeds: per task the official **Private Score at alpha 1.0** of each training seed
(mean, std over seeds); public, no-ensemble, pooled and per-alpha scores go to the task's
``extra``. Without a split file the evaluator's fallback split is used: the notes, every task's
``extra["official_split"]`` and the model's display name then say UNOFFICIAL.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .files import FILE_NAMES, MD5_PREFIXES, find_mabe_files
from .protocol import REPORT_ALPHA, TasksInfo, load_split, load_tasks

DATASET_NAME = "mabe22-mouse-triplets"
#: Runs on our fallback split are a different benchmark: they never rank beside official ones.
UNOFFICIAL_DATASET_NAME = "mabe22-mouse-triplets-unofficial-split"
"""Results ``dataset.name`` (the name of the leaderboard's published MABe rows)."""
DATASET_KIND = "mabe22"
USED_FILES = ("train", "test", "labels")
"""Kinds of official files the pipeline reads (the frame map is taken from the labels file)."""


def file_digests(path: str | Path, chunk_bytes: int = 1 << 24) -> dict[str, str]:
    """``{'sha256': hex, 'md5': hex}`` of a file, both from one streamed read."""
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as fp:
        while block := fp.read(chunk_bytes):
            sha.update(block)
            md5.update(block)
    return {"sha256": sha.hexdigest(), "md5": md5.hexdigest()}


def data_checksum(files: dict[str, Path]) -> tuple[str, dict[str, dict[str, Any]]]:
    """('sha256:<hex>' over the used files' contents, per-kind {name, sha256, md5, official}).

    The combined digest is sha256 of the lines ``kind=sha256`` (sorted by kind), so it does not
    depend on the naming scheme. ``official`` is True/False where the official md5 prefix is
    known (``files.MD5_PREFIXES``).
    """
    per: dict[str, dict[str, Any]] = {}
    for kind in USED_FILES:
        if kind in files:
            d = file_digests(files[kind])
            prefix = MD5_PREFIXES.get(kind)
            per[kind] = {"name": files[kind].name, **d,
                         "official": None if prefix is None else d["md5"].startswith(prefix)}
    lines = "\n".join(f"{k}={per[k]['sha256']}" for k in sorted(per))
    return "sha256:" + hashlib.sha256(lines.encode()).hexdigest(), per


def _tasks_info(cfg: Any) -> TasksInfo:
    return load_tasks(cfg.mabe_tasks) if cfg.mabe_tasks else TasksInfo.default()


def run_mabe_pipeline(cfg: Any, specs: list, log: Callable[[str], None] = print) -> Any:
    """Run ``cfg`` (a ``config.RunConfig`` with ``data`` = the MABe folder); see module doc."""

    from .. import results as R
    from ..sources import build_model, checkpoint_model, model_info, resolve_source, safe_name
    from ..write import RunOutcome, run_provenance
    from .pipeline import run_mabe_benchmark

    if cfg.spaces:
        raise ValueError("--spaces is not supported with the MABe pipeline")
    if cfg.fit_on != "all":
        raise ValueError("the MABe pipeline fits on the train + test keypoints (fit_on='all')")
    data_dir = Path(cfg.data)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"MABe data folder {data_dir} does not exist")
    files = find_mabe_files(data_dir)
    missing = [k for k in ("test", "labels") if k not in files]
    if missing:
        raise FileNotFoundError(
            f"no {' / '.join(missing)} file in {data_dir}; expected one of "
            + ", ".join(n for k in missing for n in FILE_NAMES[k])
        )
    split = load_split(cfg.mabe_split) if cfg.mabe_split else None
    tasks_info = _tasks_info(cfg)
    absent = [s.name for s in specs if s.name not in tasks_info.task_ids]
    if absent:
        raise ValueError(f"tasks {absent} are not in the tasks file {cfg.mabe_tasks}")
    official = split is not None
    if not official:
        log("UNOFFICIAL: no --mabe-split given; the evaluator uses our fallback split")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in cfg.seeds]

    log(f"checksumming {', '.join(p.name for k, p in files.items() if k in USED_FILES)}")
    checksum, digests = data_checksum(files)

    per_seed: list[dict] = []
    checkpoints: list[Path] = []
    outputs: dict[str, Path] = {}
    train_time = eval_time = 0.0
    model = None
    for seed in seeds:
        if cfg.checkpoint:
            model = checkpoint_model(cfg, model, log)
        else:
            model = build_model(cfg, seed)
        log(f"[seed {seed}] {'embedding with' if cfg.checkpoint else 'training'} {cfg.model} "
            f"on {data_dir}")
        seed_dir = out / f"mabe_seed{seed}"
        res = run_mabe_benchmark(model, data_dir, split=split, tasks=tasks_info,
                                 out_dir=seed_dir, fit=not cfg.checkpoint)
        t = res["timings_s"]
        train_time += t["fit"]
        eval_time += t["embed"] + t["evaluate"]
        if not cfg.checkpoint and cfg.save_checkpoint:
            ck = out / "checkpoints" / f"{safe_name(cfg.model)}_seed{seed}.pt"
            model.save(ck)
            checkpoints.append(ck)
        for kind in ("submission", "csv"):
            outputs[f"{kind} (seed {seed})"] = Path(res["paths"][kind])
        per_seed.append(res)
        for row in res["table"]:
            if row["Task ID"] in {s.name for s in specs}:
                log(f"[seed {seed}] {row['Task ID']}: private {row['Metric']} = "
                    f"{row['Private Score']:.4f}")

    task_scores = [_task_score(spec, seeds, per_seed, official) for spec in specs]
    names = ", ".join(f"{v['name']} md5 {v['md5']}"
                      + ("" if v["official"] is None
                         else f" ({'matches' if v['official'] else 'differs from'} the official "
                              "md5 prefix)")
                      for v in digests.values())
    split_note = (f"official split file {Path(cfg.mabe_split).name} "
                  f"(md5 {file_digests(cfg.mabe_split)['md5']})" if official else
                  "UNOFFICIAL: no split file given, scores use the fallback split "
                  "(protocol.fallback_split), not comparable to official MABe scores")
    notes = (f"MABe 2022 official protocol (behaviorbench.benchmark.mabe); {split_note}; "
             f"tasks file {Path(cfg.mabe_tasks).name if cfg.mabe_tasks else 'default (published)'}"
             f", probe seeds {tasks_info.seeds}; task values = Private Score at alpha "
             f"{REPORT_ALPHA} per training seed ("
             + ("model loaded from " + cfg.checkpoint if cfg.checkpoint else
                "model fitted per seed on train + test keypoints")
             + f"); input files: {names}")
    display = None if official else f"{cfg.model} (unofficial split)"
    result = R.BenchmarkResults(
        model=model_info(cfg.model, model, resolve_source(cfg.model),
                         per_seed=not cfg.checkpoint, display_name=display),
        dataset=R.DatasetInfo(name=DATASET_NAME if official else UNOFFICIAL_DATASET_NAME,
                              kind=DATASET_KIND, path=str(cfg.data),
                              schema_version=None, checksum=checksum),
        protocol=mabe_protocol(cfg, tasks_info),
        tasks=task_scores,
        seeds=seeds,
        train_time_s=train_time if not cfg.checkpoint else None,
        eval_time_s=eval_time,
        **run_provenance(cfg.device),
        notes=notes,
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = R.save_results(result, out / f"{safe_name(cfg.model)}_{DATASET_NAME}_{stamp}.json")
    return RunOutcome(results=result, results_path=path, checkpoints=checkpoints, artifacts=[],
                      task_runs={}, files=outputs)


MABE_PROTOCOL = "mabe22-official"
MABE_PROTOCOL_VERSION = "1"


def mabe_protocol(cfg: Any, tasks_info: TasksInfo) -> Any:
    """The ``ProtocolInfo`` of a MABe run: split file (md5) or the fallback split, tasks file,
    probe seeds and the evaluator's ridge alphas."""
    from ..results import ProtocolInfo
    from .protocol import OFFICIAL_ALPHAS

    split = (f"split file md5 {file_digests(cfg.mabe_split)['md5']}" if cfg.mabe_split
             else "fallback (unofficial)")
    tasks = (f"md5 {file_digests(cfg.mabe_tasks)['md5']}" if cfg.mabe_tasks
             else "default (published)")
    return ProtocolInfo.build(
        MABE_PROTOCOL, MABE_PROTOCOL_VERSION, split,
        readout={"evaluator": "official ridge probes", "alphas": list(OFFICIAL_ALPHAS),
                 "report_alpha": REPORT_ALPHA, "probe_seeds": list(tasks_info.seeds),
                 "tasks_file": tasks})


def _task_score(spec: Any, seeds: list[int], per_seed: list[dict], official: bool) -> Any:
    from ..results import TaskScore

    rows = [next(t for t in r["tasks"] if t["task_id"] == spec.name) for r in per_seed]
    seq = bool(rows[0]["sequence_level"])
    detail = []
    for seed, t in zip(seeds, rows, strict=True):
        d = {"seed": seed, "private": t["private"], "public": t["public"],
             "no_ensemble": t["no_ensemble"], "private_by_alpha": t["private_by_alpha"],
             "public_by_alpha": t["public_by_alpha"]}
        if seq:
            d.update(pooled=t["pooled"], pooled_aligned=t["pooled_aligned"])
        detail.append(d)
    extra: dict[str, Any] = {
        "score": "private",
        "alpha": REPORT_ALPHA,
        "official_split": official,
        "official_metric": rows[0]["metric"],
        "sequence_level": seq,
        "public": float(np.mean([t["public"] for t in rows])),
        "no_ensemble": float(np.mean([t["no_ensemble"] for t in rows])),
        "private_by_alpha": _mean_by_alpha(rows, "private_by_alpha"),
        "public_by_alpha": _mean_by_alpha(rows, "public_by_alpha"),
        "n_train_rows": int(np.mean(rows[0]["n_train_frames"])),
        "n_train_frames_per_probe_seed": rows[0]["n_train_frames"],
        "n_test_rows": rows[0]["n_test_frames"],
        "per_seed": detail,
    }
    if seq:
        extra["pooled"] = float(np.mean([t["pooled"] for t in rows]))
        extra["pooled_aligned"] = float(np.mean([t["pooled_aligned"] for t in rows]))
    note = ("official MABe evaluator, Private Score (privateTest + publicTest) at alpha "
            f"{REPORT_ALPHA}, ensemble of the probe seeds"
            + ("" if official else "; UNOFFICIAL fallback split"))
    return TaskScore.from_values(spec.name, spec.metric, spec.higher_is_better, spec.level,
                                 [t["private"] for t in rows], seeds, extra=_jsonable(extra),
                                 note=note)


def _jsonable(obj: Any) -> Any:
    """Plain JSON types (numpy scalars -> Python; non-finite floats -> None)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def _mean_by_alpha(rows: list[dict], key: str) -> dict[str, float]:
    return {a: float(np.mean([t[key][a] for t in rows])) for a in rows[0][key]}
