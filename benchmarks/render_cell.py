"""Contact sheets of robots walking one locomotion-benchmark cell, for looking at what a
controller does (a side view says more about a stair failure than a table of contacts).

Builds the cell of ``benchmarks/locomotion.py`` ([flat, KIND, flat] sub-terrains), walks
``--robots`` robots at ``--command`` m/s with the default ``ControllerConfig`` (plus ``--set``
overrides), and renders robot ``--index`` every ``--every`` control ticks between ``--start``
and ``--end`` s into PNG sheets of 4 x 4 frames (``OUT/sheet_00.png``, ...). The terrain is blue,
the robot orange; each frame is labelled with its time. The camera follows the robot's base
from its side (``--azimuth 90``, the default) or from behind (``--azimuth 0``), with a narrow
field of view, so that heights and distances read nearly as in an orthographic drawing.

Needs an OpenGL context: ``MUJOCO_GL=egl`` (the default set here) works headless with Mesa's
EGL; ``MUJOCO_GL=osmesa`` is the software fallback.

Usage::

    python benchmarks/render_cell.py --robot anymal_c --kind pyramid_stairs_up --command 0.5 \\
        --start 9 --end 15 --out /tmp/render
    python benchmarks/render_cell.py --kind pyramid_stairs_up --robots 4 --index 3 \\
        --azimuth 0 --elevation -15 --set leg_clearance=0 --out /tmp/render_off
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

GL_HINT = "try MUJOCO_GL=egl (headless Mesa) or MUJOCO_GL=osmesa"
try:  # with MUJOCO_GL set, mujoco loads that OpenGL backend on import
    import mujoco
except Exception as e:  # noqa: BLE001 - any backend failure: one line, no traceback
    raise SystemExit(f"render_cell: cannot load OpenGL backend MUJOCO_GL="
                     f"{os.environ.get('MUJOCO_GL')!r} ({type(e).__name__}: {e}); "
                     f"{GL_HINT}") from None
import numpy as np  # noqa: E402
from locomotion import KINDS, cell_terrain, controller_config  # noqa: E402

from behaviorbench.simulation import rollout  # noqa: E402
from behaviorbench.simulation.rollout import RunSpec  # noqa: E402

FRAME = (200, 320)  # px, height x width of one frame on a sheet
GRID = 4            # frames per row and rows per sheet


def _label(img: np.ndarray, text: str):
    from PIL import Image, ImageDraw

    im = Image.fromarray(img).resize((FRAME[1], FRAME[0]))
    ImageDraw.Draw(im).text((5, 5), text, fill=(255, 255, 0))
    return im


def render(args) -> list[Path]:
    """Simulate the cell and write the sheets; returns their paths."""
    from PIL import Image

    terrain = cell_terrain(args.kind, args.difficulty, args.seed, args.sub)
    cfg = controller_config(args.set)
    episode = min(args.end, 1.0 + (args.sub / 2 + args.sub + 1.0) / args.command)
    run = RunSpec(robot=args.robot, command_vel=args.command, n_robots=args.robots,
                  episode_s=episode, terrain=terrain.config,
                  seed=args.seed + int(1000 * args.command), max_init_terrain_level=0,
                  spawn_jitter=0.5, controller=cfg)
    model = rollout.build_run_model(args.robot, terrain, cfg, run.foot_condim)
    model.vis.global_.offheight, model.vis.global_.offwidth = 400, 640
    model.vis.global_.fovy = 8.0
    model.vis.headlight.ambient[:] = 0.5
    model.vis.headlight.diffuse[:] = 0.6
    robot_geoms = model.geom_bodyid > 0
    model.geom_rgba[robot_geoms] = (0.9, 0.5, 0.1, 1.0)
    model.geom_rgba[~robot_geoms] = (0.3, 0.6, 0.9, 1.0)
    try:
        renderer = mujoco.Renderer(model, 400, 640)
    except Exception as e:  # no OpenGL context: say which backends to try, before simulating
        raise SystemExit(f"render_cell: cannot open an OpenGL context with MUJOCO_GL="
                         f"{os.environ.get('MUJOCO_GL')!r} ({e}); {GL_HINT}") from None
    option = mujoco.MjvOption()
    option.geomgroup[:] = 1
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    cam.distance, cam.azimuth, cam.elevation = 12.0, args.azimuth, args.elevation
    frames = []
    fell = []

    def on_tick(k, batch, ids):
        t = k * rollout.FRAME_DT
        stopped = ids is not None and args.index not in ids   # failed: no longer stepped
        if fell or k % args.every and not stopped or not args.start <= t <= args.end:
            return
        data = batch.get_data(args.index)
        cam.lookat[:] = data.qpos[:3]
        renderer.update_scene(data, cam, option)
        label = f"t={t:.2f} s  x={data.qpos[0]:.2f} m" + ("  FELL" if stopped else "")
        frames.append(_label(renderer.render(), label))
        if stopped:
            fell.append(t)

    batch = rollout._simulate_chunk(run, list(range(args.robots)), terrain=terrain,
                                    stop_failed=True, on_tick=on_tick)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    per_sheet = GRID * GRID
    for s in range(0, len(frames), per_sheet):
        chunk = frames[s:s + per_sheet]
        rows = (len(chunk) + GRID - 1) // GRID
        sheet = Image.new("RGB", (FRAME[1] * GRID, FRAME[0] * rows))
        for i, im in enumerate(chunk):
            sheet.paste(im, ((i % GRID) * FRAME[1], (i // GRID) * FRAME[0]))
        paths.append(out / f"sheet_{s // per_sheet:02d}.png")
        sheet.save(paths[-1])
    ok = "walked the whole episode" if batch.success[args.index] else "fell"
    print(f"robot {args.index}: {ok}; {len(frames)} frames on {len(paths)} sheet(s) in {out}")
    return paths


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--robot", default="anymal_c", choices=("anymal_b", "anymal_c"))
    ap.add_argument("--kind", default="pyramid_stairs_up", choices=KINDS)
    ap.add_argument("--difficulty", type=float, default=0.5)
    ap.add_argument("--command", type=float, default=0.5, help="m/s")
    ap.add_argument("--robots", type=int, default=1, help="robots simulated together")
    ap.add_argument("--index", type=int, default=0, help="the robot rendered")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sub", type=float, default=8.0, help="m, sub-terrain size")
    ap.add_argument("--start", type=float, default=0.0, help="s, first frame")
    ap.add_argument("--end", type=float, default=20.0, help="s, last frame (and episode end)")
    ap.add_argument("--every", type=int, default=5, help="control ticks (0.02 s) per frame")
    ap.add_argument("--azimuth", type=float, default=90.0, help="deg, 90 side, 0 behind")
    ap.add_argument("--elevation", type=float, default=-2.0, help="deg")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="ControllerConfig overrides, as in locomotion.py")
    ap.add_argument("--out", required=True, help="folder for the PNG sheets")
    args = ap.parse_args(argv)
    if not 0 <= args.index < args.robots:
        ap.error(f"--index must be in [0, {args.robots})")
    render(args)


if __name__ == "__main__":
    main()
