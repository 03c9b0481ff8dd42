"""Vertical walls for the piecewise-constant sub-terrains (stairs, discrete obstacles) as boxes.

A height field can only ramp between samples: a 0.14 m stair riser becomes a 54 degree ramp
0.1 m wide, while legged_gym's trimesh (the original dataset's physics) makes it vertical.
A finer height field is no cure in MuJoCo: feet pressed into cells smaller than themselves
catch on the inner walls of the cells' prisms. So, with ``TerrainConfig.vertical_walls``,
each cell of a stairs or obstacles sub-terrain becomes flat at the height of its lowest corner
(what legged_gym's trimesh does to cells steeper than its ``slope_treshold``), the cells are
merged into axis-aligned boxes of equal height, and the height field under them is lowered out
of the way. Other sub-terrains (slopes, rough ground) stay on the height field.

Cells are indexed by their lower corner sample: cell (i, j) spans samples i..i+1 along x and
j..j+1 along y. A box sub-terrain owns the cells whose four corners are all its own samples.
"""

from __future__ import annotations

import numpy as np

from behaviorbench.simulation.terrain import Terrain

FLOOR_DEPTH = 0.05  # m, the lowered height field lies this far below a region's lowest cell
BOX_SKIRT = 0.05    # m, boxes reach this far below the lowered height field (no seam)


def cell_rectangles(values: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Cover a 2-D grid with axis-aligned rectangles of equal value (greedy: a run along
    axis 1, grown along axis 0 while the same run repeats). Returns (i0, i1, j0, j1)
    half-open index ranges; they tile the grid without overlap."""
    nx, ny = values.shape
    done = np.zeros(values.shape, dtype=bool)
    out = []
    for i in range(nx):
        row, free = values[i], ~done[i]
        j = 0
        while j < ny:
            if not free[j]:
                j += 1
                continue
            j1 = j + 1
            while j1 < ny and free[j1] and row[j1] == row[j]:
                j1 += 1
            i1 = i + 1
            while (i1 < nx and not done[i1, j:j1].any()
                   and np.all(values[i1, j:j1] == row[j])):
                i1 += 1
            done[i:i1, j:j1] = True
            out.append((i, i1, j, j1))
            j = j1
    return out


def terrain_boxes(terrain: Terrain) -> tuple[np.ndarray, np.ndarray]:
    """The physics geometry of a terrain with vertical walls.

    Returns (heights (nx, ny) float64 m: the height field with the samples inside every box
    region lowered to ``FLOOR_DEPTH`` below it, boxes (n, 6) float64 m: x0, x1, y0, y1, top,
    bottom in world coordinates). Box tops are :meth:`Terrain.height_at` over their cells."""
    cfg = terrain.config
    hs = cfg.horizontal_scale
    ox, oy = terrain.origin
    lowered = terrain.heights.astype(np.float64)
    boxes = []
    # cell centres of one region, in fractional sample indices relative to its first sample
    ci, cj = np.meshgrid(np.arange(cfg.length_px - 1) + 0.5, np.arange(cfg.width_px - 1) + 0.5,
                         indexing="ij")
    for a, b in terrain.wall_regions():
        cells = terrain.height_at_index(a + ci, b + cj)  # each wall cell is flat: its height
        floor = float(cells.min()) - FLOOR_DEPTH
        # samples on the region's rim stay: cells just outside it still ramp to them
        lowered[a + 1:a + cfg.length_px - 1, b + 1:b + cfg.width_px - 1] = floor
        for i0, i1, j0, j1 in cell_rectangles(cells):
            boxes.append((ox + (a + i0) * hs, ox + (a + i1) * hs,
                          oy + (b + j0) * hs, oy + (b + j1) * hs,
                          float(cells[i0, j0]), floor - BOX_SKIRT))
    return lowered, np.array(boxes, dtype=np.float64).reshape(-1, 6)


__all__ = ["FLOOR_DEPTH", "BOX_SKIRT", "cell_rectangles", "terrain_boxes"]
