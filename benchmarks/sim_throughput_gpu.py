"""GPU simulation: MuJoCo Warp throughput over thousands of worlds, and parity with MuJoCo.

Throughput rows: one :func:`behaviorbench.simulation.warp_backend.simulate` call per world
count (one run: one robot, one command, the dataset's default terrain), the whole loop
(physics, torch controller, recording, failure checks; labels on the host at the end). Figures:
``control steps/s`` = worlds x frames / loop wall s (one control step = one robot advanced
0.02 s and recorded, as ``benchmarks/sim_throughput.py``), ``sim-s/s`` = simulated robot-seconds
per wall second, setup s (model upload, set_const, first-call graph capture), device memory.
A CPU baseline row runs the MuJoCo (CPU) backend on the same run.

Parity (``--parity``): the same trajectories (same spawns, masses, seeds) on MuJoCo (CPU) and
MuJoCo Warp: success rates, forward speed, joint statistics, per-trajectory agreement. Not
bit-equal by design (float32, different height-field contacts): the check is statistical.

Usage::

    python benchmarks/sim_throughput_gpu.py                 # GPU: 512, 4096, 16384 worlds
                                                            # no GPU: a 4-world CPU smoke run
    python benchmarks/sim_throughput_gpu.py --worlds 512,4096,16384 --seconds 4 --json out.json
    python benchmarks/sim_throughput_gpu.py --parity --parity-robots 128 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace

import numpy as np

from behaviorbench.datasets.backends import to_run_spec
from behaviorbench.datasets.config import preset
from behaviorbench.datasets.generate import plan_runs
from behaviorbench.simulation import rollout
from behaviorbench.simulation import warp_backend as W


def dataset_run(robot: str, command_vel: float, n: int, seconds: float) -> rollout.RunSpec:
    """The run of the default dataset preset for (robot, command), resized."""
    cfg = preset("default", robots=(robot,), command_vels=(command_vel,))
    return replace(to_run_spec(plan_runs(cfg)[0]), n_robots=n, episode_s=seconds)


def device_memory_used(device: str) -> float | None:
    """GiB in use on a CUDA device (whole device, all allocators), None on the CPU."""
    import warp as wp

    d = wp.get_device(device)
    return (d.total_memory - d.free_memory) / 2 ** 30 if d.is_cuda else None


def throughput(run: rollout.RunSpec, opts: W.WarpOptions) -> dict:
    info: dict = {}
    batch = W.simulate(run, options=opts, info=info)
    frames = run.n_robots * run.n_frames
    return {"backend": "mujoco-warp", "worlds": run.n_robots, "seconds": run.episode_s,
            "device": info["device"], "dtype": info["controller_dtype"],
            "setup_s": round(info["setup_s"], 2), "loop_s": round(info["loop_s"], 2),
            "control_steps_per_s": round(frames / info["loop_s"]),
            "sim_s_per_s": round(run.n_robots * run.episode_s / info["loop_s"], 1),
            "success": round(float(batch.success.mean()), 3),
            "overflow_worlds": info["overflow_worlds"],
            "diverged_worlds": info["diverged_worlds"],
            "device_mem_gib": device_memory_used(info["device"])}


def cpu_baseline(run: rollout.RunSpec, workers: int) -> dict:
    t0 = time.perf_counter()
    batch = rollout.simulate(run, workers=workers)
    wall = time.perf_counter() - t0
    return {"backend": f"mujoco (CPU, {workers} workers)", "worlds": run.n_robots,
            "seconds": run.episode_s, "device": "cpu", "loop_s": round(wall, 2),
            "control_steps_per_s": round(run.n_robots * run.n_frames / wall),
            "sim_s_per_s": round(run.n_robots * run.episode_s / wall, 1),
            "success": round(float(batch.success.mean()), 3)}


def stats(b, sel: np.ndarray, terrain) -> dict:
    """Statistics of trajectories ``sel`` (bool (N,)) of batch ``b``."""
    dur = (b.n_frames - 1) * 0.02
    pos = b.base_pos[sel].astype(np.float64)
    clearance = pos[..., 2] - terrain.height_at(pos[..., 0], pos[..., 1])
    dof = b.dof_pos[sel].reshape(-1, 12)
    return {"forward_speed": float((pos[:, -1, 0] - pos[:, 0, 0]).mean() / dur),
            "base_clearance": float(clearance.mean()),
            "dof_pos_mean": dof.mean(0).round(3).tolist(),
            "dof_pos_std": dof.std(0).round(3).tolist(),
            "dof_vel_rms": float(np.sqrt((b.dof_vel[sel].astype(np.float64) ** 2).mean()))}


def parity(run: rollout.RunSpec, opts: W.WarpOptions, workers: int) -> dict:
    """Statistics over the trajectories that succeed on both backends, success rates."""
    cpu = rollout.simulate(run, workers=workers)
    gpu = W.simulate(run, options=opts)
    terrain = rollout.run_terrain(run)
    both = cpu.success & gpu.success
    dx_c, dx_g = ((b.base_pos[:, -1, 0] - b.base_pos[:, 0, 0]).astype(np.float64)
                  for b in (cpu, gpu))
    res = {
        "robots": run.n_robots, "seconds": run.episode_s, "robot": run.robot,
        "command_vel": run.command_vel,
        "frame0_identical": bool(np.array_equal(cpu.dof_pos[:, 0], gpu.dof_pos[:, 0])),
        "success_mujoco": float(cpu.success.mean()),
        "success_mujoco_warp": float(gpu.success.mean()),
        "success_agreement": float((cpu.success == gpu.success).mean()),
        "n_both_ok": int(both.sum()),
        "dx_corr_both_ok": float(np.corrcoef(dx_c[both], dx_g[both])[0, 1])
        if both.sum() > 2 else float("nan"),
        "dof_pos_mean_abs_diff_first_1s": float(np.abs(cpu.dof_pos[:, :50]
                                                       - gpu.dof_pos[:, :50]).mean()),
    }
    if both.any():
        res["mujoco"] = stats(cpu, both, terrain)
        res["mujoco_warp"] = stats(gpu, both, terrain)
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worlds", default=None, help="comma list (default: 512,4096,16384 on a "
                    "GPU, 4 on the CPU)")
    ap.add_argument("--seconds", type=float, default=None, help="episode s (GPU 4, CPU 0.5)")
    ap.add_argument("--robot", default="anymal_c")
    ap.add_argument("--command-vel", type=float, default=1.0, help="m/s")
    ap.add_argument("--device", default=None, help="warp device (default: warp's default)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--nconmax", type=int, default=None, help="contacts per world")
    ap.add_argument("--njmax", type=int, default=None, help="constraint rows per world")
    ap.add_argument("--no-graph", action="store_true", help="no CUDA graph for the physics")
    ap.add_argument("--cpu-robots", type=int, default=None,
                    help="robots of the CPU baseline row (default 64 on a GPU machine, 4)")
    ap.add_argument("--cpu-workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--parity", action="store_true", help="run the parity check instead")
    ap.add_argument("--parity-robots", type=int, default=64)
    ap.add_argument("--json", default=None, help="write the rows to this file")
    args = ap.parse_args(argv)

    wp, _ = W.import_warp()
    device = wp.get_device(args.device)
    gpu = device.is_cuda
    opts = W.WarpOptions(device=str(device), controller_dtype=args.dtype, nconmax=args.nconmax,
                         njmax=args.njmax, cuda_graph=not args.no_graph)
    seconds = args.seconds or (4.0 if gpu else 0.5)
    print(f"device {device} ({'GPU' if gpu else 'CPU only: a smoke run, not a GPU figure'}), "
          f"{os.cpu_count()} CPUs")
    rows: list[dict] = []
    if args.parity:
        run = dataset_run(args.robot, args.command_vel, args.parity_robots,
                          args.seconds or 10.0)
        res = parity(run, opts, args.cpu_workers)
        print(json.dumps(res, indent=1))
        rows.append(res)
    else:
        worlds = [int(w) for w in (args.worlds or ("512,4096,16384" if gpu else "4")).split(",")]
        n_cpu = args.cpu_robots or (64 if gpu else 4)
        rows.append(cpu_baseline(dataset_run(args.robot, args.command_vel, n_cpu, seconds),
                                 args.cpu_workers))
        for n in worlds:
            rows.append(throughput(dataset_run(args.robot, args.command_vel, n, seconds), opts))
        keys = ["backend", "worlds", "seconds", "device", "setup_s", "loop_s",
                "control_steps_per_s", "sim_s_per_s", "success", "device_mem_gib"]
        print(" | ".join(keys))
        for r in rows:
            print(" | ".join(str(r.get(k, "")) for k in keys))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
