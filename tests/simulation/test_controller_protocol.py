"""The controller protocol: the built-in trot controller through it records exactly what a
loop calling :class:`TrotController` directly records; user classes load by ``module:Class``;
bad names fail with one line."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

from behaviorbench.simulation import rollout
from behaviorbench.simulation.controller import TrotController, quat_to_mat
from behaviorbench.simulation.controller_protocol import (
    Controller,
    ControllerError,
    TrotPolicy,
    controller_identity,
    load_controller,
)
from behaviorbench.simulation.policy import PolicyController
from behaviorbench.simulation.progress import NONE
from behaviorbench.simulation.recording import FrameRecorder
from behaviorbench.simulation.robots import ROBOTS
from behaviorbench.simulation.scene import foot_contacts
from behaviorbench.simulation.terrain import TerrainConfig

RUN = rollout.RunSpec(robot="anymal_b", command_vel=0.8, n_robots=3, episode_s=2.0,
                      terrain=TerrainConfig.small(num_rows=3, num_cols=2), seed=11,
                      max_init_terrain_level=2)


def direct_loop(run: rollout.RunSpec, indices: list[int]):
    """The recording loop as it was before the protocol: TrotController called directly."""
    terrain = rollout.run_terrain(run)
    model = rollout.build_run_model(run.robot, terrain, run.controller, run.foot_condim)
    spawn = rollout.draw_spawns(run, terrain, indices)
    batch = rollout._new_batch(model, spawn)
    qpos, qvel, ctrl = batch.bind("qpos"), batch.bind("qvel"), batch.bind("ctrl")
    sensordata, torque = batch.bind("sensordata"), batch.bind("actuator_force")
    gainprm, biasprm = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
    n = len(indices)
    ctl = TrotController(ROBOTS[run.robot], np.full(n, run.command_vel),
                         height_fn=terrain.height_at, added_mass=spawn.added_mass,
                         config=run.controller)
    ctl.reset(qpos.copy())
    rec = FrameRecorder(n, run.n_frames)
    ok, reason = np.ones(n, bool), np.zeros(n, np.int8)
    prev_xy = qpos[:, :2].copy()
    for k in range(run.n_frames):
        qp, qv = qpos.copy(), qvel.copy()
        rot = quat_to_mat(qp[:, 3:7])
        rec.record(k, qp, qv, np.einsum("nij,nj->ni", rot, qv[:, 3:6]),
                   foot_contact=foot_contacts(model, sensordata), joint_torque=torque)
        code = rollout.failure_codes(run, terrain, qp, rot, prev_xy)
        reason[ok] = code[ok]
        ok &= code == NONE
        prev_xy = qp[:, :2]
        ctrl[:] = ctl(qp, qv, rot)
        ctl.write_gains(gainprm, biasprm)
        batch.step(nstep=rollout.DECIMATION)
    return rollout.assemble_batch(run, terrain, spawn, rec, ok, reason)


def test_builtin_controller_through_the_protocol_is_bit_identical_to_the_direct_loop():
    via_protocol = rollout.simulate(RUN, [0, 1, 2])
    direct = direct_loop(RUN, [0, 1, 2])
    for f in fields(direct):
        a, b = getattr(via_protocol, f.name), getattr(direct, f.name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f.name
    assert np.ptp(direct.base_pos[:, :, 0], axis=1).min() > 0.3  # the robots did walk


def test_trot_policy_implements_the_protocol_and_names_itself():
    ctl = load_controller("trot")
    assert isinstance(ctl, TrotPolicy) and isinstance(ctl, Controller)
    ident = controller_identity("trot")
    assert ident["name"] == "trot" and ident["source"] == "builtin" and ident["sha256"] is None
    assert ident["config"]["swing_kp"] == RUN.controller.swing_kp


class StandStill(PolicyController):
    """A user controller (module:Class): legged_gym actuation with zero actions."""

    def __init__(self):
        super().__init__(lambda obs: np.zeros((len(obs), 12), np.float32),
                         name="stand_still", source=f"{__name__}:StandStill")


class NotAController:
    name = "nothing"


def test_a_module_class_controller_walks_through_the_same_loop():
    spec = f"{__name__}:StandStill"
    ident = controller_identity(spec)
    assert ident["name"] == "stand_still" and ident["config"]["actuation"]["kp"] == 80.0
    run = replace(RUN, controller_name=spec, episode_s=1.0, added_mass_range=(0.0, 0.0))
    out = rollout.simulate(run, [0, 1])
    assert out.success.all()
    # standing: the base barely moves in x
    assert np.abs(out.base_pos[:, -1, 0] - out.base_pos[:, 0, 0]).max() < 0.1


@pytest.mark.parametrize(("spec", "message"), [
    ("walk_fast", "unknown controller 'walk_fast'"),
    ("no_such_module_xyz:Thing", "cannot be imported"),
    (f"{__name__}:Missing", "cannot be imported"),
    (f"{__name__}:NotAController", "does not implement the controller protocol"),
    ("missing_policy.pt", "does not exist"),
])
def test_bad_controller_names_fail_with_one_line(spec, message):
    with pytest.raises(ControllerError, match=message) as e:
        load_controller(spec)
    assert "\n" not in str(e.value)
