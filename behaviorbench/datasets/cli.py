"""``generate-terrain-data --out PATH``: simulate quadrupeds on terrain into a Zarr v3 store.

With no other option: the small ``default`` preset (both robots, all terrain kinds).
``--preset paper`` uses the original dataset's settings.

Exit codes: 0 the store is complete; 2 bad input (one line on stderr, nothing written or
changed), including a job whose estimated memory or disk exceeds the machine's (``--force``
runs it anyway); 1 a failure during the work (one line naming the cause and what was kept:
nothing, the unchanged old store with ``--overwrite``, or a store to finish with ``--resume``);
130 interrupted (Ctrl-C). ``--debug`` or ``BEHAVIORBENCH_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

from behaviorbench.datasets.config import (
    BACKENDS_RESERVED,
    PAPER_TERRAIN_PROPORTIONS,
    PRESETS,
    TERRAIN_KINDS,
    ConfigError,
    GenerationConfig,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints usage too by default)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _floats(s: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in s.split(",") if x.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {s!r}") from e


def _names(s: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in s.split(",") if x.strip())


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="generate-terrain-data", description=__doc__,
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="store directory to create (Zarr v3)")
    ap.add_argument("--preset", default="default", choices=sorted(PRESETS),
                    help="base settings; the options below override them (default: default)")
    ap.add_argument("--robots", type=_names, help="comma list of anymal_b, anymal_c")
    ap.add_argument("--trajectories-per-run", type=int,
                    help="robots simulated per (robot, command velocity) run")
    ap.add_argument("--command-vels", type=_floats, help="comma list of forward commands, m/s")
    ap.add_argument("--episode-s", type=float, help="trajectory length, s (50 Hz frames)")
    ap.add_argument("--terrains", type=_names,
                    help=f"comma list of sub-terrain kinds ({', '.join(TERRAIN_KINDS)}); "
                         f"proportions as the paper's, renormalised")
    ap.add_argument("--terrain-proportions", type=_floats,
                    help="comma list, one per --terrains kind")
    ap.add_argument("--difficulties", type=_floats, help="comma list in [0, 1]")
    ap.add_argument("--added-mass", type=float, nargs=2, metavar=("MIN", "MAX"),
                    help="added base mass range, kg (default -5 5)")
    ap.add_argument("--seed", type=int, help="dataset seed (default 0)")
    ap.add_argument("--backend", default=None,
                    choices=["mujoco", *BACKENDS_RESERVED], help="simulator (default mujoco)")
    ap.add_argument("--height-field-ramps", action="store_true",
                    help="stairs and obstacles as plain height-field steps (0.1 m ramps) instead "
                         "of vertical walls (the original's trimesh)")
    ap.add_argument("--controller", default=None, metavar="NAME|module:Class|FILE",
                    help="what walks the robots: trot (the built-in model-based controller, "
                         "default), a policy file (TorchScript .pt, or ONNX .onnx with "
                         "behaviorbench[onnx]) taking the observation of docs/environment.md, "
                         "or module:Class implementing the controller protocol")
    ap.add_argument("--keep-failures", action="store_true",
                    help="also store failed traversals (success=False)")
    ap.add_argument("--shard-size", type=int, help="trajectories per shard (default 32)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="parallel shard workers (default: min(2, CPUs))")
    ap.add_argument("--executor", default="process", choices=["process", "ray"],
                    help="process pool (default) or Ray tasks (pip install ray)")
    ap.add_argument("--ray-address", default=None, help="Ray cluster address (default: local)")
    ap.add_argument("--resume", action="store_true", help="continue an interrupted store")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing store")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--force", action="store_true",
                    help="run even when the estimated memory or disk exceeds the machine's")
    ap.add_argument("--debug", action="store_true",
                    help="show the traceback of a failure (also BEHAVIORBENCH_DEBUG=1)")
    return ap


def config_from_args(args: argparse.Namespace) -> GenerationConfig:
    cfg = PRESETS[args.preset]
    kw: dict = {}
    for opt, key in [("robots", "robots"), ("trajectories_per_run", "trajectories_per_run"),
                     ("command_vels", "command_vels"), ("episode_s", "episode_s"),
                     ("difficulties", "difficulties"), ("seed", "seed"), ("backend", "backend"),
                     ("shard_size", "shard_size"), ("controller", "controller")]:
        v = getattr(args, opt)
        if v is not None:
            kw[key] = v
    if args.added_mass is not None:
        kw["added_mass_range"] = tuple(args.added_mass)
    if args.keep_failures:
        kw["keep_failures"] = True
    if args.height_field_ramps:
        kw["vertical_walls"] = False
    if args.terrains is not None:
        for k in args.terrains:
            if k not in TERRAIN_KINDS:
                raise ConfigError(f"unknown terrain {k!r} (known: {', '.join(TERRAIN_KINDS)})")
        kw["terrain_kinds"] = args.terrains
        if args.terrain_proportions is None:
            props = [PAPER_TERRAIN_PROPORTIONS[TERRAIN_KINDS.index(k)] for k in args.terrains]
            kw["terrain_proportions"] = tuple(props) if sum(props) > 0 else (1.0,) * len(props)
    if args.terrain_proportions is not None:
        kw["terrain_proportions"] = args.terrain_proportions
    try:
        cfg = replace(cfg, **kw).validate()
    except TypeError as e:  # a value of the wrong type reaching a comparison
        raise ConfigError(str(e)) from e
    from behaviorbench.datasets.backends import check_available

    check_available(cfg.backend)
    return cfg


class _Bar:
    """rich progress: trajectories done / total, simulated s per wall s, ETA."""

    def __init__(self, total: int):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.t0 = time.perf_counter()
        self.sim_s = 0.0
        self.p = Progress(TextColumn("[bold]trajectories"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                          TextColumn("ETA"), TimeRemainingColumn(),
                          console=_stderr_console(), transient=False)
        self.task = self.p.add_task("gen", total=total, rate="")
        self.p.start()

    def __call__(self, done: int, total: int, sim_s: float) -> None:
        wall = max(time.perf_counter() - self.t0, 1e-9)
        self.p.update(self.task, completed=done, total=total,
                      rate=f"{sim_s / wall:6.1f} sim-s/s" if sim_s else "")

    def stop(self) -> None:
        self.p.stop()


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def debug_enabled(args: argparse.Namespace | None = None) -> bool:
    """Whether failures show their traceback: ``--debug`` or ``BEHAVIORBENCH_DEBUG=1``."""
    return bool(getattr(args, "debug", False)) or os.environ.get(
        "BEHAVIORBENCH_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    err = f"{ap.prog}: error: "
    try:
        cfg = config_from_args(args)
        if args.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {args.workers}")
        if args.resume and args.overwrite:
            raise ConfigError("--resume and --overwrite exclude each other")
        from behaviorbench.datasets import resources
        from behaviorbench.datasets.generate import (
            GenerationError,
            GenerationInterrupted,
            generate,
            preflight,
        )

        state = preflight(args.out, cfg, resume=args.resume, overwrite=args.overwrite)
        estimate = resources.generation_estimate(cfg, args.workers)
        if state != "complete":
            resources.check(estimate, args.out, force=args.force,
                            what=f"generating {cfg.n_attempted} trajectories of "
                                 f"{cfg.episode_s:g} s")
    except ConfigError as e:
        print(err + " ".join(str(e).split()), file=sys.stderr)
        return 2
    if state != "complete" and estimate.seconds > resources.ANNOUNCE_AFTER_S:
        print(f"estimate: {estimate.describe()}", file=sys.stderr)
    bar = None if args.no_progress else _Bar(cfg.n_attempted)
    t0 = time.perf_counter()
    try:
        attrs = generate(args.out, cfg, workers=args.workers, executor=args.executor,
                         resume=args.resume, overwrite=args.overwrite, progress=bar,
                         ray_address=args.ray_address, force=args.force)
    except ConfigError as e:
        if bar:
            bar.stop()
        print(err + " ".join(str(e).split()), file=sys.stderr)
        return 2
    except GenerationError as e:
        if bar:
            bar.stop()
        if debug_enabled(args):
            import traceback

            traceback.print_exception(e.cause)
        print(err + str(e), file=sys.stderr)
        return 1
    except GenerationInterrupted as e:
        if bar:
            bar.stop()
        print(f"\n{ap.prog}: interrupted; {e.kept}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # before the work started
        if bar:
            bar.stop()
        print(f"\n{ap.prog}: interrupted; nothing was written", file=sys.stderr)
        return 130
    if bar:
        bar.stop()
    c = attrs["counts"]
    print(f"wrote {args.out}: {c['n_sequences']} trajectories x {c['n_frames']} frames "
          f"({c['n_failures']} of {c['n_attempted']} failed, "
          f"{'stored' if c['failures_stored'] else 'dropped'}) in "
          f"{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
