"""``RobotSpec``: everything the simulator and the controller need to know about one robot, and
the registry :data:`ROBOTS` of the two ANYmals."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import anymal_b, anymal_c
from .kinematics import leg_kinematics
from .parts import (
    BASE_INERTIAL,
    FOOT_NAMES,
    JOINT_NAMES,
    LEG_NAMES,
    ContactParams,
    Geom,
    Inertial,
    Link,
)


@dataclass(frozen=True, eq=False)
class RobotSpec:
    """Everything the simulator and the controller need to know about one robot.

    Arrays follow :data:`JOINT_NAMES` order (12,) or :data:`LEG_NAMES` order (4, ...).
    Lengths m, angles rad, masses kg, torques N m; positions in the base frame (x forward,
    y left, z up)."""

    name: str
    base_inertial: Inertial
    base_geoms: tuple[Geom, ...]
    legs: dict[str, tuple[Link, Link, Link]]
    torque_limit: float                   # N m, symmetric, every joint (B 40, C 80)
    foot_radius: float                    # m (B 0.031, C 0.03)
    foot_contact: ContactParams = field(default_factory=ContactParams)
    joint_damping: float = 1.0            # N m s/rad
    joint_frictionloss: float = 0.1       # N m
    position_kp: float = 100.0            # N m/rad, Menagerie position servos
    position_ctrlrange: float = 6.28      # rad, Menagerie position servos
    joint_names: tuple[str, ...] = JOINT_NAMES
    foot_names: tuple[str, ...] = FOOT_NAMES
    default_joint_pos: np.ndarray = field(default_factory=lambda: np.array(
        [0.0, 0.4, -0.8, 0.0, 0.4, -0.8, 0.0, -0.4, 0.8, 0.0, -0.4, 0.8]))  # rad, legged_gym

    def __post_init__(self):
        kin = tuple(leg_kinematics(self.legs[leg], next(
            g.pos for g in self.legs[leg][2].geoms if g.foot)) for leg in LEG_NAMES)
        object.__setattr__(self, "kinematics", kin)

    # ---- derived quantities ----
    @property
    def torque_limits(self) -> np.ndarray:
        """(12,) N m."""
        return np.full(12, self.torque_limit)

    @property
    def hip_positions(self) -> np.ndarray:
        """(4, 3) m: HAA joint positions in the base frame."""
        return np.stack([k.centers[0] for k in self.kinematics])

    @property
    def joint_positions0(self) -> np.ndarray:
        """(4, 3, 3) m: HAA/HFE/KFE joint positions at q = 0 (base frame)."""
        return np.stack([k.centers for k in self.kinematics])

    @property
    def joint_axes0(self) -> np.ndarray:
        """(4, 3, 3): unit joint axes at q = 0 (base frame)."""
        return np.stack([k.axes for k in self.kinematics])

    @property
    def link_offsets(self) -> np.ndarray:
        """(4, 3, 3) m: hip->HFE, HFE->KFE, KFE->foot offsets at q = 0 (base frame)."""
        c = self.joint_positions0
        feet = np.stack([k.foot0 for k in self.kinematics])
        return np.stack([c[:, 1] - c[:, 0], c[:, 2] - c[:, 1], feet - c[:, 2]], axis=1)

    @property
    def base_mass(self) -> float:
        return self.base_inertial.mass

    @property
    def total_mass(self) -> float:
        """kg, base + 4 legs."""
        return self.base_mass + sum(lk.inertial.mass for leg in self.legs.values() for lk in leg)

    @property
    def default_foot_positions(self) -> np.ndarray:
        """(4, 3) m: foot centres in the standing pose (base frame)."""
        return self.foot_positions(self.default_joint_pos)

    @property
    def nominal_base_height(self) -> float:
        """m: base-origin height above flat ground in the standing pose (feet touching)."""
        return float(-self.default_foot_positions[:, 2].mean() + self.foot_radius)

    # ---- kinematics (vectorised) ----
    def foot_positions(self, q: np.ndarray) -> np.ndarray:
        """Joint angles (..., 12) rad -> foot-sphere centres (..., 4, 3) m, base frame."""
        q = np.asarray(q, dtype=np.float64)
        return np.stack([k.fk(q[..., 3 * i:3 * i + 3]) for i, k in enumerate(self.kinematics)],
                        axis=-2)

    def foot_jacobians(self, q: np.ndarray) -> np.ndarray:
        """(..., 12) rad -> (..., 4, 3, 3): d foot_i (base frame) / d q_leg_i."""
        q = np.asarray(q, dtype=np.float64)
        return np.stack([k.jacobian(q[..., 3 * i:3 * i + 3])
                         for i, k in enumerate(self.kinematics)], axis=-3)

    def leg_ik(self, foot_pos_base: np.ndarray, refine: int = 3) -> np.ndarray:
        """Foot-sphere centres (..., 4, 3) m, base frame -> joint angles (..., 12) rad.

        Analytic per-leg solution on the standing pose's knee branch (knees in), refined by
        ``refine`` Gauss-Newton steps so that ``foot_positions(leg_ik(p)) == p`` to ~1e-12 m
        for reachable targets."""
        p = np.asarray(foot_pos_base, dtype=np.float64)
        qs = [k.ik(p[..., i, :], self.default_joint_pos[3 * i:3 * i + 3], refine)
              for i, k in enumerate(self.kinematics)]
        return np.concatenate(qs, axis=-1)


ROBOTS: dict[str, RobotSpec] = {
    "anymal_b": RobotSpec(
        name="anymal_b", base_inertial=BASE_INERTIAL, base_geoms=anymal_b.BASE_GEOMS,
        legs={leg: anymal_b.leg_links(leg) for leg in LEG_NAMES}, torque_limit=40.0,
        foot_radius=0.031),
    "anymal_c": RobotSpec(
        name="anymal_c", base_inertial=BASE_INERTIAL, base_geoms=anymal_c.BASE_GEOMS,
        legs=anymal_c.legs(), torque_limit=80.0, foot_radius=0.03),
}
