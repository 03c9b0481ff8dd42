"""ANYmal B and ANYmal C built in code with ``mujoco.MjSpec`` (no model files).

The physical parameters below (masses, inertias, inertial frames, link offsets, joint axes,
collision primitives, contact settings) are transcribed from the MuJoCo Menagerie ANYmal B/C
models (BSD-3-Clause, ANYbotics AG / Google DeepMind), which derive from ANYbotics' robot
descriptions. Visual meshes are not needed: all collision geometry is primitive.

Conventions
-----------
* **Base orientation.** The Menagerie files yaw the base body by 180 deg (``quat="0 0 0 1"``), so
  there the robot faces world -x at ``qpos0``. Here the base body has the identity orientation:
  with the free-joint quaternion ``(1, 0, 0, 0)`` the robot's forward axis (base +x, where the
  LF hip sits at base ``(+x, +y)``) is world +x, left is world +y, up is world +z. Every joint,
  link and inertial number is in the base/link frames, which are unchanged.
* **Joint order** is :data:`JOINT_NAMES` (legged_gym / the original dataset), one actuator per
  joint in the same order.
* **Standing pose** (legged_gym ANYmal rough config): HAA 0, HFE +0.4 front / -0.4 hind,
  KFE -0.8 front / +0.8 hind (rad). With the joint axes as built (B: HFE/KFE about +y of each
  leg; C: the same in effect, its rotated frames and flipped axes reproduce B's signs), a
  positive HFE swings the foot backwards (-x) and the pose gives the "X" (knees-in) stance:
  front knees point backwards, hind knees forwards, feet roughly under the hips
  (checked in ``tests/simulation/test_robots.py``).
* **Actuators.** Default ``actuator="torque"``: one ``motor`` per joint, gear 1, ctrl = joint
  torque (N m) clipped to ``ctrlrange = +-torque_limit`` (B 40, C 80). The controller computes
  its own PD + feed-forward torques. ``actuator="position"`` builds the Menagerie-style
  position servos instead (kp 100 N m/rad, ctrl = target angle, force clipped to the limit).
* **Feet.** Foot points are the centres of the foot spheres (radius ``foot_radius``); the
  ground contact point is ``foot_radius`` below the centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
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
_IDQ: Quat = (1.0, 0.0, 0.0, 0.0)


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
    quat: Quat = _IDQ
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


_Q_Y90: Quat = (float(np.cos(1.57079632679 / 2)), 0.0, float(np.sin(1.57079632679 / 2)), 0.0)

_BASE_INERTIAL = Inertial(19.2035, (0.0025, 0.0, 0.0502071), (0.5, 0.5, 0.5, 0.5),
                          (0.639559, 0.624031, 0.217374))

# ---- ANYmal B ------------------------------------------------------------------------------
_B_BASE_GEOMS = (
    Geom("box", (0.2655, 0.135, 0.12), (0.0, 0.0, 0.08)),
    Geom("cylinder", (0.05, 0.05), (0.227, 0.116, 0.0), _Q_Y90),
    Geom("cylinder", (0.05, 0.05), (0.227, -0.116, 0.0), _Q_Y90),
    Geom("cylinder", (0.05, 0.05), (-0.227, 0.116, 0.0), _Q_Y90),
    Geom("cylinder", (0.05, 0.05), (-0.227, -0.116, 0.0), _Q_Y90),
    Geom("box", (0.05, 0.05, 0.035), (0.2155, 0.0, -0.09)),
    Geom("box", (0.05, 0.05, 0.035), (-0.2155, 0.0, -0.09)),
    Geom("box", (0.2655, 0.01, 0.035), (0.0, 0.0, -0.09)),
)

# Principal-axes quaternions differ per leg (mirrored frames); transcribed verbatim.
_B_INERTIA_QUATS: dict[str, tuple[Quat, Quat, Quat]] = {
    "LF": ((0.996866, 0.0379822, 0.0252009, -0.0646548),
           (0.74395, -0.0633414, 0.0362707, 0.664237),
           (0.677954, -0.0950614, -0.0578104, 0.726636)),
    "RF": ((0.996866, -0.0379822, 0.0252009, 0.0646548),
           (0.664237, 0.0362707, -0.0633414, 0.74395),
           (0.726636, -0.0578104, -0.0950614, 0.677954)),
    "LH": ((0.996866, 0.0379822, -0.0252009, 0.0646548),
           (0.664237, -0.0362707, 0.0633414, 0.74395),
           (0.726636, 0.0578104, 0.0950615, 0.677954)),
    "RH": ((0.996866, -0.0379822, -0.0252009, -0.0646548),
           (0.74395, 0.0633414, -0.0362707, 0.664237),
           (0.677954, 0.0950614, 0.0578104, 0.726636)),
}
_LEG_SIGNS = {"LF": (1.0, 1.0), "RF": (1.0, -1.0), "LH": (-1.0, 1.0), "RH": (-1.0, -1.0)}


def _b_leg(leg: str) -> tuple[Link, Link, Link]:
    """ANYmal B leg: positions mirror with (sx front/hind, sy left/right)."""
    sx, sy = _LEG_SIGNS[leg]
    qh, qt, qs = _B_INERTIA_QUATS[leg]
    hip = Link(
        f"{leg}_HIP", (sx * 0.277, sy * 0.116, 0.0), _IDQ,
        Inertial(1.42462, (sx * 0.0645163, -sy * 0.0037871, -0.000152184), qh,
                 (0.00243341, 0.00230249, 0.00197758)),
        (1.0, 0.0, 0.0),
        (Geom("cylinder", (0.08, 0.05), (sx * 0.0635, -sy * 0.009, 0.0), (1.0, sx, 0.0, 0.0)),
         Geom("cylinder", (0.045, 0.015), (sx * 0.0635, -sy * 0.074, 0.0), (1.0, sx, 0.0, 0.0))),
    )
    thigh = Link(
        f"{leg}_THIGH", (sx * 0.0635, sy * 0.041, 0.0), _IDQ,
        Inertial(1.63498, (-sx * 0.00389797, sy * 0.0542266, -0.214583), qt,
                 (0.0122697, 0.0120427, 0.00228302)),
        (0.0, 1.0, 0.0),
        (Geom("box", (0.04, 0.02, 0.125), (0.0, sy * 0.035, -0.125),
              (0.997373, sy * 0.0724365, 0.0, 0.0)),
         Geom("cylinder", (0.06, 0.06), (0.0, sy * 0.069, -0.25), (1.0, 1.0, 0.0, 0.0)),
         Geom("cylinder", (0.066, 0.06), (0.0, -sy * 0.005, 0.0),
              (0.654029, sy * 0.75647, 0.0, 0.0))),
    )
    shank = Link(
        f"{leg}_SHANK", (0.0, sy * 0.109, -0.25), _IDQ,
        Inertial(0.472163, (sx * 0.0696396, -sy * 0.0132494, -0.150905), qs,
                 (0.0116034, 0.0110666, 0.000723761)),
        (0.0, 1.0, 0.0),
        (Geom("box", (0.04, 0.034, 0.065), (sx * 0.065, -sy * 0.015, 0.01), (1.0, 0.0, 1.0, 0.0)),
         Geom("cylinder", (0.015, 0.14), (sx * 0.1, -sy * 0.02, -0.160625)),
         Geom("sphere", (0.031,), (sx * 0.1, -sy * 0.02, -0.298), foot=True)),
    )
    return hip, thigh, shank


# ---- ANYmal C ------------------------------------------------------------------------------
_C_BASE_GEOMS = (
    Geom("box", (0.29, 0.07, 0.09), (0.0, 0.0, 0.0)),
    Geom("cylinder", (0.09, 0.0725), (0.2175, 0.07, 0.0), (1.0, 0.0, 1.0, 0.0)),
    Geom("cylinder", (0.09, 0.0725), (-0.2175, 0.07, 0.0), (1.0, 0.0, 1.0, 0.0)),
    Geom("cylinder", (0.09, 0.0725), (0.2175, -0.07, 0.0), (1.0, 0.0, 1.0, 0.0)),
    Geom("cylinder", (0.09, 0.0725), (-0.2175, -0.07, 0.0), (1.0, 0.0, 1.0, 0.0)),
    Geom("box", (0.055, 0.07, 0.09), (0.4695, 0.0, 0.0)),
    Geom("cylinder", (0.09, 0.055), (0.4695, 0.07, 0.0), (1.0, 0.0, 1.0, 0.0)),
    Geom("cylinder", (0.09, 0.055), (0.4695, -0.07, 0.0), (1.0, 0.0, 1.0, 0.0)),
    Geom("box", (0.055, 0.07, 0.09), (-0.4695, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0)),
    Geom("cylinder", (0.09, 0.055), (-0.4695, -0.07, 0.0), (0.0, -1.0, 0.0, 1.0)),
    Geom("cylinder", (0.09, 0.055), (-0.4695, 0.07, 0.0), (0.0, -1.0, 0.0, 1.0)),
    Geom("cylinder", (0.07, 0.06), (-0.364, 0.0, 0.1335)),
)

_C_HIP_I_A = Inertial(2.781, (0.0566606, -0.015294, -0.00829784),
                      (-0.127978, 0.709783, -0.135278, 0.679359),
                      (0.00585729, 0.00491868, 0.00329081))
_C_HIP_I_B = Inertial(2.781, (0.0567633, 0.015294, -0.00829784),
                      (0.13524, 0.679072, 0.127985, 0.710065),
                      (0.00585928, 0.0049205, 0.00329064))
_C_THIGH_I_A = Inertial(3.071, (0.0308147, 4.64995e-05, -0.245696),
                        (0.993166, -0.00515309, -0.0806592, 0.0841972),
                        (0.03025, 0.0298943, 0.00418465))
_C_THIGH_I_B = Inertial(3.071, (0.0308147, 4.64995e-05, -0.245696),
                        (0.992775, -0.00512735, -0.0806685, 0.0886811),
                        (0.0302511, 0.0298933, 0.0041845))
_C_SHANK_I_NEG = Inertial(0.58842, (0.005462, -0.0612528, -0.0806598),
                          (0.992934, -0.115904, -0.00105487, -0.0254421),
                          (0.0101637, 0.00923838, 0.00111927))
_C_SHANK_I_POS = Inertial(0.58842, (0.005462, 0.0612528, -0.0806598),
                          (0.992934, 0.115904, -0.00105487, 0.0254421),
                          (0.0101637, 0.00923838, 0.00111927))
_C_UNLIMITED = (-9.42478, 9.42478)
_QA: Quat = (0.5, 0.5, -0.5, -0.5)   # thigh/shank actuator cylinders, "left-handed" legs
_QB: Quat = (0.5, 0.5, 0.5, 0.5)
_QZM: Quat = (1.0, 0.0, 0.0, -1.0)
_QZP: Quat = (1.0, 0.0, 0.0, 1.0)
_QY: Quat = (1.0, 0.0, 1.0, 0.0)


def _c_thigh_geoms(q_cyl: Quat, q_box: Quat) -> tuple[Geom, ...]:
    return (Geom("cylinder", (0.065, 0.04), (0.04, 0.0, 0.0), q_cyl),
            Geom("box", (0.0375, 0.03, 0.141314), (0.03, 0.0, -0.141314), q_box),
            Geom("cylinder", (0.05, 0.07), (0.0303, 0.0, -0.285), _QY))


def _c_shank_geoms(sy: float, q_cyl: Quat, q_z: Quat) -> tuple[Geom, ...]:
    return (Geom("cylinder", (0.06, 0.02), (0.02, 0.0, 0.0), q_cyl),
            Geom("box", (0.057499, 0.03375, 0.019), (0.02, sy * 0.057499, 0.0), q_cyl),
            Geom("cylinder", (0.0175, 0.141252), (0.01305, sy * 0.08795, -0.168985), q_z),
            Geom("sphere", (0.03,), (0.01305, sy * 0.08795, -0.31547), q_z, foot=True))


def _c_legs() -> dict[str, tuple[Link, Link, Link]]:
    shank_pos = (0.1003, 0.0, -0.285)
    return {
        "LF": (
            Link("LF_HIP", (0.2999, 0.104, 0.0), (0.258819, 0.965926, 0.0, 0.0), _C_HIP_I_A,
                 (1.0, 0.0, 0.0),
                 (Geom("cylinder", (0.05, 0.07), (0.0599, -0.0119598, -0.006905),
                       (-0.353553, -0.612372, 0.612372, -0.353553)),), (-0.72, 0.49)),
            Link("LF_THIGH", (0.0599, -0.0725816, -0.041905),
                 (0.183013, -0.683013, 0.683013, 0.183013), _C_THIGH_I_A, (1.0, 0.0, 0.0),
                 _c_thigh_geoms(_QA, _QZM), _C_UNLIMITED),
            Link("LF_SHANK", shank_pos, _IDQ, _C_SHANK_I_NEG, (1.0, 0.0, 0.0),
                 _c_shank_geoms(-1.0, _QA, _QZM), _C_UNLIMITED),
        ),
        "RF": (
            Link("RF_HIP", (0.2999, -0.104, 0.0), (0.258819, -0.965926, 0.0, 0.0), _C_HIP_I_B,
                 (1.0, 0.0, 0.0),
                 (Geom("cylinder", (0.05, 0.07), (0.0599, 0.0119598, -0.006905),
                       (-0.353553, 0.612372, 0.612372, 0.353553)),), (-0.49, 0.72)),
            Link("RF_THIGH", (0.0599, 0.0725816, -0.041905),
                 (0.183013, 0.683013, 0.683013, -0.183013), _C_THIGH_I_B, (-1.0, 0.0, 0.0),
                 _c_thigh_geoms(_QB, _QZP), _C_UNLIMITED),
            Link("RF_SHANK", shank_pos, _IDQ, _C_SHANK_I_POS, (-1.0, 0.0, 0.0),
                 _c_shank_geoms(1.0, _QB, _QZP), _C_UNLIMITED),
        ),
        "LH": (
            Link("LH_HIP", (-0.2999, 0.104, 0.0), (0.0, 0.0, 0.965926, -0.258819), _C_HIP_I_B,
                 (-1.0, 0.0, 0.0),
                 (Geom("cylinder", (0.05, 0.07), (0.0599, 0.0119598, -0.006905),
                       (-0.353553, 0.612372, 0.612372, 0.353553)),), (-0.72, 0.49)),
            Link("LH_THIGH", (0.0599, 0.0725816, -0.041905),
                 (0.183013, 0.683013, 0.683013, -0.183013), _C_THIGH_I_B, (1.0, 0.0, 0.0),
                 _c_thigh_geoms(_QA, _QZM), _C_UNLIMITED),
            Link("LH_SHANK", shank_pos, _IDQ, _C_SHANK_I_POS, (1.0, 0.0, 0.0),
                 _c_shank_geoms(1.0, _QA, _QZM), _C_UNLIMITED),
        ),
        "RH": (
            Link("RH_HIP", (-0.2999, -0.104, 0.0), (0.0, 0.0, -0.965926, -0.258819), _C_HIP_I_A,
                 (-1.0, 0.0, 0.0),
                 (Geom("cylinder", (0.05, 0.07), (0.0599, -0.0119598, -0.006905),
                       (0.353553, 0.612372, -0.612372, 0.353553)),), (-0.49, 0.72)),
            Link("RH_THIGH", (0.0599, -0.0725816, -0.041905),
                 (-0.183013, 0.683013, -0.683013, -0.183013), _C_THIGH_I_A, (-1.0, 0.0, 0.0),
                 _c_thigh_geoms(_QB, _QZP), _C_UNLIMITED),
            Link("RH_SHANK", shank_pos, _IDQ, _C_SHANK_I_NEG, (-1.0, 0.0, 0.0),
                 _c_shank_geoms(-1.0, _QB, _QZP), _C_UNLIMITED),
        ),
    }


# ----------------------------------------------------------------------------- kinematics
def _quat_to_mat(q) -> np.ndarray:
    """(4,) w-x-y-z quaternion (normalised here, as MuJoCo's compiler does) -> (3, 3)."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def _rodrigues(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices about unit ``axis`` (3,) by ``angle`` (...,) rad -> (..., 3, 3)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    s = np.sin(angle)[..., None, None]
    c = np.cos(angle)[..., None, None]
    return np.eye(3) + s * k + (1.0 - c) * (k @ k)


def _dot(v: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``v @ a`` for points ``v`` (..., 3) and one vector ``a`` (3,), element by element: BLAS's
    matrix-vector product rounds a row differently with the number of rows, and a trajectory
    must not depend on the batch it is simulated in."""
    return v[..., 0] * a[0] + v[..., 1] * a[1] + v[..., 2] * a[2]


def _rotate_about(v: np.ndarray, axis: np.ndarray, center: np.ndarray,
                  angle: np.ndarray) -> np.ndarray:
    """Rotate points ``v`` (..., 3) about the line (``center``, unit ``axis``) by ``angle``."""
    r = v - center
    c = np.cos(angle)[..., None]
    s = np.sin(angle)[..., None]
    rot = r * c + np.cross(axis, r) * s + axis * _dot(r, axis)[..., None] * (1.0 - c)
    return rot + center


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2.0 * np.pi) - np.pi


@dataclass(frozen=True, eq=False)
class LegKinematics:
    """Zero-configuration screw description of one leg, in the base frame.

    ``centers`` (3, 3) m: HAA, HFE, KFE joint positions at q = 0; ``axes`` (3, 3): unit joint
    axes at q = 0; ``foot0`` (3,) m: foot-sphere centre at q = 0. Forward kinematics is the
    product of exponentials foot(q) = e^{xi_1 q_1} e^{xi_2 q_2} e^{xi_3 q_3} foot0, which equals
    MuJoCo's tree kinematics for this chain exactly."""

    centers: np.ndarray
    axes: np.ndarray
    foot0: np.ndarray

    def fk(self, q: np.ndarray) -> np.ndarray:
        """(..., 3) joint angles rad -> (..., 3) foot centre in the base frame, m."""
        q = np.asarray(q, dtype=np.float64)
        p = np.broadcast_to(self.foot0, q.shape[:-1] + (3,))
        for k in (2, 1, 0):
            p = _rotate_about(p, self.axes[k], self.centers[k], q[..., k])
        return p

    def jacobian(self, q: np.ndarray) -> np.ndarray:
        """(..., 3) rad -> (..., 3, 3) d foot / d q (base frame; column k = joint k)."""
        q = np.asarray(q, dtype=np.float64)
        foot = self.fk(q)
        cols = []
        axis_w = np.broadcast_to(self.axes[0], q.shape[:-1] + (3,))
        center_w = np.broadcast_to(self.centers[0], q.shape[:-1] + (3,))
        # joint k's axis/centre are moved by joints < k
        for k in range(3):
            if k > 0:
                a = np.broadcast_to(self.axes[k], q.shape[:-1] + (3,))
                c = np.broadcast_to(self.centers[k], q.shape[:-1] + (3,))
                for j in range(k - 1, -1, -1):
                    a = _rotate_about(a, self.axes[j], np.zeros(3), q[..., j])
                    c = _rotate_about(c, self.axes[j], self.centers[j], q[..., j])
                axis_w, center_w = a, c
            cols.append(np.cross(axis_w, foot - center_w))
        return np.stack(cols, axis=-1)

    # --- analytic inverse kinematics -----------------------------------------------------
    def _planar_setup(self):
        u = self.axes[0]
        a1 = self.axes[1] - u * (self.axes[1] @ u)
        a1 /= np.linalg.norm(a1)
        w = np.cross(u, a1)
        return u, a1, w

    def ik(self, foot: np.ndarray, q_ref: np.ndarray, refine: int = 3) -> np.ndarray:
        """Foot centre (..., 3) m in the base frame -> joint angles (..., 3) rad.

        Closed form (HAA about ``axes[0]``, then a planar two-link HFE/KFE chain) on the branch
        of ``q_ref`` (the standing pose: knees in), followed by ``refine`` damped Gauss-Newton
        steps on :meth:`fk` that absorb the tiny (~1e-6) non-orthogonality of the transcribed
        axes. Unreachable targets are clipped to the workspace boundary."""
        foot = np.asarray(foot, dtype=np.float64)
        h = self.centers[0]
        u, a1, w = self._planar_setup()
        t = foot - h
        # HAA: in the plane normal to u, the foot has a fixed coordinate d along a1.
        p0 = self.foot0 - h
        d = p0 @ a1
        f_ref = _rotate_about(self.fk(q_ref) - h, u, np.zeros(3), np.asarray(-q_ref[0]))
        beta_sign = -1.0 if f_ref @ w < 0 else 1.0
        ta, tw = _dot(t, a1), _dot(t, w)
        rho2 = ta * ta + tw * tw
        beta = beta_sign * np.sqrt(np.maximum(rho2 - d * d, 1e-12))
        q0 = np.arctan2(tw, ta) - np.arctan2(beta, d)
        # undo HAA, then solve the sagittal two-link problem in the plane normal to a1.
        g = _rotate_about(t, u, np.zeros(3), -q0) + h
        s2 = np.sign(self.axes[2] @ self.axes[1])
        e1 = u
        e2 = np.cross(self.axes[1], e1)  # rotation about axes[1] is CCW in (e1, e2)

        def plane(v):
            return np.stack([_dot(v, e1), _dot(v, e2)], axis=-1)

        c1, c2 = self.centers[1], self.centers[2]
        P1, P2, P3 = plane(c1), plane(c2), plane(self.foot0)
        G = plane(g)
        L1v, L2v = P2 - P1, P3 - P2
        L1, L2 = np.linalg.norm(L1v), np.linalg.norm(L2v)
        ang = np.arctan2
        gamma0 = ang(L2v[1], L2v[0]) - ang(L1v[1], L1v[0])
        gamma_ref = _wrap(gamma0 + s2 * q_ref[2])
        dv = G - P1
        D2 = np.sum(dv * dv, axis=-1)
        cg = np.clip((D2 - L1 * L1 - L2 * L2) / (2 * L1 * L2), -1.0, 1.0)
        gamma = np.sign(gamma_ref) * np.arccos(cg)
        q2 = _wrap(s2 * (gamma - gamma0) - q_ref[2]) + q_ref[2]
        rot = s2 * q2
        cr, sr = np.cos(rot), np.sin(rot)
        v = np.stack([L1v[0] + cr * L2v[0] - sr * L2v[1], L1v[1] + sr * L2v[0] + cr * L2v[1]],
                     axis=-1)
        q1 = _wrap(ang(dv[..., 1], dv[..., 0]) - ang(v[..., 1], v[..., 0]) - q_ref[1]) + q_ref[1]
        q0 = _wrap(q0 - q_ref[0]) + q_ref[0]
        q = np.stack([np.broadcast_to(q0, q1.shape), q1, q2], axis=-1)
        err = foot - self.fk(q)
        for _ in range(refine):
            jac = self.jacobian(q)
            jt = np.swapaxes(jac, -1, -2)
            lhs = jt @ jac + 1e-6 * np.eye(3)
            q_new = q + np.linalg.solve(lhs, (jt @ err[..., None]))[..., 0]
            err_new = foot - self.fk(q_new)
            # accept only improving steps (unreachable targets stay at the clipped solution)
            better = (np.sum(err_new ** 2, axis=-1) < np.sum(err ** 2, axis=-1))[..., None]
            q = np.where(better, q_new, q)
            err = np.where(better, err_new, err)
        return q


def _leg_kinematics(links: tuple[Link, Link, Link], foot_pos: Vec3) -> LegKinematics:
    rot = np.eye(3)
    pos = np.zeros(3)
    centers, axes = [], []
    for link in links:
        pos = pos + rot @ np.asarray(link.pos)
        rot = rot @ _quat_to_mat(link.quat)
        ax = np.asarray(link.axis, dtype=np.float64)
        centers.append(pos.copy())
        axes.append(rot @ (ax / np.linalg.norm(ax)))
    foot0 = pos + rot @ np.asarray(foot_pos)
    return LegKinematics(np.array(centers), np.array(axes), foot0)


# ----------------------------------------------------------------------------- RobotSpec
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
        kin = tuple(_leg_kinematics(self.legs[leg], next(
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
        name="anymal_b", base_inertial=_BASE_INERTIAL, base_geoms=_B_BASE_GEOMS,
        legs={leg: _b_leg(leg) for leg in LEG_NAMES}, torque_limit=40.0, foot_radius=0.031),
    "anymal_c": RobotSpec(
        name="anymal_c", base_inertial=_BASE_INERTIAL, base_geoms=_C_BASE_GEOMS,
        legs=_c_legs(), torque_limit=80.0, foot_radius=0.03),
}

ACTUATOR_TYPES = ("torque", "position")


# ----------------------------------------------------------------------------- MjSpec
_GEOM_TYPES = {"sphere": mujoco.mjtGeom.mjGEOM_SPHERE, "box": mujoco.mjtGeom.mjGEOM_BOX,
               "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER}


def _set_inertial(body, inertial: Inertial) -> None:
    body.explicitinertial = True
    body.mass = inertial.mass
    body.ipos = list(inertial.pos)
    body.iquat = list(np.asarray(inertial.quat) / np.linalg.norm(inertial.quat))
    body.inertia = list(inertial.diag)


def _add_geom(body, g: Geom, robot: RobotSpec, name: str | None = None) -> None:
    geom = body.add_geom()
    if name:
        geom.name = name
    geom.type = _GEOM_TYPES[g.type]
    size = list(g.size) + [0.0] * (3 - len(g.size))
    geom.size = size
    geom.pos = list(g.pos)
    geom.quat = list(np.asarray(g.quat, dtype=np.float64) / np.linalg.norm(g.quat))
    geom.mass = 0.0
    geom.group = 3
    if g.foot:
        c = robot.foot_contact
        geom.priority = c.priority
        geom.condim = c.condim
        geom.friction = list(c.friction)
        geom.solimp = list(c.solimp)


def add_robot_to_body(spec: mujoco.MjSpec, parent, robot: RobotSpec, *,
                      actuator: str = "torque", pos: Vec3 | None = None) -> None:
    """Add ``robot`` (free-floating base named ``base``) under ``parent`` of ``spec``, with its
    contact excludes and 12 actuators (see module docstring for ``actuator``)."""
    if actuator not in ACTUATOR_TYPES:
        raise ValueError(f"actuator must be one of {ACTUATOR_TYPES}, got {actuator!r}")
    base = parent.add_body()
    base.name = "base"
    base.pos = list(pos) if pos is not None else [0.0, 0.0, robot.nominal_base_height]
    base.quat = list(_IDQ)  # forward = world +x (Menagerie uses a 180 deg yaw here)
    fj = base.add_freejoint()
    fj.name = "root"
    _set_inertial(base, robot.base_inertial)
    for g in robot.base_geoms:
        _add_geom(base, g, robot)
    site = base.add_site()
    site.name = "imu"
    for leg in LEG_NAMES:
        body = base
        for k, link in enumerate(robot.legs[leg]):
            body = body.add_body()
            body.name = link.name
            body.pos = list(link.pos)
            body.quat = list(np.asarray(link.quat) / np.linalg.norm(link.quat))
            _set_inertial(body, link.inertial)
            jnt = body.add_joint()
            jnt.name = JOINT_NAMES[3 * LEG_NAMES.index(leg) + k]
            jnt.type = mujoco.mjtJoint.mjJNT_HINGE
            jnt.axis = list(link.axis)
            jnt.damping = [robot.joint_damping, 0.0, 0.0]
            jnt.frictionloss = robot.joint_frictionloss
            if link.range is not None:
                jnt.limited = mujoco.mjtLimited.mjLIMITED_TRUE
                jnt.range = list(link.range)
            else:
                jnt.limited = mujoco.mjtLimited.mjLIMITED_FALSE
            for g in link.geoms:
                _add_geom(body, g, robot, name=f"{leg}_FOOT" if g.foot else None)
    for leg in LEG_NAMES:
        ex = spec.add_exclude()
        ex.bodyname1 = "base"
        ex.bodyname2 = f"{leg}_THIGH"
    lim = robot.torque_limit
    for jname in JOINT_NAMES:
        act = spec.add_actuator()
        act.name = jname
        act.target = jname
        act.trntype = mujoco.mjtTrn.mjTRN_JOINT
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        if actuator == "torque":
            act.set_to_motor()
            act.gear[0] = 1.0
            act.ctrlrange = [-lim, lim]
        else:
            kp = robot.position_kp
            act.gaintype = mujoco.mjtGain.mjGAIN_FIXED
            act.biastype = mujoco.mjtBias.mjBIAS_AFFINE
            act.gainprm[0] = kp
            act.biasprm[0:3] = [0.0, -kp, 0.0]
            act.ctrlrange = [-robot.position_ctrlrange, robot.position_ctrlrange]
            act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
            act.forcerange = [-lim, lim]


def configure_options(spec: mujoco.MjSpec, timestep: float = 0.005) -> None:
    """Simulation options shared by all scenes: elliptic friction cones, impratio 100 (as the
    Menagerie models), ``timestep`` s (legged_gym sim dt 0.005)."""
    spec.compiler.degree = False  # all angles here are radians
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 100.0
    spec.option.timestep = timestep


def standing_qpos(robot: RobotSpec | str, xy: tuple[float, float] = (0.0, 0.0),
                  ground_z: float = 0.0) -> np.ndarray:
    """(19,) qpos: base at ``xy``, ``nominal_base_height`` above ``ground_z``, facing +x,
    joints at the standing pose."""
    robot = ROBOTS[robot] if isinstance(robot, str) else robot
    return np.concatenate([[xy[0], xy[1], ground_z + robot.nominal_base_height],
                           _IDQ, robot.default_joint_pos])


def build_robot_spec(name: str, *, actuator: str = "torque", timestep: float = 0.005,
                     floor: bool = False) -> mujoco.MjSpec:
    """Robot ``name`` (``anymal_b`` | ``anymal_c``) as an ``MjSpec`` built from the tables.

    ``actuator``: ``"torque"`` (default; ctrl = joint torque, N m) or ``"position"``
    (Menagerie servos). ``floor``: add a flat ground plane (geom ``floor``). A ``home`` keyframe
    holds the standing pose."""
    robot = ROBOTS[name]
    spec = mujoco.MjSpec()
    spec.modelname = name
    configure_options(spec, timestep)
    if floor:
        g = spec.worldbody.add_geom()
        g.name = "floor"
        g.type = mujoco.mjtGeom.mjGEOM_PLANE
        g.size = [0.0, 0.0, 0.05]
    add_robot_to_body(spec, spec.worldbody, robot, actuator=actuator)
    key = spec.add_key()
    key.name = "home"
    key.qpos = list(standing_qpos(robot))
    key.ctrl = list(robot.default_joint_pos if actuator == "position" else np.zeros(12))
    return spec


def build_robot_model(name: str, *, actuator: str = "torque", timestep: float = 0.005,
                      floor: bool = False) -> mujoco.MjModel:
    """Compiled :func:`build_robot_spec`."""
    return build_robot_spec(name, actuator=actuator, timestep=timestep, floor=floor).compile()
