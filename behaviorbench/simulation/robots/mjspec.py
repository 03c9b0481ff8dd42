"""MuJoCo models built from a :class:`~.spec.RobotSpec` with ``mujoco.MjSpec``: bodies, joints,
collision geoms, contact excludes and the 12 actuators (torque motors or position servos)."""

from __future__ import annotations

import mujoco
import numpy as np

from .parts import IDQ as _IDQ
from .parts import JOINT_NAMES, LEG_NAMES, Geom, Inertial, Vec3
from .spec import ROBOTS, RobotSpec

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
