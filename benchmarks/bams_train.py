"""BAMS training throughput, and precomputed vs per-item (reference-style) HoA targets.

Usage::

    .venv/bin/python benchmarks/bams_train.py                # N=48 sequences x T=1000 frames
    .venv/bin/python benchmarks/bams_train.py --n 96 --t 1000 --steps 3 --device cuda

Measures, in one run on the same synthetic data (24 features: 12 regime-switching sinusoidal
"joint angles" and their velocities, the quadruped layout):

1. HoA targets for the whole dataset: the reference's per-item loop (run in ``__getitem__``,
   i.e. again every epoch) vs our vectorised precomputation (run once).
2. Training steps of the default BAMS config (batch 32 whole sequences): frames/s.
3. Time per epoch (``floor(N / batch)`` steps, drop_last as the reference) for both pipelines,
   and the ratio.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=48, help="sequences (default 2 robots x 24)")
    ap.add_argument("--t", type=int, default=1000, help="frames per sequence")
    ap.add_argument("--batch-size", type=int, default=32, help="sequences per step")
    ap.add_argument("--steps", type=int, default=2, help="timed training steps (after 1 warm-up)")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    ap.add_argument("--amp", default="auto", help="auto | bf16 | fp16 | off")
    ap.add_argument("--compile", action="store_true", help="torch.compile the network")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    x = synthetic(args.n, args.t)
    model = BAMS(
        batch_size=args.batch_size, device=args.device, amp=args.amp, compile=args.compile,
        progress=False,
    )

    # 1. targets: reference-style per item (every epoch) vs vectorised once
    valid = np.ones(x.shape[:2], bool)
    raw_t = x[..., 12:]
    qz = Quantizer.fit(raw_t, valid)
    q = qz.quantize(raw_t)
    t0 = time.perf_counter()
    for i in range(args.n):
        naive_histograms(q[i], valid[i], 32, 30)
    t_naive = time.perf_counter() - t0
    t0 = time.perf_counter()
    histogram_counts(q, valid, 32, 30)
    t_vec = time.perf_counter() - t0

    # 2. training steps with the precomputed targets
    t0 = time.perf_counter()
    data = model.prepare(x, None)
    t_prepare = time.perf_counter() - t0
    trainer = model.make_trainer(data)
    b = min(args.batch_size, args.n)
    idx = torch.arange(b)
    trainer.train_step(idx)  # warm-up (and compile, if asked)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        trainer.train_step(idx)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    t_step = (time.perf_counter() - t0) / args.steps
    fps = b * args.t / t_step
    steps_per_epoch = max(1, args.n // b)
    epoch_ours = steps_per_epoch * t_step
    epoch_ref = epoch_ours + t_naive  # reference rebuilds every item's targets each epoch

    rows = [
        ("device / amp", f"{trainer.device} / {trainer.dtype}"),
        ("dataset", f"N={args.n} x T={args.t} x F=24, batch {b}, {steps_per_epoch} steps/epoch"),
        ("parameters", f"{model.n_parameters:,}"),
        ("HoA targets, reference per-item loop (s/epoch)", f"{t_naive:.3f}"),
        ("HoA targets, vectorised precompute (s, once)", f"{t_vec:.3f}"),
        ("  ratio per-item / precomputed", f"{t_naive / t_vec:.1f}x"),
        ("prepare (normalise + bins + targets + network)", f"{t_prepare:.3f} s"),
        ("train step (s)", f"{t_step:.3f}"),
        ("training throughput (frames/s)", f"{fps:,.0f}"),
        ("epoch, ours (s)", f"{epoch_ours:.3f}"),
        ("epoch, reference-style targets (s)", f"{epoch_ref:.3f}"),
        ("  ratio reference / ours", f"{epoch_ref / epoch_ours:.2f}x"),
        ("500 epochs, ours (min)", f"{500 * epoch_ours / 60:.1f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print("BAMS training benchmark")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")


if __name__ == "__main__":
    main()
