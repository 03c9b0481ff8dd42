"""The compiled height-map sampler gives numpy's numbers bit for bit, and so the same rollouts."""

import numpy as np
import pytest

from behaviorbench.simulation import height_sampling
from behaviorbench.simulation.height_sampling import heights_numpy, sample_heights
from behaviorbench.simulation.rollout import RunSpec, simulate
from behaviorbench.simulation.terrain import TerrainConfig, generate_terrain

pytest.importorskip("numba")


@pytest.fixture(params=[True, False], ids=["walls", "no-walls"])
def terrain(request):
    return generate_terrain(TerrainConfig.small(vertical_walls=request.param), seed=2)


def _both(t, x, y):
    nx, ny = t.heights.shape
    args = (t._flat_heights, t._flat_walls, nx, ny, -t.config.border_size,
            t.config.horizontal_scale)
    assert height_sampling.USE_NUMBA
    return sample_heights(*args, x, y), heights_numpy(*args, x, y)


def _same_bits(a, b) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


def test_kernel_equals_numpy_bit_for_bit(terrain):
    (x0, x1), (y0, y1) = terrain.extent
    rng = np.random.default_rng(0)
    n = 50_000
    x = rng.uniform(x0 - 3.0, x1 + 3.0, n)   # some points off the field (clamped)
    y = rng.uniform(y0 - 3.0, y1 + 3.0, n)
    x[: n // 4] = np.round(x[: n // 4], 1)   # on sample lines and corners
    y[: n // 8] = np.round(y[: n // 8], 1)
    x[:4], y[:4] = [x0, x1, x0, x1], [y0, y0, y1, y1]  # the field's corners
    fast, ref = _both(terrain, x, y)
    assert _same_bits(fast, ref)
    if terrain.wall_cells is not None:   # the wall rule was exercised
        assert terrain.wall_cells.any()
        lo = np.minimum(np.minimum(terrain.heights[:-1, :-1], terrain.heights[1:, :-1]),
                        np.minimum(terrain.heights[:-1, 1:], terrain.heights[1:, 1:]))
        assert (lo[terrain.wall_cells] != terrain.heights[:-1, :-1][terrain.wall_cells]).any()


def test_kernel_shapes_and_layouts(terrain):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 20, (6, 4, 5))
    y = rng.uniform(0, 12, (6, 4, 5))
    for xs, ys in [(x, y), (x[:, ::2], y[:, ::2]),            # strided views
                   (x[..., :1], y),                          # broadcasting
                   (np.broadcast_to(x[:, :, :1], x.shape), y),
                   (3.0, 4.0), (x.astype(np.float32), y)]:
        fast, ref = _both(terrain, xs, ys)
        assert _same_bits(fast, ref)
        assert np.shape(fast) == np.broadcast_shapes(np.shape(xs), np.shape(ys))


def test_kernel_gives_nan_for_nan_points(terrain):
    """(numpy's indexing raises on them instead)"""
    nx, ny = terrain.heights.shape
    fast = sample_heights(terrain._flat_heights, terrain._flat_walls, nx, ny,
                          -terrain.config.border_size, terrain.config.horizontal_scale,
                          np.array([np.nan, 1.0]), np.array([1.0, 1.0]))
    assert np.isnan(fast[0]) and np.isfinite(fast[1])


def test_rollout_is_the_same_with_numpy_sampling(monkeypatch):
    """A short walk over stairs and obstacles (walls) with each sampler: identical arrays."""
    run = RunSpec(robot="anymal_c", n_robots=4, episode_s=2.0, terrain=TerrainConfig.small(),
                  seed=1)
    fast = simulate(run, workers=1)
    monkeypatch.setattr(height_sampling, "USE_NUMBA", False)
    ref = simulate(run, workers=1)
    for name in ("dof_pos", "dof_vel", "base_pos", "terrain_type", "success"):
        assert np.array_equal(getattr(fast, name), getattr(ref, name)), name
    assert np.abs(np.diff(fast.base_pos[:, :, 0], axis=1)).sum() > 1.0  # they walked
