"""The per-frame physics recordings of a rollout: foot contacts against MuJoCo's contact list,
joint torques against the applied actuator forces, base orientation against qpos; and the
gait labels they give on a walking trot."""

from __future__ import annotations

import numpy as np
import pytest

from behaviorbench.simulation.gait_labels import gait_labels
from behaviorbench.simulation.rollout import RunSpec, _simulate_chunk
from behaviorbench.simulation.scene import foot_geom_ids
from behaviorbench.simulation.terrain import TerrainConfig

RUN = RunSpec(robot="anymal_c", command_vel=0.8, n_robots=3, episode_s=3.0,
              terrain=TerrainConfig.small(num_rows=4, num_cols=2), seed=3,
              max_init_terrain_level=1)


@pytest.fixture(scope="module")
def recorded():
    """(batch, per-tick truth): before each tick's physics, each robot's MjData of the
    batch's last call gives its contact list and applied torques, which the frame of that
    tick recorded."""
    truth: dict[str, list] = {"contact": [], "torque": []}
    data = None

    def on_tick(k, batch, ids):
        nonlocal data
        contact, torque = [], []
        for i in range(batch.nsim):
            data = batch.get_data(i, data)
            feet = foot_geom_ids(data.model)
            hit = np.zeros(4, bool)
            for c in data.contact[:data.ncon]:
                hit |= (feet == c.geom1) | (feet == c.geom2)
            contact.append(hit)
            torque.append(data.actuator_force.copy())
        truth["contact"].append(contact)
        truth["torque"].append(torque)

    batch = _simulate_chunk(RUN, [0, 1, 2], on_tick=on_tick)
    return batch, {k: np.swapaxes(np.array(v), 0, 1) for k, v in truth.items()}



def test_foot_contact_is_mujocos_contact_list(recorded):
    batch, truth = recorded
    assert batch.foot_contact.shape == (3, RUN.n_frames, 4)
    assert batch.foot_contact.dtype == np.bool_
    np.testing.assert_array_equal(batch.foot_contact, truth["contact"])
    frac = batch.foot_contact.mean(axis=(0, 1))
    assert ((frac > 0.2) & (frac < 0.95)).all(), frac  # the feet step: neither always up nor down


def test_joint_torque_is_the_applied_actuator_force(recorded):
    batch, truth = recorded
    assert batch.joint_torque.shape == (3, RUN.n_frames, 12)
    np.testing.assert_array_equal(batch.joint_torque, truth["torque"].astype(np.float32))
    assert np.abs(batch.joint_torque).max() <= 80.0 + 1e-3  # ANYmal C's torque limit


def test_base_quat_is_the_base_orientation(recorded):
    batch, _ = recorded
    norms = np.linalg.norm(batch.base_quat.astype(np.float64), axis=-1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    assert batch.base_quat[..., 0].min() > 0.9  # upright, facing +x


def test_gait_labels_of_a_trot_alternate_the_diagonals(recorded):
    batch, _ = recorded
    lab = gait_labels(batch.foot_contact)
    ph = lab["phase"]
    ok = ~np.isnan(ph).any(axis=-1)
    assert ok.mean() > 0.5
    # LF/RH step together, RF/LH together (within a fifth of a stride: the diagonal feet
    # land a few frames apart), and the two diagonals about half a stride apart
    def lag(a, b):
        return np.abs(((ph[..., a] - ph[..., b] + 0.5) % 1.0) - 0.5)[ok]

    assert np.median(lag(0, 3)) < 0.2 and np.median(lag(1, 2)) < 0.2
    assert np.median(lag(0, 1)) > 0.35 and np.median(lag(2, 3)) > 0.35
    f = lab["stride_frequency"][~np.isnan(lab["stride_frequency"])]
    assert 1.0 < np.median(f) < 5.0  # Hz
