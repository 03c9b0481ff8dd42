"""`make demo`: the main job end to end on the embedded default (MuJoCo on the CPU).

Steps, each the same command a user would run:
1. `generate-terrain-data --out OUT/data` (the small default dataset; reused if already complete),
2. `run-benchmark --model bams --spaces` (BAMS and its short- and long-term views) and
   `run-benchmark --model pca` on it, each scored on the paper split and ``--splits 5`` random
   splits,
3. `leaderboard add` of both results files and `leaderboard render`,
then prints where everything is.

Usage: `python -m behaviorbench.demo --out demo-output [--epochs N] [--seeds 1]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

console = Console()

DEMO_MODELS = ("bams", "pca")  # the model and the baseline the demo compares
#: BAMS epochs of the demo (BAMSConfig's default is 100): the default dataset's 60 s sequences
#: make an epoch 6x longer than on 10 s ones; 100 epochs took 518 s of a 578 s demo on 2 CPU
#: cores, 60 keep `make demo` well under 10 minutes (the paper trains 500 epochs of batch 32)
DEMO_EPOCHS: int | None = 60
DEMO_SPLITS = 5  # random 20/80 sequence splits scored besides the paper split


def _step(title: str, prog: str, fn: Callable[[list[str]], int | None], argv: list[str]) -> None:
    """Run one command's ``main(argv)``, echoing it as ``$ prog argv`` and timing it."""
    console.rule(f"[bold]{title}")
    console.print(f"[dim]$ {prog} " + " ".join(argv))
    t0 = time.perf_counter()
    code = fn(argv)
    if code not in (None, 0):
        raise SystemExit(f"demo: step '{title}' failed with exit code {code}")
    console.print(f"[green]done[/] in {time.perf_counter() - t0:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m behaviorbench.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    parser.add_argument("--epochs", type=int, default=DEMO_EPOCHS,
                        help=f"BAMS training epochs (default {DEMO_EPOCHS}, sized for 2 CPU "
                             "cores)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="benchmark seeds")
    parser.add_argument("--preset", default="default",
                        help="generate-terrain-data preset (default: the small default dataset)")
    args = parser.parse_args(argv)

    from behaviorbench.benchmark.cli import main as run_benchmark
    from behaviorbench.datasets.cli import main as generate
    from behaviorbench.leaderboard.cli import main as leaderboard

    out: Path = args.out
    data = out / f"terrain-{args.preset}.zarr"  # the store name becomes the dataset name in results
    results = out / "results"
    board = out / "leaderboard"
    site = out / "leaderboard-site"
    t0 = time.perf_counter()

    gen_argv = ["--out", str(data), "--preset", args.preset]
    if data.exists():
        gen_argv.append("--resume")
    _step("small default dataset", "generate-terrain-data", generate, gen_argv)

    result_files = []
    for model in DEMO_MODELS:
        model_out = results / model
        bench_argv = ["--model", model, "--data", str(data), "--out", str(model_out),
                      "--seeds", *map(str, args.seeds)]
        bench_argv += ["--splits", str(DEMO_SPLITS)]
        if model == "bams":
            bench_argv.append("--spaces")
        if args.epochs is not None and model.startswith("bams"):
            bench_argv += ["--epochs", str(args.epochs)]
        before = set(model_out.glob("*.json"))
        _step(f"benchmark {model}", "run-benchmark", run_benchmark, bench_argv)
        result_files += sorted(set(model_out.glob("*.json")) - before)  # this run's files only

    _step("add the demo submissions", "leaderboard", leaderboard,
          ["add", "--dir", str(board), *map(str, result_files)])
    _step("render the leaderboard", "leaderboard", leaderboard,
          ["render", "--dir", str(board), "--out", str(site)])
    leaderboard(["show", "--dir", str(board)])

    console.rule("[bold green]demo finished")
    console.print(f"total {time.perf_counter() - t0:.0f} s")
    console.print(f"dataset:     {data}")
    console.print(f"results:     {results}")
    console.print(f"leaderboard: {(site / 'index.html').resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
