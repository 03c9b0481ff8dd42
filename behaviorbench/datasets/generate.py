"""Generate a terrain dataset: plan runs, cut them into shards, simulate, commit, finalise.

Trajectory ``j`` of the store (before failures are dropped) is trajectory ``j % n_per_run`` of
run ``j // n_per_run``; shard ``k`` holds slots ``[k * shard_size, (k + 1) * shard_size)``.
Each trajectory depends only on (run, index) and each run seed only on (dataset seed, run
index), so the arrays are identical whatever the number of workers, the executor, or the
number of times generation was interrupted and resumed.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from behaviorbench.datasets import schema, store
from behaviorbench.datasets.backends import RunPlan, resolve_backend
from behaviorbench.datasets.config import ConfigError, GenerationConfig
from behaviorbench.datasets.executors import make_executor
from behaviorbench.datasets.provenance import (
    check_simulator,
    controller_identity,
    controller_record,
    controller_spec,
    jsonable,
    same_controller,
    simulator_record,
)


@dataclass(frozen=True)
class ShardTask:
    """Slots ``[start, start + n)``: per run touched, (run index, trajectory indices)."""

    shard_id: int
    start: int
    pieces: tuple[tuple[int, tuple[int, ...]], ...]

    @property
    def n(self) -> int:
        return sum(len(ix) for _, ix in self.pieces)


def run_seed(seed: int, run_index: int) -> int:
    """Run seed from the dataset seed (uint63, independent streams per run)."""
    state = np.random.SeedSequence([int(seed), int(run_index)]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def plan_runs(cfg: GenerationConfig) -> list[RunPlan]:
    mix = tuple(cfg.terrain_mix().items())
    controller = controller_spec(cfg)
    return [
        RunPlan(run_index=i, robot=robot, command_vel=vel, n_robots=cfg.trajectories_per_run,
                episode_s=float(cfg.episode_s), terrain_mix=mix,
                difficulties=tuple(float(d) for d in cfg.difficulties),
                added_mass_range=(float(cfg.added_mass_range[0]),
                                  float(cfg.added_mass_range[1])),
                seed=run_seed(cfg.seed, i), keep_failures=bool(cfg.keep_failures),
                vertical_walls=bool(cfg.vertical_walls), controller=controller)
        for i, (robot, vel) in enumerate(cfg.runs)
    ]


def plan_shards(cfg: GenerationConfig) -> list[ShardTask]:
    per_run, size, total = cfg.trajectories_per_run, cfg.shard_size, cfg.n_attempted
    tasks = []
    for sid, start in enumerate(range(0, total, size)):
        slots = range(start, min(start + size, total))
        pieces: dict[int, list[int]] = {}
        for s in slots:
            pieces.setdefault(s // per_run, []).append(s % per_run)
        tasks.append(ShardTask(sid, start, tuple((r, tuple(ix)) for r, ix in pieces.items())))
    return tasks


def run_shard(path: str, backend: str, plans: list[RunPlan], task: ShardTask,
              n_frames: int) -> dict:
    """Simulate one shard and write its rows into the staging arrays (runs in a worker)."""
    simulate = resolve_backend(backend)
    t0 = time.perf_counter()
    batches = [simulate(plans[r], list(ix)) for r, ix in task.pieces]
    missing = sorted({k for b in batches for k in store.missing_physics(b)})
    parts = [store.batch_to_arrays(b) for b in batches]
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in schema.ARRAYS}
    for name, a in arrays.items():
        want = schema.ARRAYS[name].shape(task.n, n_frames)
        if a.shape != want:
            raise RuntimeError(f"backend {backend!r} returned {name} of shape {a.shape}, "
                               f"expected {want}")
    store.write_shard_rows(Path(path), task.start, arrays)
    n_ok = int(arrays["success"].sum())
    codes, counts = np.unique(arrays["failure_reason"][~arrays["success"]], return_counts=True)
    reasons = {schema.FAILURE_REASONS[c]: int(k) for c, k in zip(codes, counts, strict=True)}
    return {"shard_id": task.shard_id, "n": task.n, "n_success": n_ok,
            "failure_reasons": reasons, "missing_fields": missing,
            "wall_s": time.perf_counter() - t0}


# ----------------------------------------------------------------------------- checks
def preflight(out: Path, cfg: GenerationConfig, *, resume: bool, overwrite: bool) -> str:
    """Check the target before anything is written. Returns "new", "resume" or "complete".

    Raises ``ConfigError`` (one line) for a controller that cannot be loaded (a policy file
    that is not a model or has the wrong input or output size), an existing store with another
    config or begun by another controller, an existing non-store path, an existing store
    without ``--resume``/``--overwrite``, an unwritable path.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a directory")
    if cfg.controller != "trot":  # a bad policy file or class fails here, before any write
        controller_identity(cfg)
    if out.is_dir() and any(out.iterdir()):
        attrs = store.read_root_attrs(out)
        if overwrite:
            if attrs is None or attrs.get("generator") != "behaviorbench":
                raise ConfigError(f"{out} is not a behaviorbench store; refusing to overwrite")
            side = overwrite_path(out)
            if side.exists() and not (side.is_dir() and (
                    not any(side.iterdir()) or (store.read_root_attrs(side) or {}).get(
                        "generator") == "behaviorbench")):
                raise ConfigError(f"{side} (where --overwrite builds the new store) exists and "
                                  f"is not a behaviorbench store; move it away")
            _check_writable(out.parent)
            return "new"
        if attrs is None or attrs.get("generator") != "behaviorbench":
            raise ConfigError(f"{out} exists and is not a behaviorbench store")
        if not resume:
            raise ConfigError(f"{out} already exists; pass --resume to continue it or "
                              f"--overwrite to replace it")
        if attrs.get("config") != jsonable(cfg.to_dict()):
            diff = _config_diff(attrs.get("config", {}), jsonable(cfg.to_dict()))
            raise ConfigError(f"{out} holds a store with another config ({diff})")
        ident = controller_identity(cfg)
        if not same_controller(attrs.get("controller_identity"), ident):
            from behaviorbench.simulation.controller_protocol import describe

            was = attrs.get("controller_identity") or {"name": "trot"}
            raise ConfigError(f"{out} was started by another controller ({describe(was)}, not "
                              f"{describe(ident)}); resuming would mix gaits: use --overwrite")
        controller = controller_record(cfg)
        if attrs.get("controller") != controller:
            diff = _config_diff(attrs.get("controller") or {}, controller)
            raise ConfigError(f"{out} was started by another version of the locomotion "
                              f"controller ({diff or 'not recorded'}); resuming would mix "
                              f"gaits: use --overwrite")
        check_simulator(out, attrs, cfg.backend, cfg.controller)
        _check_writable(out)
        if attrs.get("status") == store.STATUS_COMPLETE:
            return "complete"
        if not (store.staging_path(out) / store.MANIFEST).is_file():
            raise ConfigError(f"{out} is incomplete and has no staging manifest; use --overwrite")
        return "resume"
    parent = out if out.is_dir() else _existing_parent(out)
    _check_writable(parent)
    return "new"


def _existing_parent(p: Path) -> Path:
    p = p.absolute().parent
    while not p.exists():
        p = p.parent
    return p


def _check_writable(p: Path) -> None:
    """Probe ``p`` by creating and removing a temporary directory (works as root too)."""
    import tempfile

    if not p.is_dir():
        raise ConfigError(f"cannot write to {p}: not a directory")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".bb-probe-", dir=p))
    except OSError as e:
        raise ConfigError(f"cannot write to {p}: {e.strerror}") from e


def _config_diff(a: dict, b: dict) -> str:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k}: {a.get(k)!r} != {b.get(k)!r}" for k in keys[:3])


# ----------------------------------------------------------------------------- driver

ProgressFn = Callable[[int, int, float], None]  # (trajectories done, total, simulated s)


class GenerationError(RuntimeError):
    """Generation failed (or was interrupted) once the work had started.

    ``cause``: the exception that stopped it; ``kept``: what is left on disk, one phrase
    ("nothing was written", "<out> is unchanged", "<out> is resumable with --resume");
    ``interrupted``: True for Ctrl-C (``KeyboardInterrupt``).
    """

    def __init__(self, cause: BaseException, kept: str, interrupted: bool = False):
        self.cause, self.kept, self.interrupted = cause, kept, interrupted
        what = "interrupted" if interrupted else f"{type(cause).__name__}: {cause}"
        super().__init__(" ".join(f"{what}; {kept}".split()))


class GenerationInterrupted(KeyboardInterrupt):
    """Ctrl-C during generation, after the cleanup; ``kept``: what is left on disk."""

    def __init__(self, kept: str):
        self.kept = kept
        super().__init__(f"interrupted; {kept}")


def overwrite_path(out: Path) -> Path:
    """Where ``--overwrite`` builds the new store: a hidden sibling of ``out`` (same file
    system, so the final swap is a rename)."""
    out = Path(out)
    return out.parent / f".{out.name}.behaviorbench-new"


def _swap(new: Path, out: Path) -> None:
    """Put the complete store ``new`` at ``out`` and the old store at ``new``.

    Linux: one ``renameat2(RENAME_EXCHANGE)``, so ``out`` always holds a complete store.
    Elsewhere: two renames; a crash between them leaves the old store at a hidden sibling.
    """
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        fn = None
    if fn is not None:
        at_fdcwd, rename_exchange = -100, 2
        if fn(at_fdcwd, os.fsencode(str(new)), at_fdcwd, os.fsencode(str(out)),
              rename_exchange) == 0:
            return
    old = out.parent / f".{out.name}.behaviorbench-old"
    if old.exists():
        shutil.rmtree(old)
    os.rename(out, old)
    os.rename(new, out)
    os.rename(old, new)


def _first_missing(p: Path) -> Path | None:
    """The outermost of ``p`` and its ancestors that does not exist yet (None: ``p`` exists)."""
    p = p.absolute()
    if p.exists():
        return None
    while not p.parent.exists():
        p = p.parent
    return p


def generate(out: str | os.PathLike, cfg: GenerationConfig, *, workers: int = 1,
             executor: str = "process", resume: bool = False, overwrite: bool = False,
             progress: ProgressFn | None = None, ray_address: str | None = None,
             layout: store.Layout = store.DEFAULT_LAYOUT, force: bool = False) -> dict:
    """Generate (or resume) the store at ``out``; returns its final root attributes.

    ``progress(done, total, sim_seconds)`` is called after every committed shard.
    Raises ``ConfigError`` on bad input before anything is written, including a job whose
    estimated memory or disk (``resources.generation_estimate``) exceeds the machine's, unless
    ``force``. With ``overwrite`` the new store is built beside the old one
    (``overwrite_path``) and swapped in only once complete: a failed or killed run leaves the
    old store as it was. A failure once the work has started raises ``GenerationError`` naming
    the cause and what was kept: nothing (a new store none of whose shards was committed is
    removed), the unchanged old store, or a store resumable with ``resume=True``; Ctrl-C
    raises ``GenerationInterrupted`` (a ``KeyboardInterrupt``) saying the same.
    """
    from behaviorbench.datasets import resources

    cfg.validate()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a positive integer, got {workers}")
    resolve_backend(cfg.backend)  # fail fast on a missing simulator (cheap, lazy import)
    out = Path(out)
    state = preflight(out, cfg, resume=resume, overwrite=overwrite)
    if state != "complete":
        resources.check(resources.generation_estimate(cfg, workers), out, force=force,
                        what=f"generating {cfg.n_attempted} trajectories of {cfg.episode_s:g} s")
    ex = make_executor(executor, workers, ray_address)
    conf = jsonable(cfg.to_dict())
    if state == "complete":
        shutil.rmtree(store.staging_path(out), ignore_errors=True)
        return store.read_root_attrs(out)
    replacing = state == "new" and out.is_dir() and any(out.iterdir())
    target = overwrite_path(out) if replacing else out
    created = _first_missing(target)  # removed again if nothing worth keeping was written
    if replacing and target.exists():
        shutil.rmtree(target)  # left by a killed --overwrite run: never holds the live store
    try:
        attrs = _build(target, cfg, conf, state, ex, progress, layout)
    except BaseException as e:
        failure = _failed(e, out, target, created, state, replacing)
        if failure.interrupted:
            raise GenerationInterrupted(failure.kept) from e
        raise failure from e
    if replacing:
        _swap(target, out)
        shutil.rmtree(target, ignore_errors=True)  # the old store, now at the sibling path
    return attrs


def _failed(e: BaseException, out: Path, target: Path, created: Path | None, state: str,
            replacing: bool) -> GenerationError:
    """Clean up after a failure in ``_build``; the ``GenerationError`` saying what was kept."""
    interrupted = isinstance(e, KeyboardInterrupt)
    if replacing:
        shutil.rmtree(target, ignore_errors=True)
        return GenerationError(e, f"{out} is unchanged", interrupted)
    committed = 0
    try:
        committed = len(store.committed_ids(store.read_manifest(target)))
    except (OSError, ValueError, KeyError):
        pass
    if committed == 0 and state == "new":
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        else:  # ``out`` was an empty directory: empty it again
            for child in out.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        return GenerationError(e, "nothing was written", interrupted)
    return GenerationError(e, f"{out} is resumable: run again with --resume to finish it",
                           interrupted)


def _build(out: Path, cfg: GenerationConfig, conf: dict, state: str, ex,
           progress: ProgressFn | None, layout: store.Layout) -> dict:
    """Create (``state`` "new") or continue the store at ``out``, simulate every shard not yet
    committed, and finalise it; returns the final root attributes."""
    if state == "new":
        store.create_root(out, conf, _controller_attrs(cfg))
        store.create_staging(out, cfg.n_attempted, cfg.n_frames, cfg.shard_size)
    else:
        store.clean_partial_files(store.staging_path(out))
    manifest = store.read_manifest(out)
    done_ids = set(store.committed_ids(manifest))
    tasks = [t for t in plan_shards(cfg) if t.shard_id not in done_ids]
    plans = plan_runs(cfg)
    total = cfg.n_attempted
    done = sum(int(v["n"]) for v in manifest["committed"].values() if "n" in v)
    if progress:
        progress(done, total, 0.0)
    sim_s = 0.0
    args = [(str(out), cfg.backend, plans, t, cfg.n_frames) for t in tasks]
    for res in ex.run(run_shard, args):
        store.commit_shards(out, {res["shard_id"]: res})
        done += res["n"]
        sim_s += res["n"] * cfg.episode_s
        if progress:
            progress(done, total, sim_s)
    return store.finalize(out, conf, keep_failures=cfg.keep_failures, layout=layout,
                          extra_attrs=_controller_attrs(cfg))


def _controller_attrs(cfg: GenerationConfig) -> dict:
    """Root attributes naming what made the trajectories: ``controller`` (its parameters),
    ``controller_identity`` (name, source, config, policy file sha256) and ``simulator``
    (package versions)."""
    return {"controller": controller_record(cfg), "controller_identity": controller_identity(cfg),
            "simulator": simulator_record(cfg.backend, cfg.controller)}
