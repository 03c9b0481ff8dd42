"""Foot-contact sensors agree with MuJoCo's contact list and leave the dynamics unchanged."""

import mujoco
import numpy as np
import pytest

from behaviorbench.simulation.robots import ROBOTS
from behaviorbench.simulation.scene import (
    build_scene,
    foot_contacts,
    foot_geom_ids,
    standing_qpos_on,
)
from behaviorbench.simulation.terrain import TerrainConfig, build_terrain


def contacts_from_list(model, data) -> np.ndarray:
    """(4,) bool: feet that appear in ``data.contact`` (the ground truth)."""
    feet = foot_geom_ids(model)
    out = np.zeros(4, dtype=bool)
    for c in data.contact[:data.ncon]:
        out |= (feet == c.geom1) | (feet == c.geom2)
    return out


@pytest.mark.parametrize("robot", ["anymal_b", "anymal_c"])
def test_sensors_match_the_contact_list_and_do_not_change_the_trajectory(robot):
    cfg = TerrainConfig(num_rows=1, num_cols=1, terrain_length=8.0, terrain_width=8.0,
                        border_size=2.0)
    terrain = build_terrain(cfg, [["flat+noise"]], [[0.0]], seed=3)
    runs = {}
    for sensors in (False, True):
        model = build_scene(robot, terrain, actuator="position", contact_sensors=sensors)
        data = mujoco.MjData(model)
        data.qpos[:] = standing_qpos_on(terrain, robot, 5.0, 5.0)
        data.qpos[2] += 0.08                      # dropped from 8 cm: feet leave and touch
        rng = np.random.default_rng(0)
        seen = np.zeros(4, dtype=int)
        qpos = []
        for k in range(300):
            # joint targets that lift one diagonal, then the other, then stand
            data.ctrl[:] = ROBOTS[robot].default_joint_pos + (
                0.3 * np.sin(k / 15.0) * np.tile([0, 1, 1], 4) if k > 100 else 0.0)
            data.ctrl[:] += 0.01 * rng.standard_normal(12)
            mujoco.mj_step(model, data)
            qpos.append(data.qpos.copy())
            if sensors:
                truth = contacts_from_list(model, data)
                np.testing.assert_array_equal(foot_contacts(model, data.sensordata), truth)
                seen += truth
        runs[sensors] = np.array(qpos)
        if sensors:
            # each foot was seen both in the air and on the ground
            assert ((seen > 0) & (seen < 300)).all(), seen
    np.testing.assert_array_equal(runs[True], runs[False])
