"""Robot description records: joint/leg/foot names, and the frozen dataclasses the robot tables
are written in (inertia, collision primitive, link, foot contact parameters)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "LF_HAA", "LF_HFE", "LF_KFE",
    "RF_HAA", "RF_HFE", "RF_KFE",
    "LH_HAA", "LH_HFE", "LH_KFE",
    "RH_HAA", "RH_HFE", "RH_KFE",
)
LEG_NAMES: tuple[str, ...] = ("LF", "RF", "LH", "RH")
FOOT_NAMES: tuple[str, ...] = tuple(f"{leg}_FOOT" for leg in LEG_NAMES)
ROBOT_NAMES: tuple[str, ...] = ("anymal_b", "anymal_c")  # index = robot_type label

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
IDQ: Quat = (1.0, 0.0, 0.0, 0.0)


# ----------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Inertial:
    """Rigid-body inertia: mass (kg), CoM ``pos`` (m, body frame), principal-axes ``quat``
    (w, x, y, z, body frame) and ``diag`` principal moments (kg m^2)."""

    mass: float
    pos: Vec3
    quat: Quat
    diag: Vec3


@dataclass(frozen=True)
class Geom:
    """Collision primitive: MuJoCo ``type`` name, ``size`` (m, MuJoCo convention), ``pos`` (m)
    and ``quat`` (w, x, y, z) in the body frame; ``foot`` marks the contact sphere."""

    type: str
    size: tuple[float, ...]
    pos: Vec3
    quat: Quat = IDQ
    foot: bool = False


@dataclass(frozen=True)
class Link:
    """One leg body with its (hinge) joint at the body origin.

    ``pos``/``quat``: body frame relative to the parent (m, w-x-y-z); ``axis``: joint axis in the
    body frame; ``range``: joint limits (rad) or None (unlimited)."""

    name: str
    pos: Vec3
    quat: Quat
    inertial: Inertial
    axis: Vec3
    geoms: tuple[Geom, ...]
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class ContactParams:
    """Foot contact parameters (MuJoCo units): friction (slide, torsion, roll), condim, solimp
    (5 values), priority."""

    friction: Vec3 = (0.8, 0.02, 0.01)
    condim: int = 6
    solimp: tuple[float, float, float, float, float] = (0.015, 1.0, 0.031, 0.5, 2.0)
    priority: int = 1


Q_Y90: Quat = (float(np.cos(1.57079632679 / 2)), 0.0, float(np.sin(1.57079632679 / 2)), 0.0)

# Base inertia shared by ANYmal B and C (Menagerie).
BASE_INERTIAL = Inertial(19.2035, (0.0025, 0.0, 0.0502071), (0.5, 0.5, 0.5, 0.5),
                         (0.639559, 0.624031, 0.217374))
