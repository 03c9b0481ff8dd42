"""Isaac Gym backend: the runs of :mod:`.rollout` in NVIDIA Isaac Gym (PhysX) through its
tensor API, for users who installed Isaac Gym themselves (it is not on PyPI).

Same robots (the MJCF of :func:`~behaviorbench.simulation.robots.build_robot_spec`, which
Isaac Gym's MJCF importer loads), terrain (the height field as a triangle mesh with vertical
step walls, as legged_gym), spawns, controller (on torch tensors,
:mod:`.controller_torch`) and recording as the MuJoCo backends, producing the same
:class:`~behaviorbench.simulation.recording.TrajectoryBatch`. MuJoCo's position servos are
applied as explicit joint torques at the physics rate (:func:`servo_torques`, legged_gym's
``DOF_MODE_EFFORT`` pattern), with the joints' passive damping added.

Written against Isaac Gym Preview 4's documented Python API (``gymapi``, ``gymtorch``); not
run here (no Isaac Gym, no GPU). The pure-python parts (mesh, state layout, servo law, import
errors) are tested in ``tests/simulation/test_isaacgym_backend.py``.

Constraints of Isaac Gym itself: Preview 4 ships bindings for Python 3.6-3.8 only (this
package needs 3.10+, so a rebuilt binding is required), and ``isaacgym`` must be imported
before ``torch``; so this module imports torch only inside functions, after
:func:`import_isaacgym`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .recording import TrajectoryBatch
from .robots import JOINT_NAMES, ROBOTS, build_robot_model, build_robot_spec
from .rollout import DECIMATION, RunSpec, assemble_batch, draw_spawns, run_terrain
from .scene import SIM_DT
from .terrain import Terrain

ProgressFn = Callable[[int], None]
INSTALL_HINT = (
    "Isaac Gym is not on PyPI: download 'Isaac Gym Preview 4' from "
    "https://developer.nvidia.com/isaac-gym and run `pip install -e isaacgym/python` in this "
    "environment (an NVIDIA GPU and driver are required; Preview 4's bindings are built for "
    "Python 3.6-3.8, behaviorbench needs 3.10+, so the bindings must be rebuilt for this "
    "Python)")


class IsaacGymUnavailableError(ImportError):
    """Isaac Gym cannot be imported; the message says how to install it."""


def import_isaacgym():
    """(gymapi, gymtorch) or :class:`IsaacGymUnavailableError` with install instructions.

    Must run before anything imports torch (Isaac Gym refuses to load after it)."""
    if "isaacgym" not in sys.modules and "torch" in sys.modules:
        raise IsaacGymUnavailableError(
            "backend 'isaacgym': torch was imported before isaacgym, which Isaac Gym does not "
            "allow; start a fresh process whose first import is isaacgym (the dataset CLI and "
            "its workers do this)")
    try:
        from isaacgym import gymapi, gymtorch
    except ImportError as e:
        py = ".".join(map(str, sys.version_info[:2]))
        raise IsaacGymUnavailableError(
            f"backend 'isaacgym' is not available: cannot import isaacgym ({e}); Python {py}. "
            f"{INSTALL_HINT}") from e
    return gymapi, gymtorch


@dataclass(frozen=True)
class IsaacGymOptions:
    """How the Isaac Gym backend runs (PhysX settings as legged_gym's)."""

    device: str = "cuda:0"                 # simulation and tensor device (GPU pipeline)
    graphics_device_id: int = -1           # -1: headless
    slope_threshold: float = 0.75          # rise/run above which mesh steps become vertical
    num_position_iterations: int = 4       # PhysX solver
    num_velocity_iterations: int = 0       # PhysX solver
    contact_offset: float = 0.01           # m
    rest_offset: float = 0.0               # m
    bounce_threshold_velocity: float = 0.5  # m/s
    max_depenetration_velocity: float = 1.0  # m/s
    max_gpu_contact_pairs: int = 2 ** 23   # contact pairs buffer (all envs)
    ground_friction: float = 1.0           # static = dynamic friction of the terrain mesh
    controller_dtype: str = "float32"      # "float32" | "float64"
    flush_frames: int = 500                # frames kept on the device before a host copy


# ----------------------------------------------------------------------------- terrain mesh
def heightfield_to_trimesh(heights: np.ndarray, horizontal_scale: float,
                           slope_threshold: float | None = None
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Triangle mesh of a height field (legged_gym's ``convert_heightfield_to_trimesh``).

    ``heights`` (nx, ny) m, sample [i, j] at (i, j) * ``horizontal_scale`` m. With
    ``slope_threshold`` (rise over run), a vertex at the foot of a rise steeper than that
    moves one sample towards it, so steps get vertical walls instead of ramps one sample
    wide. Returns vertices (nx * ny, 3) float32 m (row-major, vertex i * ny + j) and
    triangles (2 (nx - 1) (ny - 1), 3) uint32, counter-clockwise seen from above."""
    h = np.asarray(heights, dtype=np.float64)
    nx, ny = h.shape
    hs = float(horizontal_scale)
    xx, yy = np.meshgrid(np.arange(nx) * hs, np.arange(ny) * hs, indexing="ij")
    if slope_threshold is not None:
        jump = slope_threshold * hs  # m of rise between neighbours
        mx, my, mc = np.zeros((nx, ny)), np.zeros((nx, ny)), np.zeros((nx, ny))
        mx[:-1, :] += h[1:, :] - h[:-1, :] > jump
        mx[1:, :] -= h[:-1, :] - h[1:, :] > jump
        my[:, :-1] += h[:, 1:] - h[:, :-1] > jump
        my[:, 1:] -= h[:, :-1] - h[:, 1:] > jump
        mc[:-1, :-1] += h[1:, 1:] - h[:-1, :-1] > jump
        mc[1:, 1:] -= h[:-1, :-1] - h[1:, 1:] > jump
        xx = xx + (mx + mc * (mx == 0)) * hs
        yy = yy + (my + mc * (my == 0)) * hs
    vertices = np.stack([xx.ravel(), yy.ravel(), h.ravel()], -1).astype(np.float32)
    i, j = np.meshgrid(np.arange(nx - 1), np.arange(ny - 1), indexing="ij")
    v0 = (i * ny + j).ravel()
    v1, v2 = v0 + 1, v0 + ny           # +y, +x neighbours
    v3 = v2 + 1
    tri = np.empty((2 * len(v0), 3), dtype=np.uint32)
    tri[0::2] = np.stack([v0, v3, v1], -1)
    tri[1::2] = np.stack([v0, v2, v3], -1)
    return vertices, tri


def terrain_trimesh(terrain: Terrain, slope_threshold: float | None = 0.75
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The terrain's mesh in world coordinates (sample [0, 0] at ``terrain.origin``)."""
    v, t = heightfield_to_trimesh(terrain.heights, terrain.horizontal_scale, slope_threshold)
    v[:, :2] += terrain.origin.astype(np.float32)
    return v, t


# ----------------------------------------------------------------------------- robot asset
def write_robot_mjcf(robot: str, folder: str | Path) -> Path:
    """Write robot ``robot`` (torque actuators, no floor) as MJCF into ``folder``; returns
    the file (Isaac Gym loads it with ``gym.load_asset``)."""
    path = Path(folder) / f"{robot}.xml"
    path.write_text(build_robot_spec(robot, actuator="torque").to_xml())
    return path


def dof_permutation(asset_dof_names: Sequence[str]) -> np.ndarray:
    """(12,) int: index in the asset's DOF order of each joint of
    :data:`~behaviorbench.simulation.robots.JOINT_NAMES` (ours = isaac[:, perm])."""
    names = list(asset_dof_names)
    missing = [j for j in JOINT_NAMES if j not in names]
    if missing or len(names) != len(JOINT_NAMES):
        raise ValueError(f"asset DOFs {names} do not match the robot's joints {JOINT_NAMES}")
    return np.array([names.index(j) for j in JOINT_NAMES])


# ----------------------------------------------------------------------------- state layout
def isaac_to_mujoco_state(root, dof_pos, dof_vel, com_offset=None):
    """Isaac Gym root states (n, 13) (position, x-y-z-w quaternion, world linear and angular
    velocity) and joint positions/velocities (n, 12) (our joint order) -> MuJoCo ``qpos``
    (n, 19) (w-x-y-z quaternion) and ``qvel`` (n, 18) (linear velocity of the base origin,
    angular velocity in the base frame). PhysX reports the linear velocity of the centre of
    mass: give ``com_offset`` (3,) m, the base's centre of mass in the base frame, to move it
    to the origin (None: taken as is). Tensors in, tensors out."""
    import torch

    from .controller_torch import quat_to_mat

    quat = torch.cat([root[:, 6:7], root[:, 3:6]], -1)
    rot = quat_to_mat(quat)
    omega_w = root[:, 10:13]
    lin = root[:, 7:10]
    if com_offset is not None:
        r = torch.einsum("nij,j->ni", rot, torch.as_tensor(com_offset).to(rot))
        lin = lin - torch.linalg.cross(omega_w, r, dim=-1)
    omega_b = torch.einsum("nji,nj->ni", rot, omega_w)
    qpos = torch.cat([root[:, 0:3], quat, dof_pos], -1)
    qvel = torch.cat([lin, omega_b, dof_vel], -1)
    return qpos, qvel


def mujoco_to_isaac_root(qpos, qvel, com_offset=None):
    """Inverse of :func:`isaac_to_mujoco_state` for the root: (n, 13) tensor."""
    import torch

    from .controller_torch import quat_to_mat

    rot = quat_to_mat(qpos[:, 3:7])
    omega_w = torch.einsum("nij,nj->ni", rot, qvel[:, 3:6])
    lin = qvel[:, 0:3]
    if com_offset is not None:
        r = torch.einsum("nij,j->ni", rot, torch.as_tensor(com_offset).to(rot))
        lin = lin + torch.linalg.cross(omega_w, r, dim=-1)
    return torch.cat([qpos[:, 0:3], qpos[:, 4:7], qpos[:, 3:4], lin, omega_w], -1)


def servo_torques(ctrl, q, qd, kp, kd, ctrl_limit: float, torque_limit: float,
                  joint_damping: float):
    """Joint torques (n, 12) N m of MuJoCo's position servos plus passive joint damping:
    ``clip(kp (clip(ctrl, +-ctrl_limit) - q) - kd qd, +-torque_limit) - joint_damping qd``
    (``ctrl``, ``q`` rad, ``qd`` rad/s, per-joint ``kp``/``kd``; tensors or arrays)."""
    lib = _lib(ctrl)
    u = lib.clip(ctrl, -ctrl_limit, ctrl_limit)
    return lib.clip(kp * (u - q) - kd * qd, -torque_limit, torque_limit) - joint_damping * qd


def _lib(x):
    if isinstance(x, np.ndarray):
        return np
    import torch

    return torch


# ----------------------------------------------------------------------------- simulate
def simulate(run: RunSpec, indices: Sequence[int] | None = None, *,
             options: IsaacGymOptions | None = None, progress: ProgressFn | None = None,
             terrain: Terrain | None = None, stop_failed: bool = False,
             info: dict | None = None) -> TrajectoryBatch:
    """Simulate trajectories ``indices`` (default all) of ``run`` in Isaac Gym, one env per
    trajectory. Arguments as :func:`behaviorbench.simulation.warp_backend.simulate`
    (``stop_failed``: frames after a failure repeat the failure frame)."""
    gymapi, gymtorch = import_isaacgym()
    import torch

    from .controller_torch import TorchHeightField, TrotController, quat_to_mat
    from .warp_backend import DeviceRecorder, failed_torch, hold_after

    opts = options or IsaacGymOptions()
    idx = list(range(run.n_robots) if indices is None else indices)
    if not idx:
        raise ValueError("no trajectories to simulate")
    dtype = {"float32": torch.float32, "float64": torch.float64}[opts.controller_dtype]
    t0 = time.perf_counter()
    terrain = run_terrain(run) if terrain is None else terrain
    spawn = draw_spawns(run, terrain, idx)
    robot = ROBOTS[run.robot]
    n, n_frames = len(idx), run.n_frames
    dev = torch.device(opts.device)
    gpu = dev.type == "cuda"

    gym = gymapi.acquire_gym()
    sp = gymapi.SimParams()
    sp.dt = SIM_DT
    sp.substeps = 1
    sp.up_axis = gymapi.UP_AXIS_Z
    sp.gravity = gymapi.Vec3(0.0, 0.0, -9.81)
    sp.use_gpu_pipeline = gpu
    sp.physx.use_gpu = gpu
    sp.physx.solver_type = 1
    sp.physx.num_position_iterations = opts.num_position_iterations
    sp.physx.num_velocity_iterations = opts.num_velocity_iterations
    sp.physx.contact_offset = opts.contact_offset
    sp.physx.rest_offset = opts.rest_offset
    sp.physx.bounce_threshold_velocity = opts.bounce_threshold_velocity
    sp.physx.max_depenetration_velocity = opts.max_depenetration_velocity
    sp.physx.max_gpu_contact_pairs = opts.max_gpu_contact_pairs
    sp.physx.default_buffer_size_multiplier = 5
    sim = gym.create_sim(dev.index or 0, opts.graphics_device_id, gymapi.SIM_PHYSX, sp)
    if sim is None:
        raise RuntimeError("Isaac Gym could not create the simulation")
    try:
        # terrain: one static triangle mesh in world coordinates
        # vertical walls only where the terrain has them (``--height-field-ramps``: none)
        walls = opts.slope_threshold if terrain.config.vertical_walls else None
        verts, tris = terrain_trimesh(terrain, walls)
        tm = gymapi.TriangleMeshParams()
        tm.nb_vertices, tm.nb_triangles = verts.shape[0], tris.shape[0]
        tm.static_friction = tm.dynamic_friction = opts.ground_friction
        tm.restitution = 0.0
        gym.add_triangle_mesh(sim, verts.ravel(), tris.ravel(), tm)

        # robot asset (MJCF), torque-driven DOFs with the MJCF's passive friction
        ao = gymapi.AssetOptions()
        ao.default_dof_drive_mode = gymapi.DOF_MODE_EFFORT
        ao.fix_base_link = False
        ao.collapse_fixed_joints = True
        ao.replace_cylinder_with_capsule = True
        ao.angular_damping = ao.linear_damping = 0.0
        ao.max_angular_velocity = ao.max_linear_velocity = 1000.0
        ao.armature = 0.0
        ao.thickness = 0.01
        with tempfile.TemporaryDirectory() as tmp:
            asset_file = write_robot_mjcf(run.robot, tmp)
            asset = gym.load_asset(sim, tmp, asset_file.name, ao)
        perm = torch.as_tensor(dof_permutation(gym.get_asset_dof_names(asset)), device=dev)
        dof_props = gym.get_asset_dof_properties(asset)
        dof_props["driveMode"][:] = gymapi.DOF_MODE_EFFORT
        dof_props["stiffness"][:] = 0.0
        dof_props["damping"][:] = 0.0
        dof_props["friction"][:] = robot.joint_frictionloss
        base_body = gym.find_asset_rigid_body_index(asset, "base")
        com = build_robot_model(run.robot).body("base").ipos.copy()  # m, base frame

        # one env per trajectory; pose and state are set through the tensor API below
        lower, upper = gymapi.Vec3(0.0, 0.0, 0.0), gymapi.Vec3(0.0, 0.0, 0.0)
        per_row = max(1, int(np.sqrt(n)))
        pose = gymapi.Transform()
        for i in range(n):
            env = gym.create_env(sim, lower, upper, per_row)
            pose.p = gymapi.Vec3(*spawn.qpos[i, :3].tolist())
            actor = gym.create_actor(env, asset, pose, run.robot, i, 1, 0)  # no self-collision
            gym.set_actor_dof_properties(env, actor, dof_props)
            body = gym.get_actor_rigid_body_properties(env, actor)
            body[base_body].mass += float(spawn.added_mass[i])
            gym.set_actor_rigid_body_properties(env, actor, body, recomputeInertia=False)
        gym.prepare_sim(sim)

        root = gymtorch.wrap_tensor(gym.acquire_actor_root_state_tensor(sim))      # (n, 13)
        dof_state = gymtorch.wrap_tensor(gym.acquire_dof_state_tensor(sim)).view(n, 12, 2)
        qpos0 = torch.as_tensor(spawn.qpos, dtype=torch.float32, device=dev)
        qvel0 = torch.zeros((n, 18), dtype=torch.float32, device=dev)
        root[:] = mujoco_to_isaac_root(qpos0, qvel0, com)
        dof_state[:, perm, 0] = qpos0[:, 7:19]
        dof_state[:, :, 1] = 0.0
        gym.set_actor_root_state_tensor(sim, gymtorch.unwrap_tensor(root))
        gym.set_dof_state_tensor(sim, gymtorch.unwrap_tensor(dof_state))
        torques = torch.zeros((n, 12), dtype=torch.float32, device=dev)

        def state():
            gym.refresh_actor_root_state_tensor(sim)
            gym.refresh_dof_state_tensor(sim)
            return isaac_to_mujoco_state(root.to(dtype), dof_state[:, perm, 0].to(dtype),
                                         dof_state[:, perm, 1].to(dtype), com)

        height = TorchHeightField(terrain, dtype, dev)
        ctl = TrotController(robot, np.full(n, run.command_vel), height,
                             added_mass=spawn.added_mass, config=run.controller, dtype=dtype,
                             device=dev)
        qp, qv = state()
        ctl.reset(qp)
        rec = DeviceRecorder(n, n_frames, opts.flush_frames, dev)
        ok = torch.ones(n, dtype=torch.bool, device=dev)
        fail_frame = torch.full((n,), -1, dtype=torch.long, device=dev)
        prev_xy = qp[:, :2].clone()
        t1 = time.perf_counter()
        reported = 0
        for k in range(n_frames):
            qp, qv = state()
            rot = quat_to_mat(qp[:, 3:7])
            rec.record(k, qp, qv, torch.einsum("nij,nj->ni", rot, qv[:, 3:6]))
            bad = failed_torch(run, terrain, height, qp, rot, prev_xy)
            fail_frame = torch.where(ok & bad, k, fail_frame)
            ok &= ~bad
            prev_xy = qp[:, :2].clone()
            ctrl = ctl(qp, qv)
            for _ in range(DECIMATION):  # servos at the physics rate, as MuJoCo's actuators
                gym.refresh_dof_state_tensor(sim)
                q, qd = dof_state[:, perm, 0].to(dtype), dof_state[:, perm, 1].to(dtype)
                tau = servo_torques(ctrl, q, qd, ctl.kp_joint, ctl.kd_joint,
                                    robot.position_ctrlrange, robot.torque_limit,
                                    robot.joint_damping)
                torques[:, perm] = tau.to(torch.float32)
                gym.set_dof_actuation_force_tensor(sim, gymtorch.unwrap_tensor(torques))
                gym.simulate(sim)
                if not gpu:
                    gym.fetch_results(sim, True)
            if progress is not None and (k + 1) % 50 == 0:
                progress(n * 50)
                reported += 50
        rec.flush(n_frames)
        ok_host = ok.cpu().numpy()
        fail_host = fail_frame.cpu().numpy()
        t2 = time.perf_counter()
    finally:
        gym.destroy_sim(sim)
    if progress is not None and n_frames > reported:
        progress(n * (n_frames - reported))
    host = rec.host
    if stop_failed:
        hold_after(host, np.where(ok_host, -1, fail_host))
    if info is not None:
        info.update(device=str(dev), n_worlds=n, setup_s=t1 - t0, loop_s=t2 - t1,
                    controller_dtype=opts.controller_dtype)
    return assemble_batch(run, terrain, spawn, host, ok_host)
