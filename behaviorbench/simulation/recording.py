"""``TrajectoryBatch``: the simulator's output (the contract of ``docs/architecture.md``).

Shapes are (N trajectories, T frames, ...); frames are recorded at 50 Hz (every control tick:
sim dt 0.005 s x decimation 4). Units SI; positions and velocities in the world frame.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

FRAME_DT = 0.02  # s, recording period (50 Hz)

_DTYPES: dict[str, type] = {
    "dof_pos": np.float32, "dof_vel": np.float32, "base_pos": np.float32,
    "base_lin_vel": np.float32, "base_ang_vel": np.float32,
    "terrain_type": np.int8, "terrain_type_2": np.int8, "terrain_slope": np.float32,
    "terrain_difficulty": np.float32, "terrain_rough": np.bool_,
    "robot_type": np.int8, "command_vel": np.float32, "body_mass": np.float32,
    "added_mass": np.float32, "success": np.bool_, "seed": np.uint64,
    "failure_reason": np.int8, "progress": np.float32,
    "foot_contact": np.bool_, "joint_torque": np.float32, "base_quat": np.float32,
}
# recorded by the MuJoCo backends; None where a backend does not record them
OPTIONAL_FIELDS: tuple[str, ...] = ("foot_contact", "joint_torque", "base_quat")


@dataclass
class TrajectoryBatch:
    """N recorded trajectories of T frames.

    Per frame: ``dof_pos`` (N, T, 12) float32 rad and ``dof_vel`` (N, T, 12) float32 rad/s in
    :data:`~behaviorbench.simulation.robots.JOINT_NAMES` order; ``base_pos`` m,
    ``base_lin_vel`` m/s, ``base_ang_vel`` rad/s (N, T, 3) float32, world frame; labels of the
    terrain under the base: ``terrain_type``, ``terrain_type_2`` (N, T) int8 class indices,
    ``terrain_slope`` (N, T) float32 gradient (step height in m on stairs),
    ``terrain_difficulty`` (N, T) float32 in [0, 1], ``terrain_rough`` (N, T) bool.
    Per trajectory: ``robot_type`` int8 (0 anymal_b, 1 anymal_c), ``command_vel`` float32 m/s,
    ``body_mass`` float32 kg (base body mass including the added mass), ``added_mass`` float32
    kg, ``success`` bool (no fall, respawn, run-off or stall), ``seed`` uint64
    (per-trajectory seed), ``failure_reason`` int8 (index into
    :data:`~behaviorbench.simulation.progress.FAILURE_REASONS`, 0 where successful),
    ``progress`` float32 (forward distance / commanded distance,
    :func:`~behaviorbench.simulation.progress.progress_ratio`).
    Per frame, where the backend records them (else None): ``foot_contact`` (N, T, 4) bool
    (MuJoCo contacts of each foot, LF, RF, LH, RH), ``joint_torque`` (N, T, 12) float32 N m
    (actuator torques of the frame's last physics step), ``base_quat`` (N, T, 4) float32
    (w, x, y, z, world frame).
    """

    dof_pos: np.ndarray
    dof_vel: np.ndarray
    base_pos: np.ndarray
    base_lin_vel: np.ndarray
    base_ang_vel: np.ndarray
    terrain_type: np.ndarray
    terrain_type_2: np.ndarray
    terrain_slope: np.ndarray
    terrain_difficulty: np.ndarray
    terrain_rough: np.ndarray
    robot_type: np.ndarray
    command_vel: np.ndarray
    body_mass: np.ndarray
    added_mass: np.ndarray
    success: np.ndarray
    seed: np.ndarray
    failure_reason: np.ndarray
    progress: np.ndarray
    foot_contact: np.ndarray | None = None
    joint_torque: np.ndarray | None = None
    base_quat: np.ndarray | None = None

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None or f.name not in OPTIONAL_FIELDS:
                setattr(self, f.name, np.asarray(value, dtype=_DTYPES[f.name]))

    def __len__(self) -> int:
        return int(self.dof_pos.shape[0])

    @property
    def n_frames(self) -> int:
        return int(self.dof_pos.shape[1])

    def select(self, index) -> TrajectoryBatch:
        """Trajectories ``index`` (int array, slice or bool mask) as a new batch."""
        return TrajectoryBatch(**{f.name: None if getattr(self, f.name) is None
                                  else getattr(self, f.name)[index] for f in fields(self)})

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @staticmethod
    def concatenate(batches: list[TrajectoryBatch]) -> TrajectoryBatch:
        """Stack batches along the trajectory axis (same T)."""
        def stack(name):
            parts = [getattr(b, name) for b in batches]
            return None if any(p is None for p in parts) else np.concatenate(parts)

        return TrajectoryBatch(**{f.name: stack(f.name) for f in fields(TrajectoryBatch)})


class FrameRecorder:
    """Preallocated per-frame buffers for ``n`` robots and ``n_frames`` frames. ``foot_contact``
    and ``joint_torque`` stay None unless a backend passes them to :meth:`record`."""

    def __init__(self, n: int, n_frames: int):
        self.n, self.n_frames = n, n_frames
        self.dof_pos = np.zeros((n, n_frames, 12), np.float32)
        self.dof_vel = np.zeros((n, n_frames, 12), np.float32)
        self.base_pos = np.zeros((n, n_frames, 3), np.float32)
        self.base_lin_vel = np.zeros((n, n_frames, 3), np.float32)
        self.base_ang_vel = np.zeros((n, n_frames, 3), np.float32)
        self.base_quat = np.zeros((n, n_frames, 4), np.float32)
        self.foot_contact: np.ndarray | None = None
        self.joint_torque: np.ndarray | None = None

    def record(self, k: int, qpos: np.ndarray, qvel: np.ndarray, ang_vel_world: np.ndarray,
               foot_contact: np.ndarray | None = None,
               joint_torque: np.ndarray | None = None) -> None:
        """Frame ``k`` from ``qpos`` (n, 19), ``qvel`` (n, 18), world angular velocity
        (n, 3) rad/s and, where the backend has them, ``foot_contact`` (n, 4) bool and
        ``joint_torque`` (n, 12) N m."""
        self.dof_pos[:, k] = qpos[:, 7:19]
        self.dof_vel[:, k] = qvel[:, 6:18]
        self.base_pos[:, k] = qpos[:, 0:3]
        self.base_lin_vel[:, k] = qvel[:, 0:3]
        self.base_ang_vel[:, k] = ang_vel_world
        self.base_quat[:, k] = qpos[:, 3:7]
        if foot_contact is not None:
            if self.foot_contact is None:
                self.foot_contact = np.zeros((self.n, self.n_frames, 4), bool)
            self.foot_contact[:, k] = foot_contact
        if joint_torque is not None:
            if self.joint_torque is None:
                self.joint_torque = np.zeros((self.n, self.n_frames, 12), np.float32)
            self.joint_torque[:, k] = joint_torque

    def buffers(self) -> list[np.ndarray]:
        """Every per-frame buffer that holds data."""
        return [b for b in (self.dof_pos, self.dof_vel, self.base_pos, self.base_lin_vel,
                            self.base_ang_vel, self.base_quat, self.foot_contact,
                            self.joint_torque) if b is not None]

    def hold(self, k: int) -> None:
        """Frames ``k`` onwards repeat frame ``k - 1`` (robots no longer simulated)."""
        for buf in self.buffers():
            buf[:, k:] = buf[:, k - 1:k]
