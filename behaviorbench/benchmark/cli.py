"""``run-benchmark``: train (or load) a model, embed, score every task, write results JSON + plots.

The command line is generated from the registries: ``--model`` takes a name of
``behaviorbench.models.MODELS``, a model registered by an installed package under the
``behaviorbench.models`` entry points, or an import path ``package.module:ClassName``;
``--tasks`` choices are ``TASKS``; once ``--model`` is known every field of that model's config
dataclass becomes an option (``--epochs 5``, ``--batch-size 8``, ``--short-channels 16 16``;
bools take ``true``/``false``). A new model or task is therefore one registry entry.
``--list-models`` / ``--list-tasks`` print the registries (entry-point models included).

Examples::

    run-benchmark --model bams --data data/terrain.zarr --seeds 0 1 2 --epochs 50 --out results/
    run-benchmark --model mypkg.models:MyModel --data data/terrain.zarr --out results/
    run-benchmark --embeddings emb.npy --data data/terrain.zarr --name my-model --out results/
    run-benchmark --model bams --mabe-data mabe/ --mabe-split jax_split.json \
        --mabe-tasks jax_tasks.json --seeds 0 --out results/

``--embeddings FILE`` scores precomputed per-frame embeddings (N, T, D) of the ``--data`` store
(``.npy`` or Zarr, sequences in store order) with the same readouts and seeds; no model is
trained, and the results record the file's sha256.

``--mabe-data DIR`` (the official MABe 2022 mouse-triplet files, either naming scheme) runs the
official MABe protocol (``behaviorbench.benchmark.mabe.run``) instead of ``--data``: per seed the
model is trained on the keypoints, the submission and official CSV are written to
``out/mabe_seed<s>/`` and scored; ``--tasks`` may restrict the reported MABe tasks.

``--splits K`` also scores K seeded random 20/80 sequence splits (``--split-strategy
stratified`` balances dominant terrain class and robot); failed sequences are left out unless
``--include-failures``. The table shows each score with its 95 % bootstrap interval over test
sequences, macro F1, balanced accuracy and the chance levels (majority class / class-prior
random predictor on the same test frames).

Exit codes: 0 results written; 2 bad input (one line on stderr, nothing written): options,
model config, device, checkpoint, dataset, embeddings file, or an estimated memory above the
machine's (``--force`` runs it anyway), and a model whose training loss or embeddings become
non-finite; 1 a failure during the work (one line naming the
cause; what the run had written under ``--out`` is removed); 130 interrupted (Ctrl-C).
``--debug`` or ``BEHAVIORBENCH_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import typing
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape

from .readout import LinearReadoutConfig, RidgeReadoutConfig
from .tables import mabe_results_table, results_table
from .tasks import TASKS

console = Console()
if not console.is_terminal:
    console.width = max(console.width, 140)  # logs and pipes: do not fold the results table

#: run-level options that shadow a model config field of the same name
_SHADOWED = {"device", "seed"}

#: what ``--name`` accepts (a results model name for ``--embeddings``)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``run-benchmark: error: ...`` on stderr, exit 2."""

    def error(self, message: str):
        _fail(message)
        raise SystemExit(2)


def _fail(message: str) -> int:
    """Print ``message`` as one line on stderr; return the exit status 2."""
    line = " ".join(str(message).split())
    print(f"run-benchmark: error: {line}", file=sys.stderr)
    return 2


def _bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _scalar_parser(tp: Any) -> Any:
    if tp is bool:
        return _bool
    if tp in (int, float, str):
        return tp
    return str


def _field_option(tp: Any) -> dict:
    """argparse kwargs for a dataclass field of (resolved) type ``tp``."""
    origin = typing.get_origin(tp)
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and args:
        inner = _field_option(args[0])
        if inner.get("nargs") == "+":
            inner["nargs"] = "*"  # empty list -> None
        return inner
    if origin is tuple or tp is tuple:
        elem = args[0] if args else str
        return {"type": _scalar_parser(elem), "nargs": "+"}
    if origin is list:
        return {"type": _scalar_parser(args[0] if args else str), "nargs": "+"}
    return {"type": _scalar_parser(tp)}


def model_fields(model: str) -> list[tuple[str, Any, Any]]:
    """(name, resolved type, default) of the config fields of the model ``model`` (a built-in
    name, an entry-point name or ``package.module:ClassName``)."""
    from behaviorbench.models import resolve_model

    cls = resolve_model(model).cls.config_class
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        out.append((f.name, hints.get(f.name, str), default))
    return out


def build_parser(model: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``model`` it includes that model's config fields as options."""
    from .config import RunConfig
    from .embeddings import MAX_EMBEDDING_DIM
    from .load import DATASET_LOADERS, PIPELINES

    rc = RunConfig(model="", data="")
    p = _Parser(
        prog="run-benchmark", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", metavar="NAME",
                   help="a built-in or entry-point model name (see --list-models), or an import "
                        "path package.module:ClassName")
    p.add_argument("--data", help="dataset path (e.g. a terrain .zarr store)")
    p.add_argument("--embeddings", metavar="FILE",
                   help="score precomputed embeddings (N, T, D) of the --data store instead of "
                        f"a model: .npy or Zarr, sequences in store order, D <= "
                        f"{MAX_EMBEDDING_DIM}; needs --name")
    p.add_argument("--name", help="with --embeddings: the model name the results record")
    p.add_argument("--n-parameters", type=int, default=None, metavar="N",
                   help="with --embeddings: parameter count of the model that made them")
    p.add_argument("--mabe-data", metavar="DIR",
                   help="folder with the official MABe 2022 mouse-triplet files (AIcrowd or "
                        "CaltechDATA names): run the MABe protocol instead of --data")
    p.add_argument("--mabe-split", metavar="FILE",
                   help="official jax_split.json (default: our fallback split; results are "
                        "marked UNOFFICIAL)")
    p.add_argument("--mabe-tasks", metavar="FILE",
                   help="official jax_tasks.json (default: the published 13 tasks and seeds)")
    p.add_argument("--tasks", nargs="+", choices=sorted(TASKS), metavar="TASK",
                   help="tasks to score (default: every task of the dataset kind; see "
                        "--list-tasks)")
    p.add_argument("--dataset-kind", choices=sorted({*DATASET_LOADERS, *PIPELINES}),
                   default=rc.dataset_kind,
                   help="dataset kind when --tasks does not imply one (default %(default)s)")
    p.add_argument("--seeds", nargs="+", type=int, default=list(rc.seeds),
                   help="one model training + readout per seed (default %(default)s)")
    p.add_argument("--device", default=rc.device,
                   help="auto | cpu | cuda | cuda:N, for model and readout (default auto)")
    p.add_argument("--out", default=rc.out, help="output folder (default %(default)s)")
    p.add_argument("--checkpoint", default=None,
                   help="load this saved model instead of training (readouts still per seed)")
    p.add_argument("--fit-on", choices=("all", "train"), default=rc.fit_on,
                   help="sequences the model is fitted on (default %(default)s, as BAMS)")
    p.add_argument("--max-train-frames", type=int, default=rc.max_train_frames,
                   help="cap on scored train frames (default %(default)s)")
    p.add_argument("--max-test-frames", type=int, default=rc.max_test_frames,
                   help="cap on scored test frames (default %(default)s)")
    p.add_argument("--skip-frames", type=int, default=rc.skip_frames,
                   help="first frames of every sequence not scored (default %(default)s)")
    p.add_argument("--splits", type=int, default=rc.splits, metavar="K",
                   help="also score K seeded random 20/80 sequence splits besides each task's "
                        "own split; results report the std over splits and over seeds "
                        "separately (default %(default)s)")
    p.add_argument("--split-strategy", choices=("random", "stratified"),
                   default=rc.split_strategy,
                   help="the --splits splits: random, or stratified by dominant terrain class "
                        "and robot (default %(default)s)")
    p.add_argument("--include-failures", action="store_true",
                   help="train and score on failed sequences too (success false; default: "
                        "left out, the count recorded in the results)")
    p.add_argument("--bootstrap", type=int, default=rc.bootstrap, metavar="N",
                   help="resamples of the test sequences for the 95 %% interval, 0 for none "
                        "(default %(default)s)")
    p.add_argument("--readout-solver", choices=("adamw", "lbfgs"),
                   default=LinearReadoutConfig.solver,
                   help="linear readout solver: adamw = reference 1000 full-batch steps; lbfgs = "
                        "same loss run to convergence, faster on large inputs (default "
                        "%(default)s)")
    p.add_argument("--readout-steps", type=int, default=LinearReadoutConfig.steps,
                   help="full-batch AdamW steps of the linear readout (default %(default)s)")
    p.add_argument("--ridge-alphas", type=float, nargs="+",
                   default=list(RidgeReadoutConfig().alphas),
                   help="ridge penalties tried by grouped CV (default %(default)s)")
    p.add_argument("--spaces", action="store_true",
                   help="bams: also write results for its short- and long-term spaces "
                        "(bams-short, bams-long) scored from the same trained model")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--no-save-checkpoint", action="store_true",
                   help="do not write out/checkpoints/<model>_seed<s>.pt")
    p.add_argument("--force", action="store_true",
                   help="run even when the estimated memory exceeds the machine's")
    p.add_argument("--debug", action="store_true",
                   help="show the traceback of a failure (also BEHAVIORBENCH_DEBUG=1)")
    p.add_argument("--list-models", action="store_true", help="print the model registry")
    p.add_argument("--list-tasks", action="store_true", help="print the task registry")
    if model:
        g = p.add_argument_group(f"{model} config (overrides of the model's defaults)")
        taken = {a.dest for a in p._actions}
        for name, tp, default in model_fields(model):
            if name in _SHADOWED or name in taken:
                continue
            g.add_argument("--" + name.replace("_", "-"), dest=f"model__{name}",
                           default=argparse.SUPPRESS, metavar=name.upper(),
                           help=f"default {default!r}", **_field_option(tp))
    return p


def _coerce_override(name: str, value: Any, model: str) -> Any:
    tp = dict((n, t) for n, t, _ in model_fields(model))[name]
    if isinstance(value, list):
        if typing.get_origin(tp) is list:
            return value
        return tuple(value) if value else None
    return value


def list_models() -> str:
    """Plain-text table of the built-in models, then the entry-point models, with their origin
    and config fields (an entry point that cannot be loaded shows why)."""
    from behaviorbench.models.external import ENTRY_POINT_GROUP, available_models

    rows = [("name", "origin", "class", "config fields (run-benchmark --model NAME --help)")]
    for name, src in available_models():
        if isinstance(src, Exception):
            rows.append((name, "entry-point", "-", f"unusable: {src}"))
            continue
        fields = ", ".join(f.name for f in dataclasses.fields(src.cls.config_class))
        origin = src.origin if src.package is None else f"{src.origin} ({src.package})"
        rows.append((name, origin, src.target, fields))
    return (f"models (behaviorbench.models.MODELS and the {ENTRY_POINT_GROUP!r} entry points; "
            "any package.module:ClassName also works)\n" + _columns(rows))


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def list_tasks() -> str:
    """Plain-text table of TASKS (one line per task, never folded)."""
    rows = [("name", "dataset", "level", "pooling", "kind", "metric", "split", "classes")]
    for name in sorted(TASKS):
        s = TASKS[name]
        rows.append((name, s.dataset, s.level, s.pooling if s.level == "sequence" else "-",
                     s.kind, s.metric, s.split,
                     str(len(s.class_names)) if s.class_names else "-"))
    return "tasks (behaviorbench.benchmark.tasks.TASKS)\n" + _columns(rows)


def _embeddings_problem(args: argparse.Namespace) -> str | None:
    """Why the ``--embeddings`` options do not go together, or None."""
    if not args.embeddings:
        if args.name or args.n_parameters is not None:
            return "--name and --n-parameters go with --embeddings"
        return None
    clash = [opt for opt, given in (("--model", args.model), ("--checkpoint", args.checkpoint),
                                    ("--mabe-data", args.mabe_data), ("--spaces", args.spaces))
             if given]
    if clash:
        return f"--embeddings scores a file, not a model: drop {', '.join(clash)}"
    if args.fit_on != "all":
        return "--fit-on does not apply to --embeddings (no model is fitted)"
    if not args.data:
        return "--embeddings needs --data (the store the embeddings were computed from)"
    if not args.name:
        return "--embeddings needs --name (the model name the results record)"
    if not _NAME.match(args.name):
        return (f"--name {args.name!r}: use 1-100 letters, digits, '.', '_', '+' or '-', "
                "starting with a letter or digit")
    if args.n_parameters is not None and args.n_parameters < 0:
        return f"--n-parameters must be >= 0, got {args.n_parameters}"
    return None


def _debug_traceback(args: argparse.Namespace, e: BaseException, enabled: Any) -> None:
    """Print the traceback of ``e`` on stderr when ``--debug`` or ``BEHAVIORBENCH_DEBUG=1``."""
    if enabled(args):
        import traceback

        traceback.print_exception(e)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--model")
    known, _ = pre.parse_known_args(argv)
    from behaviorbench.models import ModelConfigError, ModelResolutionError, resolve_model

    model = None
    if known.model:
        try:
            model = resolve_model(known.model).name
        except ModelResolutionError as e:
            return _fail(e)
    args = build_parser(model).parse_args(argv)

    if args.list_models or args.list_tasks:
        if args.list_models:
            print(list_models())
        if args.list_tasks:
            print(list_tasks())
        return 0
    parser_error = build_parser(model).error
    problem = _embeddings_problem(args)
    if problem:
        parser_error(problem)
    if args.data and args.mabe_data:
        parser_error("give either --data or --mabe-data, not both")
    if not args.embeddings and (not args.model or not (args.data or args.mabe_data)):
        parser_error("--model and --data (or --mabe-data), or --embeddings, --data and --name "
                     "are required (or --list-models/--list-tasks)")
    dataset_kind = args.dataset_kind
    if args.mabe_data:
        dataset_kind = "mabe"
        other = [t for t in args.tasks or () if TASKS[t].dataset != "mabe"]
        if other:
            parser_error(f"--mabe-data runs MABe tasks only; {other} are not MABe tasks")
    elif (args.mabe_split or args.mabe_tasks) and dataset_kind != "mabe" and not (
            args.tasks and all(TASKS[t].dataset == "mabe" for t in args.tasks)):
        parser_error("--mabe-split / --mabe-tasks need --mabe-data")

    from behaviorbench.datasets import ConfigError, DatasetError
    from behaviorbench.datasets.cli import debug_enabled
    from behaviorbench.models import NonFiniteLossError

    from .embeddings import EmbeddingsError
    from .preflight import BenchmarkConfigError
    from .results import load_results
    from .runner import RunConfig, run_benchmark
    from .sources import ModelProtocolError

    user_errors = (DatasetError, ConfigError, FileNotFoundError, ModelResolutionError,
                   ModelConfigError, EmbeddingsError, ModelProtocolError, BenchmarkConfigError,
                   NonFiniteLossError)
    try:
        overrides = {
            k.removeprefix("model__"): _coerce_override(k.removeprefix("model__"), v, args.model)
            for k, v in vars(args).items() if k.startswith("model__")
        }
        cfg = RunConfig(
            model=args.name if args.embeddings else args.model,
            data=args.mabe_data or args.data,
            tasks=tuple(args.tasks) if args.tasks else None,
            dataset_kind=dataset_kind,
            seeds=tuple(args.seeds),
            device=args.device,
            out=args.out,
            checkpoint=args.checkpoint,
            model_overrides=overrides,
            fit_on=args.fit_on,
            max_train_frames=args.max_train_frames,
            max_test_frames=args.max_test_frames,
            skip_frames=args.skip_frames,
            splits=args.splits,
            split_strategy=args.split_strategy,
            include_failures=args.include_failures,
            bootstrap=args.bootstrap,
            readout=LinearReadoutConfig(solver=args.readout_solver, steps=args.readout_steps),
            ridge=RidgeReadoutConfig(alphas=tuple(args.ridge_alphas)),
            plots=not args.no_plots,
            spaces=args.spaces,
            save_checkpoint=not args.no_save_checkpoint,
            mabe_split=args.mabe_split,
            mabe_tasks=args.mabe_tasks,
            embeddings=args.embeddings,
            n_parameters=args.n_parameters,
            force=args.force,
        )
        outcome = run_benchmark(cfg, log=lambda m: console.print(f"[dim]{escape(m)}"))
    except user_errors as e:  # user errors: one line on stderr, exit 2
        _debug_traceback(args, e, debug_enabled)
        return _fail(e)
    except KeyboardInterrupt:
        print(f"run-benchmark: interrupted; nothing kept under {args.out}", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - a failure during the work: one line, exit 1
        _debug_traceback(args, e, debug_enabled)
        _fail(f"{type(e).__name__}: {e}; nothing kept under {args.out} (--debug shows the "
              f"traceback)")
        return 1
    res = outcome.results
    if res.dataset.kind == "mabe22":
        console.print(mabe_results_table(res))
        if not all(t.extra.get("official_split") for t in res.tasks):
            console.print("[bold yellow]UNOFFICIAL: no --mabe-split given; scores use our "
                          "fallback split, not the official jax_split.json")
    else:
        console.print(results_table(res))
    for why in res.provenance.get("skipped_tasks", {}).values():
        console.print(f"[yellow]{escape(why)}")
    train = "-" if res.train_time_s is None else f"{res.train_time_s:.1f} s"
    excluded = res.provenance.get("failed_sequences_excluded")
    if excluded:
        console.print(f"{excluded} failed sequence(s) left out (--include-failures keeps them)")
    console.print(f"train {train} (all seeds), eval {res.eval_time_s:.1f} s, "
                  f"peak memory {res.peak_memory_bytes / 2**20:.0f} MiB")
    console.print(f"results: {outcome.results_path}")
    for view, path in outcome.extra_results.items():
        console.print(results_table(load_results(path)))
        console.print(f"results ({view}): {path}")
    for what, path in outcome.files.items():
        console.print(f"{what}: {path}")
    for c in outcome.checkpoints:
        console.print(f"checkpoint: {c}")
    for a in outcome.artifacts:
        console.print(f"figure: {a}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
