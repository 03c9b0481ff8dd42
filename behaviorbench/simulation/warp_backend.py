"""Batched rollouts with MuJoCo Warp: the runs of :mod:`.rollout`, thousands of worlds at once.

Same robots, terrain, scene, spawns, controller and recording as
:func:`behaviorbench.simulation.rollout.simulate`, and the same output
(:class:`~behaviorbench.simulation.recording.TrajectoryBatch`); what changes is where the work
runs:

* physics: one ``mujoco_warp`` model with one world per trajectory. The per-trajectory added
  base mass and the per-tick servo gains are batched model fields (``body_mass`` and the
  constants :func:`mujoco_warp.set_const` derives from it, ``actuator_gainprm`` /
  ``actuator_biasprm``); the four physics steps of a control tick are one CUDA graph on a GPU;
* controller: :class:`~behaviorbench.simulation.controller_torch.TrotController` (torch, on the
  same device, float32 by default) reading ``qpos``/``qvel`` and writing ``ctrl`` and the gains
  through zero-copy views of the warp arrays; torch and warp share one CUDA stream;
* recording and failure checks on the device; frames reach the host in blocks of
  ``flush_frames`` (all 16 384 worlds x 180 s would not fit in GPU memory at once), labels are
  looked up on the host at the end, as on the CPU.

Trajectory ``i`` still depends only on (run, ``i``) (spawn, added mass, seed), but the physics
is float32 and MuJoCo Warp's height-field contacts differ from MuJoCo's (fewer contact points
per foot), so trajectories are close to, not equal to, the CPU backend's.

MuJoCo Warp also runs on warp's ``"cpu"`` device (slowly: ~10 ms per physics step for a few
worlds on one core, and the first call compiles its kernels, ~3 min, cached in
``~/.cache/warp``); the CPU tests use that.

Capacity: contacts live in one pool shared by all worlds (``nconmax`` per world on average);
if the pool or a world's constraint rows overflow, the results are not trusted: a shared-pool
overflow raises :class:`WarpCapacityError`, a per-world one (``njmax``, height-field contact
cap) marks that trajectory unsuccessful and is counted in ``info``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .controller_torch import TorchHeightField, TrotController, quat_to_mat
from .recording import FrameRecorder, TrajectoryBatch
from .robots import ROBOTS
from .rollout import (
    DECIMATION,
    RunSpec,
    Spawn,
    assemble_batch,
    build_run_model,
    draw_spawns,
    run_terrain,
)
from .scene import foot_contact_adr
from .terrain import Terrain

ProgressFn = Callable[[int], None]
INSTALL_HINT = "pip install 'behaviorbench[gpu]' (mujoco-warp, warp-lang; an NVIDIA GPU for speed)"

# batched model fields: per-world added mass (and what set_const derives from it), servo gains
BATCHED_FIELDS: tuple[str, ...] = (
    "body_mass", "body_subtreemass", "body_invweight0", "dof_invweight0", "actuator_acc0",
    "actuator_gainprm", "actuator_biasprm",
)


class WarpUnavailableError(ImportError):
    """mujoco_warp / warp cannot be imported."""


class WarpCapacityError(RuntimeError):
    """A buffer shared by all worlds overflowed: every world's contacts are suspect."""


def import_warp():
    """(warp, mujoco_warp) modules, or :class:`WarpUnavailableError` saying how to install."""
    try:
        import warp as wp

        if hasattr(wp, "LOG_WARNING"):  # warp >= 1.19: no banner, no per-module load lines
            wp.config.log_level = max(wp.config.log_level, wp.LOG_WARNING)
        wp.config.quiet = True
        import mujoco_warp as mjw
    except ImportError as e:
        raise WarpUnavailableError(
            f"the mujoco-warp backend needs mujoco_warp and warp ({e}); {INSTALL_HINT}") from e
    return wp, mjw


def overflow_masks(mjw) -> tuple[int, int]:
    """(shared, per_world) bitmasks of ``Data.overflow`` flags that invalidate results:
    shared-pool overflows (all worlds suspect) and per-world ones (that world only). Solver
    iteration limits are not among them (MuJoCo on the CPU stops there too)."""
    o = mjw.OverflowType
    shared = int(o.BROADPHASE | o.NARROWPHASE | o.CCD | o.NJMAX_NNZ)
    per_world = int(o.NEFC | o.HFIELD | o.NVMAX)
    return shared, per_world


@dataclass(frozen=True)
class WarpOptions:
    """How the MuJoCo Warp backend runs (not part of a dataset's identity)."""

    device: str | None = None          # warp device ("cuda:0", "cpu"); None: warp's default
    controller_dtype: str = "float32"  # "float32" | "float64" (controller maths)
    nconmax: int | None = None         # contacts per world (shared pool); None: MJWarp's guess
    njmax: int | None = None           # constraint rows per world; None: MJWarp's guess
    ccd_tolerance: float = 1e-4        # convex collision (GJK/EPA) tolerance; MuJoCo's 1e-6
    # is below float32 resolution: EPA then fails to converge on some box/height-field pairs
    # and returns penetrations of metres that launch the robot (seen on stairs, MJWarp 4.0.0)
    diverge_speed: float = 20.0        # m/s, base speed treated as a diverged world
    cuda_graph: bool = True            # one CUDA graph per control tick's physics (GPU only)
    flush_frames: int = 500            # frames kept on the device before a copy to the host


# ----------------------------------------------------------------------------- the batch
class WarpBatch:
    """One ``mujoco_warp`` model and data of ``n`` worlds (one per trajectory) on ``device``,
    with zero-copy torch views of the arrays the controller touches.

    ``qpos`` (n, 19), ``qvel`` (n, 18), ``ctrl`` (n, 12) float32; ``gainprm``/``biasprm``
    (n, 12, 10) float32 (per-world actuator parameters). Writing through the views changes
    the simulation; call :meth:`step` to advance ``nstep`` physics steps."""

    def __init__(self, model, spawn: Spawn, *, device=None, nconmax: int | None = None,
                 njmax: int | None = None, cuda_graph: bool = True):
        wp, mjw = import_warp()
        self.wp, self.mjw = wp, mjw
        self.device = wp.get_device(device)
        n = len(spawn.qpos)
        self.n = n
        with wp.ScopedDevice(self.device):
            self.m = mjw.put_model(model, batch_sizes=dict.fromkeys(BATCHED_FIELDS, n))
            self.d = mjw.make_data(model, nworld=n, nconmax=nconmax, njmax=njmax)
            mass = self.m.body_mass.numpy()
            mass[:, model.body("base").id] += spawn.added_mass
            self.m.body_mass.assign(mass)
            self.d.qpos.assign(spawn.qpos.astype(np.float32))
            mjw.set_const(self.m, self.d)  # subtree masses, inverse weights of each world
            self.d.qvel.zero_()
            mjw.forward(self.m, self.d)
        self.qpos = wp.to_torch(self.d.qpos)
        self.qvel = wp.to_torch(self.d.qvel)
        self.ctrl = wp.to_torch(self.d.ctrl)
        self.sensordata = wp.to_torch(self.d.sensordata)      # (n, nsensordata)
        self.actuator_force = wp.to_torch(self.d.actuator_force)  # (n, 12) N m
        self.gainprm = wp.to_torch(self.m.actuator_gainprm)
        self.biasprm = wp.to_torch(self.m.actuator_biasprm)
        self.torch_device = self.qpos.device
        self._graphs: dict[int, object] = {}
        self._cuda_graph = cuda_graph and self.device.is_cuda

    def stream(self):
        """Context in which torch work goes to warp's stream (CUDA), so that the two are
        ordered without synchronising the host; a no-op on the CPU."""
        if not self.device.is_cuda:
            return contextlib.nullcontext()
        return torch.cuda.stream(self.wp.stream_to_torch(self.wp.get_stream(self.device)))

    def step(self, nstep: int) -> None:
        """``nstep`` physics steps of every world (one graph launch on a GPU)."""
        wp, mjw = self.wp, self.mjw
        with wp.ScopedDevice(self.device):
            if not self._cuda_graph:
                for _ in range(nstep):
                    mjw.step(self.m, self.d)
                return
            if nstep not in self._graphs:
                with wp.ScopedCapture(device=self.device) as cap:
                    for _ in range(nstep):
                        mjw.step(self.m, self.d)
                self._graphs[nstep] = cap.graph
            wp.capture_launch(self._graphs[nstep])

    def overflow(self) -> np.ndarray:
        """(n,) int: each world's ``Data.overflow`` bitmask so far (sticky)."""
        return self.d.overflow.numpy().copy()


# ----------------------------------------------------------------------------- device helpers
class DeviceRecorder:
    """Frames recorded into device tensors, copied to a host :class:`FrameRecorder` every
    ``block`` frames (and at :meth:`flush`)."""

    def __init__(self, n: int, n_frames: int, block: int, device: torch.device):
        self.host = FrameRecorder(n, n_frames)
        self.block = max(1, min(block, n_frames))
        self.start = 0  # first frame of the device block
        f32 = dict(dtype=torch.float32, device=device)
        self.buf = {k: torch.zeros((n, self.block, d), **f32)
                    for k, d in (("dof_pos", 12), ("dof_vel", 12), ("base_pos", 3),
                                 ("base_lin_vel", 3), ("base_ang_vel", 3), ("base_quat", 4))}
        self.f32 = f32

    def record(self, k: int, qpos: torch.Tensor, qvel: torch.Tensor,
               ang_vel_world: torch.Tensor, foot_contact: torch.Tensor | None = None,
               joint_torque: torch.Tensor | None = None) -> None:
        """Frame ``k`` from ``qpos`` (n, 19), ``qvel`` (n, 18), world angular velocity (n, 3)
        and, where the backend has them, ``foot_contact`` (n, 4) (non-zero: contact) and
        ``joint_torque`` (n, 12) N m."""
        if k - self.start >= self.block:
            self.flush(k)
        j = k - self.start
        b = self.buf
        b["dof_pos"][:, j] = qpos[:, 7:19]
        b["dof_vel"][:, j] = qvel[:, 6:18]
        b["base_pos"][:, j] = qpos[:, 0:3]
        b["base_lin_vel"][:, j] = qvel[:, 0:3]
        b["base_ang_vel"][:, j] = ang_vel_world
        b["base_quat"][:, j] = qpos[:, 3:7]
        for name, value, width in (("foot_contact", foot_contact, 4),
                                   ("joint_torque", joint_torque, 12)):
            if value is not None:
                if name not in b:
                    b[name] = torch.zeros((self.host.n, self.block, width), **self.f32)
                b[name][:, j] = value

    def flush(self, end: int) -> None:
        """Copy frames [start, end) to the host; the next block starts at ``end``."""
        m = end - self.start
        if m > 0:
            host = self.host
            if "foot_contact" in self.buf and host.foot_contact is None:
                host.foot_contact = np.zeros((host.n, host.n_frames, 4), bool)
            if "joint_torque" in self.buf and host.joint_torque is None:
                host.joint_torque = np.zeros((host.n, host.n_frames, 12), np.float32)
            for k, v in self.buf.items():
                block = v[:, :m].cpu().numpy()
                getattr(host, k)[:, self.start:end] = block > 0 if k == "foot_contact" \
                    else block
        self.start = end


def failed_torch(run: RunSpec, terrain: Terrain, height: TorchHeightField, qpos: torch.Tensor,
                 rot: torch.Tensor, prev_xy: torch.Tensor) -> torch.Tensor:
    """(n,) bool, :func:`behaviorbench.simulation.rollout.failed` on tensors: fall (base
    below ``min_base_height`` m above the ground, |roll| or |pitch| above ``max_tilt``), an xy
    jump of more than 1 m since the last frame, leaving the grid, or a non-finite state."""
    x_max = terrain.grid_size[0] - 0.5
    y_max = terrain.grid_size[1]
    ground = height(qpos[:, 0], qpos[:, 1])
    tilt = torch.maximum(torch.abs(torch.atan2(rot[:, 2, 1], rot[:, 2, 2])),
                         torch.abs(torch.asin(torch.clamp(rot[:, 2, 0], -1, 1))))
    jump = torch.linalg.norm(qpos[:, :2] - prev_xy, dim=1) > 1.0
    off = (qpos[:, 0] > x_max) | (qpos[:, 0] < 0) | (qpos[:, 1] < 0) | (qpos[:, 1] > y_max)
    bad = (qpos[:, 2] - ground < run.min_base_height) | (tilt > run.max_tilt) | jump | off
    return bad | ~torch.isfinite(qpos).all(1)


def hold_after(rec: FrameRecorder, fail_frame: np.ndarray) -> None:
    """Frames after each trajectory's ``fail_frame`` (n,) int (-1: none) repeat that frame
    (what :func:`rollout.simulate` records with ``stop_failed``), in place."""
    for i in np.flatnonzero(fail_frame >= 0):
        k = int(fail_frame[i])
        for buf in rec.buffers():
            buf[i, k + 1:] = buf[i, k]


# ----------------------------------------------------------------------------- simulate
def simulate(run: RunSpec, indices: Sequence[int] | None = None, *,
             options: WarpOptions | None = None, progress: ProgressFn | None = None,
             terrain: Terrain | None = None, stop_failed: bool = False,
             info: dict | None = None) -> TrajectoryBatch:
    """Simulate trajectories ``indices`` (default all ``run.n_robots``) of ``run`` together,
    one MuJoCo Warp world each. Arguments as :func:`behaviorbench.simulation.rollout.simulate`
    (``stop_failed``: frames after a failure repeat the failure frame, and the failed world
    is parked out of contact); ``options`` (:class:`WarpOptions`) choose the device and
    buffers. A world whose state becomes non-finite (MuJoCo Warp does not reset diverged
    worlds) or whose base exceeds ``options.diverge_speed`` fails, is parked, and its frames
    from then on repeat its last sane frame.
    ``info`` (a dict, optional) receives ``device``, ``n_worlds``, ``setup_s``, ``loop_s``
    (wall seconds), ``overflow_worlds`` (per-world overflows), ``diverged_worlds`` and
    ``controller_dtype``. Returns the trajectories in ``indices`` order."""
    opts = options or WarpOptions()
    idx = list(range(run.n_robots) if indices is None else indices)
    if not idx:
        raise ValueError("no trajectories to simulate")
    _, mjw = import_warp()
    dtype = {"float32": torch.float32, "float64": torch.float64}[opts.controller_dtype]
    t0 = time.perf_counter()
    terrain = run_terrain(run) if terrain is None else terrain
    model = build_run_model(run.robot, terrain, run.controller, run.foot_condim)
    model.opt.ccd_tolerance = opts.ccd_tolerance
    spawn = draw_spawns(run, terrain, idx)
    robot = ROBOTS[run.robot]
    n, n_frames = len(idx), run.n_frames
    sim = WarpBatch(model, spawn, device=opts.device, nconmax=opts.nconmax, njmax=opts.njmax,
                    cuda_graph=opts.cuda_graph)
    contact_adr = torch.as_tensor(foot_contact_adr(model), device=sim.torch_device)
    dev = sim.torch_device
    shared_mask, world_mask = overflow_masks(mjw)

    with sim.stream():
        height = TorchHeightField(terrain, dtype, dev)
        ctl = TrotController(robot, np.full(n, run.command_vel), height,
                             added_mass=spawn.added_mass, config=run.controller, dtype=dtype,
                             device=dev)
        ctl.reset(sim.qpos)
        rec = DeviceRecorder(n, n_frames, opts.flush_frames, dev)
        ok = torch.ones(n, dtype=torch.bool, device=dev)
        fail_frame = torch.full((n,), -1, dtype=torch.long, device=dev)
        first_nan = torch.full((n,), -1, dtype=torch.long, device=dev)
        park = torch.as_tensor(spawn.qpos, dtype=torch.float32, device=dev).clone()
        park[:, 2] += 100.0  # failed worlds wait here, out of contact
        prev_xy = sim.qpos[:, :2].to(dtype)
        t1 = time.perf_counter()
        reported, k_end = 0, n_frames
        sync_every = 50 if sim.device.is_cuda else 1
        for k in range(n_frames):
            # a diverged world (non-finite state, which MuJoCo Warp does not reset as MuJoCo
            # does, or a base faster than diverge_speed) has failed; it is parked so that it
            # cannot flood the contact pool that all worlds share
            finite = torch.isfinite(sim.qpos).all(1) & torch.isfinite(sim.qvel).all(1) \
                & (torch.linalg.norm(sim.qvel[:, :3], dim=1) < opts.diverge_speed)
            first_nan = torch.where((first_nan < 0) & ~finite, k, first_nan)
            _park(sim, finite, park)
            qp, qv = sim.qpos.to(dtype, copy=True), sim.qvel.to(dtype, copy=True)
            rot = quat_to_mat(qp[:, 3:7])
            rec.record(k, qp, qv, torch.einsum("nij,nj->ni", rot, qv[:, 3:6]),
                       foot_contact=sim.sensordata[:, contact_adr],
                       joint_torque=sim.actuator_force)
            bad = failed_torch(run, terrain, height, qp, rot, prev_xy) | (first_nan >= 0)
            fail_frame = torch.where(ok & bad, k, fail_frame)
            ok &= ~bad
            prev_xy = qp[:, :2]
            sim.ctrl.copy_(ctl(qp, qv))
            ctl.write_gains(sim.gainprm, sim.biasprm)
            if stop_failed:
                _park(sim, ok, park)
            sim.step(DECIMATION)
            if (k + 1) % 50 == 0:
                _check_shared(sim, shared_mask)
                if progress is not None:
                    progress(n * 50)
                    reported += 50
            # all failed: stop (a host sync, so on a GPU only once a second)
            if stop_failed and (k + 1) % sync_every == 0 and not bool(ok.any()):
                k_end = k + 1
                break
        rec.flush(k_end)
        ok_host = ok.cpu().numpy()
        fail_host = fail_frame.cpu().numpy()
        nan_host = first_nan.cpu().numpy()
    if progress is not None and n_frames > reported:
        progress(n * (n_frames - reported))
    t2 = time.perf_counter()

    _check_shared(sim, shared_mask)
    world_over = (sim.overflow() & world_mask) != 0
    host = rec.host
    # held frames: after the failure frame (stop_failed), and from a divergence on (the last
    # finite frame repeats); both also fill the frames after an early stop (k_end)
    hold = np.where(ok_host | (not stop_failed), -1, fail_host)
    diverged = nan_host >= 0
    hold[diverged] = np.where(hold[diverged] >= 0,
                              np.minimum(hold[diverged], nan_host[diverged] - 1),
                              nan_host[diverged] - 1)
    hold_after(host, hold)
    success = ok_host & ~world_over
    if info is not None:
        info.update(device=str(sim.device), n_worlds=n, setup_s=t1 - t0, loop_s=t2 - t1,
                    overflow_worlds=int(world_over.sum()), diverged_worlds=int(diverged.sum()),
                    controller_dtype=opts.controller_dtype)
    return assemble_batch(run, terrain, spawn, host, success)


def _park(sim: WarpBatch, keep: torch.Tensor, park: torch.Tensor) -> None:
    """Worlds not in ``keep`` (n,) bool go to their ``park`` pose (n, 19), at rest."""
    sim.qpos.copy_(torch.where(keep[:, None], sim.qpos, park))
    sim.qvel.copy_(torch.where(keep[:, None], sim.qvel, 0.0))


def _check_shared(sim: WarpBatch, mask: int) -> None:
    """Raise :class:`WarpCapacityError` if a buffer shared by all worlds overflowed."""
    over = int(np.bitwise_or.reduce(sim.overflow() & mask))
    if over:
        names = [f.name for f in sim.mjw.OverflowType
                 if f.value and not f.value & (f.value - 1) and over & f.value]
        raise WarpCapacityError(
            f"MuJoCo Warp buffers overflowed ({', '.join(names)}) with {sim.n} worlds: raise "
            f"WarpOptions.nconmax (contacts per world) or njmax")
