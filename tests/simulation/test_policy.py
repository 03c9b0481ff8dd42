"""Policy files behind the controller protocol: a TorchScript policy of zeros keeps robots
standing; its ONNX export acts and walks the same; bad files fail with one line; the
observation follows legged_gym's layout."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from behaviorbench.simulation import rollout
from behaviorbench.simulation.controller import quat_to_mat
from behaviorbench.simulation.controller_protocol import ControlContext, ControllerError
from behaviorbench.simulation.env import flat_terrain
from behaviorbench.simulation.policy import (
    N_PROPRIO,
    N_SCAN,
    OBS_LAYOUT,
    ObservationConfig,
    Observer,
    file_sha256,
    load_policy_file,
    scan_points,
)
from behaviorbench.simulation.robots import ROBOTS

N_OBS = N_PROPRIO + N_SCAN


class Mlp(torch.nn.Module):
    """A small policy: 235 -> 32 -> 12, weights x ``scale`` (0: outputs zeros)."""

    def __init__(self, n_in: int = N_OBS, scale: float = 0.0, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.l1, self.l2 = torch.nn.Linear(n_in, 32), torch.nn.Linear(32, 12)
        with torch.no_grad():
            for p in self.parameters():
                p.mul_(scale)

    def forward(self, x):
        return self.l2(torch.tanh(self.l1(x)))


def save_torchscript(module: torch.nn.Module, path) -> str:
    torch.jit.script(module).save(str(path))
    return str(path)


def save_onnx(module: torch.nn.Module, path, n_in: int = N_OBS) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.zeros(1, n_in),), str(path), input_names=["obs"],
                          output_names=["actions"], dynamo=False,
                          dynamic_axes={"obs": {0: "batch"}, "actions": {0: "batch"}})
    return str(path)


@pytest.fixture(scope="module")
def policies(tmp_path_factory):
    d = tmp_path_factory.mktemp("policies")
    zero, small = Mlp(scale=0.0), Mlp(scale=0.3, seed=1)
    return {"zero.pt": save_torchscript(zero, d / "zero_policy.pt"),
            "zero.onnx": save_onnx(zero, d / "zero_policy.onnx"),
            "small.pt": save_torchscript(small, d / "small.pt"),
            "small.onnx": save_onnx(small, d / "small.onnx")}


FLAT = rollout.RunSpec(robot="anymal_c", command_vel=0.5, n_robots=4, episode_s=5.0,
                       terrain=flat_terrain(), seed=2, added_mass_range=(0.0, 0.0))


@pytest.mark.parametrize("robot", ["anymal_c", "anymal_b"])
def test_a_torchscript_zero_policy_keeps_each_robot_standing_for_5_s(policies, robot):
    """Zero actions hold the default pose under kp 80 / kd 2: every robot (nominal mass)
    stays up, its base within 3 cm of the nominal standing height once settled (from 0.5 s
    on: the PD servos sag it under its weight, ANYmal C 2.9 cm, B 1.9 cm). Spawned with
    unloaded joints at the nominal height, it first dips past that (kd 2 damps the drop
    lightly; C 3.7 cm at 0.2 s): within 4 cm over the whole 5 s."""
    run = replace(FLAT, robot=robot, controller_name=policies["zero.pt"])
    out = rollout.simulate(run)
    assert out.n_frames == 250 and out.success.all()
    nominal = ROBOTS[robot].nominal_base_height
    terrain = rollout.run_terrain(run)
    x, y = out.base_pos[..., 0].astype(float), out.base_pos[..., 1].astype(float)
    height = out.base_pos[..., 2] - terrain.height_at(x, y)
    settled = height[:, 25:]  # from 0.5 s on
    assert np.abs(settled - nominal).max() < 0.03, np.abs(settled - nominal).max()
    assert np.abs(height - nominal).max() < 0.04, np.abs(height - nominal).max()
    assert np.abs(out.base_pos[:, -1, :2] - out.base_pos[:, 0, :2]).max() < 0.05


def _env_observations(n: int = 6) -> np.ndarray:
    """Observations of standing and perturbed robots on rough terrain (n, 235)."""
    run = replace(FLAT, terrain=rollout.TerrainConfig.small(num_rows=2, num_cols=2), seed=4)
    terrain = rollout.run_terrain(run)
    spawn = rollout.draw_spawns(run, terrain, range(n))
    rng = np.random.default_rng(0)
    qvel = rng.normal(0, 0.5, (n, 18))
    obs = Observer(ROBOTS[run.robot], np.full(n, 0.7), terrain.height_at)
    obs.last_actions[:] = rng.normal(0, 0.3, (n, 12))
    return obs.observe(spawn.qpos, qvel).copy()


@pytest.mark.parametrize("which", ["zero", "small"])
def test_the_onnx_export_acts_and_walks_like_the_torchscript_policy(policies, which):
    """Same actions to 1e-5 on the same observations; the same first second of trajectory
    (joint angles, base position) to 1e-4, on rough ground (flat with noise, rough slopes)."""
    pt, ox = load_policy_file(policies[f"{which}.pt"]), load_policy_file(policies[f"{which}.onnx"])
    obs = np.concatenate([_env_observations(), np.random.default_rng(1).normal(
        0, 1, (8, N_OBS)).astype(np.float32)])
    a_pt, a_ox = pt.policy(obs), ox.policy(obs)
    np.testing.assert_allclose(a_ox, a_pt, atol=1e-5, rtol=0)
    if which == "small":
        assert np.abs(a_pt).max() > 0.05  # a policy that does act
    run = replace(FLAT, episode_s=1.0, added_mass_range=(-5.0, 5.0),
                  terrain=rollout.TerrainConfig.small(num_rows=2, num_cols=2,
                                                      proportions=(0, 1, 0, 0, 0, 0, 0, 1)),
                  max_init_terrain_level=1)
    t_pt = rollout.simulate(replace(run, controller_name=policies[f"{which}.pt"]))
    t_ox = rollout.simulate(replace(run, controller_name=policies[f"{which}.onnx"]))
    for name in ("dof_pos", "base_pos"):  # the trajectory: poses to 1e-4 (rad, m)
        np.testing.assert_allclose(getattr(t_ox, name), getattr(t_pt, name), atol=1e-4, rtol=0,
                                   err_msg=name)
    # velocities amplify the float32 rounding differences at touch-downs (~2e-3 rad/s seen)
    np.testing.assert_allclose(t_ox.dof_vel, t_pt.dof_vel, atol=1e-2, rtol=0)
    assert pt.identity()["sha256"] == file_sha256(policies[f"{which}.pt"])
    assert pt.identity()["config"]["format"] == "torchscript"
    assert ox.identity()["config"]["format"] == "onnx"


def test_a_proprioceptive_policy_gets_48_values(tmp_path):
    path = save_onnx(Mlp(n_in=N_PROPRIO), tmp_path / "proprio.onnx", n_in=N_PROPRIO)
    ctl = load_policy_file(path)
    assert ctl.obs_cfg.height_scan is False and ctl.obs_cfg.size == N_PROPRIO
    pt = save_torchscript(Mlp(n_in=N_PROPRIO), tmp_path / "proprio.pt")
    assert load_policy_file(pt).obs_cfg.size == N_PROPRIO


def test_bad_policy_files_fail_with_one_line(tmp_path):
    cases = {
        "in.pt": (save_torchscript(Mlp(n_in=10), tmp_path / "in.pt"), "takes neither"),
        "out.pt": (save_torchscript(torch.nn.Linear(N_OBS, 3), tmp_path / "out.pt"),
                   r"shape \(2, 3\)"),
        "in.onnx": (save_onnx(Mlp(n_in=10), tmp_path / "in.onnx", n_in=10),
                    "takes 10 observation values"),
        "out.onnx": (save_onnx(torch.nn.Linear(N_OBS, 3), tmp_path / "out.onnx"),
                     r"shape \(2, 3\)"),
    }
    (tmp_path / "text.pt").write_text("not a model")
    (tmp_path / "text.onnx").write_text("not a model")
    cases["text.pt"] = (str(tmp_path / "text.pt"), "is not a TorchScript model")
    cases["text.onnx"] = (str(tmp_path / "text.onnx"), "is not an ONNX model")
    for name, (path, message) in cases.items():
        with pytest.raises(ControllerError, match=message) as e:
            load_policy_file(path)
        assert "\n" not in str(e.value), name


def test_observation_layout_of_a_robot_standing_level():
    """Slices as documented: a level robot at rest on flat ground sees gravity (0, 0, -1),
    its command scaled by 2, a zero heading command, and a flat height scan of
    (base z - 0.5) x 5."""
    robot = ROBOTS["anymal_c"]
    z = robot.nominal_base_height
    qpos = np.concatenate([[1.0, 2.0, z, 1.0, 0.0, 0.0, 0.0], robot.default_joint_pos])[None]
    qvel = np.zeros((1, 18))
    qvel[0, 6:18] = 1.0
    obs = Observer(robot, np.array([0.8]), lambda x, y: np.zeros(np.shape(x)))
    o = obs.observe(qpos, qvel, quat_to_mat(qpos[:, 3:7]))[0]
    assert o.shape == (N_OBS,) and o.dtype == np.float32
    assert [s[1:3] for s in OBS_LAYOUT] == [(0, 3), (3, 6), (6, 9), (9, 12), (12, 24),
                                            (24, 36), (36, 48), (48, 235)]
    np.testing.assert_allclose(o[6:9], [0, 0, -1])
    np.testing.assert_allclose(o[9:12], [1.6, 0, 0], atol=1e-6)
    np.testing.assert_allclose(o[12:24], 0, atol=1e-6)
    np.testing.assert_allclose(o[24:36], 0.05, atol=1e-6)
    np.testing.assert_allclose(o[48:], (z - 0.5) * 5.0, atol=1e-5)
    pts = scan_points()
    assert pts.shape == (187, 2) and pts[:, 0].min() == -0.8 and pts[:, 1].max() == 0.5
    assert np.allclose(np.diff(np.unique(pts[:, 0])), 0.1)
    proprio = Observer(robot, np.array([0.8]), obs.height_fn, ObservationConfig(height_scan=False))
    np.testing.assert_array_equal(proprio.observe(qpos, qvel)[0], o[:N_PROPRIO])


def test_the_scan_turns_with_the_heading():
    """A robot facing +y sees a step at world y = 0.35 ahead of it (scan x > 0.35 rows)."""
    robot = ROBOTS["anymal_c"]
    yaw = np.pi / 2
    quat = [np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)]
    qpos = np.concatenate([[0.0, 0.0, 0.6], quat, robot.default_joint_pos])[None]
    obs = Observer(robot, np.array([0.5]), lambda x, y: np.where(np.asarray(y) > 0.35, 0.2, 0.0))
    scan = obs.observe(qpos, np.zeros((1, 18)))[0, 48:].reshape(17, 11)
    ahead = scan_points()[:, 0].reshape(17, 11)[:, 0] > 0.35
    np.testing.assert_allclose(scan[ahead], (0.6 - 0.5 - 0.2) * 5, atol=1e-5)
    np.testing.assert_allclose(scan[~ahead], (0.6 - 0.5) * 5, atol=1e-5)
    # a heading error of +90 degrees asks for a yaw rate of clip(0.5 x -pi/2) = -0.785 rad/s
    np.testing.assert_allclose(obs.observe(qpos, np.zeros((1, 18)))[0, 11], -np.pi / 4 * 0.25,
                               atol=1e-6)


def test_policy_controller_resets_its_last_actions(policies):
    ctl = load_policy_file(policies["small.pt"])
    robot = ROBOTS["anymal_c"]
    qpos = np.tile(np.concatenate([[0.0, 0.0, 0.55, 1.0, 0, 0, 0], robot.default_joint_pos]),
                   (2, 1))
    ctx = ControlContext(robot, np.full(2, 0.5), np.zeros(2), lambda x, y: np.zeros(np.shape(x)),
                         qpos)
    ctl.reset(ctx)
    target = ctl.act(qpos, np.zeros((2, 18)), quat_to_mat(qpos[:, 3:7]))
    assert target.shape == (2, 12)
    assert np.abs(ctl.observer.last_actions).max() > 0
    ctl.reset(ctx)
    assert np.abs(ctl.observer.last_actions).max() == 0
