"""The tick hook sees everything the physics gets: an open-loop replay of the recorded controls
and servo gains reproduces the closed loop bit for bit (the fair raw-physics baseline of
``benchmarks/sim_throughput.py`` rests on this)."""

from __future__ import annotations

import dataclasses

import numpy as np

from behaviorbench.simulation.controller import quat_to_mat
from behaviorbench.simulation.rollout import (
    DECIMATION,
    RunSpec,
    _model,
    _new_batch,
    _simulate_chunk,
    draw_spawns,
    run_terrain,
)
from behaviorbench.simulation.terrain import TerrainConfig

RUN = RunSpec(robot="anymal_c", command_vel=1.0, n_robots=4, episode_s=1.6,
              terrain=TerrainConfig.small(num_rows=3, num_cols=2), seed=5,
              max_init_terrain_level=1)


def _record(run: RunSpec, stop_failed: bool) -> list[tuple]:
    """Per tick: (ctrl, gainprm, biasprm, stepped ids, qpos, qvel) as the physics gets them."""
    tape = []

    def hook(k, batch, ids):
        g, b = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
        tape.append((batch.bind("ctrl").copy(), g.copy(), b.copy(),
                     None if ids is None else ids.copy(), batch.bind("qpos").copy(),
                     batch.bind("qvel").copy()))

    _simulate_chunk(run, range(run.n_robots), stop_failed=stop_failed, on_tick=hook)
    return tape


def _replay(run: RunSpec, tape: list[tuple], offset: float = 0.0) -> np.ndarray:
    """Replay ``tape`` open loop (``offset`` rad added to ctrl); checks each tick's state
    against the tape unless offset; returns the final qpos."""
    model = _model(run.robot, run.terrain, run.seed, run.controller, run.foot_condim)
    batch = _new_batch(model, draw_spawns(run, run_terrain(run), range(run.n_robots)))
    gainprm, biasprm = batch.expand("actuator_gainprm"), batch.expand("actuator_biasprm")
    for ctrl, gain, bias, ids, qpos, qvel in tape:
        if not offset:
            np.testing.assert_array_equal(batch.bind("qpos"), qpos)
            np.testing.assert_array_equal(batch.bind("qvel"), qvel)
        batch.bind("ctrl")[:] = ctrl + offset
        gainprm[:] = gain
        biasprm[:] = bias
        batch.step(ids=ids, nstep=DECIMATION)
    return batch.bind("qpos").copy()


def test_open_loop_replay_reproduces_closed_loop():
    tape = _record(RUN, stop_failed=False)
    assert len(tape) == RUN.n_frames
    final = _replay(RUN, tape)
    # other controls diverge (the check can fail)
    assert not np.array_equal(_replay(RUN, tape, offset=0.05), final)


def test_open_loop_replay_reproduces_closed_loop_with_early_stop():
    tape = _record(RUN, stop_failed=False)
    rot = quat_to_mat(np.concatenate([t[4][:, 3:7] for t in tape]))
    tilt = np.maximum(np.abs(np.arctan2(rot[:, 2, 1], rot[:, 2, 2])),
                      np.abs(np.arcsin(np.clip(rot[:, 2, 0], -1, 1))))
    peak = np.sort(tilt.reshape(len(tape), -1).max(0))
    # a tilt limit between the robots' peaks: some stop mid-run (the dynamics do not change)
    run = dataclasses.replace(RUN, max_tilt=float(peak[1] + peak[2]) / 2)
    tape = _record(run, stop_failed=True)
    first = next(k for k, t in enumerate(tape) if t[3] is not None)
    assert 0 < first and len(tape[-1][3]) < run.n_robots
    _replay(run, tape)
