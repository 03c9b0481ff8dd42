"""Robot + terrain scenes: hfield geometry and foot contacts on every terrain type, with vertical
walls (stairs and obstacles as boxes) and as one plain height field."""

from __future__ import annotations

from dataclasses import replace

import mujoco
import numpy as np
import pytest

from behaviorbench.simulation.robots import ROBOTS
from behaviorbench.simulation.scene import (
    build_flat_scene,
    build_scene,
    foot_geom_ids,
    standing_qpos_on,
    terrain_stance,
    with_added_mass,
)
from behaviorbench.simulation.terrain import TerrainConfig, build_terrain, generate_terrain

# drop position along x inside each 8 m sub-terrain (m from its low-x edge): on the ramp for
# slopes; straddling the top/bottom platform edge (front feet one step off) for stairs; hind
# feet among the obstacles for discrete obstacles. The robot is dropped 3 cm above a level
# stance whose feet follow the ground (IK), then held by joint PD (kp 80, kd 2).
KINDS = {
    "pyramid_slope_up": 1.5, "pyramid_slope_down": 1.5, "pyramid_slope_up+noise": 1.5,
    "pyramid_slope_down+noise": 1.5, "pyramid_stairs_up": 4.95, "pyramid_stairs_down": 4.95,
    "discrete_obstacles": 2.5, "flat": 1.5, "flat+noise": 1.5, "waves": 1.5,
}
CFG = TerrainConfig.small(num_rows=len(KINDS), num_cols=1)


def every_kind(vertical_walls: bool):
    """One sub-terrain of every kind at difficulty 0.9."""
    cfg = replace(CFG, vertical_walls=vertical_walls)
    return build_terrain(cfg, [[k] for k in KINDS], [[0.9]] * len(KINDS), seed=0)


@pytest.fixture(scope="module", params=[True, False], ids=["walls", "ramps"])
def terrain(request):
    """Every kind, with vertical walls (boxes; the default) and as one plain height field."""
    return every_kind(request.param)


def _settle(m, d, robot, seconds=1.5, q_target=None):
    q_target = robot.default_joint_pos if q_target is None else q_target
    for _ in range(int(seconds / m.opt.timestep)):
        d.ctrl[:] = 80.0 * (q_target - d.qpos[7:]) - 2.0 * d.qvel[6:]
        mujoco.mj_step(m, d)


def _sphere_clearance(terrain, centers, radius, n=15):
    """Signed gap (m) between foot spheres (4, 3) and the bilinear terrain (min over the disk
    under each sphere; negative = penetration)."""
    u = np.linspace(-radius, radius, n)
    dx, dy = [a.ravel() for a in np.meshgrid(u, u)]
    inside = dx * dx + dy * dy <= radius * radius
    dx, dy = dx[inside], dy[inside]
    lower = np.sqrt(np.maximum(radius * radius - dx * dx - dy * dy, 0.0))
    c = np.asarray(centers)[:, None, :]
    gap = c[..., 2] - lower - terrain.height_at(c[..., 0] + dx, c[..., 1] + dy)
    return gap.min(axis=1)


def test_hfield_surface_passes_through_samples():
    """Without vertical walls the ground is one height field through every sample (with them,
    boxes cover stairs and obstacles: tests/simulation/test_terrain_walls.py)."""
    terrain = every_kind(False)
    m = build_scene("anymal_c", terrain)
    assert m.opt.timestep == 0.005 and m.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC
    hid = m.geom("terrain").dataid[0]
    assert (m.hfield_nrow[hid], m.hfield_ncol[hid]) == (terrain.shape[1], terrain.shape[0])
    d = mujoco.MjData(m)
    mujoco.mj_kinematics(m, d)
    rng = np.random.default_rng(0)
    nx, ny = terrain.shape
    ix, iy = rng.integers(0, nx, 300), rng.integers(0, ny, 300)
    gid = np.zeros(1, np.int32)
    for a, b in zip(ix, iy, strict=True):
        x, y = terrain.origin + np.array([a, b]) * terrain.horizontal_scale
        dist = mujoco.mj_ray(m, d, np.array([x, y, 20.0]), np.array([0.0, 0.0, -1.0]), None, 1,
                             -1, gid)
        assert gid[0] == m.geom("terrain").id
        assert 20.0 - dist == pytest.approx(terrain.heights[a, b], abs=1e-5)


def test_full_size_terrain_compiles():
    t = generate_terrain(TerrainConfig(), seed=0)
    m = build_scene("anymal_b", t)
    assert m.nhfielddata == 3800 * 800


@pytest.mark.parametrize("name", ["anymal_b", "anymal_c"])
def test_feet_touch_hfield_on_every_terrain_type(terrain, name, capsys):
    robot = ROBOTS[name]
    # penetration of the soft foot contacts when standing on a plane (reference, ~1.8 cm)
    mp = build_flat_scene(name)
    dp = mujoco.MjData(mp)
    dp.qpos[:] = standing_qpos_on(None, robot, 0.0, 0.0)
    _settle(mp, dp, robot)
    plane_pen = dp.geom_xpos[foot_geom_ids(mp), 2] - robot.foot_radius
    assert np.all(np.abs(plane_pen) < 0.03)

    m = build_scene(name, terrain)
    d = mujoco.MjData(m)
    feet = foot_geom_ids(m)
    ground = {i for i in range(m.ngeom) if m.geom(i).name.startswith("terrain")}  # + boxes
    rows = []
    for i, (kind, x_local) in enumerate(KINDS.items()):
        x, y = i * CFG.terrain_length + x_local, CFG.terrain_width / 2
        mujoco.mj_resetData(m, d)
        qpos, q_target = terrain_stance(terrain, robot, x, y, clearance=0.03)
        d.qpos[:] = qpos
        _settle(m, d, robot, q_target=q_target)
        touching, contact_err = set(), []
        for c in d.contact[:d.ncon]:
            pair = {int(c.geom1), int(c.geom2)}
            if pair & ground and pair & set(feet.tolist()):
                touching |= pair & set(feet.tolist())
                contact_err.append(c.pos[2] - terrain.height_at(c.pos[0], c.pos[1]))
        fp = d.geom_xpos[feet]
        foot_err = _sphere_clearance(terrain, fp, robot.foot_radius)
        tilt = np.degrees(2 * np.arccos(min(1.0, abs(d.qpos[3]))))
        rows.append((kind, len(touching), foot_err - plane_pen, np.max(np.abs(contact_err)),
                     tilt))
        assert touching == set(feet.tolist()), kind
        # foot spheres sink into the terrain as deep as into a plane, within 1 cm
        np.testing.assert_allclose(foot_err, plane_pen, atol=0.01, err_msg=kind)
        # contact points (mid-penetration) lie on the bilinear surface within 1.5 cm
        assert np.max(np.abs(contact_err)) < 0.015, kind
        assert tilt < 30.0, kind
    with capsys.disabled():
        print(f"\n{name}: foot height - height_at, relative to plane penetration "
              f"({plane_pen.mean() * 100:.2f} cm)")
        for kind, n, err, cerr, tilt in rows:
            print(f"  {kind:26s} feet {n}  max|dz| {np.abs(err).max() * 100:.2f} cm  "
                  f"contact {cerr * 100:.2f} cm  tilt {tilt:.1f} deg")


def test_many_robots_one_model_and_added_mass():
    m = build_flat_scene("anymal_b")
    heavy = with_added_mass(m, 5.0)
    base = m.body("base").id
    assert heavy.body_mass[base] == pytest.approx(m.body_mass[base] + 5.0)
    assert m.body_mass[base] == pytest.approx(19.2035)  # original untouched
    robot = ROBOTS["anymal_b"]
    zs = []
    for model in (m, heavy):
        datas = [mujoco.MjData(model) for _ in range(2)]
        for k, d in enumerate(datas):
            d.qpos[:] = standing_qpos_on(None, robot, 2.0 * k, 0.0)
            _settle(model, d, robot, 1.0)
        # identical robots in separate MjData evolve identically
        np.testing.assert_allclose(datas[0].qpos[2:], datas[1].qpos[2:], atol=1e-9)
        zs.append(datas[0].qpos[2])
    assert zs[1] < zs[0] - 0.002  # 5 kg more sags the PD stance
    tm = build_scene("anymal_b", None, actuator="position")
    assert tm.actuator_biastype[0] == mujoco.mjtBias.mjBIAS_AFFINE
