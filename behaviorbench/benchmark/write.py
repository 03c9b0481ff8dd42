"""Write a run's outputs: results JSON per scored view, plots, and what every pipeline records.

- ``RunOutcome``: what ``run_benchmark`` (and each ``load.PIPELINES`` entry) returns.
- ``run_provenance(device)``: where and when a run happened (hardware, versions, memory, date).
- ``training_provenance``: precision, epochs and optimiser steps run, final loss per term,
  sequence length against each encoder's receptive field, time per seed.
- ``removed_on_failure(out)``: nothing a failed run wrote under ``out`` is left behind.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import hardware


@dataclass
class RunOutcome:
    """What ``run_benchmark`` produced (``results``/``results_path``: the main model's)."""

    results: Any  # results.BenchmarkResults
    results_path: Path
    checkpoints: list[Path]
    artifacts: list[Path]
    task_runs: dict[str, Any]  # task name -> score.TaskRun
    extra_results: dict[str, Path] = field(default_factory=dict)  # view name -> results file
    files: dict[str, Path] = field(default_factory=dict)  # other outputs (MABe submissions, CSVs)


def readout_device(device: str) -> str:
    """The readout's torch device for the run's ``device`` ("auto": cuda when present)."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _hardware(device: str) -> Any:
    from .results import Hardware

    gpus = hardware.gpu_models()
    return Hardware(cpu_model=hardware.cpu_model() or "unknown",
                    gpu_model=gpus[0] if gpus else None,
                    device=readout_device(device),
                    cpu_count=hardware.hardware_info()["cpu_count"])


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


#: history keys of ``models.training.Trainer`` that are not loss terms
_NOT_LOSS = {"epoch", "seconds", "frames_per_s", "lr", "step", "precision"}


def seed_training(model: Any) -> dict[str, Any]:
    """What the trained ``model`` records of its training (``Trainer`` history), or {}."""
    history = getattr(model, "history", None)
    if not history or not isinstance(history, list) or not isinstance(history[-1], dict):
        return {}
    last = history[-1]
    return {"precision": last.get("precision"), "epochs_run": len(history),
            "optimizer_steps": last.get("step"),
            "final_loss": {k: float(v) for k, v in last.items()
                           if k not in _NOT_LOSS and isinstance(v, (int, float))}}


def receptive_fields(model: Any) -> dict[str, int]:
    """{encoder: receptive field (frames)} of ``model``, or {} when it has none."""
    try:
        rf = getattr(model, "receptive_fields", None)
    except Exception:  # noqa: BLE001 - an untrained model has no network yet
        return {}
    return {str(k): int(v) for k, v in (rf or {}).items()}


def training_provenance(cfg: Any, model: Any, per_seed: list[dict[str, Any]], n_frames: int,
                        scored_t: np.ndarray, n_excluded: int) -> dict[str, Any]:
    """The results' ``provenance`` block (module docstring); ``scored_t``: frame index of
    every scored test row of the first seed; ``per_seed``: one dict per seed with its times."""
    rf = receptive_fields(model) if model is not None else {}
    precisions = {p["precision"] for p in per_seed if p.get("precision")}
    return {
        "precision": precisions.pop() if len(precisions) == 1 else sorted(precisions) or None,
        "per_seed": per_seed,
        "sequence_length": int(n_frames),
        "receptive_fields": rf,
        "scored_frames_before_receptive_field": {
            k: float(np.mean(scored_t < v - 1)) if len(scored_t) else 0.0 for k, v in rf.items()},
        "failed_sequences_excluded": int(n_excluded),
        "include_failures": bool(cfg.include_failures),
        "splits": {"random": int(cfg.splits), "strategy": cfg.split_strategy},
        "fit_on": cfg.fit_on,
        "checkpoint": cfg.checkpoint,
    }


def notes(cfg: Any) -> str:
    """One paragraph: how the run was done (model fitting, readouts, frames)."""
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


def _readout_note(r: Any) -> str:
    if r.solver == "lbfgs":
        return (f"linear readout L-BFGS to convergence (tol {r.lbfgs_tol}, max {r.lbfgs_max_iter} "
                f"iterations, l2 {r.lbfgs_l2}, class-balanced cross-entropy)")
    return (f"linear readout {r.steps} full-batch AdamW steps (lr {r.lr}, wd {r.weight_decay}, "
            f"class-balanced cross-entropy)")


def plots(cfg: Any, view: str, spaces: Any, data: Any, handle: Any, runs: dict[str, Any],
          payload: dict[str, Any], out: Path, stem: str, log: Callable[[str], None]
          ) -> list[Path]:
    """PCA projections (main result only, ``spaces``: one figure per named embedding slice)
    and confusion matrices."""
    try:
        from . import plots as P
    except Exception as e:  # noqa: BLE001 - plots are optional
        log(f"plots skipped: {e}")
        return []
    files: list[Path] = []
    if spaces is not None and "test" in payload:
        sel, emb = payload["test"]
        files += P.embedding_projections(
            emb.rows, sel, data, handle.vocabularies, spaces, out, stem, seed=cfg.frame_seed,
        )
    for run in runs.values():
        if run.confusions:
            names = list(handle.vocabularies.get(run.spec.label, run.spec.class_names or ()))
            png = out / f"{stem}_confusion_{run.spec.name}.png"
            files.append(P.confusion_matrix_png(
                np.mean(run.confusions, axis=0), names, png,
                title=f"{view}: {run.spec.name} (mean over {len(run.values)} seed(s))",
            ))
    return files


def stamp() -> str:
    """Local time as YYYYmmdd-HHMMSS, the suffix of a run's file names."""
    return time.strftime("%Y%m%d-%H%M%S")


@contextlib.contextmanager
def removed_on_failure(out: Path) -> Iterator[None]:
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
