"""Compare Zarr layouts of the ``features`` array: write speed, random-window read speed, size.

Baseline: ``uncompressed-1chunk/traj`` (no compression, one chunk per trajectory, one file per
chunk). Every layout writes the same (N, T, 24) float32 array, then reads ``--windows`` random
400-frame training windows (one random trajectory and start each, as ``WindowDataset`` would
lazily). Prints a table with ratios against the baseline.

    .venv/bin/python benchmarks/zarr_layout.py                 # synthetic joint-like data
    .venv/bin/python benchmarks/zarr_layout.py --from STORE    # features of a generated store

Data: by default a stand-in with the statistics that matter for compression (smooth periodic
joint angles at 50 Hz, their derivative, 1e-3 rad noise); pass ``--from`` to use real data.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr

from behaviorbench.datasets import schema, store
from behaviorbench.datasets.store import Layout

LAYOUTS: dict[str, Layout] = {
    "uncompressed-1chunk/traj (baseline)": Layout(1, 0, 0, "none"),
    "zstd3-1chunk/traj": Layout(1, 0, 0, "zstd", 3),
    "blosc-lz4-shuffle-1chunk/traj (default)": Layout(1, 0, 0, "blosc-lz4", 5),
    "blosc-lz4-shuffle (1,1000) chunks": Layout(1, 1000, 0, "blosc-lz4", 5),
    "blosc-zstd3-shuffle (1,500) chunks": Layout(1, 500, 0, "blosc-zstd", 3),
    "blosc-zstd3-shuffle (1,500) sharded x32": Layout(1, 500, 32, "blosc-zstd", 3),
    "blosc-zstd3-shuffle (16,T) chunks": Layout(16, 0, 0, "blosc-zstd", 3),
}


def standin(n: int, t: int, seed: int = 0) -> np.ndarray:
    """(n, t, 24) float32: trot-like joint angles (rad) and velocities (rad/s) at 50 Hz."""
    rng = np.random.default_rng(seed)
    tt = np.arange(t, dtype=np.float64) / schema.FRAME_RATE_HZ
    out = np.empty((n, t, 24), np.float32)
    for i in range(n):
        f = rng.uniform(1.2, 2.0)
        ph = rng.uniform(0, 2 * np.pi, 12)
        amp = rng.uniform(0.05, 0.4, 12)
        drift = 0.05 * np.sin(2 * np.pi * tt[:, None] / rng.uniform(5, 30))
        pos = amp * np.sin(2 * np.pi * f * tt[:, None] + ph) + drift
        pos += rng.normal(0, 1e-3, pos.shape)
        out[i, :, :12] = pos
        out[i, :, 12:] = np.gradient(pos, axis=0) * schema.FRAME_RATE_HZ
    return out


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench(data: np.ndarray, layout: Layout, root: Path, windows: int, win: int, seed: int):
    n, t, _ = data.shape
    path = root / "s"
    shutil.rmtree(path, ignore_errors=True)
    group = zarr.open_group(str(path), mode="w", zarr_format=3)
    t0 = time.perf_counter()
    arr = store.create_array(group, schema.ARRAYS["features"], n, t, layout)
    block = max(layout.shard_n, layout.chunk_n, 1)
    for lo in range(0, n, block):
        arr[lo:lo + block] = data[lo:lo + block]
    t_write = time.perf_counter() - t0
    size = du(path)
    rng = np.random.default_rng(seed)
    seqs = rng.integers(n, size=windows)
    starts = rng.integers(t - win + 1, size=windows)
    arr = zarr.open_array(str(path / "features"), mode="r")
    t0 = time.perf_counter()
    for s, st in zip(seqs, starts, strict=True):
        w = arr[int(s), int(st):int(st) + win]
    t_read = time.perf_counter() - t0
    assert np.array_equal(w, data[seqs[-1], starts[-1]:starts[-1] + win])
    return t_write, t_read / windows, size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", help="read features from this store")
    ap.add_argument("--n", type=int, default=64, help="trajectories (stand-in data)")
    ap.add_argument("--t", type=int, default=9000, help="frames per trajectory (stand-in)")
    ap.add_argument("--windows", type=int, default=300, help="random windows read")
    ap.add_argument("--window", type=int, default=400, help="frames per window")
    args = ap.parse_args(argv)
    if args.src:
        data = zarr.open_group(args.src, mode="r")["features"][...]
    else:
        data = standin(args.n, args.t)
    mb = data.nbytes / 2**20
    print(f"features {data.shape} float32 = {mb:.1f} MiB; {args.windows} random "
          f"{args.window}-frame windows")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, layout in LAYOUTS.items():
            rows.append((name, *bench(data, layout, Path(tmp), args.windows, args.window, 0)))
    bw, br, bs = rows[0][1:]
    hdr = (f"{'layout':46s} {'write MiB/s':>11s} {'x base':>6s} {'read ms/win':>11s} "
           f"{'x base':>6s} {'win/s':>7s} {'size MiB':>8s} {'x base':>6s}")
    print(hdr)
    print("-" * len(hdr))
    for name, w, r, s in rows:
        print(f"{name:46s} {mb / w:11.1f} {bw / w:6.2f} {r * 1e3:11.3f} {br / r:6.2f} "
              f"{1 / r:7.0f} {s / 2**20:8.1f} {s / bs:6.2f}")
    # what training actually does: load once into memory, then slice windows
    from behaviorbench.datasets.loader import TerrainDataset, WindowDataset

    with tempfile.TemporaryDirectory() as tmp:
        bench(data, store.DEFAULT_LAYOUT, Path(tmp), 1, args.window, 0)
        t0 = time.perf_counter()
        feats = zarr.open_array(str(Path(tmp) / "s" / "features"), mode="r")[...]
        t_load = time.perf_counter() - t0
    td = TerrainDataset(features=feats, sequence_labels={}, frame_labels={})
    ds = WindowDataset(td, args.window, samples_per_epoch=args.windows * 10)
    ds[0]  # warm-up: imports torch
    t0 = time.perf_counter()
    for k in range(len(ds)):
        ds[k]
    t_win = (time.perf_counter() - t0) / len(ds)
    print(f"in memory (default layout, full load {t_load:.2f} s = {mb / t_load:.0f} MiB/s), "
          f"WindowDataset: {1 / t_win:.0f} win/s = {br / t_win:.0f} x baseline lazy reads")
    print("x base: speed ratios are baseline_time / layout_time (>1 faster); size ratio is "
          "layout / baseline (<1 smaller).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
