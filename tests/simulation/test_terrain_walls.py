"""Vertical walls (``TerrainConfig.vertical_walls``): stairs and obstacles as boxes.

``Terrain.height_at``, the MuJoCo scene (boxes over a lowered height field) and the torch height
field must describe one surface, with risers where legged_gym's trimesh puts them."""

from __future__ import annotations

from dataclasses import replace

import mujoco
import numpy as np
import pytest

from behaviorbench.simulation.scene import build_scene
from behaviorbench.simulation.terrain import TerrainConfig, build_terrain
from behaviorbench.simulation.terrain_boxes import cell_rectangles, terrain_boxes

CFG = TerrainConfig(num_rows=4, num_cols=1, terrain_length=8.0, terrain_width=8.0,
                    border_size=2.0)
KINDS = [["pyramid_stairs_up"], ["discrete_obstacles"], ["pyramid_slope_down+noise"],
         ["pyramid_stairs_down"]]
HS = CFG.horizontal_scale


def terrain(walls: bool):
    return build_terrain(replace(CFG, vertical_walls=walls), KINDS, [[0.5]] * 4, seed=1)


def centre_line(t, x):
    return t.height_at(np.asarray(x, float), np.full(len(x), 4.0))


def ray_heights(model, x, y):
    """Height of the first surface straight below (x, y), by MuJoCo ray casts."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    geomid = np.zeros(1, np.int32)
    return np.array([5.0 - mujoco.mj_ray(model, data, np.array([a, b, 5.0]),
                                         np.array([0.0, 0.0, -1.0]), None, 1, -1, geomid)
                     for a, b in zip(x, y, strict=True)])


def test_stairs_get_whole_treads_and_vertical_risers():
    ramps, walls = terrain(False), terrain(True)
    step = float(ramps.heights[ramps.config.border_px + 3, 60])
    assert step == pytest.approx(0.14, abs=0.005)
    # first sub-terrain, stairs up: samples 0-2 flat, 3-5 one step up: a whole 0.3 m tread
    x_tread = np.linspace(3 * HS + 1e-6, 6 * HS - 1e-6, 50)
    np.testing.assert_allclose(centre_line(walls, x_tread), step)
    flat = np.isclose(centre_line(ramps, x_tread), step)  # the height field ramps 0.1 m of it
    assert 0.6 < flat.mean() < 0.75
    # the approach stays flat right up to the riser, which is vertical
    x_flat = np.linspace(0.0, 3 * HS - 1e-6, 20)
    np.testing.assert_allclose(centre_line(walls, x_flat), 0.0, atol=1e-9)
    assert centre_line(ramps, x_flat)[-1] > 0.1


def test_only_wall_kinds_change():
    ramps, walls = terrain(False), terrain(True)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(16.2, 23.8, 2000), rng.uniform(0.2, 7.8, 2000)  # the rough slope
    np.testing.assert_array_equal(walls.height_at(x, y), ramps.height_at(x, y))
    x = rng.uniform(0.0, 8.0, 2000)  # the stairs
    assert not np.allclose(walls.height_at(x, y), ramps.height_at(x, y))
    assert ramps.wall_cells is None and walls.wall_cells.mean() > 0.2


@pytest.mark.parametrize("walls", [False, True])
def test_mujoco_surface_matches_height_at(walls):
    t = terrain(walls)
    model = build_scene("anymal_c", t)
    n_boxes = sum(model.geom(i).name.startswith("terrain_box") for i in range(model.ngeom))
    assert (n_boxes > 50) == walls
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0.0, 32.0, 3000), rng.uniform(0.0, 8.0, 3000)
    z, ray = t.height_at(x, y), ray_heights(model, x, y)
    err = np.abs(ray - z)
    if walls:  # boxes are exact; the rough slope keeps the plain height field's surface
        # box regions: the cells inside each wall sub-terrain (its rim cells are height field)
        inside = (np.mod(x, 8.0) < 7.85) & (y < 7.85)
        boxed = inside & ((x < 16.0) | (x > 24.0))
        np.testing.assert_allclose(ray[boxed], z[boxed], atol=1e-6)
        rough = (x > 16.05) & (x < 23.95)
        plain = ray_heights(build_scene("anymal_c", terrain(False)), x[rough], y[rough])
        np.testing.assert_allclose(ray[rough], plain, atol=1e-6)
    else:  # height-field triangles vs bilinear: they differ next to step edges only
        assert np.median(err) < 1e-6 and (err > 2e-3).mean() < 0.1


def test_boxes_tile_each_region_once():
    t = terrain(True)
    lowered, boxes = terrain_boxes(t)
    assert boxes.shape[1] == 6 and len(boxes) > 50
    area = ((boxes[:, 1] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 2])).sum()
    cells = (CFG.length_px - 1) * (CFG.width_px - 1) * HS * HS
    assert area == pytest.approx(3 * cells)  # three wall sub-terrains, no overlap, no gap
    assert (boxes[:, 4] > boxes[:, 5]).all()  # top above bottom
    # the height field under the boxes is out of the way; elsewhere it is untouched
    b = CFG.border_px
    assert lowered[b + 5, b + 40] < t.heights[b + 5, b + 40] - 0.04
    rough_row = b + 2 * CFG.length_px + 5
    np.testing.assert_array_equal(lowered[rough_row], t.heights[rough_row])


def test_cell_rectangles_cover_exactly():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 3, (17, 23))
    values[4:12, 5:20] = 7
    covered = np.zeros(values.shape, dtype=int)
    for i0, i1, j0, j1 in cell_rectangles(values):
        block = values[i0:i1, j0:j1]
        assert (block == block[0, 0]).all()
        covered[i0:i1, j0:j1] += 1
    np.testing.assert_array_equal(covered, 1)
    assert len(cell_rectangles(np.zeros((30, 40)))) == 1


def test_torch_height_field_has_the_same_walls():
    torch = pytest.importorskip("torch")
    from behaviorbench.simulation.controller_torch import TorchHeightField

    t = terrain(True)
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-1.0, 33.0, (40, 50)), rng.uniform(-1.0, 9.0, (40, 50))
    ref = t.height_at(x, y)
    got = TorchHeightField(t)(torch.as_tensor(x), torch.as_tensor(y)).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12)
    assert not np.allclose(ref, terrain(False).height_at(x, y))  # the walls changed something
