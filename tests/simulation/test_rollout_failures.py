"""Why a robot fails (``rollout.failure_codes``): each reason on a crafted state."""

import numpy as np

from behaviorbench.simulation import progress as prog
from behaviorbench.simulation import rollout
from behaviorbench.simulation.controller import quat_to_mat
from behaviorbench.simulation.terrain import TerrainConfig, generate_terrain


def test_each_failure_reason_on_a_crafted_state():
    terrain = generate_terrain(TerrainConfig.small(), 0)
    run = rollout.RunSpec(terrain=terrain.config)
    n = 6
    qpos = np.zeros((n, 19))
    qpos[:, :2] = terrain.spawn_origins[1, 0, :2]
    qpos[:, 2] = terrain.height_at(qpos[:, 0], qpos[:, 1]) + 0.5
    qpos[:, 3] = 1.0
    qpos[1, 2] -= 0.4                          # base 0.1 m above the ground: fell
    qpos[2, 3:7] = [np.cos(0.6), np.sin(0.6), 0, 0]  # rolled 1.2 rad: fell
    qpos[3, 0] = -1.0                          # off the grid
    qpos[4, 10] = np.nan                       # a non-finite joint
    prev = qpos[:, :2].copy()
    prev[5, 1] -= 1.5                          # jumped 1.5 m in one frame
    codes = rollout.failure_codes(run, terrain, qpos, quat_to_mat(qpos[:, 3:7]), prev)
    assert codes.dtype == np.int8
    np.testing.assert_array_equal(codes, [prog.NONE, prog.FELL, prog.FELL,
                                          prog.LEFT_TERRAIN, prog.UNSTABLE, prog.UNSTABLE])
    np.testing.assert_array_equal(
        rollout.failed(run, terrain, qpos, quat_to_mat(qpos[:, 3:7]), prev), codes != 0)
