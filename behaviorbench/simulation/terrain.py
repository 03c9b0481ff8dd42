"""Procedural terrain grid following legged_gym's ``terrain.py`` / ``terrain_utils.py`` as used by
the original BAMS quadruped dataset (nerdslab/bams_simulated_quadrupeds).

Layout (world frame, m): a grid of ``num_rows`` x ``num_cols`` sub-terrains of
``terrain_length`` (along x, the walking direction) x ``terrain_width`` (along y). Sub-terrain
(i, j) covers x in [i L, (i+1) L), y in [j W, (j+1) W); a flat border of ``border_size`` surrounds
the grid. Heights are sampled every ``horizontal_scale`` and quantised to ``vertical_scale``
(legged_gym's int16 ``height_field_raw``); sample ``heights[ix, iy]`` sits at
``(origin[0] + ix * hs, origin[1] + iy * hs)`` with ``origin = (-border, -border)``.

Everything random flows from one ``numpy.random.Generator`` seeded by ``seed``, drawn in the
original's order: per sub-terrain (row-major), the type draw, the difficulty draw, then the
sub-terrain's own draws (noise, obstacles).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from behaviorbench.simulation.height_sampling import bilinear_numpy, sample_heights
from behaviorbench.simulation.labels import (
    FLAT_SLOPE_THRESHOLD,
    LABEL_NAMES,
    TERRAIN_TYPES,
    TERRAIN_TYPES_2,
    build_label_maps,
    lookup_labels,
)

__all__ = [
    "SUBTERRAIN_KINDS", "TERRAIN_TYPES", "TERRAIN_TYPES_2", "LABEL_NAMES", "TerrainConfig",
    "Terrain", "generate_terrain", "build_terrain", "make_subterrain",
]

# The original's terrain_type strings (its label rules key on them).
SUBTERRAIN_KINDS: tuple[str, ...] = (
    "pyramid_slope_down", "pyramid_slope_up", "pyramid_slope_down+noise",
    "pyramid_slope_up+noise", "pyramid_stairs_down", "pyramid_stairs_up",
    "discrete_obstacles", "waves", "flat", "flat+noise",
)
# piecewise-constant kinds, built with vertical walls when ``TerrainConfig.vertical_walls``
WALL_KINDS: tuple[str, ...] = ("pyramid_stairs_down", "pyramid_stairs_up", "discrete_obstacles")


@dataclass(frozen=True)
class TerrainConfig:
    """Terrain grid parameters; defaults are the original dataset's numbers."""

    num_rows: int = 30                 # sub-terrains along x (walking direction); original 30
    num_cols: int = 5                  # sub-terrains along y; original 5
    terrain_length: float = 12.0       # m, sub-terrain size along x; original 12
    terrain_width: float = 12.0        # m, sub-terrain size along y; original 12
    horizontal_scale: float = 0.1      # m per height sample; original 0.1
    vertical_scale: float = 0.005      # m per height unit; original 0.005
    border_size: float = 10.0          # m, flat border around the grid; original 10
    platform_size: float = 3.0         # m, flat centre platform; original 3
    # proportions of [pyramid slope, rough pyramid slope, stairs up, stairs down,
    # discrete obstacles, waves, flat, flat+noise]; original (0.15,0.15,0.15,0.15,0.2,0,0.1,0.1)
    proportions: tuple[float, ...] = (0.15, 0.15, 0.15, 0.15, 0.2, 0.0, 0.1, 0.1)
    difficulties: tuple[float, ...] = (0.5, 0.75, 0.9)  # drawn uniformly; original {0.5,.75,.9}
    slope_per_difficulty: float = 0.4  # slope gradient = 0.4 d (rise/run)
    step_width: float = 0.31           # m, stairs tread; original 0.31
    step_height_base: float = 0.05     # m, step height = 0.05 + 0.18 d
    step_height_per_difficulty: float = 0.18  # m
    obstacle_height_base: float = 0.05  # m, obstacle height = 0.05 + 0.2 d
    obstacle_height_per_difficulty: float = 0.2  # m
    num_obstacles: int = 20            # rectangles per discrete-obstacles sub-terrain
    obstacle_min_size: float = 1.0     # m
    obstacle_max_size: float = 2.0     # m
    noise_range: float = 0.05          # m, rough noise uniform in [-0.05, 0.05]
    noise_step: float = 0.005          # m, noise quantum
    noise_downsampled_scale: float = 0.2  # m, noise coarse-grid spacing (bilinear upsampling)
    flat_slope_threshold: float = FLAT_SLOPE_THRESHOLD  # |slope| labelled flat; original 0.21
    # stairs and obstacles built from boxes with vertical walls, as legged_gym's trimesh builds
    # them (:mod:`.terrain_boxes`); False: one height field, whose steps are 0.1 m ramps
    vertical_walls: bool = True

    @classmethod
    def small(cls, **overrides) -> TerrainConfig:
        """Test / default small-dataset preset: 6 rows x 2 cols of 8 m x 8 m."""
        kw = dict(num_rows=6, num_cols=2, terrain_length=8.0, terrain_width=8.0)
        kw.update(overrides)
        return cls(**kw)

    @property
    def length_px(self) -> int:
        return int(self.terrain_length / self.horizontal_scale)

    @property
    def width_px(self) -> int:
        return int(self.terrain_width / self.horizontal_scale)

    @property
    def border_px(self) -> int:
        return int(self.border_size / self.horizontal_scale)


# ----------------------------------------------------------------------------- primitives
# Each works on an int16 array ``raw`` of shape (nx, ny) (x first) in vertical_scale units, in
# place, following the isaacgym/legged_gym terrain_utils algorithm of the same name.

def random_uniform_terrain(raw, rng, cfg: TerrainConfig, min_height, max_height, step,
                           downsampled_scale) -> None:
    """Add uniform noise drawn on a coarse grid (``downsampled_scale`` m) and bilinearly
    upsampled, rounded to integer units."""
    hs, vs = cfg.horizontal_scale, cfg.vertical_scale
    nx, ny = raw.shape
    lo, hi, st = int(min_height / vs), int(max_height / vs), int(step / vs)
    values = np.arange(lo, hi + st, st)
    coarse = rng.choice(values, (int(nx * hs / downsampled_scale),
                                 int(ny * hs / downsampled_scale)))
    xc = np.linspace(0, nx * hs, coarse.shape[0])
    yc = np.linspace(0, ny * hs, coarse.shape[1])
    from scipy.interpolate import RegularGridInterpolator  # lazy: 0.4 s import per worker

    interp = RegularGridInterpolator((xc, yc), coarse.astype(np.float64), method="linear")
    xu, yu = np.meshgrid(np.linspace(0, nx * hs, nx), np.linspace(0, ny * hs, ny),
                         indexing="ij")
    z = np.rint(interp(np.stack([xu, yu], axis=-1)))
    raw += z.astype(np.int16)


def pyramid_sloped_terrain(raw, cfg: TerrainConfig, slope: float, platform_size: float) -> None:
    """Tent of gradient ``slope`` (negative: inverted) with a flat square centre platform."""
    hs, vs = cfg.horizontal_scale, cfg.vertical_scale
    nx, ny = raw.shape
    cx, cy = int(nx / 2), int(ny / 2)
    xx = ((cx - np.abs(cx - np.arange(nx))) / cx).reshape(nx, 1)
    yy = ((cy - np.abs(cy - np.arange(ny))) / cy).reshape(1, ny)
    max_height = int(slope * (hs / vs) * (nx / 2))
    raw += (max_height * xx * yy).astype(np.int16)
    p = int(platform_size / hs / 2)
    x1, y1 = nx // 2 - p, ny // 2 - p
    lo, hi = min(raw[x1, y1], 0), max(raw[x1, y1], 0)
    np.clip(raw, lo, hi, out=raw)


def pyramid_stairs_terrain(raw, cfg: TerrainConfig, step_width: float, step_height: float,
                           platform_size: float) -> None:
    """Concentric square steps (negative height: descending towards the centre)."""
    hs, vs = cfg.horizontal_scale, cfg.vertical_scale
    sw, sh, ps = int(step_width / hs), int(step_height / vs), int(platform_size / hs)
    nx, ny = raw.shape
    height, x0, x1, y0, y1 = 0, 0, nx, 0, ny
    while (x1 - x0) > ps and (y1 - y0) > ps:
        x0, x1, y0, y1 = x0 + sw, x1 - sw, y0 + sw, y1 - sw
        height += sh
        raw[x0:x1, y0:y1] = height


def discrete_obstacles_terrain(raw, rng, cfg: TerrainConfig, max_height: float, min_size: float,
                               max_size: float, num_rects: int, platform_size: float) -> None:
    """``num_rects`` axis-aligned rectangles of height in {-h, -h/2, h/2, h}; flat centre."""
    hs, vs = cfg.horizontal_scale, cfg.vertical_scale
    mh, smin, smax = int(max_height / vs), int(min_size / hs), int(max_size / hs)
    ps = int(platform_size / hs)
    nx, ny = raw.shape
    heights = [-mh, -mh // 2, mh // 2, mh]
    sizes = list(range(smin, smax, 4))
    for _ in range(num_rects):
        w = int(rng.choice(sizes))
        ln = int(rng.choice(sizes))
        i0 = int(rng.choice(np.arange(0, nx - w, 4)))
        j0 = int(rng.choice(np.arange(0, ny - ln, 4)))
        raw[i0:i0 + w, j0:j0 + ln] = rng.choice(heights)
    raw[(nx - ps) // 2:(nx + ps) // 2, (ny - ps) // 2:(ny + ps) // 2] = 0


def wave_terrain(raw, cfg: TerrainConfig, num_waves: float, amplitude: float) -> None:
    """Sum of a cosine along y and a sine along x (``num_waves`` periods per side)."""
    amp = int(0.5 * amplitude / cfg.vertical_scale)
    nx, ny = raw.shape
    if num_waves > 0:
        div = ny / (num_waves * np.pi * 2)
        xx = np.arange(nx).reshape(nx, 1)
        yy = np.arange(ny).reshape(1, ny)
        raw += (amp * np.cos(yy / div) + amp * np.sin(xx / div)).astype(np.int16)


def choose_kind(choice: float, proportions) -> str:
    """Map a uniform draw in [0, 1) to a sub-terrain kind as the original ``make_terrain``."""
    p = np.cumsum(proportions)
    if choice < p[0]:
        return "pyramid_slope_down" if choice < p[0] / 2 else "pyramid_slope_up"
    if choice < p[1]:
        down = choice < p[0] + (p[1] - p[0]) / 2
        return "pyramid_slope_down+noise" if down else "pyramid_slope_up+noise"
    if choice < p[3]:
        return "pyramid_stairs_down" if choice < p[2] else "pyramid_stairs_up"
    if choice < p[4]:
        return "discrete_obstacles"
    if choice < p[5]:
        return "waves"
    if choice < p[6]:
        return "flat"
    return "flat+noise"


def make_subterrain(kind: str, difficulty: float, cfg: TerrainConfig,
                    rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One sub-terrain: (int16 raw heights (length_px, width_px), label parameter).

    The parameter is the signed slope (slopes), signed step height in m (stairs), obstacle
    height in m, the difficulty (waves) or nan (flat)."""
    raw = np.zeros((cfg.length_px, cfg.width_px), dtype=np.int16)
    slope = difficulty * cfg.slope_per_difficulty
    step = cfg.step_height_base + cfg.step_height_per_difficulty * difficulty
    obstacle = cfg.obstacle_height_base + difficulty * cfg.obstacle_height_per_difficulty
    noise = dict(min_height=-cfg.noise_range, max_height=cfg.noise_range, step=cfg.noise_step,
                 downsampled_scale=cfg.noise_downsampled_scale)
    if kind.startswith("pyramid_slope"):
        slope = -slope if "down" in kind else slope
        pyramid_sloped_terrain(raw, cfg, slope, cfg.platform_size)
        if kind.endswith("+noise"):
            random_uniform_terrain(raw, rng, cfg, **noise)
        return raw, slope
    if kind.startswith("pyramid_stairs"):
        step = -step if "down" in kind else step
        pyramid_stairs_terrain(raw, cfg, cfg.step_width, step, cfg.platform_size)
        return raw, step
    if kind == "discrete_obstacles":
        discrete_obstacles_terrain(raw, rng, cfg, obstacle, cfg.obstacle_min_size,
                                   cfg.obstacle_max_size, cfg.num_obstacles, cfg.platform_size)
        return raw, obstacle
    if kind == "waves":
        wave_terrain(raw, cfg, num_waves=difficulty, amplitude=0.5 * difficulty)
        return raw, difficulty
    if kind == "flat":
        return raw, float("nan")
    if kind == "flat+noise":
        random_uniform_terrain(raw, rng, cfg, **noise)
        return raw, float("nan")
    raise ValueError(f"unknown sub-terrain kind {kind!r}; known: {SUBTERRAIN_KINDS}")


# ----------------------------------------------------------------------------- Terrain
@dataclass(eq=False)
class Terrain:
    """A generated terrain grid with its height field and label maps.

    ``heights`` (nx, ny) float32 m, indexed [ix, iy] (x first); ``raw`` the same in int16
    ``vertical_scale`` units; ``origin`` (2,) world xy (m) of sample [0, 0]. Per sub-terrain
    (num_rows, num_cols): ``kinds`` (str), ``difficulties`` (float), ``params`` (float, see
    :func:`make_subterrain`). ``spawn_origins`` (num_rows, num_cols, 3) m: sub-terrain centre
    xy, z = max height in its central 2 m x 2 m (legged_gym). ``label_maps``: name ->
    (2 num_rows, num_cols) (see :mod:`behaviorbench.simulation.labels`)."""

    config: TerrainConfig
    raw: np.ndarray
    kinds: np.ndarray
    difficulties: np.ndarray
    params: np.ndarray
    spawn_origins: np.ndarray
    seed: int | None = None
    heights: np.ndarray = field(init=False)
    label_maps: dict = field(init=False)
    wall_cells: np.ndarray | None = field(init=False)

    def __post_init__(self):
        self.heights = (self.raw.astype(np.float32) * np.float32(self.config.vertical_scale))
        self.wall_cells = None  # (nx - 1, ny - 1) bool: cells flat at their lowest corner
        if self.config.vertical_walls:
            c, (nx, ny) = self.config, self.heights.shape
            self.wall_cells = np.zeros((nx - 1, ny - 1), dtype=bool)
            for a, b in self.wall_regions():
                self.wall_cells[a:a + c.length_px - 1, b:b + c.width_px - 1] = True
        self.label_maps = build_label_maps(self.kinds, self.params, self.difficulties,
                                           self.config.flat_slope_threshold)
        # flat float64 copies for :meth:`height_at_index` (one ``take`` per corner is about
        # twice as fast as 2-d fancy indexing; the controllers sample the map every tick)
        self._flat_heights = self.heights.astype(np.float64).ravel()
        self._flat_walls = None if self.wall_cells is None else self.wall_cells.ravel()

    @property
    def horizontal_scale(self) -> float:
        return self.config.horizontal_scale

    @property
    def vertical_scale(self) -> float:
        return self.config.vertical_scale

    @property
    def origin(self) -> np.ndarray:
        """(2,) m: world xy of ``heights[0, 0]``."""
        return np.array([-self.config.border_size, -self.config.border_size])

    @property
    def shape(self) -> tuple[int, int]:
        return self.heights.shape

    @property
    def extent(self) -> np.ndarray:
        """(2, 2) m: [[x_min, x_max], [y_min, y_max]] of the sampled field."""
        n = np.array(self.heights.shape) - 1
        lo = self.origin
        return np.stack([lo, lo + n * self.horizontal_scale], axis=1)

    @property
    def grid_size(self) -> tuple[float, float]:
        """m: (x, y) size of the sub-terrain grid (border excluded), starting at world (0, 0)."""
        c = self.config
        return c.num_rows * c.terrain_length, c.num_cols * c.terrain_width

    def subterrain_index(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """World points -> (row, col) of the sub-terrain (clipped into the grid), int64."""
        c = self.config
        r = np.clip(np.floor(np.asarray(x) / c.terrain_length), 0, c.num_rows - 1)
        k = np.clip(np.floor(np.asarray(y) / c.terrain_width), 0, c.num_cols - 1)
        return r.astype(np.int64), k.astype(np.int64)

    def height_at(self, x, y) -> np.ndarray:
        """Terrain height (m, float64) at world points ``x``, ``y`` (broadcastable shapes, m);
        points outside the field are clamped to its edge. Bilinear between samples; with
        ``config.vertical_walls``, each cell of a stairs or obstacles sub-terrain is flat at
        its lowest corner's height (vertical walls at the higher samples, where legged_gym's
        trimesh puts them; see :mod:`.terrain_boxes`). Compiled where numba is installed
        (:mod:`.height_sampling`; the same bits as numpy)."""
        nx, ny = self.heights.shape
        return sample_heights(self._flat_heights, self._flat_walls, nx, ny,
                              -self.config.border_size, self.config.horizontal_scale, x, y)

    def height_at_index(self, fx, fy) -> np.ndarray:
        """:meth:`height_at` at fractional sample indices ``fx``, ``fy`` (float64 arrays of
        equal shapes, within [0, nx - 1] x [0, ny - 1])."""
        nx, ny = self.heights.shape
        return bilinear_numpy(self._flat_heights, self._flat_walls, nx, ny,
                              np.asarray(fx, dtype=np.float64), np.asarray(fy, dtype=np.float64))

    def wall_regions(self) -> list[tuple[int, int]]:
        """(ix, iy) first samples of the sub-terrains built with vertical walls (empty unless
        ``config.vertical_walls``); each spans ``length_px`` x ``width_px`` samples."""
        c = self.config
        if not c.vertical_walls:
            return []
        return [(c.border_px + i * c.length_px, c.border_px + j * c.width_px)
                for i in range(c.num_rows) for j in range(c.num_cols)
                if self.kinds[i, j] in WALL_KINDS]

    def labels_at(self, x, y, indexing: str = "geometric") -> dict[str, np.ndarray]:
        """Frame labels at world points (any equal shapes, m): terrain_type, terrain_type_2
        (int8), terrain_slope, terrain_difficulty (float32), terrain_rough (bool), in_grid
        (bool). ``indexing="original"`` reproduces the original's half-cell-shifted lookup."""
        c = self.config
        return lookup_labels(self.label_maps, x, y, c.terrain_length, c.terrain_width, indexing)

    def summary(self) -> dict[str, int]:
        """Count of sub-terrains per kind."""
        kinds, counts = np.unique(self.kinds.astype(str), return_counts=True)
        return {str(k): int(n) for k, n in zip(kinds, counts, strict=True)}


def build_terrain(cfg: TerrainConfig, kinds, difficulties, seed: int | None = 0) -> Terrain:
    """Terrain from an explicit (num_rows, num_cols) table of kinds and difficulties (the
    random internals of noise / obstacles are drawn from ``seed``)."""
    rng = np.random.default_rng(seed)
    kinds = np.asarray(kinds, dtype=object).reshape(cfg.num_rows, cfg.num_cols)
    diffs = np.asarray(difficulties, dtype=np.float64).reshape(cfg.num_rows, cfg.num_cols)
    return _assemble(cfg, kinds, diffs, rng, seed, draw=False)


def generate_terrain(cfg: TerrainConfig | None = None, seed: int = 0) -> Terrain:
    """Random terrain: per sub-terrain (row-major) a uniform type draw mapped through
    ``cfg.proportions`` and a difficulty drawn from ``cfg.difficulties``, as the original."""
    cfg = cfg or TerrainConfig()
    rng = np.random.default_rng(seed)
    kinds = np.empty((cfg.num_rows, cfg.num_cols), dtype=object)
    diffs = np.zeros((cfg.num_rows, cfg.num_cols))
    return _assemble(cfg, kinds, diffs, rng, seed, draw=True)


def _assemble(cfg, kinds, diffs, rng, seed, draw: bool) -> Terrain:
    lp, wp, bp = cfg.length_px, cfg.width_px, cfg.border_px
    raw = np.zeros((cfg.num_rows * lp + 2 * bp, cfg.num_cols * wp + 2 * bp), dtype=np.int16)
    params = np.zeros((cfg.num_rows, cfg.num_cols))
    origins = np.zeros((cfg.num_rows, cfg.num_cols, 3))
    hs = cfg.horizontal_scale
    x1, x2 = int((cfg.terrain_length / 2 - 1) / hs), int((cfg.terrain_length / 2 + 1) / hs)
    y1, y2 = int((cfg.terrain_width / 2 - 1) / hs), int((cfg.terrain_width / 2 + 1) / hs)
    for k in range(cfg.num_rows * cfg.num_cols):
        i, j = np.unravel_index(k, (cfg.num_rows, cfg.num_cols))
        if draw:
            kinds[i, j] = choose_kind(rng.uniform(0.0, 1.0), cfg.proportions)
            diffs[i, j] = rng.choice(np.asarray(cfg.difficulties, dtype=np.float64))
        sub, params[i, j] = make_subterrain(kinds[i, j], float(diffs[i, j]), cfg, rng)
        raw[bp + i * lp:bp + (i + 1) * lp, bp + j * wp:bp + (j + 1) * wp] = sub
        origins[i, j] = ((i + 0.5) * cfg.terrain_length, (j + 0.5) * cfg.terrain_width,
                         np.max(sub[x1:x2, y1:y2]) * cfg.vertical_scale)
    return Terrain(cfg, raw, kinds, diffs, params, origins, seed)
