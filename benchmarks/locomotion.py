"""Locomotion benchmark of the model-based trot controller: success rate per robot x terrain x
difficulty.

Each cell is a 3-row strip of sub-terrains [flat, KIND, flat] (``--sub`` m square, legged_gym
generators; the dataset's terrain uses 12 m, the default here); robots spawn on the first flat
sub-terrain (centre +-0.5 m), facing +x, with a
random added base mass in [-5, 5] kg, and walk +x across the whole KIND sub-terrain (pyramids:
up then down, inverted pyramids: down then up) onto the last flat one. Commands are spread over
0.5-1.5 m/s; each episode lasts long enough to cross at the command speed, or on stairs (and
on obstacles with ``step_count`` 1) at the controller's ``step_speed`` (the speed it slows to
where the map shows steps; a pyramid's stairs down at ``step_speed_down`` where that is set),
plus 2 s. A cell's robots walk one terrain layout (``--seed``) unless
``--layouts K`` spreads them over K layouts (seeds SEED..SEED+K-1): on obstacles and stairs the
success rate depends on the layout (docs/simulation-controller.md).

Columns: success = no failure for the whole episode: no fall (base below 0.22 m above ground
or tilt above 1 rad, or leaving the grid) and no stall (forward progress over some 10 s window
below a quarter of the command's, ``simulation/progress.py``); crossed = success and the base
reached the last flat sub-terrain; v/cmd = mean forward velocity after the first second /
command, over successful robots; falls = robots that fell (or left the grid); stalled =
robots that did not fall but stalled.
Baseline in the same run: the same controller on flat ground (first row of each robot).

Usage::

    python benchmarks/locomotion.py --quick            # 5 seeds per cell (one per command)
    python benchmarks/locomotion.py                    # 20 seeds per cell
    python benchmarks/locomotion.py --robots anymal_c --kinds flat pyramid_stairs_up
    python benchmarks/locomotion.py --quick --ramps    # stairs, obstacles: 0.1 m ramps
    python benchmarks/locomotion.py --quick --set step_speed=0  # ControllerConfig overrides
    python benchmarks/locomotion.py --layouts 4        # robots spread over 4 terrain layouts
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from concurrent.futures import ProcessPoolExecutor

import mujoco
import numpy as np

from behaviorbench.simulation.controller import ControllerConfig
from behaviorbench.simulation.progress import STALLED
from behaviorbench.simulation.rollout import RunSpec, simulate
from behaviorbench.simulation.terrain import WALL_KINDS, TerrainConfig, build_terrain

KINDS = ("flat", "flat+noise", "pyramid_slope_up", "pyramid_slope_down", "pyramid_stairs_up",
         "pyramid_stairs_down", "discrete_obstacles")
LABELS = {"flat": "flat", "flat+noise": "rough", "pyramid_slope_up": "slope up/down",
          "pyramid_slope_down": "slope down/up", "pyramid_stairs_up": "stairs up/down",
          "pyramid_stairs_down": "stairs down/up", "discrete_obstacles": "obstacles"}
DIFFICULTIES = (0.5, 0.75, 0.9)
COMMANDS = (0.5, 0.75, 1.0, 1.25, 1.5)  # m/s
SUB = 12.0  # m, default sub-terrain size (the dataset's TerrainConfig.terrain_length)


def cell_terrain(kind: str, difficulty: float, seed: int, sub: float = SUB,
                 vertical_walls: bool = True):
    cfg = TerrainConfig(num_rows=3, num_cols=1, terrain_length=sub, terrain_width=sub,
                        border_size=4.0, vertical_walls=vertical_walls)
    return build_terrain(cfg, [["flat"], [kind], ["flat"]], [[0.0], [difficulty], [0.0]],
                         seed=seed)


def run_cell(args) -> dict:
    """Simulate one (robot, kind, difficulty) cell: ``seeds`` robots spread over COMMANDS."""
    robot, kind, difficulty, seeds, seed, sub, walls, controller, layouts = args
    robot_cfg = controller.for_robot(robot)               # step_speed, step_count of this robot
    x_end = 2 * sub                                       # m: start of the last flat row
    success, ratio, crossed, reason = [], [], [], []
    # s: flat approach and exit at the command, the KIND sub-terrain at the step speed on the
    # cells the step detection sees
    slowed = kind.startswith("pyramid_stairs") if robot_cfg.step_count > 1 else \
        kind in WALL_KINDS
    runs = []  # (terrain layout, command, robot indices): robots spread over layouts, commands
    for k, ids in enumerate(np.array_split(np.arange(seeds), layouts)):
        terrain = cell_terrain(kind, difficulty, seed + k, sub, walls)
        runs += [(terrain, v, idx) for v, idx in
                 zip(COMMANDS, np.array_split(ids, len(COMMANDS)), strict=True)]
    for terrain, v, idx in runs:
        if len(idx) == 0:
            continue
        v_kind = min(v, robot_cfg.step_speed) if slowed and robot_cfg.step_speed > 0 else v
        # a pyramid's half is a descent: at step_speed_down where that is set
        v_down = min(v_kind, robot_cfg.step_speed_down) if slowed and kind.startswith(
            "pyramid_stairs") and robot_cfg.step_speed_down > 0 else v_kind
        episode = 1.0 + (sub / 2 + 1.0) / v + sub / 2 / v_kind + sub / 2 / v_down + 2.0
        run = RunSpec(robot=robot, command_vel=v, n_robots=seeds, episode_s=episode,
                      terrain=terrain.config, seed=seed + int(1000 * v),
                      max_init_terrain_level=0, spawn_jitter=0.5, controller=controller)
        b = simulate(run, list(idx), terrain=terrain)
        t = np.arange(b.n_frames) * 0.02
        k1 = int(np.searchsorted(t, 1.0))
        vel = (b.base_pos[:, -1, 0] - b.base_pos[:, k1, 0]) / (t[-1] - t[k1])
        success.append(b.success)
        reason.append(b.failure_reason)
        crossed.append(b.success & (b.base_pos[:, -1, 0] > x_end))
        ratio.append(vel / v)
    success, ratio = np.concatenate(success), np.concatenate(ratio)
    crossed, reason = np.concatenate(crossed), np.concatenate(reason)
    stalled = reason == STALLED
    return dict(robot=robot, kind=kind, difficulty=difficulty, n=len(success),
                success=float(success.mean()), falls=int((~success & ~stalled).sum()),
                stalled=int(stalled.sum()),
                crossed=float(crossed.mean()),
                v_ratio=float(ratio[success].mean()) if success.any() else float("nan"))


def controller_config(overrides: list[str]) -> ControllerConfig:
    """``ControllerConfig`` with ``FIELD=VALUE`` overrides (values parsed as the field's type).
    A FIELD set here applies to every robot: it drops the default ``robot_overrides`` entries of
    that FIELD (``robot_overrides=ROBOT:FIELD:VALUE,...`` sets them; empty for none)."""
    cfg = ControllerConfig()
    changes = {}
    for item in overrides:
        name, _, value = item.partition("=")
        kind = type(getattr(cfg, name, None))
        if name == "robot_overrides":  # ROBOT:FIELD:VALUE,...; empty: none
            try:
                changes[name] = tuple((r, f, float(x)) for r, f, x in
                                      (o.split(":") for o in value.split(",") if o))
            except ValueError:
                raise SystemExit(f"--set {item!r}: expected robot_overrides=ROBOT:FIELD:VALUE,"
                                 "... (empty for none)") from None
            continue
        if kind is tuple and all(isinstance(v, str) for v in getattr(cfg, name)):
            changes[name] = tuple(v for v in value.split(",") if v)   # names; empty: none
            continue
        if kind not in (bool, int, float) or not value:
            raise SystemExit(f"--set {item!r}: expected FIELD=VALUE with a number, bool or "
                             "robot-name list field of ControllerConfig")
        if kind is bool:
            if value.lower() not in ("1", "true", "yes", "0", "false", "no"):
                raise SystemExit(f"--set {item!r}: expected true or false")
            changes[name] = value.lower() in ("1", "true", "yes")
            continue
        try:
            changes[name] = kind(value)
        except ValueError:
            raise SystemExit(f"--set {item!r}: {value!r} is not a {kind.__name__}") from None
    if "robot_overrides" not in changes:
        changes["robot_overrides"] = tuple(o for o in cfg.robot_overrides if o[1] not in changes)
    try:
        return dataclasses.replace(cfg, **changes)
    except ValueError as err:
        raise SystemExit(f"--set {' '.join(overrides)}: {err}") from None


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="5 seeds per cell")
    ap.add_argument("--seeds", type=int, default=None, help="robots per cell (default 20)")
    ap.add_argument("--robots", nargs="+", default=["anymal_b", "anymal_c"])
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    ap.add_argument("--difficulties", nargs="+", type=float, default=list(DIFFICULTIES))
    ap.add_argument("--workers", type=int, default=1, help="processes over cells")
    ap.add_argument("--seed", type=int, default=0, help="terrain seed (of the first layout)")
    ap.add_argument("--layouts", type=int, default=1,
                    help="terrain layouts per cell (seeds SEED, SEED+1, ...) the robots are "
                         "spread over; obstacle and stairs rates vary with the layout")
    ap.add_argument("--sub", type=float, default=SUB, help="sub-terrain size, m (default 12)")
    ap.add_argument("--ramps", action="store_true",
                    help="stairs and obstacles as plain height-field steps (0.1 m ramps); "
                         "default: vertical walls (boxes, like legged_gym's trimesh)")
    ap.add_argument("--set", nargs="+", default=[], metavar="FIELD=VALUE",
                    help="ControllerConfig overrides, e.g. --set step_speed=0 reach=1")
    a = ap.parse_args(argv)
    controller = controller_config(a.set)
    if a.layouts < 1:
        raise SystemExit(f"--layouts {a.layouts}: expected 1 or more terrain layouts per cell")
    seeds = a.seeds or (5 if a.quick else 20)
    cells = []
    for robot in a.robots:
        for kind in a.kinds:
            diffs = [0.0] if kind in ("flat", "flat+noise") else a.difficulties
            cells += [(robot, kind, d, seeds, a.seed, a.sub, not a.ramps, controller,
                       a.layouts) for d in diffs]
    t0 = time.time()
    if a.workers > 1:
        with ProcessPoolExecutor(a.workers) as pool:
            rows = list(pool.map(run_cell, cells))
    else:
        rows = [run_cell(c) for c in cells]
    print(f"\nlocomotion benchmark: {seeds} robots per cell, commands {COMMANDS} m/s, "
          f"added mass U[-5, 5] kg, {a.sub:g} m sub-terrains, "
          f"{'height-field ramps' if a.ramps else 'vertical walls'}, "
          f"{a.layouts} terrain layout(s) per cell from seed {a.seed} "
          f"({time.time() - t0:.0f} s){' ' + ' '.join(a.set) if a.set else ''}; "
          f"MuJoCo {mujoco.__version__}")
    print(f"{'robot':10s} {'terrain':16s} {'diff':>5s} {'n':>4s} {'success':>8s} "
          f"{'crossed':>8s} {'v/cmd':>6s} {'falls':>6s} {'stalled':>8s}")
    flat = {}
    for r in rows:
        if r["kind"] == "flat":
            flat[r["robot"]] = r["success"]
        print(f"{r['robot']:10s} {LABELS[r['kind']]:16s} {r['difficulty']:5.2f} {r['n']:4d} "
              f"{100 * r['success']:7.0f}% {100 * r['crossed']:7.0f}% {r['v_ratio']:6.2f} "
              f"{r['falls']:6d} {r['stalled']:8d}")
    for robot, s in flat.items():
        others = [r["success"] for r in rows if r["robot"] == robot and r["kind"] != "flat"]
        if others:
            print(f"{robot}: mean success off-flat {100 * np.mean(others):.0f}% vs flat baseline "
                  f"{100 * s:.0f}% (ratio {np.mean(others) / max(s, 1e-9):.2f})")


if __name__ == "__main__":
    main()
