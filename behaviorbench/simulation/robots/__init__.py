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

from .kinematics import LegKinematics
from .mjspec import (
    ACTUATOR_TYPES,
    add_robot_to_body,
    build_robot_model,
    build_robot_spec,
    configure_options,
    standing_qpos,
)
from .parts import (
    FOOT_NAMES,
    JOINT_NAMES,
    LEG_NAMES,
    ROBOT_NAMES,
    ContactParams,
    Geom,
    Inertial,
    Link,
    Quat,
    Vec3,
)
from .spec import ROBOTS, RobotSpec

__all__ = [
    "ACTUATOR_TYPES", "FOOT_NAMES", "JOINT_NAMES", "LEG_NAMES", "ROBOTS", "ROBOT_NAMES",
    "ContactParams", "Geom", "Inertial", "LegKinematics", "Link", "Quat", "RobotSpec", "Vec3",
    "add_robot_to_body", "build_robot_model", "build_robot_spec", "configure_options",
    "standing_qpos",
]
