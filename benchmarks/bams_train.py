"""BAMS training throughput: the plain eager fp32 step vs the default step, and their losses.

Usage::

    .venv/bin/python benchmarks/bams_train.py                  # CPU, 2 threads, L = 400 and 1800
    .venv/bin/python benchmarks/bams_train.py --lengths 400 --steps 5
    .venv/bin/python benchmarks/bams_train.py --threads 1 --clock cpu --bf16   # busy machine
    .venv/bin/python benchmarks/bams_train.py --device cuda    # GPU: default = bf16 + compile

Measures, in one run on the same synthetic data (24 features: 12 regime-switching sinusoidal
"joint angles" and their velocities, the quadruped layout), batch 32 whole sequences:

1. Training frames/s (frames = batch x L per optimiser step) of two paths, timed step by step
   in turn (eager, default, eager, ...) so a busy machine slows both alike; medians reported:
   - "eager fp32": ``fast_step=False, amp="off", compile=False``: the reference's computation;
   - "default": ``BAMSConfig()`` as ``run-benchmark`` trains it (CPU: ``fast_step`` in fp32;
     CUDA: plus bf16 autocast and, with ``--device cuda``, ``compile=True``);
   - with ``--bf16`` (CPU), also ``amp="bf16"``: faster, but not the same numbers (an option,
     off by default).
2. Loss agreement: both paths train ``--agree-steps`` steps (default 20) from the same seed on
   the same batches (dropout draws included); the largest relative difference of the per-step
   loss is printed (the criterion for the fp32 default path is 1e-5; bf16 is shown for scale).
3. HoA targets for the whole dataset: the reference's per-item loop (run in ``__getitem__``,
   again every epoch) vs our vectorised precomputation (run once).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from behaviorbench.models import BAMS
from behaviorbench.models.hoa import Quantizer, histogram_counts, naive_histograms


def synthetic(n: int, t_len: int, seed: int = 0, fps: float = 50.0) -> np.ndarray:
    """(n, t_len, 24) float32: 12 regime-switching sinusoids (rad) then their velocities."""
    rng = np.random.default_rng(seed)
    regime = np.repeat(rng.integers(0, 3, size=(n, t_len // 100 + 1)), 100, axis=1)[:, :t_len]
    omega = 2 * np.pi * np.array([0.8, 2.0, 3.5])[regime] / fps
    phase = np.cumsum(omega, axis=1)[..., None] + rng.uniform(0, 6.3, size=(n, 1, 12))
    pos = np.array([0.3, 0.6, 0.2])[regime][..., None] * np.sin(phase)
    vel = np.gradient(pos, axis=1) * fps
    return np.concatenate([pos, vel], -1).astype(np.float32)


def path_settings(device: str, bf16: bool = False) -> dict[str, dict]:
    """Config overrides of the timed paths on ``device`` (``bf16``: add the CPU bf16 option)."""
    eager = {"fast_step": False, "amp": "off", "compile": False}
    default = {"compile": True} if device.startswith("cuda") else {}
    out = {"eager fp32": eager, "default": default}
    if bf16 and not device.startswith("cuda"):
        out["bf16"] = {"amp": "bf16"}  # changes the numbers: an option, off by default
    return out


def make_trainer(x: np.ndarray, batch: int, device: str, seed: int, **overrides):
    """A BAMS trainer on ``x`` (N, L, 24) with the network seeded by ``seed``."""
    model = BAMS(batch_size=batch, device=device, progress=False, seed=seed, **overrides)
    data = model.prepare(x, None)
    return model.make_trainer(data)


def _sync(trainer) -> None:
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()


def throughput(x: np.ndarray, batch: int, device: str, steps: int, paths: dict[str, dict],
               clock=time.perf_counter) -> dict[str, float]:
    """Median frames/s per path over ``steps`` steps timed in turn (after 2 warm-up steps)."""
    trainers = {k: make_trainer(x, batch, device, 0, **v) for k, v in paths.items()}
    idx = torch.arange(batch)
    times: dict[str, list[float]] = {k: [] for k in trainers}
    for step in range(steps + 2):
        for name, tr in trainers.items():
            torch.manual_seed(1000 + step)  # same dropout draws for both paths
            _sync(tr)
            t0 = clock()
            tr.train_step(idx)
            _sync(tr)
            if step >= 2:
                times[name].append(clock() - t0)
    frames = batch * x.shape[1]
    return {k: frames / statistics.median(v) for k, v in times.items()}


def loss_agreement(x: np.ndarray, batch: int, device: str, steps: int, paths: dict[str, dict]
                   ) -> dict[str, tuple[float, list]]:
    """Per non-eager path: (largest relative per-step loss difference from the eager path over
    ``steps`` steps, [(step, eager, path, rel) for the first and last step])."""
    losses = {}
    for name, over in paths.items():
        tr = make_trainer(x, batch, device, 0, **over)  # seeds the global RNG (dropout) too
        losses[name] = np.array(tr.step_losses(steps), dtype=np.float64)
    eager = losses.pop("eager fp32")
    result = {}
    for name, other in losses.items():
        rel = np.abs(other - eager) / np.abs(eager)
        result[name] = (float(rel.max()), [(i + 1, eager[i], other[i], rel[i])
                                           for i in (0, steps - 1)])
    return result


def target_timing(n: int, t_len: int) -> tuple[float, float]:
    """Seconds: reference per-item HoA histograms for n sequences vs our vectorised build."""
    x = synthetic(n, t_len)
    valid = np.ones(x.shape[:2], bool)
    q = Quantizer.fit(x[..., 12:], valid).quantize(x[..., 12:])
    t0 = time.perf_counter()
    for i in range(n):
        naive_histograms(q[i], valid[i], 32, 30)
    t_naive = time.perf_counter() - t0
    t0 = time.perf_counter()
    histogram_counts(q, valid, 32, 30)
    return t_naive, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[400, 1800],
                    help="frames per sequence L, one timing each")
    ap.add_argument("--batch-size", type=int, default=32, help="sequences per step")
    ap.add_argument("--steps", type=int, default=5, help="timed steps per path and length")
    ap.add_argument("--agree-steps", type=int, default=20, help="steps of the loss comparison")
    ap.add_argument("--agree-length", type=int, default=400, help="L of the loss comparison")
    ap.add_argument("--device", default="cpu", help="cpu | cuda")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="wall: perf_counter; cpu: process CPU time (steadier on a busy machine "
                         "with --threads 1; with more threads it counts idle-waiting threads)")
    ap.add_argument("--bf16", action="store_true", help="also time amp='bf16' (CPU autocast)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    b = args.batch_size

    print(f"BAMS training benchmark: device {args.device}, {torch.get_num_threads()} threads, "
          f"batch {b}, torch {torch.__version__}")
    paths = path_settings(args.device, args.bf16)
    for name, over in paths.items():
        print(f"  {name:<10} = BAMSConfig({', '.join(f'{k}={v!r}' for k, v in over.items())})")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"\nframes/s ({args.clock} clock, median of {args.steps} steps per path, in turn)")
    print("  " + f"{'L':>5}" + "".join(f"  {k:>12}" for k in paths) + "  default/eager")
    for length in args.lengths:
        fps = throughput(synthetic(b, length), b, args.device, args.steps, paths, clock)
        cells = "".join(f"  {v:>12,.0f}" for v in fps.values())
        print(f"  {length:>5}{cells}  {fps['default'] / fps['eager fp32']:>12.2f}x", flush=True)

    x = synthetic(2 * b, args.agree_length, seed=1)
    agreement = loss_agreement(x, b, args.device, args.agree_steps, paths)
    for name, (worst, rows) in agreement.items():
        print(f"\nloss agreement, {name} vs eager fp32, {args.agree_steps} steps from seed 0 "
              f"(N={2 * b}, L={args.agree_length}): max relative difference {worst:.2e}")
        for step, eager, other, rel in rows:
            print(f"  step {step:>3}: eager {eager:.8f}  {name} {other:.8f}  rel {rel:.2e}")

    t_naive, t_vec = target_timing(48, 1000)
    print(f"\nHoA targets, 48 x 1000 frames: reference per-item loop {t_naive:.3f} s (every "
          f"epoch), vectorised precompute {t_vec:.3f} s (once), {t_naive / t_vec:.1f}x")


if __name__ == "__main__":
    main()
