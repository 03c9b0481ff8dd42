"""Terrain generator (legged_gym algorithms) and the original dataset's label maps."""

from __future__ import annotations

import numpy as np
import pytest

from behaviorbench.simulation.labels import TERRAIN_TYPES, TERRAIN_TYPES_2
from behaviorbench.simulation.terrain import (
    SUBTERRAIN_KINDS,
    TerrainConfig,
    build_terrain,
    choose_kind,
    generate_terrain,
)

SMALL1 = TerrainConfig.small(num_rows=1, num_cols=1)  # one 8 m x 8 m sub-terrain


def one(kind: str, difficulty: float = 0.9, seed: int = 0, cfg: TerrainConfig = SMALL1):
    return build_terrain(cfg, [[kind]], [[difficulty]], seed=seed)


def sub(terrain) -> np.ndarray:
    """Heights of sub-terrain (0, 0) without the border, m."""
    b = terrain.config.border_px
    c = terrain.config
    return terrain.heights[b:b + c.length_px, b:b + c.width_px]


def labels_along_x(terrain, xs, y=4.0):
    return terrain.labels_at(np.asarray(xs, float), np.full(len(xs), y))


def test_defaults_are_the_original_numbers():
    c = TerrainConfig()
    assert (c.num_rows, c.num_cols, c.terrain_length, c.terrain_width) == (30, 5, 12.0, 12.0)
    assert (c.horizontal_scale, c.vertical_scale, c.border_size, c.platform_size) == (
        0.1, 0.005, 10.0, 3.0)
    assert c.proportions == (0.15, 0.15, 0.15, 0.15, 0.2, 0.0, 0.1, 0.1)
    assert c.difficulties == (0.5, 0.75, 0.9)
    t = generate_terrain(c, seed=0)
    assert t.heights.shape == (30 * 120 + 200, 5 * 120 + 200)
    assert t.heights.dtype == np.float32
    assert t.label_maps["terrain_type"].shape == (60, 5)
    np.testing.assert_array_equal(t.heights[:100], 0.0)  # flat border
    assert set(t.kinds.ravel()) <= set(SUBTERRAIN_KINDS) - {"waves"}
    assert set(np.unique(t.difficulties)) <= {0.5, 0.75, 0.9}
    s = TerrainConfig.small()
    assert (s.num_rows, s.num_cols, s.terrain_length) == (6, 2, 8.0)


def test_deterministic_from_seed():
    a = generate_terrain(TerrainConfig.small(), seed=3)
    b = generate_terrain(TerrainConfig.small(), seed=3)
    c = generate_terrain(TerrainConfig.small(), seed=4)
    np.testing.assert_array_equal(a.heights, b.heights)
    np.testing.assert_array_equal(a.kinds, b.kinds)
    assert not np.array_equal(a.heights, c.heights)


def test_kind_proportions():
    props = TerrainConfig().proportions
    u = (np.arange(100000) + 0.5) / 100000
    kinds = np.array([choose_kind(x, props) for x in u])
    frac = {k: float(np.mean(kinds == k)) for k in SUBTERRAIN_KINDS}
    # each slope / stairs family split half "down" (inverted), half "up"
    expected = {"pyramid_slope_down": 0.075, "pyramid_slope_up": 0.075,
                "pyramid_slope_down+noise": 0.075, "pyramid_slope_up+noise": 0.075,
                "pyramid_stairs_down": 0.15, "pyramid_stairs_up": 0.15,
                "discrete_obstacles": 0.2, "waves": 0.0, "flat": 0.1, "flat+noise": 0.1}
    for k, v in expected.items():
        assert frac[k] == pytest.approx(v, abs=1e-3), k


def test_pyramid_slope_up_geometry_and_labels():
    t = one("pyramid_slope_up", 0.9)
    h = sub(t)
    slope = 0.36
    # ascends along x in the first half (at the y centre line), descends in the second
    mid = h[:, 40]
    grad = np.diff(mid) / 0.1
    assert np.median(grad[:20]) == pytest.approx(slope, abs=0.03)
    assert np.median(grad[-20:]) == pytest.approx(-slope, abs=0.03)
    # legged_gym's tent is x-profile * y-profile, clipped at the platform corner's height
    top = int(0.36 * 20 * 40 * (25 / 40) ** 2) * 0.005
    assert h.max() == pytest.approx(top, abs=1e-6) and h[40, 40] == pytest.approx(top, abs=1e-6)
    assert h[0, :].max() == 0.0 and h[:, 0].max() == 0.0
    lab = labels_along_x(t, [1.0, 3.9, 4.1, 7.9])
    assert [TERRAIN_TYPES[i] for i in lab["terrain_type"]] == ["pyramid_slope"] * 4
    assert [TERRAIN_TYPES_2[i] for i in lab["terrain_type_2"]] == [
        "slope_up", "slope_up", "slope_down", "slope_down"]
    np.testing.assert_allclose(lab["terrain_slope"], [slope, slope, -slope, -slope], atol=1e-6)
    np.testing.assert_allclose(lab["terrain_difficulty"], 0.9, atol=1e-6)
    assert not lab["terrain_rough"].any()


def test_inverted_pyramid_slope_and_rough_slope():
    t = one("pyramid_slope_down+noise", 0.75, seed=5)
    h = sub(t)
    assert h[40, 40] < -0.4 and h.min() < -0.4
    lab = labels_along_x(t, [1.0, 7.0])
    assert [TERRAIN_TYPES[i] for i in lab["terrain_type"]] == ["inverted_pyramid_slope"] * 2
    assert [TERRAIN_TYPES_2[i] for i in lab["terrain_type_2"]] == ["slope_down", "slope_up"]
    np.testing.assert_allclose(lab["terrain_slope"], [-0.3, 0.3], atol=1e-6)
    assert lab["terrain_rough"].all()
    # the noise is on top of the tent: deviation from the clean tent is within +-0.05 m
    clean = sub(one("pyramid_slope_down", 0.75))
    dev = h - clean
    assert np.abs(dev).max() <= 0.05 + 1e-6 and np.abs(dev).max() > 0.02


def test_gentle_slope_is_labelled_flat():
    t = one("pyramid_slope_up", 0.5)  # slope 0.2 <= 0.21
    lab = labels_along_x(t, [1.0, 7.0])
    assert list(lab["terrain_type"]) == [0, 0] and list(lab["terrain_type_2"]) == [0, 0]
    np.testing.assert_allclose(lab["terrain_slope"], [0.2, -0.2], atol=1e-6)
    assert sub(t).max() > 0.25  # the geometry is still a slope


@pytest.mark.parametrize("kind,sign", [("pyramid_stairs_up", 1), ("pyramid_stairs_down", -1)])
def test_stairs(kind, sign):
    d = 0.9
    t = one(kind, d)
    h = sub(t)
    step = int((0.05 + 0.18 * d) / 0.005) * 0.005  # quantised like legged_gym
    levels = np.unique(np.round(h[:, 40] / step, 6))
    assert np.allclose(levels, np.round(levels))  # only whole steps
    # 0.31 m tread -> 3 samples (0.3 m) per step along the centre line
    row = h[:12, 40]
    np.testing.assert_allclose(row, sign * step * np.repeat(np.arange(4), 3), atol=1e-6)
    first, second = (3, 4) if sign > 0 else (4, 3)
    lab = labels_along_x(t, [1.0, 7.0])
    assert list(lab["terrain_type"]) == [3 if sign > 0 else 4] * 2
    assert list(lab["terrain_type_2"]) == [first, second]
    hstep = 0.05 + 0.18 * d
    np.testing.assert_allclose(lab["terrain_slope"], [sign * hstep, -sign * hstep], atol=1e-6)


def test_discrete_obstacles_are_flat_and_rough():
    d = 0.75
    t = one("discrete_obstacles", d, seed=2)
    h = sub(t)
    b = t.config.border_px
    raw = t.raw[b:b + 80, b:b + 80]
    mh = int((0.05 + 0.2 * d) / 0.005)
    assert np.isin(raw, [-mh, -(mh // 2), 0, mh // 2, mh]).all()
    assert (h != 0).mean() > 0.2
    np.testing.assert_array_equal(h[25:55, 25:55], 0.0)  # 3 m platform
    lab = labels_along_x(t, [1.0, 7.0])
    assert list(lab["terrain_type"]) == [0, 0] and list(lab["terrain_type_2"]) == [0, 0]
    assert lab["terrain_rough"].all()
    np.testing.assert_allclose(lab["terrain_difficulty"], d, atol=1e-6)


def test_flat_and_flat_noise():
    t = one("flat+noise", 0.9, seed=1)
    h = sub(t)
    assert np.abs(h).max() <= 0.05 + 1e-6 and h.std() > 0.01
    q = h / 0.005
    np.testing.assert_allclose(q, np.round(q), atol=1e-4)
    # coarse 0.2 m grid bilinearly upsampled: neighbours differ by at most ~half the range
    assert np.abs(np.diff(h, axis=0)).max() <= 0.06
    lab = labels_along_x(t, [1.0, 7.0])
    assert list(lab["terrain_type"]) == [0, 0] and lab["terrain_rough"].all()
    np.testing.assert_allclose(lab["terrain_difficulty"], 0.2, atol=1e-6)
    f = one("flat", 0.5)
    assert np.all(f.heights == 0)
    lab = labels_along_x(f, [1.0])
    assert not lab["terrain_rough"][0]
    np.testing.assert_allclose(lab["terrain_difficulty"], 0.1, atol=1e-6)


def test_height_at_is_bilinear_and_vectorised():
    t = generate_terrain(TerrainConfig.small(vertical_walls=False), seed=0)
    rng = np.random.default_rng(0)
    ix = rng.integers(0, t.heights.shape[0] - 1, 200)
    iy = rng.integers(0, t.heights.shape[1] - 1, 200)
    x = t.origin[0] + ix * 0.1
    y = t.origin[1] + iy * 0.1
    np.testing.assert_allclose(t.height_at(x, y), t.heights[ix, iy], atol=1e-6)
    mid = t.height_at(x + 0.05, y + 0.05)
    avg = (t.heights[ix, iy] + t.heights[ix + 1, iy] + t.heights[ix, iy + 1]
           + t.heights[ix + 1, iy + 1]) / 4
    np.testing.assert_allclose(mid, avg, atol=1e-6)
    grid = t.height_at(np.zeros((3, 4)) + 2.0, np.zeros((3, 4)) + 3.0)
    assert grid.shape == (3, 4)


def test_spawn_origins():
    t = generate_terrain(TerrainConfig.small(), seed=7)
    c = t.config
    for i in range(c.num_rows):
        for j in range(c.num_cols):
            ox, oy, oz = t.spawn_origins[i, j]
            assert (ox, oy) == ((i + 0.5) * 8.0, (j + 0.5) * 8.0)
            xs = np.arange(ox - 1.0, ox + 1.0 - 1e-9, 0.1)
            ys = np.arange(oy - 1.0, oy + 1.0 - 1e-9, 0.1)
            xx, yy = np.meshgrid(xs, ys, indexing="ij")
            assert oz == pytest.approx(t.height_at(xx, yy).max(), abs=1e-6)


def test_label_grid_layout_and_original_indexing():
    cfg = TerrainConfig.small(num_rows=3, num_cols=2)
    kinds = [["pyramid_slope_up", "flat"], ["pyramid_stairs_down", "flat"],
             ["flat+noise", "flat"]]
    t = build_terrain(cfg, kinds, [[0.9, 0.5]] * 3)
    # geometric: half sub-terrains along x (4 m), full columns along y (8 m)
    lab = t.labels_at(np.array([1.0, 5.0, 9.0, 13.0, 17.0, 23.0]), np.full(6, 2.0))
    assert list(lab["terrain_type_2"]) == [1, 2, 4, 3, 0, 0]
    assert list(lab["terrain_rough"]) == [False] * 4 + [True] * 2
    lab = t.labels_at(np.array([1.0]), np.array([10.0]))
    assert lab["terrain_type"][0] == 0 and lab["terrain_difficulty"][0] == pytest.approx(0.1)
    # off the grid (flat border): flat, not in grid
    off = t.labels_at(np.array([-3.0, 30.0]), np.array([2.0, 2.0]))
    assert not off["in_grid"].any() and list(off["terrain_type"]) == [0, 0]
    # the original measures from sub-terrain (0,0)'s centre: labels lag by half a sub-terrain
    orig = t.labels_at(np.array([5.0, 9.0, 13.0]), np.full(3, 6.0), indexing="original")
    assert list(orig["terrain_type_2"]) == [1, 2, 4]
    with pytest.raises(ValueError):
        t.labels_at(np.array([1.0]), np.array([1.0]), indexing="nope")


def test_waves_optional():
    cfg = TerrainConfig.small(proportions=(0, 0, 0, 0, 0, 1.0, 0, 0))
    t = generate_terrain(cfg, seed=0)
    assert set(t.kinds.ravel()) == {"waves"}
    assert t.heights.std() > 0.05
    assert t.label_maps["terrain_rough"].all()
