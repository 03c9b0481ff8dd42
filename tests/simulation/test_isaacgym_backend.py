"""Isaac Gym backend, pure-python parts (Isaac Gym itself is not installed here): the terrain
mesh, the robot asset, the state layout and the servo law against MuJoCo, the import order
and the install messages."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import mujoco
import numpy as np
import pytest
import torch

from behaviorbench.datasets import backends
from behaviorbench.datasets.config import ConfigError
from behaviorbench.simulation import isaacgym_backend as IG
from behaviorbench.simulation.robots import JOINT_NAMES, ROBOTS, build_robot_model
from behaviorbench.simulation.scene import build_flat_scene
from behaviorbench.simulation.terrain import TerrainConfig, build_terrain


# ----------------------------------------------------------------------------- terrain mesh
def test_trimesh_is_the_height_field():
    rng = np.random.default_rng(0)
    h = rng.uniform(-0.05, 0.05, (7, 5))
    v, t = IG.heightfield_to_trimesh(h, 0.1)
    assert v.shape == (35, 3) and v.dtype == np.float32
    assert t.shape == (2 * 6 * 4, 3) and t.dtype == np.uint32
    ix, iy = np.meshgrid(np.arange(7), np.arange(5), indexing="ij")
    np.testing.assert_allclose(v[:, 0], 0.1 * ix.ravel(), atol=1e-6)
    np.testing.assert_allclose(v[:, 1], 0.1 * iy.ravel(), atol=1e-6)
    np.testing.assert_allclose(v[:, 2], h.ravel(), atol=1e-7)
    p = v[t.astype(np.int64)].astype(np.float64)
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    assert (normal[:, 2] > 0).all()  # counter-clockwise from above: facing up
    np.testing.assert_allclose(0.5 * np.abs(normal[:, 2]).sum(), 0.6 * 0.4)  # covers the field
    assert len({tuple(sorted(x)) for x in t.tolist()}) == len(t)


def test_trimesh_steps_get_vertical_walls():
    """A 0.2 m step up along x (then down along y): with the slope threshold the foot of
    each rise moves under its top edge; without it the step is a one-sample ramp."""
    h = np.zeros((10, 8))
    h[5:, :] = 0.2
    h[:, 6:] -= 0.2
    ramp, _ = IG.heightfield_to_trimesh(h, 0.1)
    wall, _ = IG.heightfield_to_trimesh(h, 0.1, slope_threshold=0.75)
    grid = lambda v: v.reshape(10, 8, 3)  # noqa: E731
    # step up at x between samples 4 and 5: sample 4 (low) moves to x = 0.5, under the top
    np.testing.assert_allclose(grid(ramp)[4, :3, 0], 0.4, atol=1e-6)
    np.testing.assert_allclose(grid(wall)[4, :3, 0], 0.5, atol=1e-6)
    np.testing.assert_allclose(grid(wall)[5, :3, 0], 0.5, atol=1e-6)
    # step down at y between samples 5 and 6: sample 6 (low) moves to y = 0.5
    np.testing.assert_allclose(grid(wall)[0, 6, 1], 0.5, atol=1e-6)
    np.testing.assert_allclose(grid(wall)[0, 5, 1], 0.5, atol=1e-6)
    np.testing.assert_allclose(grid(wall)[:, :, 2], h, atol=1e-7)  # heights never move
    np.testing.assert_allclose(grid(wall)[1:4, 1:4, :2], grid(ramp)[1:4, 1:4, :2])  # flat part


def test_terrain_mesh_in_world_coordinates():
    cfg = TerrainConfig.small(num_rows=1, num_cols=1, border_size=1.0, vertical_walls=False)
    terrain = build_terrain(cfg, [["pyramid_stairs_up"]], [[0.5]], seed=0)
    v, t = IG.terrain_trimesh(terrain, slope_threshold=None)
    assert v.shape[0] == terrain.heights.size and t.max() == v.shape[0] - 1
    np.testing.assert_allclose(v[0, :2], terrain.origin)
    # every vertex lies on MuJoCo's/our height field at its xy
    np.testing.assert_allclose(v[:, 2], terrain.height_at(v[:, 0], v[:, 1]), atol=1e-5)


# ----------------------------------------------------------------------------- robot asset
def test_robot_mjcf_and_dof_permutation(tmp_path):
    path = IG.write_robot_mjcf("anymal_b", tmp_path)
    m = mujoco.MjModel.from_xml_path(str(path))
    ref = build_robot_model("anymal_b")
    assert (m.nq, m.nv, m.nbody, m.nu) == (ref.nq, ref.nv, ref.nbody, ref.nu) == (19, 18, 14, 12)
    np.testing.assert_allclose(m.body_mass, ref.body_mass)
    names = [m.joint(i).name for i in range(1, m.njnt)]
    assert names == list(JOINT_NAMES)
    shuffled = list(np.random.default_rng(1).permutation(JOINT_NAMES))
    perm = IG.dof_permutation(shuffled)
    assert [shuffled[i] for i in perm] == list(JOINT_NAMES)
    with pytest.raises(ValueError, match="do not match"):
        IG.dof_permutation(JOINT_NAMES[:-1] + ("TAIL",))


# ----------------------------------------------------------------------------- state, servos
def test_state_layout_matches_mujoco():
    """Isaac Gym's root state (x-y-z-w quaternion, world angular velocity, PhysX's centre of
    mass linear velocity) <-> MuJoCo's free joint (w-x-y-z, body-frame angular velocity, base
    origin linear velocity), checked with mj_objectVelocity at the centre of mass."""
    model = build_flat_scene("anymal_c")
    data = mujoco.MjData(model)
    base = model.body("base").id
    com = model.body_ipos[base].copy()
    assert np.linalg.norm(com) > 0.03  # the shift matters
    rng = np.random.default_rng(2)
    n = 5
    qpos, qvel, roots, origin_vel = np.zeros((n, 19)), rng.normal(size=(n, 18)), [], []
    for i in range(n):
        quat = rng.normal(size=4)
        qpos[i] = np.r_[rng.normal(size=3), quat / np.linalg.norm(quat), rng.normal(size=12)]
        data.qpos[:], data.qvel[:] = qpos[i], qvel[i]
        mujoco.mj_forward(model, data)
        v6 = np.zeros(6)  # [angular, linear] at the centre of mass, world orientation
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, base, v6, 0)
        q = qpos[i, 3:7]
        roots.append(np.r_[qpos[i, :3], q[1:], q[0], v6[3:], v6[:3]])
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_XBODY, base, v6, 0)
        origin_vel.append(v6[3:].copy())
    roots = np.array(roots)
    np.testing.assert_allclose(qvel[:, :3], origin_vel, atol=1e-10)  # MuJoCo: base origin
    got = IG.mujoco_to_isaac_root(torch.as_tensor(qpos), torch.as_tensor(qvel), com).numpy()
    np.testing.assert_allclose(got, roots, atol=1e-10)
    qp, qv = IG.isaac_to_mujoco_state(torch.as_tensor(roots), torch.as_tensor(qpos[:, 7:]),
                                      torch.as_tensor(qvel[:, 6:]), com)
    np.testing.assert_allclose(qp.numpy(), qpos, atol=1e-12)
    np.testing.assert_allclose(qv.numpy(), qvel, atol=1e-10)
    _, qv_raw = IG.isaac_to_mujoco_state(torch.as_tensor(roots), torch.as_tensor(qpos[:, 7:]),
                                         torch.as_tensor(qvel[:, 6:]))
    assert np.abs(qv_raw.numpy()[:, :3] - qvel[:, :3]).max() > 0.01  # without the shift: off


def test_servo_torques_match_mujoco_position_actuators():
    """The explicit torques equal MuJoCo's servo force (ctrl and force clamped) plus the
    joints' passive damping, per joint gains as the controller writes them."""
    robot = ROBOTS["anymal_c"]
    model = build_flat_scene("anymal_c", actuator="position")
    data = mujoco.MjData(model)
    rng = np.random.default_rng(3)
    for _ in range(4):
        kp = rng.choice([20.0, 200.0], 12)
        kd = np.where(kp > 100, 6.0, 1.0)
        model.actuator_gainprm[:, 0] = kp
        model.actuator_biasprm[:, 1] = -kp
        model.actuator_biasprm[:, 2] = -kd
        data.qpos[:] = np.r_[0, 0, 0.6, 1, 0, 0, 0, robot.default_joint_pos
                             + rng.normal(scale=0.3, size=12)]
        data.qvel[:] = rng.normal(scale=3.0, size=18)
        data.ctrl[:] = rng.normal(scale=4.0, size=12)  # some beyond the ctrl range (6.28)
        data.ctrl[0] = 9.0
        mujoco.mj_forward(model, data)
        want = data.actuator_force + data.qfrc_damper[6:]
        q, qd = data.qpos[7:], data.qvel[6:]
        got = IG.servo_torques(data.ctrl.copy(), q, qd, kp, kd, robot.position_ctrlrange,
                               robot.torque_limit, robot.joint_damping)
        np.testing.assert_allclose(got, want, atol=1e-9)
        assert (np.abs(data.actuator_force) >= robot.torque_limit - 1e-9).any()  # clamps hit
        got_t = IG.servo_torques(*(torch.as_tensor(a) for a in (data.ctrl, q, qd, kp, kd)),
                                 robot.position_ctrlrange, robot.torque_limit,
                                 robot.joint_damping)
        np.testing.assert_allclose(got_t.numpy(), want, atol=1e-9)


# ----------------------------------------------------------------------------- install, import
def test_missing_isaacgym_messages(monkeypatch):
    if "isaacgym" in sys.modules:  # pragma: no cover - a machine with Isaac Gym
        pytest.skip("Isaac Gym is installed")
    with pytest.raises(IG.IsaacGymUnavailableError, match="torch was imported before"):
        IG.import_isaacgym()  # this process imported torch already
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setitem(sys.modules, "isaacgym", None)  # "not installed"
    with pytest.raises(IG.IsaacGymUnavailableError) as e:
        IG.import_isaacgym()
    msg = str(e.value)
    assert "not available" in msg and "not on PyPI" in msg and "3.6-3.8" in msg
    assert "\n" not in msg


def test_registry_reports_isaacgym_not_installed():
    import importlib.util

    if importlib.util.find_spec("isaacgym") is not None:  # pragma: no cover
        pytest.skip("Isaac Gym is installed")
    with pytest.raises(ConfigError, match="'isaacgym' is not available.*not on PyPI"):
        backends.resolve_backend("isaacgym")


def test_dataset_path_imports_isaacgym_before_torch(tmp_path):
    """The dataset backend imports isaacgym before anything imports torch (Isaac Gym's own
    rule), checked in a fresh process with a stand-in isaacgym package that records it."""
    pkg = tmp_path / "isaacgym"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import sys\nTORCH_FIRST = 'torch' in sys.modules\n")
    (pkg / "gymapi.py").write_text("")
    (pkg / "gymtorch.py").write_text("")
    code = textwrap.dedent("""
        import sys
        from behaviorbench.datasets import backends
        plan = backends.RunPlan(0, "anymal_c", 1.0, 2, 0.1, (("flat", 1.0),), (0.5,),
                                (0.0, 0.0), 0)
        try:
            backends.simulate_isaacgym(plan, [0])
        except AttributeError as e:  # the stand-in has no gym: past the import
            print("reached", e)
        import isaacgym
        print("torch first:", isaacgym.TORCH_FIRST)
    """)
    env = {"PYTHONPATH": f"{tmp_path}:{_repo_root()}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "reached" in out.stdout and "torch first: False" in out.stdout, out.stdout


def _repo_root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2])
