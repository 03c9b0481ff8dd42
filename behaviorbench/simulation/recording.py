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
}


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

    def __post_init__(self):
        for f in fields(self):
            setattr(self, f.name, np.asarray(getattr(self, f.name), dtype=_DTYPES[f.name]))

    def __len__(self) -> int:
        return int(self.dof_pos.shape[0])

    @property
    def n_frames(self) -> int:
        return int(self.dof_pos.shape[1])

    def select(self, index) -> TrajectoryBatch:
        """Trajectories ``index`` (int array, slice or bool mask) as a new batch."""
        return TrajectoryBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @staticmethod
    def concatenate(batches: list[TrajectoryBatch]) -> TrajectoryBatch:
        """Stack batches along the trajectory axis (same T)."""
        return TrajectoryBatch(**{f.name: np.concatenate([getattr(b, f.name) for b in batches])
                                  for f in fields(TrajectoryBatch)})


class FrameRecorder:
    """Preallocated per-frame buffers for ``n`` robots and ``n_frames`` frames."""

    def __init__(self, n: int, n_frames: int):
        self.n, self.n_frames = n, n_frames
        self.dof_pos = np.zeros((n, n_frames, 12), np.float32)
        self.dof_vel = np.zeros((n, n_frames, 12), np.float32)
        self.base_pos = np.zeros((n, n_frames, 3), np.float32)
        self.base_lin_vel = np.zeros((n, n_frames, 3), np.float32)
        self.base_ang_vel = np.zeros((n, n_frames, 3), np.float32)

    def record(self, k: int, qpos: np.ndarray, qvel: np.ndarray, ang_vel_world: np.ndarray):
        """Frame ``k`` from ``qpos`` (n, 19), ``qvel`` (n, 18) and world angular velocity
        (n, 3) rad/s."""
        self.dof_pos[:, k] = qpos[:, 7:19]
        self.dof_vel[:, k] = qvel[:, 6:18]
        self.base_pos[:, k] = qpos[:, 0:3]
        self.base_lin_vel[:, k] = qvel[:, 0:3]
        self.base_ang_vel[:, k] = ang_vel_world

    def hold(self, k: int) -> None:
        """Frames ``k`` onwards repeat frame ``k - 1`` (robots no longer simulated)."""
        for buf in (self.dof_pos, self.dof_vel, self.base_pos, self.base_lin_vel,
                    self.base_ang_vel):
            buf[:, k:] = buf[:, k - 1:k]
