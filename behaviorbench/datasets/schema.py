"""Names, vocabularies, units, dtypes and the version of the terrain-dataset Zarr schema.

Everything a writer, reader or validator needs to agree on lives here (and only here).

Shapes: N sequences (trajectories), T frames at 50 Hz, F = 24 features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from behaviorbench.simulation.progress import FAILURE_REASONS

SCHEMA_VERSION = "1.2"
"""Bumped on any change of array names, shapes, dtypes or attribute meaning (minor: arrays
added, which readers of the same major version treat as optional in older stores)."""

FRAME_RATE_HZ = 50.0  # Hz, recording rate (sim dt 0.005 s x decimation 4 in the original)

JOINT_NAMES: tuple[str, ...] = (
    "LF_HAA", "LF_HFE", "LF_KFE",
    "RF_HAA", "RF_HFE", "RF_KFE",
    "LH_HAA", "LH_HFE", "LH_KFE",
    "RH_HAA", "RH_HFE", "RH_KFE",
)
FEATURE_NAMES: tuple[str, ...] = tuple(f"dof_pos.{j}" for j in JOINT_NAMES) + tuple(
    f"dof_vel.{j}" for j in JOINT_NAMES
)
FEATURE_UNITS: tuple[str, ...] = ("rad",) * 12 + ("rad/s",) * 12
N_FEATURES = len(FEATURE_NAMES)  # 24

ROBOT_TYPES: tuple[str, ...] = ("anymal_b", "anymal_c")
TERRAIN_TYPES: tuple[str, ...] = (
    "flat", "pyramid_slope", "inverted_pyramid_slope", "pyramid_stairs", "inverted_pyramid_stairs",
)
TERRAIN_TYPES_2: tuple[str, ...] = ("flat", "slope_up", "slope_down", "stairs_up", "stairs_down")
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "robot_type": ROBOT_TYPES,
    "terrain_type": TERRAIN_TYPES,
    "terrain_type_2": TERRAIN_TYPES_2,
    "failure_reason": FAILURE_REASONS,
}


@dataclass(frozen=True)
class ArraySpec:
    """One array of the store.

    ``kind`` is ``"frame"`` (shape (N, T, *trailing)) or ``"sequence"`` (shape (N, *trailing)).
    ``value_range`` is the closed interval every finite value must lie in (None: unchecked).
    ``since`` is the schema version that added the array: stores of an older version of the
    same major version may lack it.
    """

    name: str
    kind: str
    trailing: tuple[int, ...]
    dtype: str
    unit: str
    description: str
    value_range: tuple[float, float] | None = None
    since: str = "1.0"

    def shape(self, n: int, t: int) -> tuple[int, ...]:
        return ((n, t) if self.kind == "frame" else (n,)) + self.trailing


_SPECS: tuple[ArraySpec, ...] = (
    ArraySpec("features", "frame", (N_FEATURES,), "float32", "rad | rad/s",
              "dof_pos (12, rad) then dof_vel (12, rad/s); names in attrs feature_names"),
    ArraySpec("base_pos", "frame", (3,), "float32", "m", "base position, world frame"),
    ArraySpec("base_lin_vel", "frame", (3,), "float32", "m/s", "base linear velocity, world frame"),
    ArraySpec("base_ang_vel", "frame", (3,), "float32", "rad/s", "base angular velocity, world"),
    ArraySpec("terrain_type", "frame", (), "int8", "class", "index into TERRAIN_TYPES",
              (0, len(TERRAIN_TYPES) - 1)),
    ArraySpec("terrain_type_2", "frame", (), "int8", "class", "index into TERRAIN_TYPES_2",
              (0, len(TERRAIN_TYPES_2) - 1)),
    ArraySpec("terrain_slope", "frame", (), "float32", "gradient", "signed slope under the robot",
              (-10.0, 10.0)),
    ArraySpec("terrain_difficulty", "frame", (), "float32", "1", "sub-terrain difficulty",
              (0.0, 1.0)),
    ArraySpec("terrain_rough", "frame", (), "bool", "1", "rough / noisy sub-terrain"),
    ArraySpec("robot_type", "sequence", (), "int8", "class", "index into ROBOT_TYPES",
              (0, len(ROBOT_TYPES) - 1)),
    ArraySpec("command_vel", "sequence", (), "float32", "m/s", "forward velocity command",
              (-5.0, 5.0)),
    ArraySpec("body_mass", "sequence", (), "float32", "kg", "base body mass incl. added mass",
              (1.0, 500.0)),
    ArraySpec("added_mass", "sequence", (), "float32", "kg", "mass added to the base",
              (-100.0, 100.0)),
    ArraySpec("seed", "sequence", (), "uint64", "1", "per-trajectory seed"),
    ArraySpec("success", "sequence", (), "bool", "1",
              "successful traversal (all True unless stored with --keep-failures)"),
    ArraySpec("failure_reason", "sequence", (), "int8", "class",
              "index into FAILURE_REASONS (0 none; fell, left_terrain, unstable, stalled)",
              (0, len(FAILURE_REASONS) - 1), since="1.1"),
    ArraySpec("progress", "sequence", (), "float32", "1",
              "forward distance / commanded distance (command_vel x (T - 1) / 50 Hz)",
              (-100.0, 100.0), since="1.1"),
    ArraySpec("foot_contact", "frame", (4,), "bool", "1",
              "foot touches the ground or anything else (MuJoCo contacts of each foot geom), "
              "LF, RF, LH, RH", since="1.2"),
    ArraySpec("joint_torque", "frame", (12,), "float32", "N m",
              "actuator torque applied to each joint at the frame's last physics step, "
              "joint order as features", (-1000.0, 1000.0), since="1.2"),
    ArraySpec("base_quat", "frame", (4,), "float32", "1",
              "base orientation, unit quaternion w, x, y, z (world frame)", (-1.001, 1.001),
              since="1.2"),
)
ARRAYS: dict[str, ArraySpec] = {s.name: s for s in _SPECS}

FRAME_LABELS: tuple[str, ...] = (
    "terrain_type", "terrain_type_2", "terrain_slope", "terrain_difficulty", "terrain_rough",
)
SEQUENCE_LABELS: tuple[str, ...] = ("robot_type", "command_vel", "body_mass", "added_mass")
KINEMATICS: tuple[str, ...] = ("base_pos", "base_lin_vel", "base_ang_vel")
# per-frame physics recordings (labels and kinematics, not model inputs); a backend that does
# not record one fills it with PHYSICS_FILL and lists it in the root attribute missing_fields
PHYSICS: tuple[str, ...] = ("foot_contact", "joint_torque", "base_quat")
PHYSICS_FILL: dict[str, object] = {"foot_contact": False, "joint_torque": np.nan,
                                   "base_quat": np.nan}

# Fields of a simulation ``TrajectoryBatch`` the store consumes (besides dof_pos / dof_vel).
BATCH_FIELDS: tuple[str, ...] = KINEMATICS + FRAME_LABELS + SEQUENCE_LABELS + (
    "seed", "success", "failure_reason", "progress") + PHYSICS
# per-trajectory outcome arrays (not labels a model is scored on)
OUTCOMES: tuple[str, ...] = ("success", "failure_reason", "progress")


def features_from(dof_pos: np.ndarray, dof_vel: np.ndarray) -> np.ndarray:
    """(N, T, 12) rad + (N, T, 12) rad/s -> (N, T, 24) float32 features."""
    return np.concatenate([dof_pos, dof_vel], axis=-1).astype(np.float32, copy=False)


def version_tuple(version: str | None) -> tuple[int, ...]:
    """"1.1" -> (1, 1); None or unparsable -> (0,)."""
    try:
        return tuple(int(p) for p in str(version).split("."))
    except ValueError:
        return (0,)


def optional_in(version: str | None) -> frozenset[str]:
    """Arrays a store of schema ``version`` may lack (added by a later minor version)."""
    have = version_tuple(version)
    return frozenset(s.name for s in _SPECS if version_tuple(s.since) > have)


def units_table() -> dict[str, str]:
    """Array name -> unit, stored in the root attributes."""
    return {s.name: s.unit for s in _SPECS}
