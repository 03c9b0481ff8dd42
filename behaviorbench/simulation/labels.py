"""Frame-level terrain labels, exactly as the original BAMS quadruped dataset assigns them.

The original (``combine_files_and_prepare_data.py`` of nerdslab/bams_simulated_quadrupeds) builds,
per sub-terrain, label maps at *half* sub-terrain resolution along x (rows 2i and 2i+1 are the
first and second half of sub-terrain row i, walking +x) and full resolution along y, then looks
each frame's base (x, y) up in them. Rules (``param`` = signed slope or step height, ``d`` =
difficulty):

=========================  ===============  ===============  ============  =====  ====
sub-terrain                terrain_type     terrain_type_2   slope         diff.  rough
=========================  ===============  ===============  ============  =====  ====
flat                       flat             flat             0, 0          0.1    no
flat+noise                 flat             flat             0, 0          0.2    yes
discrete_obstacles         flat             flat             0, 0          d      yes
pyramid_slope_up[+noise]   pyramid_slope    up, down         +p, -p        d      noise
pyramid_slope_down[+noise] inv_pyr_slope    down, up         -|p|, +|p|    d      noise
pyramid_stairs_up          pyramid_stairs   up, down         +h, -h        d      no
pyramid_stairs_down        inv_pyr_stairs   down, up         -|h|, +|h|    d      no
waves (ours; orig. raises) flat             flat             0, 0          d      yes
=========================  ===============  ===============  ============  =====  ====

Slopes with ``|p| <= 0.21`` get terrain_type / terrain_type_2 = flat (their slope label keeps the
signed value). Stairs' "slope" label is the step height in m (as the original). "up" means the
first half (low x) ascends towards the centre: a pyramid (centre high) is up-then-down, an
inverted pyramid (centre low) down-then-up.

Lookup: ``indexing="geometric"`` (default) maps a world point to the half sub-terrain it is on.
``indexing="original"`` reproduces the original's arithmetic, which measures x and y from the
*centre* of sub-terrain (0, 0) (``row = int((x - L/2) / (L/2))``, ``col = int((y - W/2) / W)``),
so its labels lag the geometry by half a sub-terrain along x (and half a column along y).
"""

from __future__ import annotations

import numpy as np

TERRAIN_TYPES: tuple[str, ...] = (
    "flat", "pyramid_slope", "inverted_pyramid_slope", "pyramid_stairs", "inverted_pyramid_stairs")
TERRAIN_TYPES_2: tuple[str, ...] = ("flat", "slope_up", "slope_down", "stairs_up", "stairs_down")
LABEL_NAMES: tuple[str, ...] = (
    "terrain_type", "terrain_type_2", "terrain_slope", "terrain_difficulty", "terrain_rough")
FLAT_SLOPE_THRESHOLD = 0.21  # |slope| at or below which a slope is labelled flat
FLAT_DIFFICULTY = 0.1        # difficulty label of flat sub-terrains (original)
FLAT_NOISE_DIFFICULTY = 0.2  # difficulty label of flat+noise sub-terrains (original)
INDEXING_MODES = ("geometric", "original")


def subterrain_labels(kind: str, param: float | None, difficulty: float,
                      flat_threshold: float = FLAT_SLOPE_THRESHOLD) -> dict[str, tuple]:
    """Labels of the two x-halves of one sub-terrain: name -> (first half, second half)."""
    flat = {"terrain_type": (0, 0), "terrain_type_2": (0, 0), "terrain_slope": (0.0, 0.0),
            "terrain_difficulty": (difficulty, difficulty), "terrain_rough": (False, False)}
    out = dict(flat)
    rough = "noise" in kind
    if kind == "flat":
        out["terrain_difficulty"] = (FLAT_DIFFICULTY,) * 2
    elif kind == "flat+noise":
        out["terrain_difficulty"] = (FLAT_NOISE_DIFFICULTY,) * 2
    elif kind in ("discrete_obstacles", "waves"):
        rough = True
    elif kind.startswith("pyramid_slope_up"):
        p = float(param)
        if p > flat_threshold:
            out["terrain_type"], out["terrain_type_2"] = (1, 1), (1, 2)
        out["terrain_slope"] = (p, -p)
    elif kind.startswith("pyramid_slope_down"):
        p = abs(float(param))
        if p > flat_threshold:
            out["terrain_type"], out["terrain_type_2"] = (2, 2), (2, 1)
        out["terrain_slope"] = (-p, p)
    elif kind == "pyramid_stairs_up":
        h = float(param)
        out["terrain_type"], out["terrain_type_2"], out["terrain_slope"] = (3, 3), (3, 4), (h, -h)
    elif kind == "pyramid_stairs_down":
        h = abs(float(param))
        out["terrain_type"], out["terrain_type_2"], out["terrain_slope"] = (4, 4), (4, 3), (-h, h)
    else:
        raise ValueError(f"unknown sub-terrain kind {kind!r}")
    out["terrain_rough"] = (rough, rough)
    return out


def build_label_maps(kinds, params, difficulties,
                     flat_threshold: float = FLAT_SLOPE_THRESHOLD) -> dict[str, np.ndarray]:
    """Per-half-sub-terrain label maps.

    ``kinds``/``params``/``difficulties``: (num_rows, num_cols) arrays (str, float or nan,
    float). Returns name -> (2 * num_rows, num_cols) array: terrain_type / terrain_type_2 int8,
    terrain_slope / terrain_difficulty float32, terrain_rough bool."""
    kinds = np.asarray(kinds, dtype=object)
    rows, cols = kinds.shape
    maps = {"terrain_type": np.zeros((2 * rows, cols), np.int8),
            "terrain_type_2": np.zeros((2 * rows, cols), np.int8),
            "terrain_slope": np.zeros((2 * rows, cols), np.float32),
            "terrain_difficulty": np.zeros((2 * rows, cols), np.float32),
            "terrain_rough": np.zeros((2 * rows, cols), bool)}
    for i in range(rows):
        for j in range(cols):
            lab = subterrain_labels(kinds[i, j], params[i][j], float(difficulties[i][j]),
                                    flat_threshold)
            for name, (first, second) in lab.items():
                maps[name][2 * i, j] = first
                maps[name][2 * i + 1, j] = second
    return maps


def label_cells(x, y, terrain_length: float, terrain_width: float, num_rows: int,
                num_cols: int, indexing: str = "geometric") -> tuple[np.ndarray, ...]:
    """World points -> (row, col, in_grid) label-map indices.

    The sub-terrain grid spans x in [0, num_rows * terrain_length) and y in
    [0, num_cols * terrain_width) (m, world frame). ``row`` indexes the half sub-terrain along x.
    Indices are clipped into the map; ``in_grid`` (bool) says whether the point is on the grid."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    half = terrain_length / 2.0
    if indexing == "geometric":
        row = np.floor(x / half).astype(np.int64)
        col = np.floor(y / terrain_width).astype(np.int64)
    elif indexing == "original":
        # int() truncation towards zero, measured from the centre of sub-terrain (0, 0)
        row = np.trunc((x - half) / half).astype(np.int64)
        col = np.trunc((y - terrain_width / 2.0) / terrain_width).astype(np.int64)
    else:
        raise ValueError(f"indexing must be one of {INDEXING_MODES}, got {indexing!r}")
    in_grid = (x >= 0) & (x < num_rows * terrain_length) & (y >= 0) & (
        y < num_cols * terrain_width)
    row = np.clip(row, 0, 2 * num_rows - 1)
    col = np.clip(col, 0, num_cols - 1)
    return row, col, in_grid


def lookup_labels(maps: dict[str, np.ndarray], x, y, terrain_length: float,
                  terrain_width: float, indexing: str = "geometric") -> dict[str, np.ndarray]:
    """Labels of world points ``x``, ``y`` (any equal shapes, m) -> name -> array of that shape.

    Points off the sub-terrain grid (the flat border) get flat / slope 0 / difficulty 0 /
    not rough in ``geometric`` mode; ``in_grid`` is returned too."""
    rows2, cols = maps["terrain_type"].shape
    row, col, in_grid = label_cells(x, y, terrain_length, terrain_width, rows2 // 2, cols,
                                    indexing)
    out = {name: m[row, col] for name, m in maps.items()}
    if indexing == "geometric":
        for name, val in out.items():
            out[name] = np.where(in_grid, val, np.zeros((), val.dtype))
    out["in_grid"] = in_grid
    return out
