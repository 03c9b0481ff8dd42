"""Robot + terrain -> ``mujoco.MjModel`` (terrain as a height field, or a flat plane).

One robot per model: many robots run as many ``MjData`` of one model (or ``mujoco.batch`` /
``mujoco.rollout`` over it); per-robot added base mass is a per-simulation ``body_mass`` of the
``base`` body (:func:`with_added_mass`, or ``Batch.expand('body_mass')``).

Height field mapping: MuJoCo's ``hfield`` data is row-major with **rows along y and columns
along x**, values normalised to [0, 1] of the elevation size ``size[2]``; the geom is centred on
the field, so the geom sits at ``(x_centre, y_centre, h_min)`` with ``size = (half x extent,
half y extent, h_max - h_min, base)``. Sample ``heights[ix, iy]`` therefore becomes
``data[iy, ix]`` (a transpose), and MuJoCo's surface passes through every sample exactly (to
float32). ``base`` (m) is the thickness of the solid box MuJoCo puts under the lowest point.
Between samples MuJoCo uses two triangles per cell; :meth:`Terrain.height_at` is bilinear; the
two agree on planar cells and straight step edges. With ``TerrainConfig.vertical_walls``,
stairs and obstacles are boxes named ``terrain_box<k>`` over a lowered height field
(:mod:`~behaviorbench.simulation.terrain_boxes`), so their steps have vertical walls.
"""

from __future__ import annotations

import copy

import mujoco
import numpy as np

from behaviorbench.simulation.robots import (
    LEG_NAMES,
    ROBOTS,
    RobotSpec,
    add_robot_to_body,
    configure_options,
    standing_qpos,
)
from behaviorbench.simulation.terrain import Terrain
from behaviorbench.simulation.terrain_boxes import terrain_boxes

TERRAIN_GEOM = "terrain"
HFIELD_BASE = 1.0  # m, solid thickness under the lowest terrain point
SIM_DT = 0.005     # s, legged_gym sim dt (policy at 50 Hz with decimation 4)


def add_terrain(spec: mujoco.MjSpec, terrain: Terrain | None, *, base: float = HFIELD_BASE,
                friction: tuple[float, float, float] = (1.0, 0.005, 0.0001)) -> None:
    """Add the ground: ``terrain`` as an hfield geom named ``terrain`` (plus its wall boxes,
    see :mod:`.terrain_boxes`), or a plane if None.

    ``friction`` is the ground's (MuJoCo default); foot geoms have priority 1, so foot-ground
    contacts use the feet's friction (0.8)."""
    geom = spec.worldbody.add_geom()
    geom.name = TERRAIN_GEOM
    geom.friction = list(friction)
    if terrain is None:
        geom.type = mujoco.mjtGeom.mjGEOM_PLANE
        geom.size = [0.0, 0.0, 0.05]
        return
    boxes = np.zeros((0, 6))
    if terrain.config.vertical_walls:
        h, boxes = terrain_boxes(terrain)
    else:
        h = terrain.heights
    nx, ny = h.shape
    hs = terrain.horizontal_scale
    lo, hi = float(h.min()), float(h.max())
    span = max(hi - lo, 1e-3)  # MuJoCo needs a positive elevation size
    hf = spec.add_hfield()
    hf.name = "terrain_hfield"
    hf.nrow, hf.ncol = ny, nx
    half_x, half_y = (nx - 1) * hs / 2.0, (ny - 1) * hs / 2.0
    hf.size = [half_x, half_y, span, base]
    hf.userdata = np.ascontiguousarray(
        ((h.astype(np.float64) - lo) / span).T, dtype=np.float32).ravel()
    geom.type = mujoco.mjtGeom.mjGEOM_HFIELD
    geom.hfieldname = hf.name
    ox, oy = terrain.origin
    geom.pos = [ox + half_x, oy + half_y, lo]
    for k, (x0, x1, y0, y1, top, bottom) in enumerate(boxes):
        box = spec.worldbody.add_geom()
        box.name = f"{TERRAIN_GEOM}_box{k}"
        box.type = mujoco.mjtGeom.mjGEOM_BOX
        box.friction = list(friction)
        box.size = [(x1 - x0) / 2.0, (y1 - y0) / 2.0, (top - bottom) / 2.0]
        box.pos = [(x0 + x1) / 2.0, (y0 + y1) / 2.0, (top + bottom) / 2.0]


def build_scene_spec(robot_name: str, terrain: Terrain | None = None, *,
                     actuator: str = "torque", timestep: float = SIM_DT,
                     base: float = HFIELD_BASE, contact_sensors: bool = False
                     ) -> mujoco.MjSpec:
    """MjSpec of ``robot_name`` on ``terrain`` (None: flat plane). Options as the reference
    models (elliptic cones, impratio 100), ``timestep`` s. ``contact_sensors``: add the four
    foot-contact sensors of :func:`add_foot_contact_sensors`."""
    robot = ROBOTS[robot_name]
    spec = mujoco.MjSpec()
    spec.modelname = f"{robot_name}_scene"
    configure_options(spec, timestep)
    add_terrain(spec, terrain, base=base)
    add_robot_to_body(spec, spec.worldbody, robot, actuator=actuator)
    if contact_sensors:
        add_foot_contact_sensors(spec)
    return spec


def build_scene(robot_name: str, terrain: Terrain | None = None, *, actuator: str = "torque",
                timestep: float = SIM_DT, base: float = HFIELD_BASE,
                contact_sensors: bool = False) -> mujoco.MjModel:
    """Compiled :func:`build_scene_spec`: robot + terrain hfield (or plane)."""
    return build_scene_spec(robot_name, terrain, actuator=actuator, timestep=timestep,
                            base=base, contact_sensors=contact_sensors).compile()


FOOT_CONTACT_SENSORS: tuple[str, ...] = tuple(f"{leg}_foot_contact" for leg in LEG_NAMES)


def add_foot_contact_sensors(spec: mujoco.MjSpec) -> None:
    """Add one MuJoCo ``contact`` sensor per foot (:data:`FOOT_CONTACT_SENSORS`, LF, RF, LH,
    RH order, the first four sensors if the spec has none yet): each reads the number of
    contacts of its foot geom with anything, from the contact list of the position stage.
    Sensors do not act on the dynamics: a model with them steps bit-identically to one
    without (tested)."""
    found = 1 << int(mujoco.mjtConDataField.mjCONDATA_FOUND)
    for leg, name in zip(LEG_NAMES, FOOT_CONTACT_SENSORS, strict=True):
        sensor = spec.add_sensor()
        sensor.name = name
        sensor.type = mujoco.mjtSensor.mjSENS_CONTACT
        sensor.objtype = mujoco.mjtObj.mjOBJ_GEOM
        sensor.objname = f"{leg}_FOOT"
        sensor.intprm[0] = found   # data: the number of matching contacts
        sensor.intprm[1] = 0       # no reduction
        sensor.intprm[2] = 1       # one slot
        sensor.dim = 1


def foot_contact_adr(model: mujoco.MjModel) -> np.ndarray:
    """(4,) int: where the readings of the :data:`FOOT_CONTACT_SENSORS` sit in ``sensordata``."""
    return np.array([model.sensor_adr[model.sensor(name).id] for name in FOOT_CONTACT_SENSORS])


def foot_contacts(model: mujoco.MjModel, sensordata: np.ndarray) -> np.ndarray:
    """(..., nsensordata) sensor readings of a model with :func:`add_foot_contact_sensors`
    -> (..., 4) bool, True where the foot touches anything (LF, RF, LH, RH)."""
    return np.asarray(sensordata)[..., foot_contact_adr(model)] > 0


def build_flat_scene(robot_name: str, *, actuator: str = "torque",
                     timestep: float = SIM_DT) -> mujoco.MjModel:
    """Robot on an infinite flat plane at z = 0."""
    return build_scene(robot_name, None, actuator=actuator, timestep=timestep)


def base_body_id(model: mujoco.MjModel) -> int:
    return model.body("base").id


def with_added_mass(model: mujoco.MjModel, added_mass: float) -> mujoco.MjModel:
    """Copy of ``model`` with ``added_mass`` kg on the base (legged_gym's base-mass
    randomisation: mass only, inertia unchanged)."""
    m = copy.copy(model)
    m.body_mass[base_body_id(m)] += added_mass
    d = mujoco.MjData(m)
    mujoco.mj_setConst(m, d)
    return m


def standing_qpos_on(terrain: Terrain | None, robot: RobotSpec | str, x: float, y: float,
                     clearance: float = 0.02) -> np.ndarray:
    """(19,) qpos: standing pose facing +x at (``x``, ``y``), base high enough that the
    lowest-clearance foot is ``clearance`` m above the terrain under it."""
    robot = ROBOTS[robot] if isinstance(robot, str) else robot
    qpos = standing_qpos(robot, (x, y))
    if terrain is None:
        qpos[2] += clearance
        return qpos
    feet = robot.default_foot_positions  # base frame == world offsets (identity orientation)
    ground = terrain.height_at(x + feet[:, 0], y + feet[:, 1])
    qpos[2] = float(np.max(ground - feet[:, 2])) + robot.foot_radius + clearance
    return qpos


def terrain_stance(terrain: Terrain | None, robot: RobotSpec | str, x: float, y: float,
                   clearance: float = 0.02, max_offset: float = 0.08
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Level standing pose adapted to the ground under each foot, via :meth:`RobotSpec.leg_ik`.

    Feet keep the standing pose's xy (facing +x at (``x``, ``y``)); each foot's height follows
    ``terrain.height_at`` under it, clipped to +-``max_offset`` m around the feet's mean ground
    height; the base sits ``nominal_base_height`` above that mean, plus ``clearance``.
    Returns ((19,) qpos, (12,) joint targets rad)."""
    robot = ROBOTS[robot] if isinstance(robot, str) else robot
    feet = robot.default_foot_positions.copy()
    ground = (np.zeros(4) if terrain is None
              else terrain.height_at(x + feet[:, 0], y + feet[:, 1]))
    mean = float(ground.mean())
    base_z = mean + robot.nominal_base_height
    feet[:, 2] = np.clip(ground - mean, -max_offset, max_offset) + mean + robot.foot_radius \
        - base_z
    q = robot.leg_ik(feet)
    qpos = np.concatenate([[x, y, base_z + clearance], [1.0, 0.0, 0.0, 0.0], q])
    return qpos, q


def foot_geom_ids(model: mujoco.MjModel) -> np.ndarray:
    """(4,) geom ids of LF, RF, LH, RH feet."""
    return np.array([model.geom(f"{leg}_FOOT").id for leg in ("LF", "RF", "LH", "RH")])
